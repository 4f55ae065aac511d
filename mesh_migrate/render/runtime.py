"""The runtime reconciliation (`analyze --airflow-db`) as JSON, terminal lines and plan sections."""

from __future__ import annotations

from typing import Any, Sequence

from ..analysis import Analysis
from ..runtime import Reconciliation, RuntimeEdge, RuntimeFacts
from ..runtime.reconcile import FLAGS, Resolution
from .sizing import sizing_document, sizing_lines

FLAG_TEXT = {
    "only_in_db": "only in the database (no analyzed file defines it: deleted, or left out)",
    "inactive": "inactive",
    "paused": "paused",
    "not_run": "not run in the window",
    "not_in_db": "in the code, never parsed into the database",
}


def _when(value) -> str | None:
    return value.isoformat() if value else None


def runtime_document(analysis: Analysis) -> dict[str, Any] | None:
    """The `runtime` key of the analysis document; None without --airflow-db."""
    rec = analysis.runtime
    if rec is None:
        return None
    rt = rec.runtime
    return {
        "database": rt.url,
        "schema_revision": rt.schema_revision,
        "airflow_version": rt.airflow_version,
        "since": _when(rt.since),
        "until": _when(rt.until),
        "dag_runs": rt.dag_runs,
        "task_runs": rt.task_runs,
        "dependencies": _counts(rec),
        "runtime_only": [
            {"kind": e.kind, "source": e.source, "target": e.target, "dag": e.dag, "task_id": e.task_id, "dataset": e.dataset,
             "rendered": e.rendered, "origin": "runtime"}
            for e in rec.runtime_only
        ],
        "resolved": [
            {"what": r.item.what, "expression": r.item.expression, "file": r.item.span.path, "line": r.item.span.line,
             "dag": r.dag, "task_id": r.task_id, "kind": r.edge.kind, "other_dag": r.other_dag, "rendered": r.edge.rendered}
            for r in rec.resolved
        ],
        "dags": [_dag(rt, flag.dag_id, flag.flags) for flag in rec.flagged],
        **({"sizing": sizing_document(analysis.sizing)} if analysis.sizing else {}),
    }


def plan_runtime_document(analysis: Analysis, team: str) -> dict[str, Any] | None:
    """`runtime` in a team's YAML plan: the `What runs` section of its Markdown plan, as data."""
    rec = analysis.runtime
    plan = next((p for p in analysis.plans if p.team == team), None)
    if rec is None or plan is None:
        return None
    ours = {d.dag_id for d in plan.dags}
    rt = rec.runtime
    return {
        "database": rt.url,
        "airflow_version": rt.airflow_version,
        "since": _when(rt.since),
        "until": _when(rt.until),
        "dags": [_dag(rt, f.dag_id, f.flags) for f in rec.flagged if f.dag_id in ours],
        "dependencies": [
            {"kind": p.dependency.kind, "dag": p.dependency.dag, "task_id": p.dependency.task_id, "source": p.dependency.source,
             "target": p.dependency.target, "line": f"{p.dependency.span.path}:{p.dependency.span.line}", "runtime": analysis.status_of(p.dependency)}
            for p in plan.outbound + plan.inbound
        ],
        "runtime_only": [
            {"kind": e.kind, "source": e.source, "target": e.target, "dag": e.dag, "task_id": e.task_id, "dataset": e.dataset, "origin": "runtime"}
            for e in rec.runtime_only if e.source in ours or e.target in ours
        ],
        "resolved": [
            {"expression": r.item.expression, "line": str(r.item.span), "dag": r.dag, "task_id": r.task_id, "other_dag": r.other_dag, "rendered": r.edge.rendered}
            for r in rec.resolved if r.dag in ours
        ],
    }


def summary_runtime_markdown(analysis: Analysis) -> list[str]:
    """summary.md's `What runs` section: the counts, and every disagreement and dead DAG by team."""
    rec = analysis.runtime
    if rec is None:
        return []
    rt, counts = rec.runtime, _counts(rec)
    team_of = analysis.ownership.team_of_id
    out = [
        "## What runs (metadata database)", "",
        f"From {rt.url} (Airflow {rt.airflow_version} schema), {rt.since:%Y-%m-%d %H:%M} to {rt.until:%Y-%m-%d %H:%M} UTC: "
        f"{rt.dag_runs} DAG runs, {rt.task_runs} task runs.", "",
        f"- dependencies: {counts['seen']} seen, {counts['not_seen']} not seen, {counts['not_recorded']} not recorded by Airflow, "
        f"{counts['runtime_only']} runtime-only, {counts['resolved']} unresolved targets resolved",
    ]
    for flag in FLAGS:
        dags = [f.dag_id for f in rec.flagged if flag in f.flags]
        if dags:
            out.append(f"- {FLAG_TEXT[flag]} ({len(dags)}): " + ", ".join(f"`{d}` ({team_of(d) or 'no team'})" for d in dags))
    not_seen = [d for d, s in zip(analysis.facts.dependencies, rec.statuses) if s == "not_seen"]
    if not_seen:
        out += ["", "Static dependencies the database has no edge for:", ""]
        out += [f"- {d.kind} `{d.source}` -> `{d.target}` at {d.span}" for d in not_seen]
    return out + _runtime_only_lines(rec.runtime_only, with_dag=True) + _resolved_lines(rec.resolved) + [""]


def _dag(rt: RuntimeFacts, dag_id: str, flags: tuple[str, ...]) -> dict[str, Any]:
    dag = rt.dag(dag_id)
    return {
        "dag_id": dag_id,
        "flags": list(flags),
        "is_paused": dag.is_paused if dag else None,
        "is_active": dag.is_active if dag else None,
        "fileloc": dag.fileloc if dag else None,
        "owners": list(dag.owners) if dag else [],
        "last_parsed": _when(dag.last_parsed) if dag else None,
        "runs": dag.runs if dag else 0,
        "last_run": _when(dag.last_run) if dag else None,
    }


def _counts(rec: Reconciliation) -> dict[str, int]:
    return {
        "seen": sum(s == "seen" for s in rec.statuses),
        "not_seen": sum(s == "not_seen" for s in rec.statuses),
        "not_recorded": sum(s is None for s in rec.statuses),
        "runtime_only": len(rec.runtime_only),
        "resolved": len(rec.resolved),
    }


def runtime_lines(analysis: Analysis, verbose: bool = False) -> list[str]:
    """For the terminal summary."""
    rec = analysis.runtime
    if rec is None:
        return []
    rt, counts = rec.runtime, _counts(rec)
    out = [
        f"Runtime ({rt.url}, Airflow {rt.airflow_version} schema, since {rt.since:%Y-%m-%d %H:%M} UTC): "
        f"{rt.dag_runs} DAG runs, {rt.task_runs} task runs",
        f"  dependencies: {counts['seen']} seen, {counts['not_seen']} not seen, {counts['not_recorded']} of kinds Airflow never records, "
        f"{counts['runtime_only']} runtime-only, {counts['resolved']} unresolved targets resolved",
    ]
    for r in rec.resolved:
        out.append(f"  resolved {r.item.span}: {r.item.expression} -> {r.other_dag} ({'rendered' if r.edge.rendered else 'as parsed'} by Airflow)")
    for e in rec.runtime_only:
        out.append(f"  runtime-only {e.kind}: {e.source} -> {e.target}" + (f" (task {e.task_id})" if e.task_id else ""))
    by_flag = {flag: [f.dag_id for f in rec.flagged if flag in f.flags] for flag in FLAGS}
    for flag, dags in by_flag.items():
        if dags:
            shown = dags if verbose else dags[:8]
            more = f" ... and {len(dags) - len(shown)} more" if len(shown) < len(dags) else ""
            out.append(f"  {FLAG_TEXT[flag]} ({len(dags)}): {', '.join(shown)}{more}")
    return out + (sizing_lines(analysis.sizing) if analysis.sizing else [])


def plan_runtime_markdown(analysis: Analysis, team: str) -> list[str]:
    """A plan's `What runs` section: its DAGs' flags and its cross-team edges against the database."""
    rec = analysis.runtime
    plan = next((p for p in analysis.plans if p.team == team), None)
    if rec is None or plan is None:
        return []
    ours = {d.dag_id for d in plan.dags}
    out = ["## What runs (metadata database)", "",
           f"From {rec.runtime.url} (Airflow {rec.runtime.airflow_version} schema), since {rec.runtime.since:%Y-%m-%d}.", ""]
    flagged = [f for f in rec.flagged if f.dag_id in ours]
    if flagged:
        out += ["DAGs not to migrate as they are (dead weight or never parsed):", ""]
        out += [f"- `{f.dag_id}`: {', '.join(FLAG_TEXT[x] for x in f.flags)}" for f in flagged]
    else:
        out += ["Every DAG of this team is active, unpaused and ran in the window."]
    rows = [(p.dependency, p) for p in plan.outbound + plan.inbound]
    if rows:
        out += ["", "Cross-team dependencies: " + ", ".join(
            f"`{d.source}` -> `{d.target}` {analysis.status_of(d) or 'not recorded by Airflow'}" for d, _ in rows) + "."]
    out += _runtime_only_lines([e for e in rec.runtime_only if e.source in ours or e.target in ours], with_dag=False)
    return out + _resolved_lines([r for r in rec.resolved if r.dag in ours]) + [""]


def _runtime_only_lines(edges: Sequence[RuntimeEdge], *, with_dag: bool) -> list[str]:
    """The Markdown list of runtime-only edges, empty when there are none."""
    if not edges:
        return []
    return ["", "Recorded by Airflow, found by no static dependency (origin: runtime):", ""] + [
        f"- {e.kind} `{e.source}` -> `{e.target}`" + (f" in DAG `{e.dag}`" if with_dag else "") + (f" (task `{e.task_id}`)" if e.task_id else "")
        for e in edges
    ]


def _resolved_lines(resolved: Sequence[Resolution]) -> list[str]:
    """The Markdown list of open targets the database resolved, empty when there are none."""
    if not resolved:
        return []
    return ["", "Targets the code leaves open, as the database records them:", ""] + [
        f"- `{r.item.expression}` at {r.item.span}: `{r.other_dag}`" for r in resolved
    ]
