"""The registry the helper module routes by: which instance runs each DAG a team may reach.

Built from the analysis and mesh.yaml alone (pure), one per team, and written as
`mesh_registry.json` beside the helper module in that team's branch. A DAG of the team's
own instance is left out: the helper keeps Airflow's own behaviour for it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..analysis import Analysis
from ..config import MONOLITH, Instance, MeshConfig
from ..overview import instance_for

REGISTRY_VERSION = 1


def instance_name(team: str | None, config: MeshConfig) -> str | None:
    """Where TEAM's DAGs run now: its own instance (named after it), or the monolith."""
    if team is None or config.on_monolith(team):
        return MONOLITH if config.monolith is not None else None
    return team


def _instance(name: str, config: MeshConfig) -> Instance:
    if name == MONOLITH and config.monolith is not None:
        return config.monolith.instance
    return instance_for(name, config)[0]


def build_registry(analysis: Analysis, team: str) -> dict[str, Any]:
    """The registry of TEAM's branch, in the helper module's format (version 1)."""
    config, ownership = analysis.config, analysis.ownership
    here = instance_name(team, config)
    dags: dict[str, str] = {}
    for dag in analysis.facts.dags:
        owner = ownership.team_of_id(dag.dag_id)
        there = instance_name(owner, config)
        if owner != team and there is not None and there != here:
            dags[dag.dag_id] = there
    datasets: dict[str, set[str]] = defaultdict(set)
    for link in analysis.graph.links:
        dep = link.dependency
        if dep.dataset and ownership.team_of_id(dep.source) == team:  # posting its events or not yet
            there = instance_name(link.holder_team, config)
            if there is not None and there != here:
                datasets[dep.dataset].add(there)
    used = sorted(set(dags.values()) | {name for names in datasets.values() for name in names})
    return {
        "version": REGISTRY_VERSION,
        "team": team,
        "instances": {name: _described(_instance(name, config)) for name in used},
        "dags": dict(sorted(dags.items())),
        "task_groups": _task_groups(analysis, team, set(dags)),
        "datasets": {uri: sorted(names) for uri, names in sorted(datasets.items())},
    }


def _described(instance: Instance) -> dict[str, Any]:
    return {"conn_id": instance.http_conn_id, "api_version": instance.api_version, "url": instance.url}


def _task_groups(analysis: Analysis, team: str, remote: set[str]) -> dict[str, dict[str, list[str]]]:
    """The task ids of each group a sensor of TEAM waits on remotely, as the analysis found
    them (explicit, so a group made with prefix_group_id=False is waited on right)."""
    known = {dag.dag_id: dict(dag.groups) for dag in analysis.facts.dags}
    groups: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for link in analysis.graph.links:
        dep = link.dependency
        if link.holder_team != team or not dep.task_group or dep.source not in remote:
            continue
        members = known.get(dep.source, {}).get(dep.task_group)
        # A part the analysis could not compute shows as "?", which Airflow allows in no task
        # id: such a group is left to the helper's `group_id.` prefix match.
        if members and not any("?" in member for member in members):
            groups[dep.source][dep.task_group] = sorted(members)
    return {dag: dict(sorted(found.items())) for dag, found in sorted(groups.items())}


def registry_text(registry: dict[str, Any]) -> str:
    return json.dumps(registry, indent=2) + "\n"
