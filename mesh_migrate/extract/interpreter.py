"""A static interpreter for the module level of DAG files.

It walks a module's statements the way Python would run them, but over abstract values:
literals, constants and f-strings are computed, loops over literal collections are
unrolled, in-repo functions and classes are inlined with their arguments bound, and names
imported from outside the repository stay symbolic (`ExternalRef`). Nothing is imported
or executed. Whatever depends on run-time input becomes `Unknown` with a reason.

Calls that matter (DAG constructors, operators, datasets, connection getters) are handed
to a `Recorder`, which turns them into facts.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import TYPE_CHECKING, Any, Callable

from ..facts import Diagnostic, SourceSpan
from .values import (
    MISSING,
    BoundBuiltin,
    ClassValue,
    DagDecorator,
    DagFunction,
    DagObj,
    DatasetCondition,
    DatasetObj,
    ExternalRef,
    Function,
    Instance,
    ModuleRef,
    Opaque,
    Partial,
    Scope,
    SuperProxy,
    TaskDecorator,
    TaskFunction,
    TaskGroupObj,
    TaskObj,
    Timedelta,
    Unknown,
    is_static,
)

if TYPE_CHECKING:
    from .extractor import Recorder, Workspace

MAX_CALL_DEPTH = 25
MAX_LOOP_ITEMS = 1000
MAX_STEPS = 400_000
# The largest value computed statically: characters or items of a string or collection,
# bits of an integer, digits of a field width. `9 ** 9 ** 9` or `"a".zfill(10**9)` in a
# DAG file would otherwise stall the analysis or exhaust its memory.
MAX_VALUE_SIZE = 1_000_000
_WIDE_FIELD = re.compile(r"\d{7,}")  # in a format spec
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\d{7,}")  # in a str.format field
_NESTED_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\{")  # a str.format width given as an argument
_WIDE_PERCENT = re.compile(r"%[^a-zA-Z%]*\d{7,}")  # in a %-format conversion


class BudgetExceeded(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class ModuleState:
    def __init__(self, name: str, path: str, tree: ast.Module | None):
        self.name = name
        self.path = path
        self.tree = tree
        self.scope = Scope({"__name__": name}, module=self)
        self.done = False
        self.running = False
        self.imports: set[str] = set()  # paths of repository modules this one imports
        self.outside_loop: ast.stmt | None = None  # a `break` or `continue` Python would refuse

    @property
    def package(self) -> str:
        if self.path.endswith("__init__.py"):
            return self.name
        return self.name.rpartition(".")[0]


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_STR_METHODS = {
    "format", "upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "replace",
    "split", "rsplit", "join", "startswith", "endswith", "removeprefix", "removesuffix", "zfill",
}
_DICT_METHODS = {"get", "items", "keys", "values", "copy"}
_LIST_METHODS = {"index", "count", "copy"}
_MUTATING = {"append", "extend", "update", "insert", "setdefault"}
_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "milliseconds": 0.001}
_PURE_BUILTINS: dict[str, Callable[..., Any]] = {
    "str": str, "int": int, "float": float, "bool": bool, "len": len, "list": list, "tuple": tuple,
    "dict": dict, "set": set, "sorted": sorted, "reversed": lambda x: list(reversed(x)),
    "range": lambda *a: list(range(*a)), "enumerate": lambda x, start=0: list(enumerate(x, start)),
    "zip": lambda *a: list(zip(*a)), "min": min, "max": max, "sum": sum, "any": any, "all": all,
    "abs": abs, "round": round, "repr": repr,
}


def unparse(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):
        return "<expression>"
    return text if len(text) <= 200 else text[:197] + "..."


def _unknown(node: ast.AST, reason: str) -> Unknown:
    return Unknown(unparse(node), reason)


class Interpreter:
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

    # ---- modules -------------------------------------------------------------------
    def run_module(self, state: ModuleState) -> None:
        previous, self.module = self.module, state
        try:
            self.exec_block(state.tree.body, state.scope)
        except _Return:
            pass
        except (_Break, _Continue) as escaped:  # Python refuses such a module
            state.outside_loop = escaped.args[0]
        finally:
            state.done = True
            self.module = previous

    def import_module(self, ref: ModuleRef) -> ModuleState | None:
        state = self.ws.module_state(ref)
        if self.module is not None and ref.path:
            # Whatever module the code reaches (star import, `pkg.sub.name`) is a dependency.
            self.module.imports.add(ref.path)
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
        return _unknown(node, f"{ref.name}.{name} is not defined statically in the repository")

    def _exec_FunctionDef(self, stmt: ast.FunctionDef, scope: Scope) -> None:
        value: Any = Function(stmt, scope, stmt.name, qualname=self._qualname(stmt.name, scope))
        for decorator in reversed(stmt.decorator_list):
            value = self.decorate(self.eval(decorator, scope), value, stmt)
        scope.vars[stmt.name] = value

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def decorate(self, decorator: Any, value: Any, stmt: ast.AST) -> Any:
        if not isinstance(value, Function):
            return value
        if isinstance(decorator, ExternalRef):
            if decorator.qualname in self.rules.dag_decorators:
                return DagFunction(value, DagDecorator([], {}), stmt.lineno)
            if self._is_task_decorator(decorator.qualname):
                return TaskFunction(value, {})
            if decorator.qualname in ("functools.wraps", "functools.lru_cache", "functools.cache"):
                return value
        if isinstance(decorator, DagDecorator):
            return DagFunction(value, decorator, stmt.lineno)
        if isinstance(decorator, TaskDecorator):
            return TaskFunction(value, decorator.kwargs)
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
        # Class bodies do not form a closure: methods see the enclosing scope, not the class.
        for key, member in list(body_scope.vars.items()):
            if isinstance(member, Function):
                body_scope.vars[key] = Function(member.node, scope, member.name, None, cls, f"{cls.qualname}.{key}")
        for decorator in stmt.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            value = self.eval(target, scope)
            if isinstance(value, ExternalRef) and value.qualname == "dataclasses.dataclass":
                cls.dataclass_fields = [
                    (item.target.id, body_scope.vars.get(item.target.id, MISSING))
                    for item in stmt.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                ]
        scope.vars[stmt.name] = cls

    def _exec_Return(self, stmt: ast.Return, scope: Scope) -> None:
        raise _Return(self.eval(stmt.value, scope) if stmt.value is not None else None)

    def _exec_Raise(self, stmt: ast.Raise, scope: Scope) -> None:
        if self.call_depth:
            raise _Return(_unknown(stmt, "the code raises an exception here"))

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
        for body in branches:
            scope.vars.clear()
            scope.vars.update(before)
            try:
                self.exec_block(body, scope)
            except (_Break, _Continue, _Return):
                pass
            results.append(dict(scope.vars))
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
                    self.assign(inner, items if isinstance(items, Unknown) else _unknown(element, "cannot unpack statically"), scope)
                return
            for element, item in zip(target.elts, items):
                self.assign(element, item, scope)
        elif isinstance(target, ast.Attribute):
            owner = self.eval(target.value, scope)
            if isinstance(owner, Instance):
                owner.attrs[target.attr] = value
            elif isinstance(owner, ClassValue):
                owner.namespace[target.attr] = value
        elif isinstance(target, ast.Subscript):
            owner = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(owner, dict) and is_static(key):
                owner[key] = value
            elif isinstance(owner, list) and isinstance(key, int) and -len(owner) <= key < len(owner):
                owner[key] = value

    # ---- expressions ---------------------------------------------------------------
    def eval(self, node: ast.expr | None, scope: Scope) -> Any:
        if node is None:
            return None
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded()
        handler = getattr(self, f"_eval_{type(node).__name__}", None)
        if handler is None:
            return _unknown(node, f"{type(node).__name__} expressions are not evaluated statically")
        return handler(node, scope)

    def _eval_Constant(self, node: ast.Constant, scope: Scope) -> Any:
        if isinstance(node.value, str) and "{{" in node.value and self.in_top_module():
            self.rec.template(self, node.value, node)
        return node.value

    def _eval_Name(self, node: ast.Name, scope: Scope) -> Any:
        return self._lookup(node, scope)

    def _lookup(self, node: ast.Name, scope: Scope) -> Any:
        try:
            return scope.lookup(node.id)
        except KeyError:
            pass
        if node.id in _PURE_BUILTINS or node.id in ("open", "print", "isinstance", "getattr", "globals", "locals"):
            return ExternalRef(f"builtins.{node.id}")
        return _unknown(node, f"name {node.id!r} is not defined statically")

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> Any:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
                continue
            assert isinstance(value, ast.FormattedValue)
            inner = self.eval(value.value, scope)
            if isinstance(inner, Unknown):
                return inner
            if not is_static(inner):
                return _unknown(value.value, f"{unparse(value.value)} is not a static value")
            if value.conversion == ord("r"):
                inner = repr(inner)
            elif value.conversion in (ord("s"), ord("a")):
                inner = str(inner)
            spec = self.eval(value.format_spec, scope) if value.format_spec is not None else ""
            if isinstance(spec, str) and _WIDE_FIELD.search(spec):
                return _unknown(node, "value too large to compute statically")
            try:
                parts.append(format(inner, spec if isinstance(spec, str) else ""))
            except (TypeError, ValueError):
                return _unknown(node, "cannot format statically")
        return "".join(parts)

    def _eval_List(self, node: ast.List, scope: Scope) -> Any:
        return self._elements(node.elts, scope)

    def _eval_Tuple(self, node: ast.Tuple, scope: Scope) -> Any:
        items = self._elements(node.elts, scope)
        return tuple(items) if isinstance(items, list) else items

    def _eval_Set(self, node: ast.Set, scope: Scope) -> Any:
        items = self._elements(node.elts, scope)
        if isinstance(items, list) and all(is_static(i) for i in items):
            try:
                return set(items)
            except TypeError:
                pass
        return items

    def _elements(self, elts: list[ast.expr], scope: Scope) -> Any:
        out: list[Any] = []
        for element in elts:
            if isinstance(element, ast.Starred):
                items = self.iterate(self.eval(element.value, scope), element.value)
                if isinstance(items, Unknown):
                    return items
                out.extend(items)
            else:
                out.append(self.eval(element, scope))
        return out

    def _eval_Dict(self, node: ast.Dict, scope: Scope) -> Any:
        out: dict[Any, Any] = {}
        for key_node, value_node in zip(node.keys, node.values):
            value = self.eval(value_node, scope)
            if key_node is None:
                if isinstance(value, dict):
                    out.update(value)
                elif isinstance(value, Instance) and value.cls is None:
                    out.update(value.attrs)
                else:
                    return value if isinstance(value, Unknown) else _unknown(value_node, "cannot expand statically")
                continue
            key = self.eval(key_node, scope)
            if not is_static(key):
                return key if isinstance(key, Unknown) else _unknown(key_node, "dict key is not static")
            out[key] = value
        return out

    def _eval_Attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        owner = self.eval(node.value, scope)
        return self.attribute(owner, node.attr, node)

    def attribute(self, owner: Any, name: str, node: ast.AST) -> Any:
        if isinstance(owner, ExternalRef):
            return owner.attr(name)
        if isinstance(owner, ModuleRef):
            return self.module_attribute(owner, name, node)
        if isinstance(owner, Instance):
            if name in owner.attrs:
                return owner.attrs[name]
            if owner.task is not None and name == "task_id":
                return owner.task.task_id
            if owner.cls is not None:
                try:
                    member = owner.cls.lookup(name)
                except KeyError:
                    pass
                else:
                    return member.bind(owner) if isinstance(member, Function) else member
            return _unknown(node, f"attribute {name!r} is not set statically")
        if isinstance(owner, ClassValue):
            try:
                return owner.lookup(name)
            except KeyError:
                return _unknown(node, f"{owner.name}.{name} is not defined statically")
        if isinstance(owner, SuperProxy):
            return self._super_attribute(owner, name, node)
        if isinstance(owner, DagObj) and name == "dag_id":
            return owner.dag_id
        if isinstance(owner, TaskObj) and name == "task_id":
            return owner.task_id
        if isinstance(owner, str) and name in _STR_METHODS:
            return BoundBuiltin(owner, name)
        if isinstance(owner, dict) and name in _DICT_METHODS | _MUTATING:
            return BoundBuiltin(owner, name)
        if isinstance(owner, list) and name in _LIST_METHODS | _MUTATING:
            return BoundBuiltin(owner, name)
        if isinstance(owner, Unknown):
            return owner
        return _unknown(node, f"attribute {name!r} of {unparse(getattr(node, 'value', node))} is not static")

    def _super_attribute(self, proxy: SuperProxy, name: str, node: ast.AST) -> Any:
        mro = proxy.instance.cls.mro() if proxy.instance.cls else []
        after = mro[mro.index(proxy.after) + 1 :] if proxy.after in mro else mro[1:]
        for cls in after:
            if isinstance(cls, ClassValue) and name == "__init__" and self.rules.dependency_rule(cls.qualname):
                return BoundBuiltin(proxy.instance, f"external_init:{cls.qualname}")
            if isinstance(cls, ClassValue):
                if name in cls.namespace:
                    member = cls.namespace[name]
                    return member.bind(proxy.instance) if isinstance(member, Function) else member
            elif isinstance(cls, ExternalRef) and name == "__init__":
                return BoundBuiltin(proxy.instance, f"external_init:{cls.qualname}")
        return _unknown(node, f"super().{name} is outside the repository")

    def _eval_Subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        owner = self.eval(node.value, scope)
        key = self.eval(node.slice, scope)
        if isinstance(owner, Unknown):
            return owner
        if isinstance(key, Unknown):
            return key
        if isinstance(owner, ExternalRef):
            if owner.qualname == "os.environ":
                return _unknown(node, "read from an environment variable at parse time")
            return Opaque(unparse(node))
        try:
            if isinstance(node.slice, ast.Slice) and isinstance(owner, (list, tuple, str)):
                return owner[key]
            if isinstance(owner, (dict, list, tuple, str)):
                return owner[key]
        except (KeyError, IndexError, TypeError):
            return _unknown(node, f"{unparse(node.slice)} is not a key of {unparse(node.value)}")
        if isinstance(owner, Instance) and owner.cls is None and isinstance(key, str):
            return owner.attrs.get(key, _unknown(node, "key not set statically"))
        return _unknown(node, f"{unparse(node.value)} is not a static collection")

    def _eval_Slice(self, node: ast.Slice, scope: Scope) -> Any:
        parts = [self.eval(p, scope) if p is not None else None for p in (node.lower, node.upper, node.step)]
        if any(isinstance(p, Unknown) for p in parts):
            return next(p for p in parts if isinstance(p, Unknown))
        return slice(*parts)

    def _eval_BinOp(self, node: ast.BinOp, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        return self.binop(type(node.op), left, right, node)

    def binop(self, op: type, left: Any, right: Any, node: ast.AST) -> Any:
        if op in (ast.RShift, ast.LShift):  # task >> task: ordering only
            return right
        if op in (ast.BitAnd, ast.BitOr) and _is_dataset_like(left) and _is_dataset_like(right):
            return DatasetCondition(_datasets_of(left) + _datasets_of(right))
        if isinstance(left, Unknown):
            return left
        if isinstance(right, Unknown):
            return right
        if isinstance(left, Timedelta) and isinstance(right, Timedelta) and op in (ast.Add, ast.Sub):
            return Timedelta(_BINOPS[op](left.seconds, right.seconds))
        if isinstance(left, Timedelta) and isinstance(right, (int, float)) and op is ast.Mult:
            return Timedelta(left.seconds * right)
        if op in _BINOPS and is_static(left) and is_static(right):
            if _too_large(op, left, right):
                return _unknown(node, "value too large to compute statically")
            try:
                return _BINOPS[op](left, right)
            except Exception:  # noqa: BLE001 - any failure of a pure operator means "not static"
                return _unknown(node, "cannot compute statically")
        return _unknown(node, f"{unparse(node)} is not static")

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Any:
        value = self.eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            truth = self.truth(value)
            return (not truth) if truth is not None else _unknown(node, f"{unparse(node)} is not static")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(value, Timedelta) and isinstance(node.op, ast.USub):
            return Timedelta(-value.seconds)
        return value if isinstance(value, Unknown) else _unknown(node, "not static")

    def _eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Any:
        result: Any = None
        for value_node in node.values:
            result = self.eval(value_node, scope)
            truth = self.truth(result)
            if truth is None:
                return _unknown(node, f"depends on a condition that is not static: {unparse(node)}")
            if isinstance(node.op, ast.And) and not truth:
                return result
            if isinstance(node.op, ast.Or) and truth:
                return result
        return result

    def _eval_Compare(self, node: ast.Compare, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node, scope)
            if not (is_static(left) and is_static(right)):
                return left if isinstance(left, Unknown) else right if isinstance(right, Unknown) else _unknown(node, "not static")
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return _unknown(node, "cannot compare statically")
            left = right
        return True

    def _eval_IfExp(self, node: ast.IfExp, scope: Scope) -> Any:
        truth = self.truth(self.eval(node.test, scope))
        if truth is True:
            return self.eval(node.body, scope)
        if truth is False:
            return self.eval(node.orelse, scope)
        body, orelse = self.eval(node.body, scope), self.eval(node.orelse, scope)
        if is_static(body) and body == orelse:
            return body
        return _unknown(node, f"depends on a condition that is not static: {unparse(node.test)}")

    def _eval_NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> Any:
        value = self.eval(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def _eval_Lambda(self, node: ast.Lambda, scope: Scope) -> Any:
        return Function(node, scope, "<lambda>")

    def _eval_ListComp(self, node: ast.ListComp, scope: Scope) -> Any:
        return self._comprehension(node, scope, lambda s: self.eval(node.elt, s))

    def _eval_SetComp(self, node: ast.SetComp, scope: Scope) -> Any:
        return self._comprehension(node, scope, lambda s: self.eval(node.elt, s))

    _eval_GeneratorExp = _eval_ListComp

    def _eval_DictComp(self, node: ast.DictComp, scope: Scope) -> Any:
        pairs = self._comprehension(node, scope, lambda s: (self.eval(node.key, s), self.eval(node.value, s)))
        if isinstance(pairs, Unknown):
            return pairs
        if not all(is_static(k) for k, _ in pairs):
            return _unknown(node, "dict keys are not static")
        return dict(pairs)

    def _comprehension(self, node: Any, scope: Scope, element: Callable[[Scope], Any]) -> Any:
        results: list[Any] = []
        inner = Scope({}, scope, scope.module)
        unknown: list[Unknown] = []

        def walk(index: int) -> None:
            if index == len(node.generators):
                results.append(element(inner))
                return
            generator = node.generators[index]
            items = self.iterate(self.eval(generator.iter, inner), generator.iter)
            if isinstance(items, Unknown):
                unknown.append(items)
                self.assign(generator.target, items, inner)
                element(inner)  # still record what one item would create, with unknown values
                return
            for item in items:
                self.assign(generator.target, item, inner)
                conditions = [self.truth(self.eval(cond, inner)) for cond in generator.ifs]
                if all(c is True for c in conditions):
                    walk(index + 1)
                elif any(c is None for c in conditions):
                    unknown.append(_unknown(node, "comprehension filter is not static"))

        walk(0)
        return unknown[0] if unknown else results

    def _eval_Starred(self, node: ast.Starred, scope: Scope) -> Any:
        return self.eval(node.value, scope)

    def _eval_Await(self, node: ast.Await, scope: Scope) -> Any:
        return _unknown(node, "awaited at run time")

    def truth(self, value: Any) -> bool | None:
        if is_static(value):
            return bool(value)
        if isinstance(value, (Function, ClassValue, DagObj, TaskObj, Instance, ExternalRef, ModuleRef)):
            return True
        return None

    def iterate(self, value: Any, node: ast.AST) -> list[Any] | Unknown:
        if isinstance(value, Unknown):
            return value
        if isinstance(value, dict):
            items = list(value)
        elif isinstance(value, (list, tuple, str)):
            items = list(value)
        elif isinstance(value, (set, frozenset)):
            items = sorted(value, key=repr)
        else:
            return _unknown(node, f"loop over {unparse(node)}, which is not a static collection")
        if len(items) > MAX_LOOP_ITEMS:
            return _unknown(node, f"loop over more than {MAX_LOOP_ITEMS} items")
        return items

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
                    kwargs["**"] = value if isinstance(value, Unknown) else _unknown(keyword.value, "keyword arguments are not static")
            else:
                kwargs[keyword.arg] = value
                arg_nodes[keyword.arg] = keyword.value
        self.rec.call_seen(node)
        return self.call(func, args, kwargs, node, arg_nodes)

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
        return _unknown(node, "super() outside a method of a repository class")

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
        if isinstance(func, TaskFunction):
            task_id = func.kwargs.get("task_id", func.function.name)
            return self.rec.task(self, "airflow.decorators.task", task_id, {**func.kwargs, **kwargs}, node, arg_nodes)
        if isinstance(func, (Function, ClassValue)) and self.rules.dependency_rule(func.qualname):
            return self.call_external(func.qualname, args, kwargs, node, arg_nodes)
        if isinstance(func, Function):
            return self.call_function(func, args, kwargs, node)
        if isinstance(func, ClassValue):
            return self.instantiate(func, args, kwargs, node, arg_nodes)
        if isinstance(func, BoundBuiltin):
            return self.call_builtin_method(func, args, kwargs, node, arg_nodes)
        if isinstance(func, DagDecorator):  # @dag(...)(fn) written as a call
            return func
        if isinstance(func, Unknown):
            return func
        return _unknown(node, f"calls {unparse(node.func)}, which is not static")

    def call_external(self, qualname: str, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST], direct: bool = True) -> Any:
        rules = self.rules
        if qualname == "functools.partial" and args:
            return Partial(args[0], args[1:], kwargs)
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
            return DatasetCondition(tuple(d for a in args for d in _datasets_of(a)))
        if qualname in ("datetime.timedelta", "pendulum.duration"):
            return _timedelta(args, kwargs, node)
        if qualname in ("types.SimpleNamespace",):
            return Instance(None, dict(kwargs))
        if qualname in rules.connection_getters or qualname in rules.variable_getters:
            self.rec.getter(self, qualname, args, kwargs, node)
        reason = rules.parse_time_reason(qualname)
        if reason:
            return _unknown(node, reason)
        if qualname.startswith("builtins."):
            return _pure_builtin(qualname[len("builtins.") :], args, kwargs, node)
        rule = rules.dependency_rule(qualname)
        if rule is not None or "task_id" in kwargs:
            return self.rec.task(self, qualname, kwargs.get("task_id"), kwargs, node, arg_nodes, args=args, rule=rule, direct=direct)
        self.rec.keywords(self, kwargs, node, arg_nodes)
        if qualname.startswith(("datetime.", "pendulum.", "airflow.utils.dates.")):
            return Opaque(unparse(node))
        return _unknown(node, f"calls {qualname}(), which is not static")

    def call_function(self, func: Function, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
        if self.call_depth >= MAX_CALL_DEPTH:
            return _unknown(node, "calls nested too deeply to follow")
        scope = Scope({}, func.closure, func.closure.module)
        self.bind_arguments(func, args, kwargs, scope, node)
        if isinstance(func.node, ast.Lambda):
            self.call_depth += 1
            try:
                return self.eval(func.node.body, scope)
            finally:
                self.call_depth -= 1
        previous_module = self.module
        self.module = func.closure.module or self.module
        self.call_depth += 1
        self.functions.append(func)
        self.rec.executed.add(id(func.node))
        try:
            self.exec_block(func.node.body, scope)
        except _Return as ret:
            return ret.value
        except (_Break, _Continue):
            pass
        finally:
            self.functions.pop()
            self.call_depth -= 1
            self.module = previous_module
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
                scope.vars[param.arg] = remaining.get("**") or _unknown(node, f"parameter {param.arg!r} has no value at this call")
        if spec.vararg:
            scope.vars[spec.vararg.arg] = tuple(args[len(positional) :])
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults):
            if param.arg in remaining:
                scope.vars[param.arg] = remaining.pop(param.arg)
            elif default is not None:
                scope.vars[param.arg] = self.eval(default, func.closure)
            else:
                scope.vars[param.arg] = remaining.get("**") or _unknown(node, f"parameter {param.arg!r} has no value at this call")
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

    def call_builtin_method(self, func: BoundBuiltin, args: list[Any], kwargs: dict[str, Any], node: ast.Call, arg_nodes: dict[str, ast.AST]) -> Any:
        if func.name.startswith("external_init:"):
            qualname = func.name.split(":", 1)[1]
            result = self.call_external(qualname, args, kwargs, node, arg_nodes, direct=False)
            if isinstance(result, TaskObj) and isinstance(func.target, Instance):
                func.target.task = result
            return None
        target, name = func.target, func.name
        if name in _MUTATING:
            if name == "append" and isinstance(target, list) and len(args) == 1:
                target.append(args[0])
            elif name == "extend" and isinstance(target, list) and args and isinstance(args[0], (list, tuple)):
                target.extend(args[0])
            elif name == "update" and isinstance(target, dict):
                if args and isinstance(args[0], dict):
                    target.update(args[0])
                target.update(kwargs)
            elif name == "setdefault" and isinstance(target, dict) and args and is_static(args[0]):
                return target.setdefault(args[0], args[1] if len(args) > 1 else None)
            return None
        if name == "items" and isinstance(target, dict):
            return [(k, v) for k, v in target.items()]
        if name in ("keys", "values") and isinstance(target, dict):
            return list(getattr(target, name)())
        if name == "get" and isinstance(target, dict):
            key = args[0] if args else None
            if not is_static(key):
                return _unknown(node, "dict key is not static")
            return target.get(key, args[1] if len(args) > 1 else None)
        if name == "copy":
            return type(target)(target)
        if all(is_static(a) for a in args) and all(is_static(v) for v in kwargs.values()):
            if _too_large_call(target, name, [*args, *kwargs.values()]):
                return _unknown(node, "value too large to compute statically")
            try:
                return getattr(target, name)(*args, **kwargs)
            except Exception:  # noqa: BLE001 - a failing pure method means "not static"
                return _unknown(node, f"cannot compute {unparse(node)} statically")
        unknown = next((a for a in [*args, *kwargs.values()] if isinstance(a, Unknown)), None)
        return unknown or _unknown(node, f"{unparse(node)} is not static")


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else 0


def _large_int(values: Any) -> bool:
    items = values if isinstance(values, (list, tuple)) else (values,)
    return any(isinstance(v, int) and v > MAX_VALUE_SIZE for v in items)


def _too_large(op: type, left: Any, right: Any) -> bool:
    """Whether `left op right` would build a value larger than MAX_VALUE_SIZE."""
    if op is ast.Mult:
        if isinstance(left, int) and not isinstance(right, int):
            left, right = right, left
        if isinstance(right, int) and not isinstance(left, (int, float)):
            return right > 10_000 or _size(left) * right > MAX_VALUE_SIZE
        if isinstance(left, int) and isinstance(right, int):
            return left.bit_length() + right.bit_length() > MAX_VALUE_SIZE
    if op is ast.Add:
        return _size(left) + _size(right) > MAX_VALUE_SIZE
    if op is ast.Pow and isinstance(left, int) and isinstance(right, int):
        return abs(left) > 1 and right > 0 and left.bit_length() * right > MAX_VALUE_SIZE
    if op is ast.Mod and isinstance(left, str):  # "%0999999999d" % 1, "%*d" % (10**9, 1)
        return bool(_WIDE_PERCENT.search(left)) or ("*" in left and _large_int(right))
    return False


def _too_large_call(target: Any, name: str, args: list[Any]) -> bool:
    """Whether a str method would build a value larger than MAX_VALUE_SIZE."""
    if not isinstance(target, str):
        return False
    if name == "zfill":
        return _large_int(args)
    if name == "format":  # "{:>999999999}".format(1), "{:{}}".format(1, 10**9)
        return bool(_WIDE_FORMAT.search(target)) or (bool(_NESTED_FORMAT.search(target)) and _large_int(args))
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        return len(target) + (target.count(old) if old else len(target) + 1) * len(new) > MAX_VALUE_SIZE
    if name == "join" and args and isinstance(args[0], (str, list, tuple)):
        items = args[0]
        joined = len(items) if isinstance(items, str) else sum(_size(v) for v in items)
        return len(target) * len(items) + joined > MAX_VALUE_SIZE
    return False


def _is_dataset_like(value: Any) -> bool:
    return isinstance(value, (DatasetObj, DatasetCondition))


def _datasets_of(value: Any) -> tuple[Any, ...]:
    if isinstance(value, DatasetObj):
        return (value,)
    if isinstance(value, DatasetCondition):
        return value.datasets
    if isinstance(value, (list, tuple)):
        return tuple(d for v in value for d in _datasets_of(v))
    return ()


def _timedelta(args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    units = ["days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"]
    values = dict(zip(units, args))
    values.update(kwargs)
    seconds = 0.0
    for unit, amount in values.items():
        if not isinstance(amount, (int, float)) or isinstance(amount, bool):
            return _unknown(node, "timedelta with values that are not static")
        seconds += amount * (_TIMEDELTA_UNITS.get(unit) or (1e-6 if unit == "microseconds" else 0))
    return Timedelta(seconds)


def _pure_builtin(name: str, args: list[Any], kwargs: dict[str, Any], node: ast.AST) -> Any:
    func = _PURE_BUILTINS.get(name)
    if func is None:
        return _unknown(node, f"calls {name}(), which is not static")
    unknown = next((a for a in [*args, *kwargs.values()] if isinstance(a, Unknown)), None)
    if unknown:
        return unknown
    if not all(is_static(a) for a in args) or not all(is_static(v) for v in kwargs.values()):
        return _unknown(node, f"{name}() of values that are not static")
    if name == "range" and args and any(isinstance(a, int) and abs(a) > MAX_LOOP_ITEMS * 10 for a in args):
        return _unknown(node, "range too large to unroll")
    try:
        return func(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a failing builtin means "not static"
        return _unknown(node, f"{name}() fails on these values")
