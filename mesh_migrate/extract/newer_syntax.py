"""Python 3.12 f-strings read on Python 3.11.

Python 3.12 lets a replacement field reuse the f-string's own quotes
(`f"{row["id"]}"`); the 3.11 parser this tool runs on refuses them. libcst reads 3.12
syntax, so such a file is rewritten in memory with the inner strings' quotes swapped
(`f"{row['id']}"`), which keeps every line where it was, and parsed again. Anything this
cannot rewrite faithfully (three levels of the same quotes) stays a parse error; a
backslash, which 3.11 refuses inside a replacement field, is spelled with chr().
"""

from __future__ import annotations

import ast

import libcst as cst


class _Unrewritable(Exception):
    pass


def _quote(node: cst.SimpleString | cst.FormattedString) -> str:
    text = node.value if isinstance(node, cst.SimpleString) else node.start
    body = text.lstrip("rRbBuUfF")
    return body[:3] if body[:3] in ('"""', "'''") else body[:1]


class _SwapInnerQuotes(cst.CSTTransformer):
    def __init__(self) -> None:
        self.outer: list[str] = []  # quote characters of the f-strings we are inside

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.outer.append(_quote(node)[0])

    def leave_FormattedString(self, original: cst.FormattedString, updated: cst.FormattedString) -> cst.FormattedString:
        self.outer.pop()
        if not self.outer:
            return updated
        quote = _quote(updated)
        if quote[0] not in self.outer:
            return updated
        other = "'" if quote[0] == '"' else '"'
        parts_text = "".join(cst.Module([]).code_for_node(p) for p in updated.parts)
        if other in parts_text or "\\" in parts_text or other in self.outer:
            raise _Unrewritable()
        return updated.with_changes(start=updated.start.replace(quote, other * len(quote)), end=other * len(quote))

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.BaseExpression:
        if not self.outer:
            return updated
        quote = _quote(updated)
        prefix_length = len(updated.value) - len(updated.value.lstrip("rRbBuU"))
        body = updated.value[prefix_length + len(quote) : -len(quote)]
        if quote[0] not in self.outer and "\\" not in body:
            return updated
        other = "'" if quote[0] == '"' else '"'
        if other in self.outer:
            raise _Unrewritable()
        if other not in body and "\\" not in body:
            return updated.with_changes(value=updated.value[:prefix_length] + other * len(quote) + body + other * len(quote))
        # 3.11 allows no backslash in a replacement field: spell the string with chr().
        value = ast.literal_eval(updated.value)
        if not isinstance(value, str):
            raise _Unrewritable()
        pieces = [f"chr({ord(c)})" if c in ("\\", other) or not c.isprintable() else f"{other}{c}{other}" for c in value]
        return cst.parse_expression("(" + ("+".join(pieces) or f"{other}{other}") + ")")


def as_python_311(text: str) -> str | None:
    """The same module in syntax Python 3.11 reads, or None when that cannot be done."""
    try:
        return cst.parse_module(text).visit(_SwapInnerQuotes()).code
    except (cst.ParserSyntaxError, _Unrewritable, RecursionError, ValueError, TypeError, SyntaxError):
        return None
