"""Pointing a file's references to Airflow's classes at the helper module's drop-in classes.

`from airflow.sensors.external_task import ExternalTaskSensor as S` becomes
`from mesh_http import ExternalTaskSensor as S` (the other names of the line stay), and
`external_task.ExternalTaskSensor` becomes `mesh_http.ExternalTaskSensor`. Every use of the
bound name (calls, `functools.partial`, base classes, `.partial().expand()`) then reaches the
drop-in class, which routes by the DAG id at run time; nothing else of the file changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import libcst as cst

from ..rewrite_rules import ReplacedClass
from .imports import Member, StatementRemover, add_from_import, add_import, alias_nodes, as_name, dotted, drop_removed, import_region, name_node, region_leading


class Unreachable(Exception):
    """The file reaches the class in a way the codemod cannot rewrite; the message says why."""


@dataclass
class ReferenceOutcome:
    rewritten: set[str] = field(default_factory=set)  # names of the helper's classes now used


def _bindings(module: cst.Module) -> dict[str, str]:
    """Names bound to modules by the file's imports, anywhere: name -> module."""
    found: dict[str, str] = {}
    for node in _walk_imports(module):
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name)
                bound = as_name(alias)
                if bound is not None:
                    found[bound] = full
                else:
                    top = full.partition(".")[0]
                    found.setdefault(top, top)
        elif isinstance(node, cst.ImportFrom) and not node.relative and not isinstance(node.names, cst.ImportStar):
            base = dotted(node.module)
            for alias in node.names:
                found[_bound(alias, plain=False)] = f"{base}.{dotted(alias.name)}"
    return found


def _walk_imports(module: cst.Module) -> list[cst.Import | cst.ImportFrom]:
    found: list[cst.Import | cst.ImportFrom] = []

    class Collect(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            found.append(node)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            found.append(node)

    module.visit(Collect())
    return found


class _Rewriter(StatementRemover):
    def __init__(self, helper: str, classes: Sequence[ReplacedClass], bindings: dict[str, str], head: set[int]):
        super().__init__()
        self.head = head  # id() of the statements of the leading import block
        self.line: cst.SimpleStatementLine | None = None  # the top-level line being visited
        self.helper = helper
        self.by_qualname = {q: c for c in classes for q in c.replaces}
        self.bindings = bindings
        self.outcome = ReferenceOutcome()
        self.top_members: list[Member] = []  # to import at the top of the module
        self.attribute_use = False
        self.depth = 0  # inside a function or class body: imports there are rewritten in place
        self.dropped_modules: set[str] = set()  # names bound to modules whose attribute we replaced
        self.stars: list[str] = []
        self.pending_local: list[Member] = []  # a local import's names, for a line after it
        self.in_import = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.depth -= 1
        return updated

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated

    # ---- `from airflow... import ExternalTaskSensor [as S]` ---------------------------
    def visit_Import(self, node: cst.Import) -> bool:
        return False  # a module name is no reference to a class

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom | cst.RemovalSentinel:
        self.in_import -= 1
        if updated.relative:
            return updated
        base = dotted(updated.module)
        if isinstance(updated.names, cst.ImportStar):
            if any(q.rpartition(".")[0] == base for q in self.by_qualname):
                self.stars.append(base)
            return updated
        kept: list[cst.ImportAlias] = []
        moved: list[Member] = []
        for alias in updated.names:
            replaced = self.by_qualname.get(f"{base}.{dotted(alias.name)}")
            if replaced is None:
                kept.append(alias)
                continue
            bound = _bound(alias, plain=False)
            moved.append((replaced.name, bound if bound != replaced.name else None))
            self.outcome.rewritten.add(replaced.name)
        if not moved:
            return updated
        late = self.block_depth == 0 and self.line is not None and id(self.line) not in self.head
        if self.depth or late:  # a local or late import (after code): the new one takes its place, or follows it
            if not kept:
                return updated.with_changes(module=name_node(self.helper), names=alias_nodes(moved), lpar=None, rpar=None)
            self.pending_local = moved
        else:
            self.top_members += moved
        if not kept:
            return cst.RemoveFromParent()
        last = kept[-1].with_changes(comma=updated.names[-1].comma if isinstance(updated.names[-1].comma, cst.Comma) and updated.lpar else cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(names=[*kept[:-1], last])

    # ---- `external_task.ExternalTaskSensor` ------------------------------------------
    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if self.in_import:
            return updated
        text = dotted(original)
        head, _, rest = text.partition(".")
        module = self.bindings.get(head)
        if not text or module is None or not rest:
            return updated
        replaced = self.by_qualname.get(f"{module}.{rest}")
        if replaced is None:
            return updated
        self.outcome.rewritten.add(replaced.name)
        self.attribute_use = True
        self.dropped_modules.add(head)
        return name_node(f"{self.helper}.{replaced.name}")

    # ---- local imports that keep other names: the helper's line follows them ----------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        if self.block_depth == 0:
            self.line = node

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        pending = self.pending_local
        if not pending:
            return super().leave_SimpleStatementLine(original, updated)
        self.pending_local = []
        extra = cst.SimpleStatementLine(body=[cst.ImportFrom(module=name_node(self.helper), names=alias_nodes(pending))])
        return cst.FlattenSentinel([updated, extra])


def rewrite_references(module: cst.Module, helper: str, classes: Sequence[ReplacedClass], first_party: Callable[[str], bool]) -> tuple[cst.Module, ReferenceOutcome]:
    """MODULE with every reference to the classes' Airflow originals pointed at HELPER."""
    first_leading = region_leading(module)
    rewriter = _Rewriter(helper, classes, _bindings(module), {id(module.body[i]) for i in import_region(module.body)})
    new = module.visit(rewriter)
    if rewriter.stars:
        raise Unreachable(f"`from {rewriter.stars[0]} import *` hides which class is used: import it by name")
    if not rewriter.outcome.rewritten:
        return module, rewriter.outcome
    new = drop_removed(new, first_party)
    if rewriter.top_members:
        new = add_from_import(new, helper, rewriter.top_members, first_party, first_leading)
    if rewriter.attribute_use:
        new = add_import(new, helper, first_party, first_leading)
    new = drop_unused_module_imports(new, rewriter.dropped_modules)
    return new, rewriter.outcome


def drop_unused_module_imports(module: cst.Module, names: set[str]) -> cst.Module:
    """Imports binding NAMES (to a module) that nothing uses any more."""
    if not names:
        return module
    used = _used_names(module) & names
    unused = names - used
    if not unused:
        return module

    class Drop(StatementRemover):
        def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import | cst.RemovalSentinel:
            kept = [a for a in updated.names if _bound(a, plain=True) not in unused]
            return _with_names(updated, kept)

        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom | cst.RemovalSentinel:
            if isinstance(updated.names, cst.ImportStar):
                return updated
            kept = [a for a in updated.names if _bound(a, plain=False) not in unused]
            return _with_names(updated, kept)

    return drop_removed(module.visit(Drop()))


def _bound(alias: cst.ImportAlias, plain: bool) -> str:
    bound = as_name(alias)
    if bound is not None:
        return bound
    name = dotted(alias.name)
    return name.partition(".")[0] if plain else name


def _with_names(node, kept: list[cst.ImportAlias]):
    if not kept:
        return cst.RemoveFromParent()
    if len(kept) == len(node.names):
        return node
    return node.with_changes(names=[*kept[:-1], kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)])


def _used_names(module: cst.Module) -> set[str]:
    used: set[str] = set()

    class Collect(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Name(self, node: cst.Name) -> None:
            used.add(node.value)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False  # the attribute's own name is no use of a bound name

    module.visit(Collect())
    return used
