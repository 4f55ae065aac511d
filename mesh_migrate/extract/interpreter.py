"""A static interpreter for the module level of DAG files.

It walks a module's statements the way Python would run them, but over abstract values:
literals, constants and f-strings are computed, loops over literal collections are
unrolled, in-repo functions and classes are inlined with their arguments bound, and names
imported from outside the repository stay symbolic (`ExternalRef`). Nothing is imported
or executed. Whatever depends on run-time input becomes `Unknown` with a reason.

Calls that matter (DAG constructors, operators, datasets, connection getters) are handed
to a `Recorder`, which turns them into facts. Expressions are evaluated by `Evaluator`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..facts import Diagnostic, SourceSpan
from .patterns import assigned_names, is_generator, match_pattern
from .classes import DESCRIPTORS, AutoValue, enum_call, finish_class, rebind_methods
from .expressions import (
    MAX_CALL_DEPTH,
    MAX_LOOP_ITEMS,
    MAX_STEPS,
    BudgetExceeded,
    Evaluator,
    datasets_of,
    pure_builtin,
    tasks_in,
    timedelta_value,
    unknown_value,
    unparse,
)
from .values import (
    MISSING,
    BoundBuiltin,
    ClassValue,
    DagDecorator,
    DagFunction,
    DagObj,
    DatasetCondition,
    ExternalRef,
    Function,
    Instance,
    ModuleRef,
    Opaque,
    Partial,
    Property,
    Scope,
    SuperProxy,
    TaskDecorator,
    TaskFunction,
    MappedPartial,
    TaskGroupDecorator,
    TaskGroupFunction,
    TaskGroupObj,
    TaskObj,
    Unknown,
    is_static,
)

from .models import Call as ModelCall
from .models import find_model

if TYPE_CHECKING:
    from .extractor import Recorder, Workspace


def _looks_like_a_dag(node: ast.Call) -> bool:
    """A call a reader takes for a DAG definition: `DAG(...)`, `create_dag(...)`, `dag_id=`."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id if isinstance(node.func, ast.Name) else ""
    return name.lower().endswith(("dag", "dags")) or any(k.arg == "dag_id" for k in node.keywords)


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class ModuleState:
    def __init__(self, name: str, path: str, tree: ast.Module | None, file: str | None = None):
        self.name = name
        self.path = path
        self.tree = tree
        self.scope = Scope({"__name__": name}, module=self)
        if file is not None:  # as Python sets it: the module's absolute path
            self.scope.vars["__file__"] = file
        self.done = False
        self.running = False
        self.imports: set[str] = set()  # paths of repository modules this one imports
        self.outside_loop: ast.stmt | None = None  # a `break` or `continue` Python would refuse

    @property
    def package(self) -> str:
        if self.path.endswith("__init__.py"):
            return self.name
        return self.name.rpartition(".")[0]


class Interpreter(Evaluator):
    def __init__(self, workspace: Workspace, recorder: Recorder):
        self.ws = workspace
        self.rec = recorder
        self.rules = workspace.rules
        self.module: ModuleState | None = None
        self.import_depth = 0
        self.call_depth = 0
        self.steps = 0
        self.dag_stack: list[DagObj] = []
        self.group_stack: list[str] = []
        self.top_line = 0
        self.top_col = 0
        self.functions: list[Function] = []
        self.yields: list[list[Any]] = []  # one list per generator running
        self.tainted: dict[int, tuple[Any, Unknown]] = {}  # see Evaluator.taint
        self.uncertain = 0  # > 0 while running a branch that may not run

    # ---- modules -------------------------------------------------------------------
    def run_module(self, state: ModuleState) -> None:
        previous, self.module = self.module, state
        try:
            for stmt in state.tree.body:
                self.run_module_statement(stmt, state)
        except _Return:
            pass
        except (_Break, _Continue) as escaped:  # Python refuses such a module
            state.outside_loop = escaped.args[0]
        finally:
            state.done = True
            self.module = previous

    def run_module_statement(self, stmt: ast.stmt, state: ModuleState) -> None:
        """One module-level statement, on a budget of its own: a statement that does too
        much work is given up (what it assigns becomes unknown) and the module goes on."""
        outer, self.steps = self.steps, 0
        try:
            self.exec_stmt(stmt, state.scope)
        except BudgetExceeded:
            reason = "does too much work to follow statically"
            for name in assigned_names(stmt):
                state.scope.vars[name] = unknown_value(stmt, reason)
            if self.in_top_module():
                self.rec.diagnostics.append(Diagnostic("warning", "analysis-budget", f"gave up this statement: it {reason}", SourceSpan(self.rec.path, stmt.lineno, stmt.col_offset)))
        finally:
            self.steps = outer

    def import_module(self, ref: ModuleRef) -> ModuleState | None:
        state = self.ws.module_state(ref)
        if self.module is not None and ref.path:
            # Whatever module the code reaches (star import, `pkg.sub.name`) is a dependency.
            self.module.imports.add(ref.path)
        if state is None:
            self.ws.unreadable_import(ref, self.rec, self.top_line)
        if state is None or state.done or state.tree is None:
            return state
        if state.running:  # an import cycle: Python sees the partial module too
            return state
        state.running = True
        saved = (self.dag_stack, self.group_stack, self.call_depth)
        self.dag_stack, self.group_stack, self.call_depth = [], [], 0
        self.import_depth += 1
        try:
            self.run_module(state)
        except RecursionError:
            pass  # its names stay partial; the module's own analysis reports where
        finally:
            self.import_depth -= 1
            self.dag_stack, self.group_stack, self.call_depth = saved
            state.running = False
        return state

    @property
    def recording(self) -> bool:
        return self.import_depth == 0

    def in_top_module(self) -> bool:
        return self.import_depth == 0 and self.module is not None and self.module.path == self.rec.path

    # ---- statements ----------------------------------------------------------------
    def exec_block(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded()
        if self.in_top_module():
            self.top_line, self.top_col = stmt.lineno, stmt.col_offset
        handler = getattr(self, f"_exec_{type(stmt).__name__}", None)
        if handler is None:
            return
        try:
            handler(stmt, scope)
        except RecursionError:
            if not self.in_top_module():
                raise  # in another module's code: reported where this file calls it
            # Deeper than Python's stack allows: skip this statement, follow the rest.
            self.too_deep(stmt)

    def too_deep(self, stmt: ast.stmt) -> None:
        span = SourceSpan(self.rec.path, stmt.lineno, stmt.col_offset)
        if not any(d.code == "too-deep" and d.span == span for d in self.rec.diagnostics):
            self.rec.diagnostics.append(Diagnostic("warning", "too-deep", "skipped this statement: code nested too deeply to follow", span))

    def _exec_Expr(self, stmt: ast.Expr, scope: Scope) -> None:
        self.eval(stmt.value, scope)

    def _exec_Assign(self, stmt: ast.Assign, scope: Scope) -> None:
        value = self.eval(stmt.value, scope)
        for target in stmt.targets:
            self.assign(target, value, scope)

    def _exec_AnnAssign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, scope), scope)

    def _exec_AugAssign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        current = self.eval(stmt.target, scope) if not isinstance(stmt.target, ast.Name) else self._lookup(stmt.target, scope)
        value = self.binop(type(stmt.op), current, self.eval(stmt.value, scope), stmt)
        self.assign(stmt.target, value, scope)

    def _exec_Import(self, stmt: ast.Import, scope: Scope) -> None:
        for alias in stmt.names:
            ref = self.ws.finder.find(alias.name)
            if ref is not None:
                self._note_import(ref, stmt)
            if alias.asname:
                scope.vars[alias.asname] = ref if ref is not None else ExternalRef(alias.name)
            else:
                top = alias.name.split(".")[0]
                top_ref = self.ws.finder.find(top)
                scope.vars[top] = top_ref if top_ref is not None else ExternalRef(top)

    def _exec_ImportFrom(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        base = self._absolute_module(stmt)
        ref = self.ws.finder.find(base) if base else None
        for alias in stmt.names:
            if alias.name == "*":
                if ref is not None:
                    state = self.import_module(ref)
                    if state is not None:
                        scope.vars.update({k: v for k, v in state.scope.vars.items() if not k.startswith("_")})
                continue
            name = alias.asname or alias.name
            if ref is None:
                scope.vars[name] = ExternalRef(f"{base}.{alias.name}")
                continue
            sub = self.ws.finder.find(f"{ref.name}.{alias.name}")
            value = self.module_attribute(ref, alias.name, stmt)
            if isinstance(value, Unknown) and sub is not None:
                value = sub
            self._note_import(sub if isinstance(value, ModuleRef) and sub else ref, stmt)
            scope.vars[name] = value

    def _note_import(self, ref: ModuleRef, stmt: ast.stmt) -> None:
        if self.module is not None and ref.path:
            self.module.imports.add(ref.path)
        if self.in_top_module():
            self.rec.module_import(ref.name, stmt)

    def _absolute_module(self, stmt: ast.ImportFrom) -> str:
        if not stmt.level:
            return stmt.module or ""
        package = self.module.package if self.module else ""
        parts = package.split(".") if package else []
        if stmt.level > 1:
            parts = parts[: len(parts) - (stmt.level - 1)]
        if stmt.module:
            parts.append(stmt.module)
        return ".".join(parts)

    def module_attribute(self, ref: ModuleRef, name: str, node: ast.AST) -> Any:
        if ref.path is not None:
            state = self.import_module(ref)
            if state is not None and name in state.scope.vars:
                return state.scope.vars[name]
        sub = self.ws.finder.find(f"{ref.name}.{name}")
        if sub is not None:
            return sub
        return unknown_value(node, f"{ref.name}.{name} is not defined statically in the repository")

    def _exec_FunctionDef(self, stmt: ast.FunctionDef, scope: Scope) -> None:
        value: Any = Function(stmt, scope, stmt.name, qualname=self._qualname(stmt.name, scope))
        for decorator in reversed(stmt.decorator_list):
            value = self.decorate(self.eval(decorator, scope), value, stmt)
        scope.vars[stmt.name] = value

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def decorate(self, decorator: Any, value: Any, stmt: ast.AST) -> Any:
        if isinstance(decorator, BoundBuiltin) and isinstance(decorator.target, Property) and decorator.name == "setter":
            return Property(decorator.target.fget, value)
        if not isinstance(value, Function):
            return value
        if isinstance(decorator, ExternalRef) and decorator.qualname in DESCRIPTORS:
            return DESCRIPTORS[decorator.qualname](value)
        if isinstance(decorator, ExternalRef):
            if decorator.qualname in self.rules.dag_decorators:
                return DagFunction(value, DagDecorator([], {}), stmt.lineno)
            if self._is_task_decorator(decorator.qualname):
                return TaskFunction(value, {})
            if decorator.qualname in self.rules.task_group_decorators:
                return TaskGroupFunction(value, {})
            if decorator.qualname in ("functools.wraps", "functools.lru_cache", "functools.cache"):
                return value
        if isinstance(decorator, DagDecorator):
            return DagFunction(value, decorator, stmt.lineno)
        if isinstance(decorator, TaskDecorator):
            return TaskFunction(value, decorator.kwargs)
        if isinstance(decorator, TaskGroupDecorator):
            return TaskGroupFunction(value, decorator.kwargs)
        return value

    def _qualname(self, name: str, scope: Scope) -> str:
        module = scope.module.name if scope.module is not None else ""
        return f"{module}.{name}" if module and scope.parent is None else name

    def _is_task_decorator(self, qualname: str) -> bool:
        return any(qualname == d or qualname.startswith(d + ".") for d in self.rules.task_decorators)

    def _exec_ClassDef(self, stmt: ast.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b, scope) for b in stmt.bases]
        body_scope = Scope({}, scope, scope.module)
        cls = ClassValue(stmt.name, bases, body_scope.vars, qualname=self._qualname(stmt.name, scope))
        self.exec_block(stmt.body, body_scope)
        rebind_methods(cls, scope)
        decorators = [self.eval(d.func if isinstance(d, ast.Call) else d, scope) for d in stmt.decorator_list]
        finish_class(cls, stmt, decorators)
        scope.vars[stmt.name] = cls

    def _exec_Return(self, stmt: ast.Return, scope: Scope) -> None:
        raise _Return(self.eval(stmt.value, scope) if stmt.value is not None else None)

    def _exec_Raise(self, stmt: ast.Raise, scope: Scope) -> None:
        if self.call_depth:
            raise _Return(unknown_value(stmt, "the code raises an exception here"))

    def _exec_Break(self, stmt: ast.Break, scope: Scope) -> None:
        raise _Break(stmt)

    def _exec_Continue(self, stmt: ast.Continue, scope: Scope) -> None:
        raise _Continue(stmt)

    def _exec_If(self, stmt: ast.If, scope: Scope) -> None:
        test = self.truth(self.eval(stmt.test, scope))
        if test is True:
            self.exec_block(stmt.body, scope)
        elif test is False:
            self.exec_block(stmt.orelse, scope)
        else:
            reason = f"depends on a condition that is not static: {unparse(stmt.test)}"
            self._exec_branches([stmt.body, stmt.orelse], scope, reason)

    def _exec_branches(self, branches: list[list[ast.stmt]], scope: Scope, reason: str) -> None:
        """Run each branch on its own copy of the scope, then keep what they agree on."""
        before = dict(scope.vars)
        results: list[dict[str, Any]] = []
        self.uncertain += 1
        try:
            for body in branches:
                scope.vars.clear()
                scope.vars.update(before)
                try:
                    self.exec_block(body, scope)
                except (_Break, _Continue, _Return):
                    pass
                results.append(dict(scope.vars))
        finally:
            self.uncertain -= 1
        scope.vars.clear()
        for key in set().union(*results):
            values = [r.get(key, MISSING) for r in results]
            first = values[0]
            if all(v is first or (is_static(v) and is_static(first) and v == first) for v in values):
                if first is not MISSING:
                    scope.vars[key] = first
            else:
                scope.vars[key] = Unknown(key, reason)

    def _exec_For(self, stmt: ast.For, scope: Scope) -> None:
        items = self.iterate(self.eval(stmt.iter, scope), stmt.iter)
        if isinstance(items, Unknown):
            self.assign(stmt.target, items, scope)
            self._exec_branches([stmt.body], scope, items.reason)
            return
        for item in items:
            self.assign(stmt.target, item, scope)
            try:
                self.exec_block(stmt.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self.exec_block(stmt.orelse, scope)

    _exec_AsyncFor = _exec_For

    def _exec_While(self, stmt: ast.While, scope: Scope) -> None:
        for _ in range(MAX_LOOP_ITEMS):
            test = self.truth(self.eval(stmt.test, scope))
            if test is None:
                self._exec_branches([stmt.body], scope, f"loops while a condition that is not static holds: {unparse(stmt.test)}")
                return
            if not test:
                self.exec_block(stmt.orelse, scope)
                return
            try:
                self.exec_block(stmt.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self._exec_branches([stmt.body], scope, f"loops more than {MAX_LOOP_ITEMS} times")

    def _exec_Match(self, stmt: ast.Match, scope: Scope) -> None:
        subject = self.eval(stmt.subject, scope)
        undecided: list[list[ast.stmt]] = []
        for case in stmt.cases:
            matched = match_pattern(self, case.pattern, subject, scope)
            if matched is not False and case.guard is not None:
                guard = self.truth(self.eval(case.guard, scope))
                matched = None if guard is None or matched is None else guard
            if matched is True and not undecided:
                self.exec_block(case.body, scope)
                return
            if matched is not False:
                undecided.append(case.body)
                if matched is True:
                    break
        if undecided:
            self._exec_branches(undecided + [[]], scope, f"matches a subject that is not static: {unparse(stmt.subject)}")

    def _exec_With(self, stmt: ast.With, scope: Scope) -> None:
        pushed_dags = pushed_groups = 0
        for item in stmt.items:
            value = self.eval(item.context_expr, scope)
            if isinstance(value, DagObj):
                value.extent = (stmt.lineno, stmt.end_lineno or stmt.lineno)
                if value.defined_by == "assignment":
                    value.defined_by = "with"
                self.dag_stack.append(value)
                pushed_dags += 1
            elif isinstance(value, TaskGroupObj):
                self.group_stack.append(value.group_id if isinstance(value.group_id, str) else "?")
                pushed_groups += 1
            if item.optional_vars is not None:
                self.assign(item.optional_vars, value, scope)
        try:
            self.exec_block(stmt.body, scope)
        finally:
            del self.dag_stack[len(self.dag_stack) - pushed_dags :]
            del self.group_stack[len(self.group_stack) - pushed_groups :]

    _exec_AsyncWith = _exec_With

    def _exec_Try(self, stmt: ast.Try, scope: Scope) -> None:
        # Import guards: the `try` body always "succeeds" statically; handlers only fill gaps.
        self.exec_block(stmt.body, scope)
        for handler in stmt.handlers:
            before = dict(scope.vars)
            self.exec_block(handler.body, scope)
            for key, value in list(scope.vars.items()):
                if key in before and not isinstance(before[key], Unknown):
                    scope.vars[key] = before[key]
        self.exec_block(stmt.orelse, scope)
        self.exec_block(stmt.finalbody, scope)

    _exec_TryStar = _exec_Try

    # ---- assignment ----------------------------------------------------------------
    def assign(self, target: ast.expr, value: Any, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.vars[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.iterate(value, target)
            plain = [t for t in target.elts if not isinstance(t, ast.Starred)]
            if isinstance(items, Unknown) or len(items) != len(plain) or len(plain) != len(target.elts):
                for element in target.elts:
                    inner = element.value if isinstance(element, ast.Starred) else element
                    self.assign(inner, items if isinstance(items, Unknown) else unknown_value(element, "cannot unpack statically"), scope)
                return
            for element, item in zip(target.elts, items):
                self.assign(element, item, scope)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, scope)
            setter = self._setter(owner, target.attr)
            if target.attr == "dag" and isinstance(value, DagObj):
                for task in tasks_in(owner):
                    task.dag = task.dag or value
            if setter is not None:
                self.call_function(setter.bind(owner), [value], {}, target)
            elif isinstance(owner, Instance):
                owner.attrs[target.attr] = value
            elif isinstance(owner, ClassValue):
                owner.namespace[target.attr] = value
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            self.note_mutation(owner, target)
            if not is_static(key):
                self.taint(owner, target, f"set under a key that is not static: {unparse(target.slice)}")
            if isinstance(owner, dict) and is_static(key):
                owner[key] = value
            elif isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                owner[key] = value

    def _setter(self, owner: Any, name: str) -> Function | None:
        if not isinstance(owner, Instance) or owner.cls is None or name in owner.attrs:
            return None
        try:
            member = owner.cls.lookup(name)
        except KeyError:
            return None
        return member.fset if isinstance(member, Property) and isinstance(member.fset, Function) else None

    # ---- calls ---------------------------------------------------------------------
    def _eval_Call(self, node: ast.Call, scope: Scope) -> Any:
        if self.in_top_module():
            self.top_line, self.top_col = node.lineno, node.col_offset
        if isinstance(node.func, ast.Name) and node.func.id == "super":
            return self._super(node, scope)
        func = self.eval(node.func, scope)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        arg_nodes: dict[str, ast.AST] = {}
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                items = self.iterate(self.eval(arg.value, scope), arg.value)
                if isinstance(items, Unknown):
                    args.append(items)
                else:
                    args.extend(items)
            else:
                args.append(self.eval(arg, scope))
        for keyword in node.keywords:
            value = self.eval(keyword.value, scope)
            if keyword.arg is None:
                if isinstance(value, dict):
                    kwargs.update({str(k): v for k, v in value.items()})
                else:
                    kwargs["**"] = value if isinstance(value, Unknown) else unknown_value(keyword.value, "keyword arguments are not static")
            else:
                kwargs[keyword.arg] = value
                arg_nodes[keyword.arg] = keyword.value
        self.rec.call_seen(node)
        if self.in_top_module():  # the arguments' own calls moved it: facts point at this call
            self.top_line, self.top_col = node.lineno, node.col_offset
        result = self.call(func, args, kwargs, node, arg_nodes)
        if isinstance(result, Unknown) and self.in_top_module() and _looks_like_a_dag(node):
            self.rec.dag_call_unknown(node, result)
        return result

    def _super(self, node: ast.Call, scope: Scope) -> Any:
        if len(node.args) == 2:
            cls, instance = self.eval(node.args[0], scope), self.eval(node.args[1], scope)
        elif self.functions:
            current = self.functions[-1]
            cls, instance = current.owner_class, current.bound_self
        else:
            cls = instance = None
        if isinstance(cls, ClassValue) and isinstance(instance, Instance):
            return SuperProxy(instance, cls)
        return unknown_value(node, "super() outside a method of a repository class")

    def call(self, func: Any, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST] | None = None) -> Any:
        arg_nodes = arg_nodes or {}
        if isinstance(func, Partial):
            merged = {**func.kwargs, **kwargs}
            if isinstance(func.func, ExternalRef):
                return self.call_external(func.func.qualname, func.args + args, merged, node, arg_nodes, direct=False)
            return self.call(func.func, func.args + args, merged, node, arg_nodes)
        if isinstance(func, ExternalRef):
            return self.call_external(func.qualname, args, kwargs, node, arg_nodes)
        if isinstance(func, DagFunction):
            return self.call_dag_function(func, args, kwargs, node)
        if isinstance(func, TaskGroupFunction):
            group_id = func.kwargs.get("group_id", func.function.name)
            self.group_stack.append(group_id if isinstance(group_id, str) else "?")
            try:
                self.call_function(func.function, args, kwargs, node)
            finally:
                self.group_stack.pop()
            return TaskGroupObj(group_id)
        if isinstance(func, TaskFunction):
            task_id = func.kwargs.get("task_id", func.function.name)
            return self.rec.task(self, "airflow.decorators.task", task_id, {**func.kwargs, **kwargs}, node, arg_nodes)
        if isinstance(func, (Function, ClassValue)) and self.rules.dependency_rule(func.qualname):
            return self.call_external(func.qualname, args, kwargs, node, arg_nodes)
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, ClassValue) and func.enum_members is not None:
            member = enum_call(func, args[0]) if len(args) == 1 else MISSING
            return member if member is not MISSING else unknown_value(node, f"no member of {func.name} has this value statically")
        if isinstance(func, ClassValue):
            return self.instantiate(func, args, kwargs, node, arg_nodes)
        if isinstance(func, BoundBuiltin):
            return self.call_builtin_method(func, args, kwargs, node, arg_nodes)
        if isinstance(func, DagDecorator):  # @dag(...)(fn) written as a call
            return func
        if isinstance(func, Unknown):
            return func
        return unknown_value(node, f"calls {unparse(node.func)}, which is not static")

    def call_external(self, qualname: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST], direct: bool = True) -> Any:
        rules = self.rules
        if qualname == "functools.partial" and args:
            return Partial(args[0], args[1:], kwargs)
        if qualname.endswith(".partial") and not args:
            return MappedPartial(qualname[: -len(".partial")], kwargs, dict(arg_nodes))
        if qualname in rules.task_group_decorators:
            return TaskGroupDecorator(kwargs)
        if qualname in rules.dag_constructors:
            return self.rec.dag(self, args, kwargs, node, "assignment")
        if qualname in rules.dag_decorators:
            return DagDecorator(args, kwargs)
        if self._is_task_decorator(qualname):
            return TaskDecorator(kwargs)
        if qualname in rules.task_groups:
            group_id = args[0] if args else kwargs.get("group_id")
            return TaskGroupObj(group_id)
        if qualname in rules.dataset_callables:
            return self.rec.dataset(args, kwargs, node)
        if qualname in rules.dataset_conditions:
            return DatasetCondition(tuple(d for a in args for d in datasets_of(a)))
        if qualname in ("datetime.timedelta", "pendulum.duration"):
            return timedelta_value(args, kwargs, node)
        if qualname == "enum.auto":
            return AutoValue()
        if qualname in ("types.SimpleNamespace",):
            return Instance(None, dict(kwargs))
        if qualname in rules.connection_getters or qualname in rules.variable_getters:
            self.rec.getter(self, qualname, args, kwargs, node)
        library = find_model(qualname)
        if library is not None:
            return library(ModelCall(self, qualname, args, kwargs, node, arg_nodes))
        reason = rules.parse_time_reason(qualname)
        if reason:
            return unknown_value(node, reason)
        if qualname.startswith("builtins."):
            return pure_builtin(qualname[len("builtins.") :], args, kwargs, node)
        rule = rules.dependency_rule(qualname)
        if rule is not None or "task_id" in kwargs:
            return self.rec.task(self, qualname, kwargs.get("task_id"), kwargs, node, arg_nodes, args=args, rule=rule, direct=direct)
        self.rec.keywords(self, kwargs, node)
        if qualname.startswith(("datetime.", "pendulum.", "airflow.utils.dates.")):
            return Opaque(unparse(node))
        return unknown_value(node, f"calls {qualname}(), which is not static")

    def expand(self, mapped: MappedPartial, how: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        """Dynamic task mapping: one task whose expanded arguments are lists. A DAG named
        in the expanded arguments gives one dependency per item when the list is static."""
        merged_nodes = {**mapped.arg_nodes, **arg_nodes}
        operator = ExternalRef(mapped.operator) if isinstance(mapped.operator, str) else mapped.operator

        def build(extra: dict[str, Any]) -> Any:
            return self.call(operator, [], {**mapped.kwargs, **extra}, node, merged_nodes)

        if how == "expand_kwargs":
            return build({"**": Unknown(unparse(node), "mapped over arguments known only at run time")})
        rule = self.dependency_rule_of(operator)
        key = rule.dag_keyword if rule is not None else None
        if key in kwargs:
            items = self.iterate(kwargs[key], node)
            if isinstance(items, list):
                result = None
                for item in items:
                    result = build({**kwargs, key: item})
                return result
        return build(kwargs)

    def dependency_rule_of(self, operator: Any) -> Any:
        """The rule of an operator named directly or of the first ruled class it derives from."""
        if isinstance(operator, ExternalRef):
            return self.rules.dependency_rule(operator.qualname)
        for cls in operator.mro() if isinstance(operator, ClassValue) else ():
            name = cls.qualname if isinstance(cls, (ClassValue, ExternalRef)) else None
            if name and self.rules.dependency_rule(name):
                return self.rules.dependency_rule(name)
        return None

    def call_function(self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if self.call_depth >= MAX_CALL_DEPTH:
            return unknown_value(node, "calls nested too deeply to follow")
        scope = Scope({}, func.closure, func.closure.module)
        self.bind_arguments(func, args, kwargs, scope, node)
        if isinstance(func.node, ast.Lambda):
            self.call_depth += 1
            try:
                return self.eval(func.node.body, scope)
            finally:
                self.call_depth -= 1
        if any(f.node is func.node for f in self.functions) and any(isinstance(a, Unknown) for a in [*args, *kwargs.values()]):
            return unknown_value(node, f"recursion in {func.name}() on values that are not static")
        generator = is_generator(func.node)
        previous_module = self.module
        self.module = func.closure.module or self.module
        self.call_depth += 1
        self.functions.append(func)
        self.yields.append([]) if generator else None
        self.rec.executed.add(id(func.node))
        try:
            self.exec_block(func.node.body, scope)
        except _Return as ret:
            if not generator:
                return ret.value
        except (_Break, _Continue):
            pass
        finally:
            self.functions.pop()
            self.call_depth -= 1
            self.module = previous_module
            produced = self.yields.pop() if generator else None
        return produced  # a generator runs eagerly: the list of what it yields

    def _eval_Yield(self, node: ast.Yield, scope: Scope) -> Any:
        if not self.yields:
            return unknown_value(node, "yield outside a function")
        self.yields[-1].append(self.eval(node.value, scope))
        return None  # what a caller would send in: generators here are only iterated

    def _eval_YieldFrom(self, node: ast.YieldFrom, scope: Scope) -> Any:
        items = self.iterate(self.eval(node.value, scope), node.value)
        if not self.yields or isinstance(items, Unknown):
            return items if isinstance(items, Unknown) else unknown_value(node, "yield outside a function")
        self.yields[-1].extend(items)
        return None

    def bind_arguments(self, func: Function, args: list[Any], kwargs: dict[str, Any], scope: Scope, node: ast.AST) -> None:
        spec = func.node.args
        positional = spec.posonlyargs + spec.args
        args = list(args)
        if func.bound_self is not None:
            args.insert(0, func.bound_self)
        defaults = spec.defaults
        first_default = len(positional) - len(defaults)
        remaining = dict(kwargs)
        for index, param in enumerate(positional):
            if index < len(args):
                scope.vars[param.arg] = args[index]
            elif param.arg in remaining:
                scope.vars[param.arg] = remaining.pop(param.arg)
            elif index >= first_default:
                scope.vars[param.arg] = self.eval(defaults[index - first_default], func.closure)
            else:
                scope.vars[param.arg] = remaining.get("**") or unknown_value(node, f"parameter {param.arg!r} has no value at this call")
        if spec.vararg:
            scope.vars[spec.vararg.arg] = tuple(args[len(positional) :])
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults):
            if param.arg in remaining:
                scope.vars[param.arg] = remaining.pop(param.arg)
            elif default is not None:
                scope.vars[param.arg] = self.eval(default, func.closure)
            else:
                scope.vars[param.arg] = remaining.get("**") or unknown_value(node, f"parameter {param.arg!r} has no value at this call")
        if spec.kwarg:
            scope.vars[spec.kwarg.arg] = remaining

    def call_dag_function(self, func: DagFunction, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> Any:
        decorator = func.decorator
        dag_kwargs = dict(decorator.kwargs)
        if "dag_id" not in dag_kwargs and not decorator.args:
            dag_kwargs["dag_id"] = func.function.name
        dag = self.rec.dag(self, list(decorator.args), dag_kwargs, node, "decorator", line=func.line)
        body = func.function.node
        dag.extent = (body.lineno, getattr(body, "end_lineno", body.lineno) or body.lineno)
        self.dag_stack.append(dag)
        try:
            self.call_function(func.function, args, kwargs, node)
        finally:
            self.dag_stack.pop()
        return dag

    def instantiate(self, cls: ClassValue, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        instance = Instance(cls)
        if cls.dataclass_fields is not None:
            for index, (name, default) in enumerate(cls.dataclass_fields):
                if index < len(args):
                    instance.attrs[name] = args[index]
                elif name in kwargs:
                    instance.attrs[name] = kwargs[name]
                elif default is not MISSING:
                    instance.attrs[name] = default
            post_init = cls.namespace.get("__post_init__") if not cls.record else None
            if isinstance(post_init, Function):
                self.call_function(post_init.bind(instance), [], {}, node)
            return instance
        for candidate in cls.mro():
            if isinstance(candidate, ClassValue) and self.rules.dependency_rule(candidate.qualname):
                boundary = candidate.qualname
            elif isinstance(candidate, ExternalRef):
                boundary = candidate.qualname
            elif isinstance(candidate, ClassValue) and "__init__" in candidate.namespace:
                init = candidate.namespace["__init__"]
                if isinstance(init, Function):
                    self.call_function(init.bind(instance), args, kwargs, node)
                break
            else:
                continue
            result = self.call_external(boundary, args, kwargs, node, arg_nodes, direct=candidate is cls)
            if isinstance(result, TaskObj):
                instance.task = result
            break
        return instance.task or instance
