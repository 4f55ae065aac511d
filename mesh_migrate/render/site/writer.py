"""Builds the review site: every page as text, then written into one folder."""

from __future__ import annotations

from collections import defaultdict
from importlib import resources
from pathlib import Path

from ...analysis import Analysis
from ...codemod.runner import CodemodResult, run_codemod
from ...fsutil import write_atomic
from .layout import Links
from .overview import overview_page
from .paths import SitePaths, site_paths
from .search_page import search_page
from .source_page import read_source, source_page
from .team_page import team_page

ASSETS = ("site.css", "site.js")


def codemod_previews(analysis: Analysis) -> dict[str, CodemodResult | str]:
    """Each team's codemod result, or why there is none. Pure: nothing is written."""
    if analysis.root is None:
        return {}
    previews: dict[str, CodemodResult | str] = {}
    for team in analysis.ownership.teams:
        try:
            previews[team] = run_codemod(analysis, team)
        except Exception as error:  # one team's preview must not cost the whole report
            previews[team] = f"No preview: the codemod failed on this team ({type(error).__name__}: {error})."
    return previews


def _marks(analysis: Analysis) -> dict[str, dict[int, list[str]]]:
    marks: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    facts, ownership = analysis.facts, analysis.ownership
    for dag in facts.dags:
        marks[dag.span.path][dag.span.line].append(f"DAG {dag.dag_id} ({ownership.of(dag).team or 'no team'})")
    for dep in facts.dependencies:
        marks[dep.span.path][dep.span.line].append(f"{analysis.rules.kind(dep.kind).label}: {dep.source} → {dep.target}")
    for item in facts.unresolved:
        marks[item.span.path][item.span.line].append(f"unresolved {item.what}: {item.reason}")
    for diag in facts.diagnostics:
        marks[diag.span.path][diag.span.line].append(f"{diag.severity} {diag.code}: {diag.message}")
    return marks


def site_pages(analysis: Analysis, previews: dict[str, CodemodResult | str]) -> dict[str, str]:
    """Relative path -> HTML of every page."""
    paths: SitePaths = site_paths(analysis.ownership.teams, analysis.facts.files)
    top, nested = Links(paths), Links(paths, "../")
    title = f"Monolith split: {analysis.root.name}" if analysis.root else "Monolith split"
    pages = {"index.html": overview_page(analysis, top, title), "search.html": search_page(analysis, top)}
    for plan in analysis.plans:
        pages[paths.teams[plan.team]] = team_page(plan, nested, previews.get(plan.team))
    marks = _marks(analysis)
    for path, page_path in paths.sources.items():
        pages[page_path] = source_page(path, read_source(analysis.root, path), nested, marks.get(path, {}))
    return pages


def asset(name: str) -> bytes:
    """The site's stylesheet and script, shipped as package data."""
    return resources.files(__package__).joinpath("assets", name).read_bytes()


def write_site(analysis: Analysis, folder: Path, previews: dict[str, CodemodResult | str] | None = None) -> tuple[Path, ...]:
    """Write the site into FOLDER (its index.html is the overview); returns the files written."""
    if previews is None:
        previews = codemod_previews(analysis)
    written = []
    for relative, text in site_pages(analysis, previews).items():
        write_atomic(folder / relative, text)
        written.append(folder / relative)
    for name in ASSETS:
        write_atomic(folder / "assets" / name, asset(name))
        written.append(folder / "assets" / name)
    return tuple(written)
