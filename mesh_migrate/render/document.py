"""The versioned analysis document (`analyze --format json`), a stable contract for scripts."""

from __future__ import annotations

from collections import Counter
from operator import attrgetter
from typing import Any

from .. import __version__
from ..analysis import Analysis
from ..facts import RepoFacts, ResourceUse, SourceSpan, is_cloud
from ..graph import other_end

SCHEMA = "mesh-migrate/analysis@1"
_kind = attrgetter("kind")


def _place(span: SourceSpan | None) -> dict[str, Any]:
    return {"file": span.path, "line": span.line} if span else {"file": None, "line": None}


def analysis_document(analysis: Analysis) -> dict[str, Any]:
    facts, ownership, graph = analysis.facts, analysis.ownership, analysis.graph
    links = {id(link.dependency): link for link in graph.links}
    return {
        "schema": SCHEMA,
        "tool": {"name": "mesh-migrate", "version": __version__},
        "root": facts.root,
        "summary": summary_counts(facts),
        "layout": _layout(analysis),
        "dags": [
            {
                "dag_id": d.dag_id,
                **_place(d.span),
                "defined_by": d.defined_by,
                "owners": list(d.owners),
                "tags": list(d.tags),
                "schedule": d.schedule,
                "tasks": list(d.tasks),
                "team": owned.team,
                "team_source": owned.source,
                "team_reason": owned.reason,
                "suggested_team": owned.suggested,
            }
            for d, owned in zip(facts.dags, map(ownership.of, facts.dags))
        ],
        "dependencies": [
            {
                "kind": d.kind,
                "source": d.source,
                "target": d.target,
                "task_id": d.task_id,
                "source_tasks": list(d.source_tasks) if d.source_tasks is not None else None,
                "task_group": d.task_group,
                "dataset": d.dataset,
                "dag": d.dag,
                **_place(d.span),
                "operator": d.operator,
                "arguments": dict(d.arguments),
                "via": _place(d.via) if d.via else None,
                "cross_team": links[id(d)].cross_team if id(d) in links else None,
                "other_dag": other_end(d),
                **({"runtime": analysis.status_of(d), "origin": "static"} if analysis.runtime else {}),
            }
            for d in facts.dependencies
        ],
        "resources": [_resource(r) for r in facts.resources],
        "unresolved": [
            {"what": u.what, "expression": u.expression, "reason": u.reason, **_place(u.span), "origin": _place(u.origin) if u.origin else None}
            for u in facts.unresolved
        ],
        "diagnostics": [
            {"severity": d.severity, "code": d.code, "message": d.message, **_place(d.span)} for d in facts.diagnostics
        ],
        "skipped": [{"file": path, "reason": reason} for path, reason in facts.skipped],
        "teams": [
            {
                "team": plan.team,
                "dags": plan.dags,
                "inbound": plan.inbound,
                "outbound": plan.outbound,
                "wave": plan.wave,
                "instance": {"url": plan.instance.url, "http_conn_id": plan.instance.http_conn_id, "api_version": plan.instance.api_version},
            }
            for plan in analysis.team_overviews
        ],
        "team_edges": [
            {"source": a, "target": b, "count": data["weight"], "kinds": data["kinds"]}
            for a, b, data in graph.team_edges
        ],
        "cycles": [list(cycle) for cycle in graph.cycles],
        "waves": [list(wave) for wave in graph.waves],
        **({"runtime": _runtime(analysis)} if analysis.runtime else {}),
    }


def _resource(use: ResourceUse) -> dict[str, Any]:
    # Written out, not unpacked from `_place`: a large monolith has tens of thousands.
    span = use.span
    entry = {"kind": use.kind, "name": use.name, "dag": use.dag, "file": span.path if span else None, "line": span.line if span else None}
    if is_cloud(use.kind):
        entry["access"], entry["identity"] = use.access, use.identity
    return entry


def _runtime(analysis: Analysis) -> dict[str, Any] | None:
    from .runtime import runtime_document  # with --airflow-db only: the runtime modules are not imported otherwise

    return runtime_document(analysis)


def _layout(analysis: Analysis) -> dict[str, Any]:
    """Where DAG files were looked for, where imports resolved, and what was read."""
    layout = analysis.layout
    return {
        "dags_folders": _folders(layout.dags_folders) if layout else [],
        "import_roots": _folders(layout.import_roots) if layout else [],
        "dag_files": list(analysis.facts.files),
        "modules": list(analysis.facts.modules),
    }


def _folders(folders) -> list[dict[str, str]]:
    return [{"path": f.path or ".", "reason": f.reason} for f in folders]


def summary_counts(facts: RepoFacts) -> dict[str, Any]:
    return {
        "files": len(facts.files),
        "modules": len(facts.modules),
        "dags": len(facts.dags),
        "dependencies": dict(sorted(Counter(map(_kind, facts.dependencies)).items())),
        "resources": dict(sorted(Counter(map(_kind, facts.resources)).items())),
        "unresolved": len(facts.unresolved),
        "diagnostics": dict(sorted(Counter(d.severity for d in facts.diagnostics).items())),
        "skipped": len(facts.skipped),
    }
