"""Split plans as YAML, for tools and for reviewers who prefer data."""

from __future__ import annotations

from typing import Any

import yaml

from ..facts import SourceSpan
from ..access import Grant
from ..plan import HTTP_PROVIDER, OutboundConnection, PlannedDependency, SplitPlan

PLAN_SCHEMA = "mesh-migrate/plan@1"


def _place(span: SourceSpan) -> str:
    return f"{span.path}:{span.line}"


def _dependency(item: PlannedDependency) -> dict[str, Any]:
    dep = item.dependency
    return {
        "kind": dep.kind,
        "dag": dep.dag,
        "task_id": dep.task_id,
        "source": dep.source,
        "target": dep.target,
        "other_team": item.their_team,
        "tasks": list(dep.source_tasks) if dep.source_tasks else None,
        "task_group": dep.task_group,
        "dataset": dep.dataset,
        "line": _place(dep.span),
        "automatic": item.automatic,
        "becomes": item.rewrite,
    }


def _reach(grant: Grant) -> dict[str, Any]:
    return {"polls": list(grant.reads), "triggers": list(grant.triggers), "dataset_events": list(grant.dataset_events)}


def _connection(conn: OutboundConnection) -> dict[str, Any]:
    setting, why = conn.upstream_auth
    return {
        "conn_id": conn.conn_id,
        "conn_type": "http",
        "team": conn.team,
        "url": conn.url,
        "api_version": conn.api_version,
        "placeholder": conn.placeholder,
        "provider": HTTP_PROVIDER,
        "login": conn.login,
        "role": conn.role,
        "env": {conn.env_var: conn.env_value()},
        "upstream_api": {"setting": setting, "why": why},
        **_reach(conn.grant),
    }


def plan_document(plan: SplitPlan) -> dict[str, Any]:
    return {
        "schema": PLAN_SCHEMA,
        "team": plan.team,
        "description": plan.description,
        "instance": {
            "url": plan.instance.url,
            "http_conn_id": plan.instance.http_conn_id,
            "api_version": plan.instance.api_version,
            "placeholder": plan.instance_is_placeholder,
        },
        "wave": plan.wave,
        "moves_with": list(plan.moves_with),
        "dags": [{"dag_id": d.dag_id, "file": _place(d.span), "team_source": d.source, "reason": d.reason} for d in plan.dags],
        "outbound": [_dependency(i) for i in plan.outbound],
        "inbound": [_dependency(i) for i in plan.inbound],
        "connections": [_connection(c) for c in plan.connections],
        "access": [{"team": g.team, "user": g.user, "role": g.role, **_reach(g)} for g in plan.grants],
        "provision": [
            {"kind": r.kind, "name": r.name, **({"access": r.access} if r.access else {}), "dags": list(r.dags), "shared_with": list(r.shared_with)}
            for r in plan.resources
        ],
        "modules": [{"name": m.name, "dags": list(m.dags), "shared_with": list(m.shared_with)} for m in plan.modules],
        "manual": [{"what": m.what, "where": _place(m.span), "why": m.why} for m in plan.manual],
    }


def plan_yaml(plan: SplitPlan, runtime: dict[str, Any] | None = None, sizing: dict[str, Any] | None = None) -> str:
    """With --airflow-db, RUNTIME and SIZING (render.runtime, render.sizing) are added as they are."""
    document = {**plan_document(plan), **({"runtime": runtime} if runtime else {}), **({"sizing": sizing} if sizing else {})}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
