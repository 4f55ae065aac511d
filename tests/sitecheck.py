"""Checks on a written review site, shared by the unit tests and the browser tests."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.targets.append(value)


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def broken_links(site: Path) -> list[str]:
    """Every href and src of every page that does not lead to an existing file (and id)."""
    pages = {path: _parse(path) for path in site.rglob("*.html")}
    broken = []
    for page, parsed in pages.items():
        for target in parsed.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc:
                broken.append(f"{page.relative_to(site)}: external {target}")
                continue
            file = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not file.is_file() or not file.is_relative_to(site.resolve()):
                broken.append(f"{page.relative_to(site)}: {target} (no such file)")
                continue
            if parts.fragment and file.suffix == ".html":
                ids = pages[file].ids if file in pages else _parse(file).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {target} (no such id)")
    return broken


def url_problem(site: Path, url: str) -> str | None:
    """Why a resolved URL (as a browser reports it) does not lead into the site, or None."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return f"{url}: not a file of the site"
    file = Path(unquote(parts.path))
    if not file.is_file() or not file.resolve().is_relative_to(site.resolve()):
        return f"{url}: no such file"
    if parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in _parse(file).ids:
        return f"{url}: no such id"
    return None
