"""A tiny HTML builder that escapes by default: only `Markup` passes through unescaped.

Everything the analyzed repository names (teams, dag ids, paths, code) is untrusted text,
so building pages from `el()` calls means a value can never become markup by accident.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping, Union


class Markup(str):
    """Text that is already HTML (built by `el` or `join`)."""

    __slots__ = ()


Child = Union["Markup", str, int, None, Iterable]


def esc(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(*children: Child) -> Markup:
    """Children escaped and concatenated; None is skipped and iterables are flattened."""
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, (str, int)):
            parts.append(esc(child))
        else:
            parts.append(join(*child))
    return Markup("".join(parts))


VOID = {"br", "hr", "img", "input", "link", "meta", "source"}


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: Child) -> Markup:
    """<tag attr="value">children</tag>; a None or False attribute is left out, True is bare."""
    rendered = []
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")  # class_ -> class, aria_label -> aria-label
        rendered.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(*children)}</{tag}>")
