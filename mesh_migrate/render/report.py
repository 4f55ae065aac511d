"""`analyze --out DIR`: plans per team, the summary, the graphs and the review site, written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..analysis import Analysis
from ..fsutil import write_atomic
from ..names import file_name
from .document import analysis_document
from .graphs import RenderUnavailable, dag_dot, node_link_json, render, team_dot
from .markdown import plan_markdown, summary_markdown
from .plan_yaml import plan_yaml
from .site import write_site


@dataclass(frozen=True)
class Report:
    written: tuple[Path, ...]
    hint: str | None  # why SVGs were not rendered, if they were not
    site: Path  # the review site's front page


def _relative_root(root: Path | None, folder: Path) -> str:
    """How links in FOLDER reach the analyzed repository, so file:line links work in a checkout."""
    if root is None:
        return "../../"
    return Path(os.path.relpath(root.resolve(), folder.resolve())).as_posix().rstrip("/") + "/"


def write_report(analysis: Analysis, out: Path) -> Report:
    written: list[Path] = []

    def put(relative: str, data: str | bytes) -> None:
        path = out / relative
        write_atomic(path, data)
        written.append(path)

    base = _relative_root(analysis.root, out / "plans")
    for plan in analysis.plans:
        name = file_name(plan.team)
        put(f"plans/{name}.md", "\n".join(plan_markdown(plan, base)))
        put(f"plans/{name}.yaml", plan_yaml(plan))
    put("summary.md", "\n".join(summary_markdown(analysis, _relative_root(analysis.root, out))))
    put("analysis.json", json.dumps(analysis_document(analysis), indent=2))
    put("graph.json", node_link_json(analysis.graph.dags))
    dags = dag_dot(analysis.graph.dags, "DAG dependencies by team")
    teams = team_dot(analysis.graph)
    put("graph.dot", dags.source)
    put("teams.dot", teams.source)
    hints = []
    for name, drawing in (("graph.svg", dags), ("teams.svg", teams)):
        try:
            put(name, render(drawing, "svg"))
        except RenderUnavailable as missing:
            if str(missing) not in hints:
                hints.append(str(missing))
    written += write_site(analysis, out / "site")
    return Report(tuple(written), "; ".join(hints) or None, out / "site" / "index.html")
