"""Terminal output of an analysis (rich): colored on a terminal, plain when piped or NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from ..analysis import Analysis
from ..facts import RepoFacts
from ..rulepack import RulePack
from .runtime import runtime_lines

SHOWN_BY_DEFAULT = 10


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    stream = stream or (sys.stderr if stderr else sys.stdout)
    plain = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(file=stream, no_color=plain, highlight=False, soft_wrap=plain, emoji=False, width=None if not plain else 120)


def _table(console: Console, *columns: str, title: str | None = None) -> Table:
    style = box.SIMPLE if console.no_color else box.ROUNDED
    table = Table(*columns, title=title, box=style, title_justify="left", show_edge=not console.no_color)
    return table


def print_analysis(console: Console, analysis: Analysis, *, verbose: bool = False, quiet: bool = False) -> None:
    """The counts, then teams, the heaviest cross-team edges, cycles and findings."""
    facts, graph = analysis.facts, analysis.graph
    print_counts(console, facts, analysis.rules, len(analysis.ownership.teams), one_line=quiet)
    if quiet:
        return
    _print_layout(console, analysis, verbose)
    table = _table(console, "team", "DAGs", "inbound", "outbound", "manual", "wave", title="Teams")
    for plan in analysis.plans:
        wave = str(plan.wave or "-") + (" (cycle)" if plan.moves_with else "")
        table.add_row(plan.team, str(len(plan.dags)), str(len(plan.inbound)), str(len(plan.outbound)), str(len(plan.manual)), wave)
    console.print(table)
    edges = sorted(graph.teams.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))
    shown = edges if verbose else edges[:SHOWN_BY_DEFAULT]
    table = _table(console, "upstream", "", "downstream", "dependencies", title=f"Top cross-team edges ({len(edges)} team pairs)")
    for a, b, data in shown:
        table.add_row(a, "->", b, ", ".join(f"{n} {k}" for k, n in data["kinds"].items()))
    console.print(table)
    if graph.cycles:
        console.print(f"[bold red]Team cycles ({len(graph.cycles)}):[/bold red] teams that wait on each other must move together, or one edge must be broken first")
        for cycle in graph.cycles:
            console.print("  " + " -> ".join([*cycle, cycle[0]]), markup=False)
    else:
        console.print("Team cycles: none")
    console.print("Migration waves (teams nobody waits on first): " + " | ".join(f"{n}: {', '.join(w)}" for n, w in enumerate(graph.waves, 1)), markup=False)
    unowned = sum(1 for o in analysis.ownership.by_dag.values() if o.team is None)
    console.print(
        f"Findings: {len(graph.dangling)} dangling, {len(graph.duplicates)} duplicate dag ids, "
        f"{len(graph.self_dependencies)} self-dependencies, {unowned} unowned DAGs, "
        f"{sum(1 for s in graph.shared if s.kind in ('connection', 'variable'))} connections/variables shared by several teams, "
        f"{sum(1 for s in graph.shared if s.kind == 'module')} shared modules"
    )
    console.print("Ownership sources: " + "; ".join(analysis.ownership.fallbacks), markup=False)
    _print_items(console, "Unresolved", _unresolved_lines(facts, verbose), verbose)
    _print_items(console, "Diagnostics", [(str(d.span), f"{d.severity} {d.code}: {d.message}") for d in facts.diagnostics], verbose)
    for line in runtime_lines(analysis, verbose):
        console.print(line, markup=False)
    console.print(headline(facts))


def _print_layout(console: Console, analysis: Analysis, verbose: bool) -> None:
    """Where DAG files were looked for and where imports resolve; -v says why for each."""
    layout = analysis.layout
    if layout is None:
        return
    if verbose:
        for title, folders in (("DAGs folder", layout.dags_folders), ("import root", layout.import_roots)):
            for folder in folders:
                console.print(f"{title}: {folder} ({folder.reason})", markup=False)
        return
    console.print(
        f"DAGs folders: {', '.join(map(str, layout.dags_folders))}; import roots: {', '.join(map(str, layout.import_roots))}"
        f"; {len(analysis.facts.modules)} repository modules followed",
        markup=False,
    )


def _unresolved_lines(facts: RepoFacts, verbose: bool) -> list[tuple[str, str]]:
    """One line per cause: the same reason for the same expression is shown once, at its
    first place (its origin when inside a library function), with how many places it
    reaches; -v lists every place."""
    if verbose:
        return [(str(u.span), f"{u.what}: {u.expression} ({u.reason})" + (f" [cause at {u.origin}]" if u.origin else "")) for u in facts.unresolved]
    by_cause: dict[tuple, list] = {}
    for item in facts.unresolved:
        by_cause.setdefault((item.reason, item.expression), []).append(item)
    lines = []
    for (reason, expression), items in by_cause.items():
        files = len({i.span.path for i in items})
        reach = f"; {len(items)} places in {files} files" if len(items) > 1 else ""
        lines.append((str(items[0].cause), f"{items[0].what}: {expression} ({reason}){reach}"))
    return lines


def headline(facts: RepoFacts) -> str:
    return (
        f"{len(facts.dags)} DAGs in {len(facts.files)} files, "
        f"{len(facts.dependencies)} dependencies, {len(facts.unresolved)} unresolved, "
        f"{len(facts.diagnostics)} diagnostics"
    )


def print_counts(console: Console, facts: RepoFacts, rules: RulePack, teams: int, *, one_line: bool = False) -> None:
    if one_line:
        console.print(headline(facts))
        return
    deps = Counter(d.kind for d in facts.dependencies)
    severities = Counter(d.severity for d in facts.diagnostics)
    table = _table(console, "", "count", title="Analysis")
    table.add_row("files analyzed", str(len(facts.files)))
    table.add_row("files skipped", str(len(facts.skipped)))
    table.add_row("DAGs", str(len(facts.dags)))
    table.add_row("teams", str(teams))
    for kind, count in sorted(deps.items()):
        table.add_row(f"dependencies: {rules.kind(kind).plural}", str(count))
    for kind, count in sorted(Counter(r.kind for r in facts.resources).items()):
        names = len({r.name for r in facts.resources if r.kind == kind})
        table.add_row(f"{kind}s used", f"{names} ({count} uses)")
    table.add_row("unresolved", str(len(facts.unresolved)))
    for severity in ("error", "warning", "info"):
        if severities.get(severity):
            table.add_row(f"diagnostics: {severity}", str(severities[severity]))
    console.print(table)


def _print_items(console: Console, title: str, rows: list[tuple[str, str]], verbose: bool) -> None:
    if not rows:
        return
    shown = rows if verbose else rows[:SHOWN_BY_DEFAULT]
    table = _table(console, "place", "what", title=f"{title} ({len(rows)})")
    for place, text in shown:
        table.add_row(place, text)
    console.print(table)
    if len(shown) < len(rows):
        console.print(f"... and {len(rows) - len(shown)} more (use -v to list all, or --format json)")
