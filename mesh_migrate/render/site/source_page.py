"""A page per analyzed file, so every file:line of the site links to its line without the
repository at hand (the site is published on its own)."""

from __future__ import annotations

from pathlib import Path

from .html import el, join
from .layout import Links, page

MAX_SHOWN = 1_000_000  # bytes; a larger file gets a page that says so


def read_source(root: Path | None, path: str) -> str | None:
    """The file as text (undecodable bytes replaced), or None when it cannot be shown."""
    if root is None:
        return None
    try:
        data = (root / path).read_bytes()
    except OSError:
        return None
    if len(data) > MAX_SHOWN:
        return None
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def source_page(path: str, text: str | None, links: Links, marks: dict[int, list[str]]) -> str:
    """MARKS: line -> what the analysis says there (findings, DAGs), shown beside the line."""
    crumbs = [el("a", {"href": links.root("index.html")}, "Overview"), el("span", {"aria-current": "page"}, path)]
    if text is None:
        body = join(el("h1", {}, el("code", {}, path)), el("p", {"class": "none"}, "This file is not shown: it could not be read or is too large."))
        return page(path, links, body, crumbs=crumbs)
    lines = text.splitlines() or [""]
    rows = []
    for number, line in enumerate(lines, start=1):
        notes = marks.get(number)
        rows.append(el(
            "span", {"id": f"L{number}", "class": "line marked" if notes else "line"},
            el("a", {"href": f"#L{number}", "class": "ln", "aria-label": f"line {number}", "tabindex": "-1"}, number),
            line,
            el("span", {"class": "note"}, " ◂ " + "; ".join(notes)) if notes else None,
            "\n",
        ))
    body = join(
        el("h1", {}, el("code", {}, path)),
        el("p", {"class": "muted"}, f"{len(lines)} lines, as analyzed. Highlighted lines carry a finding or a DAG."),
        el("pre", {"class": "source", "tabindex": "0", "aria-label": f"source of {path}"}, el("code", {}, rows)),
    )
    return page(path, links, body, crumbs=crumbs)
