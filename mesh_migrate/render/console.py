"""Terminal output of an analysis (rich): colored on a terminal, plain when piped or NO_COLOR."""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from ..facts import RepoFacts

SHOWN_BY_DEFAULT = 10


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    stream = stream or (sys.stderr if stderr else sys.stdout)
    plain = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(file=stream, no_color=plain, highlight=False, soft_wrap=plain, emoji=False, width=None if not plain else 120)


def _table(console: Console, *columns: str, title: str | None = None) -> Table:
    style = box.SIMPLE if console.no_color else box.ROUNDED
    table = Table(*columns, title=title, box=style, title_justify="left", show_edge=not console.no_color)
    return table


def print_summary(console: Console, facts: RepoFacts, teams: list[str], *, verbose: bool = False, quiet: bool = False) -> None:
    deps = Counter(d.kind for d in facts.dependencies)
    severities = Counter(d.severity for d in facts.diagnostics)
    headline = (
        f"{len(facts.dags)} DAGs in {len(facts.files)} files, "
        f"{sum(deps.values())} dependencies, {len(facts.unresolved)} unresolved, "
        f"{len(facts.diagnostics)} diagnostics"
    )
    if quiet:
        console.print(headline)
        return
    console.print(f"[bold]mesh-migrate analysis of {facts.root}[/bold]")
    table = _table(console, "", "count")
    table.add_row("files analyzed", str(len(facts.files)))
    table.add_row("files skipped", str(len(facts.skipped)))
    table.add_row("DAGs", str(len(facts.dags)))
    table.add_row("teams found so far", str(len(teams)))
    for kind, count in sorted(deps.items()):
        table.add_row(f"dependencies: {kind}", str(count))
    for kind, count in sorted(Counter(r.kind for r in facts.resources).items()):
        names = len({r.name for r in facts.resources if r.kind == kind})
        table.add_row(f"{kind}s used", f"{names} ({count} uses)")
    table.add_row("unresolved", str(len(facts.unresolved)))
    for severity in ("error", "warning", "info"):
        if severities.get(severity):
            table.add_row(f"diagnostics: {severity}", str(severities[severity]))
    console.print(table)
    if teams:
        console.print("teams: " + ", ".join(teams))
    _print_items(console, "Unresolved", [
        (str(u.span), f"{u.what}: {u.expression} ({u.reason})") for u in facts.unresolved
    ], verbose)
    _print_items(console, "Diagnostics", [
        (str(d.span), f"{d.severity} {d.code}: {d.message}") for d in facts.diagnostics
    ], verbose)
    console.print(headline)


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
