"""Statements run over abstract values: assignments, definitions, branches (both run when
the condition is not static), loops (unrolled over static collections), with, try, match."""

from __future__ import annotations

import ast
from typing import Any, Callable

from ..facts import Diagnostic, SourceSpan
from .base import InterpreterBase
from .classes import DESCRIPTORS, finish_class, rebind_methods
from .control import BreakSignal, ContinueSignal, ReturnSignal
from .expressions import (
    MAX_LOOP_ITEMS,
    MAX_STEPS,
    BudgetExceeded,
    tasks_in,
    unknown_value,
    unparse,
)
from .patterns import match_pattern
from .values import (
    MISSING,
    BoundBuiltin,
    ClassValue,
    DagDecorator,
    DagFunction,
    DagObj,
    ExternalRef,
    Function,
    Instance,
    Maybe,
    Property,
    Scope,
    TaskDecorator,
    TaskFunction,
    TaskGroupDecorator,
    TaskGroupFunction,
    TaskGroupObj,
    Unknown,
    is_static,
)


class StatementsMixin(InterpreterBase):
    """Statements, for the Interpreter."""

    # ---- statements ----------------------------------------------------------------
    def exec_block(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded()
        if self.in_top_module():
            self.top_node = stmt
        kind = type(stmt)
        try:
            handler = self._exec_handlers[kind]
        except KeyError:
            handler = self._find_handler(self._exec_handlers, "_exec_", kind)
        if handler is None:
            self.not_followed(stmt)
            return
        try:
            handler(self, stmt, scope)
        except RecursionError:
            if not self.in_top_module():
                raise  # in another module's code: reported where this file calls it
            # Deeper than Python's stack allows: skip this statement, follow the rest.
            self.too_deep(stmt)

    def not_followed(self, stmt: ast.stmt) -> None:
        """A statement this interpreter does not run: said once per kind and file, never
        skipped in silence."""
        kind = type(stmt).__name__
        if self.in_top_module() and kind not in self.rec.unfollowed:
            self.rec.unfollowed.add(kind)
            message = f"{kind} statements are not followed statically; what they change is not seen"
            self.rec.diagnostics.append(Diagnostic("warning", "not-followed", message, SourceSpan(self.rec.path, stmt.lineno, stmt.col_offset)))

    def _exec_Pass(self, stmt: ast.Pass, scope: Scope) -> None:
        pass

    def _exec_Global(self, stmt: ast.Global, scope: Scope) -> None:
        pass  # assignments then land in the function's scope: what the module sees is not changed

    _exec_Nonlocal = _exec_Global

    def _exec_Assert(self, stmt: ast.Assert, scope: Scope) -> None:
        self.eval(stmt.test, scope)

    def _exec_Delete(self, stmt: ast.Delete, scope: Scope) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                scope.vars.pop(target.id, None)

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

    def _exec_FunctionDef(self, stmt: ast.FunctionDef, scope: Scope) -> None:
        value: Any = Function(stmt, scope, stmt.name, qualname=self._qualname(stmt.name, scope))
        for decorator in reversed(stmt.decorator_list):
            value = self.decorate(self.eval(decorator, scope), value, stmt)
        scope.vars[stmt.name] = value

    _exec_AsyncFunctionDef = _exec_FunctionDef

    def decorate(self, decorator: Any, value: Any, stmt: ast.stmt) -> Any:
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
        return self.rules.is_task_decorator(qualname)

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
        raise ReturnSignal(self.eval(stmt.value, scope) if stmt.value is not None else None)

    def _exec_Raise(self, stmt: ast.Raise, scope: Scope) -> None:
        if self.call_depth:
            raise ReturnSignal(unknown_value(stmt, "the code raises an exception here"))

    def _exec_Break(self, stmt: ast.Break, scope: Scope) -> None:
        raise BreakSignal(stmt)

    def _exec_Continue(self, stmt: ast.Continue, scope: Scope) -> None:
        raise ContinueSignal(stmt)

    def _exec_If(self, stmt: ast.If, scope: Scope) -> None:
        value = self.eval(stmt.test, scope)
        test = self.truth(value)
        if test is True:
            self.exec_block(stmt.body, scope)
        elif test is False:
            self.exec_block(stmt.orelse, scope)
        else:
            def reason() -> str:  # written only when a report shows it
                why = f" ({value.reason})" if isinstance(value, Unknown) else ""
                return f"depends on a condition that is not static: {unparse(stmt.test)}{why}"

            self._exec_branches([stmt.body, stmt.orelse], scope, reason)

    def _exec_branches(self, branches: list[list[ast.stmt]], scope: Scope, reason: str | Callable[[], str]) -> None:
        """Run each branch on its own copy of the scope, then keep what they agree on."""
        before = dict(scope.vars)
        results: list[dict[str, Any]] = []
        self.uncertain += 1
        self.branch_points += 1
        point = self.branch_points
        try:
            for index, body in enumerate(branches):
                scope.vars.clear()
                scope.vars.update(before)
                self.branches.append((point, index, reason))
                try:
                    self.exec_block(body, scope)
                except (BreakSignal, ContinueSignal, ReturnSignal):
                    pass
                finally:
                    self.branches.pop()
                results.append(dict(scope.vars))
        finally:
            self.uncertain -= 1
        scope.vars.clear()
        scope.vars.update(_agreement(results, reason))

    def _exec_For(self, stmt: ast.For, scope: Scope) -> None:
        items = self.iterate(self.eval(stmt.iter, scope), stmt.iter)
        if isinstance(items, Unknown):
            self.assign(stmt.target, items, scope)
            self._exec_branches([stmt.body], scope, items.reason)
            return
        for item in items:
            if isinstance(item, Maybe):  # an item that may not be there: a branch
                self.assign(stmt.target, item.value, scope)
                self._exec_branches([stmt.body], scope, item.reason)
                continue
            self.assign(stmt.target, item, scope)
            if not self._loop_body(stmt.body, scope):
                return
        self.exec_block(stmt.orelse, scope)

    _exec_AsyncFor = _exec_For

    def _loop_body(self, body: list[ast.stmt], scope: Scope) -> bool:
        """One pass of a loop's body; False when it breaks out of the loop."""
        try:
            self.exec_block(body, scope)
        except BreakSignal:
            return False
        except ContinueSignal:
            pass
        return True

    def _exec_While(self, stmt: ast.While, scope: Scope) -> None:
        for _ in range(MAX_LOOP_ITEMS):
            test = self.truth(self.eval(stmt.test, scope))
            if test is None:
                self._exec_branches([stmt.body], scope, f"loops while a condition that is not static holds: {unparse(stmt.test)}")
                return
            if not test:
                self.exec_block(stmt.orelse, scope)
                return
            if not self._loop_body(stmt.body, scope):
                return
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
                self.group_stack.append((value.group_id if isinstance(value.group_id, str) else "?", value.prefix))
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


def _agreement(results: list[dict[str, Any]], reason: str | Callable[[], str]) -> dict[str, Any]:
    """The names of the branches' scopes: a value where every branch has it, unknown where
    they differ, absent where no branch binds it."""
    if len(results) == 1:  # a body that may not run: it agrees with itself on everything
        return results[0]
    merged: dict[str, Any] = {}
    for key in _names_of(results):
        first = results[0].get(key, MISSING)
        if _same_in_all(key, first, results):
            if first is not MISSING:
                merged[key] = first
        else:
            merged[key] = Unknown(key, reason)
    return merged


def _names_of(results: list[dict[str, Any]]) -> dict[str, None]:
    """Every name some branch binds, the first branch's first (an ordered union)."""
    names = dict.fromkeys(results[0])
    for result in results[1:]:
        names.update(dict.fromkeys(result))
    return names


def _same_in_all(key: str, first: Any, results: list[dict[str, Any]]) -> bool:
    """Whether every branch has FIRST for KEY: the same object (nearly every name, untouched
    by the branches), or equal static data. A loop, not all(): asked of every name in scope."""
    for result in results:
        value = result.get(key, MISSING)
        if value is not first and not (is_static(value) and is_static(first) and value == first):
            return False
    return True
