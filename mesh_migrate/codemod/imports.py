"""Adding and dropping imports the way isort (and ruff's isort rules) would have them.

An added import joins its section (standard library, third party, first party, local) in
sorted place, or starts the section as a new block between its neighbours; an import that
already names the module takes the new names. Nothing else of the file moves, so a file
that isort accepted before is accepted after.
"""

from __future__ import annotations

import sys
from typing import Callable, Sequence

import libcst as cst

FUTURE, STDLIB, THIRD_PARTY, FIRST_PARTY, LOCAL = range(5)
Member = tuple[str, "str | None"]  # (name, alias)


def dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted(node.value)}.{node.attr.value}"
    return ""


def name_node(text: str) -> cst.Name | cst.Attribute:
    parts = text.split(".")
    node: cst.Name | cst.Attribute = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def section_of_module(name: str, level: int, first_party: Callable[[str], bool]) -> int:
    if level:
        return LOCAL
    top = name.partition(".")[0]
    if top == "__future__":
        return FUTURE
    if first_party(top):
        return FIRST_PARTY
    if top in sys.stdlib_module_names:
        return STDLIB
    return THIRD_PARTY


def _imports_of(statement: cst.CSTNode) -> list[cst.Import | cst.ImportFrom]:
    """The imports a top-level statement consists of (an import line, or a try of imports)."""
    if isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
        return [s for s in statement.body if isinstance(s, (cst.Import, cst.ImportFrom))]
    if isinstance(statement, cst.Try):
        found = [i for s in statement.body.body for i in _imports_of(s)]
        return found if found and len(found) == len(statement.body.body) else []
    return []


def _section(statement: cst.CSTNode, first_party: Callable[[str], bool]) -> int | None:
    imports = _imports_of(statement)
    if not imports:
        return None
    first = imports[0]
    if isinstance(first, cst.Import):
        return section_of_module(dotted(first.names[0].name), 0, first_party)
    return section_of_module(dotted(first.module), len(first.relative), first_party)


def import_region(body: Sequence[cst.BaseStatement]) -> range:
    """The leading statements isort sorts: after the docstring, imports (and tries of imports)."""
    start = 1 if body and _is_docstring(body[0]) else 0
    end = start
    while end < len(body) and _imports_of(body[end]):
        end += 1
    return range(start, end)


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _member_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, then Classes, then the rest."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def _sort_key(statement: cst.CSTNode) -> tuple[int, str]:
    """Within a section: plain `import x` lines first, then `from x import y`, by module."""
    first = _imports_of(statement)[0]
    if isinstance(first, cst.Import):
        return (0, dotted(first.names[0].name).lower())
    return (1, ("." * len(first.relative) + dotted(first.module)).lower())


def alias_nodes(members: Sequence[Member]) -> list[cst.ImportAlias]:
    """The names of an import line, in the order given."""
    return [
        cst.ImportAlias(
            name=cst.Name(name),
            asname=cst.AsName(name=cst.Name(alias)) if alias and alias != name else None,
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if index < len(members) - 1 else cst.MaybeSentinel.DEFAULT,
        )
        for index, (name, alias) in enumerate(members)
    ]


def _aliases(members: Sequence[Member]) -> list[cst.ImportAlias]:
    return alias_nodes(sorted(members, key=lambda m: _member_key(m[0])))


def as_name(alias: cst.ImportAlias) -> str | None:
    """The name after `as`, if any."""
    return alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else None


def _existing_members(node: cst.ImportFrom) -> list[Member] | None:
    if isinstance(node.names, cst.ImportStar):
        return None
    return [(dotted(a.name), as_name(a)) for a in node.names]


Leading = Sequence[cst.EmptyLine] | None


def region_leading(module: cst.Module) -> Leading:
    """The lines above the first import: a new first import takes them (a blank line after
    the docstring, or none), so a rewrite that replaces the first import keeps the layout."""
    region = import_region(module.body)
    return module.body[region.start].leading_lines if region else None


def add_from_import(module: cst.Module, source: str, members: Sequence[Member], first_party: Callable[[str], bool], first_leading: Leading = None) -> cst.Module:
    """`from SOURCE import MEMBERS`, merged into an existing top-level line of SOURCE."""
    body = list(module.body)
    region = import_region(body)
    for index in region:
        statement = body[index]
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        node = statement.body[0]
        if isinstance(node, cst.ImportFrom) and not node.relative and dotted(node.module) == source and node.lpar is None:
            existing = _existing_members(node)
            if existing is None:
                continue
            wanted = list(dict.fromkeys([*existing, *members]))
            if wanted == existing:
                return module
            body[index] = statement.with_changes(body=[node.with_changes(names=_aliases(wanted))])
            return module.with_changes(body=body)
    new = cst.SimpleStatementLine(body=[cst.ImportFrom(module=name_node(source), names=_aliases(list(dict.fromkeys(members))))])
    return _insert(module, new, section_of_module(source, 0, first_party), first_party, first_leading)


def add_import(module: cst.Module, name: str, first_party: Callable[[str], bool], first_leading: Leading = None) -> cst.Module:
    """`import NAME`, unless the module has that line already."""
    for statement in module.body:
        for node in _imports_of(statement):
            if isinstance(node, cst.Import) and any(dotted(a.name) == name and a.asname is None for a in node.names):
                return module
    new = cst.SimpleStatementLine(body=[cst.Import(names=[cst.ImportAlias(name=name_node(name))])])
    return _insert(module, new, section_of_module(name, 0, first_party), first_party, first_leading)


def _insert(module: cst.Module, new: cst.SimpleStatementLine, section: int, first_party: Callable[[str], bool], first_leading: Leading) -> cst.Module:
    body = list(module.body)
    region = import_region(body)
    sections = {index: _section(body[index], first_party) for index in region}
    same = [index for index in region if sections[index] == section]
    key = _sort_key(new)
    if same:
        later = [index for index in same if _sort_key(body[index]) > key]
        if later:  # before the first one that sorts after it, taking the blank lines above that one
            at = later[0]
            blank, rest = _split_leading(body[at])
            body[at] = body[at].with_changes(leading_lines=rest)
            body.insert(at, new.with_changes(leading_lines=blank))
        else:
            body.insert(same[-1] + 1, new)
        return module.with_changes(body=body)
    before = [index for index in region if (sections[index] or 0) < section]
    after = [index for index in region if (sections[index] or 0) > section]
    if before:
        at = before[-1] + 1
    elif after:
        at = after[0]
    else:
        at = region.start
    if at == region.start and first_leading is not None:
        leading = list(first_leading)
    else:
        leading = [cst.EmptyLine()] if at > 0 else []
    body.insert(at, new.with_changes(leading_lines=leading))
    following = at + 1
    if following < len(body):  # a blank line between the new block and what follows
        lines = list(body[following].leading_lines)
        if not lines or lines[0].comment is not None:
            body[following] = body[following].with_changes(leading_lines=[cst.EmptyLine(), *lines])
    return module.with_changes(body=body)


def _split_leading(statement: cst.BaseStatement) -> tuple[list[cst.EmptyLine], list[cst.EmptyLine]]:
    """The blank lines above a statement's own comments, and the rest."""
    lines = list(getattr(statement, "leading_lines", ()))
    count = 0
    while count < len(lines) and lines[count].comment is None:
        count += 1
    return lines[:count], lines[count:]


# ---- removing top-level statements, keeping the blank lines between blocks ---------------

REMOVED = "__mesh_migrate_removed__"


class StatementRemover(cst.CSTTransformer):
    """A top-level line whose statements a subclass removed stays as a placeholder, so that
    `drop_removed` can give its blank lines to the next statement (the blank line between
    two import blocks must survive the first block's last import)."""

    def __init__(self) -> None:
        super().__init__()
        self.block_depth = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.block_depth += 1

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        self.block_depth -= 1
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if not updated.body and self.block_depth == 0:
            return updated.with_changes(body=[cst.Expr(cst.Name(REMOVED))])
        return updated


def drop_removed(module: cst.Module, first_party: Callable[[str], bool] | None = None) -> cst.Module:
    """MODULE without the placeholders and the `try:` blocks left without statements.

    With FIRST_PARTY, a removed statement's blank lines are not kept between two imports of
    one section: isort joins those (a `try:` of imports is a block of its own to isort)."""
    body: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] | None = None
    for statement in module.body:
        if _is_placeholder(statement) or (isinstance(statement, cst.Try) and _emptied(statement)):
            if carried is None:
                carried, _ = _split_leading(statement)
            continue
        if carried and first_party is not None and body and _section(body[-1], first_party) is not None:
            if _section(body[-1], first_party) == _section(statement, first_party):
                carried = None
        if carried:
            lines = list(getattr(statement, "leading_lines", ()))
            if not lines or lines[0].comment is not None:  # it had no blank line of its own
                statement = statement.with_changes(leading_lines=[*carried, *lines])
        carried = None
        body.append(statement)
    return module.with_changes(body=body)


def _is_placeholder(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.Name)
        and statement.body[0].value.value == REMOVED
    )


def _emptied(statement: cst.Try) -> bool:
    """Every block of the try holds nothing but `pass` (or nothing): its imports moved away."""
    blocks = [statement.body, *(h.body for h in statement.handlers)]
    if statement.orelse is not None:
        blocks.append(statement.orelse.body)
    if statement.finalbody is not None:
        blocks.append(statement.finalbody.body)
    return all(isinstance(block, cst.IndentedBlock) and all(_is_pass(s) for s in block.body) for block in blocks)


def _is_pass(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, cst.Pass) for s in statement.body)
