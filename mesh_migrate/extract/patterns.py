"""Small syntactic facts the statements need: `match` patterns, generator functions."""

from __future__ import annotations

import ast
from typing import Any

from .values import Unknown, is_static


def match_pattern(interp: Any, pattern: ast.pattern, subject: Any, scope: Any) -> bool | None:
    """Whether `subject` matches; None when that is not static. Captures are bound."""
    if isinstance(pattern, ast.MatchAs):
        if pattern.pattern is not None:
            inner = match_pattern(interp, pattern.pattern, subject, scope)
            if inner is False:
                return False
        if pattern.name is not None:
            scope.vars[pattern.name] = subject
        return True if pattern.pattern is None else inner
    if isinstance(pattern, ast.MatchOr):
        results = [match_pattern(interp, p, subject, scope) for p in pattern.patterns]
        return True if True in results else None if None in results else False
    if isinstance(subject, Unknown) or not is_static(subject):
        return None
    if isinstance(pattern, ast.MatchValue):
        value = interp.eval(pattern.value, scope)
        return subject == value if is_static(value) else None
    if isinstance(pattern, ast.MatchSingleton):
        return subject is pattern.value
    if isinstance(pattern, ast.MatchSequence) and not any(isinstance(p, ast.MatchStar) for p in pattern.patterns):
        if not isinstance(subject, (list, tuple)) or len(subject) != len(pattern.patterns):
            return False
        results = [match_pattern(interp, p, item, scope) for p, item in zip(pattern.patterns, subject)]
        return False if False in results else None if None in results else True
    if isinstance(pattern, ast.MatchMapping) and pattern.rest is None:
        if not isinstance(subject, dict):
            return False
        results = []
        for key_node, value_pattern in zip(pattern.keys, pattern.patterns):
            key = interp.eval(key_node, scope)
            if key not in subject:
                return False
            results.append(match_pattern(interp, value_pattern, subject[key], scope))
        return False if False in results else None if None in results else True
    return None  # class patterns, star patterns: not decided statically


# Fields that never hold a node worth looking into: names, numbers, type comments, and the
# expression contexts and operators (nodes with nothing inside).
_LEAF_FIELDS = frozenset({
    "ctx", "op", "ops", "id", "name", "names", "asname", "attr", "arg", "module", "level",
    "type_comment", "kind", "simple", "is_async", "conversion", "rest", "kwd_attrs", "tag",
})
_CONSTANT_VALUES = frozenset({ast.Constant, ast.MatchSingleton})  # their `value` is no node
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}  # see child_fields


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes with something inside, remembered in
    CHILD_FIELDS (walkers read that first: a call per node costs more than the lookup)."""
    leaves = _LEAF_FIELDS | {"value"} if kind in _CONSTANT_VALUES else _LEAF_FIELDS
    fields = CHILD_FIELDS[kind] = tuple(name for name in getattr(kind, "_fields", ()) if name not in leaves)
    return fields


_NESTED_SCOPES = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef})
_LEAVES = frozenset({ast.Name, ast.Constant})  # a third of a function's nodes, and nothing inside


def _yields(function: ast.AST) -> bool:
    """Whether the function's own body yields (nested functions and classes do not count)."""
    todo: list[Any] = list(getattr(function, "body", []))
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Yield or kind is ast.YieldFrom:
            return True
        if kind in _NESTED_SCOPES:
            continue
        fields = CHILD_FIELDS.get(kind)
        if fields is None:
            fields = child_fields(kind)
        for name in fields:  # like ast.iter_child_nodes, without a generator per node
            value = getattr(node, name, None)
            if type(value) is list:
                todo.extend(value)
            elif value is not None and type(value) not in _LEAVES:
                todo.append(value)
    return False


def is_generator(node: ast.AST) -> bool:
    if isinstance(node, ast.Lambda):
        return False
    known = getattr(node, "_is_generator", None)  # computed once per function definition
    if known is None:
        known = _yields(node)
        node._is_generator = known  # type: ignore[attr-defined]
    return known


def assigned_names(stmt: ast.stmt) -> list[str]:
    """The names a statement binds at its own level (assignments, definitions, imports)."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)) else []
    names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    for block in ("body", "orelse", "finalbody"):
        for inner in getattr(stmt, block, ()):
            names.extend(assigned_names(inner))
    return names
