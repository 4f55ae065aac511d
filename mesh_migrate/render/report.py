"""`analyze --out DIR`: plans per team, the summary, the graphs and the review site, swapped in as a whole."""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..analysis import Analysis
from ..fsutil import describe, naming, staged_folder, write_atomic
from ..names import file_name
from .access import access_json
from .document import analysis_document
from .iam import iam_terraform, iam_yaml
from .graphs import RenderUnavailable, dag_dot, node_link_json, render, team_dot
from .markdown import plan_markdown, summary_markdown
from .plan_yaml import plan_yaml
from .runtime import plan_runtime_document, plan_runtime_markdown, summary_runtime_markdown
from .sizing import plan_sizing_document, plan_sizing_markdown, summary_sizing_markdown
from .sizing_svg import sizing_svg
from .site import write_site


# What a report folder holds: it is replaced as a whole, so nothing else may be in it.
REPORT_ENTRIES = frozenset({"plans", "access", "iam", "site", "summary.md", "analysis.json", "graph.json", "graph.dot", "teams.dot", "graph.svg", "teams.svg", "sizing.svg"})


@dataclass(frozen=True)
class Report:
    folder: Path  # where the report is, symlinks resolved
    written: tuple[Path, ...]
    hint: str | None  # why SVGs were not rendered, if they were not
    site: Path  # the review site's front page


def _relative_root(root: Path | None, folder: Path) -> str:
    """How links in FOLDER reach the analyzed repository, so file:line links work in a checkout."""
    if root is None:
        return "../../"
    return Path(os.path.relpath(root.resolve(), folder.resolve())).as_posix().rstrip("/") + "/"


def report_folder(out: Path) -> Path:
    """The folder OUT names, symlinks followed; OSError naming OUT when it cannot hold a
    report: a dangling symlink, a file, or a folder with files that are not a report's
    (replacing it whole would delete them)."""
    target = Path(os.path.realpath(out))
    kind = describe(out)
    if kind not in ("missing", "a folder"):
        raise OSError(errno.ENOTDIR, f"not a folder but {kind}", str(out))
    foreign = sorted(set(os.listdir(target)) - REPORT_ENTRIES) if target.is_dir() else []
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise OSError(errno.EEXIST, f"holds files that are not part of a report ({shown}); give a new or empty folder", str(out))
    return target


def write_report(analysis: Analysis, out: Path) -> Report:
    """Write the whole report beside OUT, then swap it in: an interrupted run leaves the
    previous report as it was. OSError, naming OUT, when it cannot be written."""
    target = report_folder(out)
    with staged_folder(target) as staging:
        written, hint = _write_files(analysis, staging, target)
    return Report(target, tuple(target / name for name in written), hint, target / "site" / "index.html")


def _write_files(analysis: Analysis, staging: Path, target: Path) -> tuple[list[str], str | None]:
    """The report's files in STAGING, linking to the repository as seen from TARGET."""
    written: list[str] = []

    def put(relative: str, data: str | bytes) -> None:
        try:
            write_atomic(staging / relative, data)
        except OSError as error:
            raise naming(error, target / relative) from error
        written.append(relative)

    base = _relative_root(analysis.root, target / "plans")
    for plan in analysis.plans:
        name = file_name(plan.team)
        sized = plan_sizing_markdown(analysis.sizing, plan.team) if analysis.sizing else []
        put(f"plans/{name}.md", "\n".join(plan_markdown(plan, base) + plan_runtime_markdown(analysis, plan.team) + sized))
        sizing = plan_sizing_document(analysis.sizing, plan.team) if analysis.sizing else None
        put(f"plans/{name}.yaml", plan_yaml(plan, plan_runtime_document(analysis, plan.team), sizing))
        put(f"access/{name}.json", access_json(plan))
    for identity in analysis.identities:
        put(f"iam/{identity.slug}.yaml", iam_yaml(identity))
        put(f"iam/{identity.slug}.tf", iam_terraform(identity))
    summary = summary_markdown(analysis, _relative_root(analysis.root, target)) + summary_runtime_markdown(analysis)
    put("summary.md", "\n".join(summary + (summary_sizing_markdown(analysis.sizing) if analysis.sizing else [])))
    if analysis.sizing:
        put("sizing.svg", sizing_svg(analysis.sizing))
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
    try:
        site = write_site(analysis, staging / "site")
    except OSError as error:
        raise naming(error, target / "site") from error
    written += [path.relative_to(staging).as_posix() for path in site]
    return written, "; ".join(hints) or None
