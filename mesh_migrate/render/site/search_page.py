"""The index of every DAG, team and file. It reads as a plain table; the site's script
turns it into a search with filters by type, dependency kind and wave."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ...analysis import Analysis
from ...facts import SourceSpan
from ...rulepack import RulePack
from .html import Markup, el, join
from .layout import Links, page
from .team_page import dag_anchors

TYPES = (("team", "Teams"), ("dag", "DAGs"), ("file", "Files"))


@dataclass(frozen=True)
class Entry:
    type: str  # "team" | "dag" | "file"
    name: str
    href: str | None
    teams: tuple[str, ...]
    waves: tuple[int, ...]
    kinds: tuple[str, ...]  # dependency kinds it takes part in
    file: str | None


def index_entries(analysis: Analysis, links: Links) -> list[Entry]:
    graph, ownership = analysis.graph, analysis.ownership
    kinds_of: dict[str, set[str]] = defaultdict(set)  # dag id -> kinds
    for dep in analysis.facts.dependencies:
        kinds_of[dep.source].add(dep.kind)
        kinds_of[dep.target].add(dep.kind)
    wave = {team: graph.wave_of(team) for team in ownership.teams}
    entries: list[Entry] = []
    file_teams: dict[str, set[str]] = defaultdict(set)
    file_kinds: dict[str, set[str]] = defaultdict(set)
    for plan in analysis.plans:
        team_kinds = {item.dependency.kind for item in (*plan.inbound, *plan.outbound)}
        entries.append(Entry("team", plan.team, links.paths.team(plan.team), (plan.team,), _waves(plan.wave), tuple(sorted(team_kinds)), None))
        for dag, id_ in zip(plan.dags, dag_anchors(plan)):
            page = links.paths.team(plan.team)
            entries.append(Entry("dag", dag.dag_id, f"{page}#{id_}" if page else None, (plan.team,), _waves(plan.wave), tuple(sorted(kinds_of[dag.dag_id])), dag.span.path))
            file_teams[dag.span.path].add(plan.team)
            file_kinds[dag.span.path] |= kinds_of[dag.dag_id]
    for owned in ownership.by_dag.values():
        if owned.team is None:
            entries.append(Entry("dag", owned.dag_id, links.paths.source(owned.file), (), (), tuple(sorted(kinds_of[owned.dag_id])), owned.file))
    for path in analysis.facts.files:
        teams = tuple(sorted(file_teams[path]))
        waves = tuple(sorted({w for t in teams for w in _waves(wave.get(t))}))
        entries.append(Entry("file", path, links.paths.source(path), teams, waves, tuple(sorted(file_kinds[path])), path))
    return entries


def _waves(wave: int | None) -> tuple[int, ...]:
    return (wave,) if wave else ()


def search_page(analysis: Analysis, links: Links) -> str:
    entries = index_entries(analysis, links)
    kinds = sorted({k for e in entries for k in e.kinds})
    filters = el(
        "form", {"id": "filters", "class": "filters", "hidden": True, "role": "search", "aria-label": "Filter the index"},
        el("label", {"for": "q"}, "Search"),
        el("input", {"id": "q", "name": "q", "type": "search", "placeholder": "dag id, team or file", "autocomplete": "off"}),
        _select("type", "Show", [("", "everything"), *TYPES]),
        _select("kind", "Dependency kind", [("", "any"), *((k, analysis.rules.kind(k).label) for k in kinds)]),
        _select("wave", "Wave", [("", "any"), *((str(n), f"wave {n}") for n in range(1, len(analysis.graph.waves) + 1)), ("none", "no wave")]),
        el("p", {"id": "shown", "class": "muted", "aria-live": "polite"}),
    )
    rows = [_row(e, links, analysis.rules) for e in entries]
    listing = el(
        "table", {"id": "index", "class": "index"},
        el("caption", {}, f"{len(entries)} entries: every team, DAG and analyzed file"),
        el("thead", {}, el("tr", {}, [el("th", {"scope": "col"}, h) for h in ("name", "type", "team", "wave", "file", "dependency kinds")])),
        el("tbody", {}, rows),
    )
    body = join(
        el("h1", {}, "Search and index"),
        el("noscript", {}, el("p", {}, "Without JavaScript this page lists everything: use your browser's find (Ctrl+F).")),
        filters,
        el("div", {"class": "scroll"}, listing),
    )
    return page("Search and index", links, body)


def _select(name: str, label: str, options: list[tuple[str, str]]) -> Markup:
    return el("span", {"class": "field"}, el("label", {"for": name}, label),
              el("select", {"id": name, "name": name}, [el("option", {"value": value}, text) for value, text in options]))


def _row(entry: Entry, links: Links, rules: RulePack) -> Markup:
    name = el("a", {"href": links.root(entry.href)}, entry.name) if entry.href else entry.name
    teams = join([join(", " if i else None, links.team(t)) for i, t in enumerate(entry.teams)]) if entry.teams else "—"
    file = links.place(SourceSpan(entry.file, 0)) if entry.file else "—"
    text = " ".join([entry.name, *entry.teams, entry.file or ""]).lower()
    attrs = {
        "data-type": entry.type,
        "data-kinds": " ".join(entry.kinds),
        "data-waves": " ".join(map(str, entry.waves)) or "none",
        "data-text": text,
    }
    return el("tr", attrs, el("td", {}, el("code", {}, name) if entry.type != "team" else name), el("td", {}, entry.type), el("td", {}, teams),
              el("td", {}, ", ".join(map(str, entry.waves)) or "—"), el("td", {}, file), el("td", {}, ", ".join(rules.kind(k).label for k in entry.kinds) or "—"))
