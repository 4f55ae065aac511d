"""The frame every page shares (head, navigation, search box, footer) and the small pieces
pages are made of: links to teams and to places in the analyzed code, tables, counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ... import __version__
from ...facts import SourceSpan
from .html import Child, Markup, el, join
from .paths import SitePaths

# No network, no inline code: the page may only use the site's own files.
CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'"


@dataclass(frozen=True)
class Links:
    """Links from one page: `up` is the way back to the site's root ('' or '../')."""

    paths: SitePaths
    up: str = ""

    def root(self, page: str) -> str:
        return self.up + page

    def team(self, team: str | None, text: Child = None) -> Markup:
        page = self.paths.team(team)
        label = text if text is not None else (team or "no team")
        return el("a", {"href": self.up + page}, label) if page else el("span", {"class": "muted"}, label)

    def place(self, span: SourceSpan | None) -> Markup:
        """file:line, linked to the line in the site's copy of the file when there is one."""
        if span is None:
            return Markup("—")
        label = str(span) if span.line else span.path
        page = self.paths.source(span.path, span.line)
        return el("a", {"href": self.up + page, "class": "place"}, el("code", {}, label)) if page else el("code", {}, label)


def table(headers: list[str], rows: Sequence[Sequence[Child]], caption: str | None = None, **attrs: object) -> Markup:
    if not rows:
        return el("p", {"class": "none"}, "None.")
    head = el("thead", {}, el("tr", {}, [el("th", {"scope": "col"}, h) for h in headers]))
    body = el("tbody", {}, [el("tr", {}, [el("td", {}, cell) for cell in row]) for row in rows])
    return el("div", {"class": "scroll"}, el("table", attrs, el("caption", {}, caption) if caption else None, head, body))


def section(id_: str, title: str, *children: Child, level: str = "h2") -> Markup:
    return el("section", {"id": id_, "aria-labelledby": f"{id_}-title"}, el(level, {"id": f"{id_}-title"}, title), *children)


def counts(items: Sequence[tuple[str, Child]]) -> Markup:
    return el("dl", {"class": "counts"}, [el("div", {}, el("dt", {}, label), el("dd", {}, value)) for label, value in items])


def code(text: Child) -> Markup:
    return el("code", {}, text)


def names(values: tuple[str, ...] | list[str], shown: int = 8) -> Markup:
    if not values:
        return Markup("—")
    rest = len(values) - shown
    return join(", ".join(values[:shown]), f" and {rest} more" if rest > 0 else None)


def page(title: str, links: Links, body: Child, *, crumbs: Sequence[Child] = (), query: str = "") -> str:
    """A whole HTML document."""
    head = el(
        "head",
        {},
        el("meta", {"charset": "utf-8"}),
        el("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("meta", {"name": "generator", "content": f"mesh-migrate {__version__}"}),
        el("title", {}, f"{title} · mesh-migrate"),
        el("link", {"rel": "stylesheet", "href": links.root("assets/site.css")}),
        el("script", {"src": links.root("assets/site.js"), "defer": True}),
    )
    search = el(
        "form",
        {"class": "search", "role": "search", "action": links.root("search.html"), "method": "get"},
        el("label", {"for": "site-q"}, "Search DAGs, teams, files"),
        el("input", {"id": "site-q", "name": "q", "type": "search", "value": query, "placeholder": "dag id, team or file  ( / )", "autocomplete": "off"}),
        el("button", {"type": "submit"}, "Search"),
    )
    nav = el(
        "nav",
        {"aria-label": "Site"},
        el("a", {"href": links.root("index.html"), "class": "brand"}, "Monolith split"),
        el("a", {"href": links.root("index.html#teams")}, "Teams"),
        el("a", {"href": links.root("index.html#waves")}, "Waves"),
        el("a", {"href": links.root("search.html")}, "Index"),
    )
    trail = el("nav", {"aria-label": "Breadcrumb", "class": "crumbs"}, el("ol", {}, [el("li", {}, c) for c in crumbs])) if crumbs else None
    body_html = el(
        "body",
        {},
        el("a", {"class": "skip", "href": "#main"}, "Skip to content"),
        el("header", {}, nav, search),
        el("main", {"id": "main", "tabindex": "-1"}, trail, body),
        el("footer", {}, f"Written by mesh-migrate {__version__}. Static files: no server, no network."),
    )
    return "<!doctype html>\n" + el("html", {"lang": "en"}, head, body_html) + "\n"
