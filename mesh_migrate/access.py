"""Least privilege between instances: what each team's instance grants the teams that reach it.

A team reaches another team's instance over its REST API for three reasons, each read from
the cross-team links of the graph:

- it polls a DAG there (a sensor in its DAG waits on that DAG): read that DAG, its runs and
  its task instances;
- it triggers a DAG there: trigger that DAG (and read its runs, to wait for them or adopt
  one that already exists);
- it produces a dataset that a DAG there is scheduled on: post dataset events there. The
  producer posts, so the consumer's instance is the one that grants.

Which of the three a dependency needs is its kind's `api_access` (rules/kinds.yaml); a
marker needs none (clearing across instances is manual work in the plan), and a kind that
reads grants only where the holder waits on the DAG it names.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from .graph import TeamLink
from .kinds import DependencyKind
from .names import team_slug

# Airflow 2.10's FAB auth manager (airflow/security/permissions.py): per-DAG resources for
# the DAG and its runs; task instances and datasets have one global resource each.
DAG_PREFIX = "DAG:"
DAG_RUN_PREFIX = "DAG Run:"
TASK_INSTANCES = "Task Instances"
DATASETS = "Datasets"
CAN_READ, CAN_EDIT, CAN_CREATE = "can_read", "can_edit", "can_create"
MAX_NAME = 64  # FAB's ab_role.name is a String(64); user names are kept as short


@dataclass(frozen=True)
class Grant:
    """What one consuming team may do through the REST API of another team's instance."""

    instance_team: str  # whose instance grants it (the team that owns the DAGs or consumes the dataset)
    team: str  # the team whose instance calls
    reads: tuple[str, ...] = ()  # DAG ids it polls: runs and task instances
    triggers: tuple[str, ...] = ()  # DAG ids it starts runs of
    dataset_events: tuple[str, ...] = ()  # dataset URIs it posts events for

    @property
    def role(self) -> str:
        """Named after both teams: on a monolith that still runs several teams' DAGs, each
        upstream team's role stays separate and a user holds several."""
        return bounded(f"mesh_{team_slug(self.instance_team)}_for_{team_slug(self.team)}")

    @property
    def user(self) -> str:
        """The calling team's service user, the same name on every instance it reaches."""
        return service_user(self.team)


def service_user(team: str) -> str:
    return bounded(f"mesh_{team_slug(team)}")


def bounded(name: str) -> str:
    """NAME, or its start and a digest of it when longer than FAB stores."""
    if len(name) <= MAX_NAME:
        return name
    return f"{name[:MAX_NAME - 9]}_{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def access_grants(links: Iterable[TeamLink], known_dags: Iterable[str], kind_of: Callable[[str], DependencyKind]) -> tuple[Grant, ...]:
    """One grant per (granting instance, calling team), sorted; DAG ids not defined in the
    analysis are left out, since no instance has a resource for them. KIND_OF: what a
    dependency kind means (the rule pack's)."""
    known = set(known_dags)
    reads: dict[tuple[str, str], set[str]] = defaultdict(set)
    triggers: dict[tuple[str, str], set[str]] = defaultdict(set)
    events: dict[tuple[str, str], set[str]] = defaultdict(set)
    for link in links:
        if not link.cross_team or link.holder_team is None or link.other_team is None:
            continue
        dep = link.dependency
        access = kind_of(dep.kind).api_access
        if access == "dataset_events":
            if dep.dataset:  # the consumer holds the link; the producer posts to it
                events[(link.holder_team, link.other_team)].add(dep.dataset)
            continue
        if link.other_dag not in known:
            continue
        pair = (link.other_team, link.holder_team)
        if access == "read" and dep.target == dep.dag and dep.source == link.other_dag:
            reads[pair].add(link.other_dag)  # the holder waits on the DAG it names
        elif access == "trigger":
            triggers[pair].add(link.other_dag)
    pairs = sorted(set(reads) | set(triggers) | set(events))
    return tuple(
        Grant(instance, team, tuple(sorted(reads[(instance, team)])), tuple(sorted(triggers[(instance, team)])), tuple(sorted(events[(instance, team)])))
        for instance, team in pairs
    )


def fab_permissions(grant: Grant) -> tuple[tuple[str, str], ...]:
    """(action, resource) pairs of the grant's role in Airflow 2.10's FAB auth manager.

    Reading a run needs `can_read` on `DAG:<id>` and on `DAG Run:<id>`; triggering needs
    `can_edit` on `DAG:<id>` and `can_create` on `DAG Run:<id>` (the API checks the DAG
    first, then the sub-entity), and `can_edit` on `DAG Run:<id>` too: a trigger with
    `reset_dag_run` clears the run it finds (`POST .../dagRuns/<run_id>/clear`), which the
    analysis does not tell apart from other triggers. Task instances have no per-DAG resource: the global
    `can_read` reaches only the DAGs the role may read, since the DAG is checked first.
    Dataset events have no per-dataset resource either: `can_create` on `Datasets` may post
    an event for any URI of that instance.
    """
    pairs: list[tuple[str, str]] = []
    for dag_id in sorted(set(grant.reads) | set(grant.triggers)):
        pairs += [(CAN_READ, DAG_PREFIX + dag_id), (CAN_READ, DAG_RUN_PREFIX + dag_id)]
        if dag_id in grant.triggers:
            pairs += [(CAN_EDIT, DAG_PREFIX + dag_id), (CAN_CREATE, DAG_RUN_PREFIX + dag_id), (CAN_EDIT, DAG_RUN_PREFIX + dag_id)]
    if grant.reads:
        pairs.append((CAN_READ, TASK_INSTANCES))
    if grant.dataset_events:
        pairs.append((CAN_CREATE, DATASETS))
    return tuple(pairs)


def granted_by(grants: Iterable[Grant], team: str) -> tuple[Grant, ...]:
    """The roles TEAM's instance holds for the teams that call it."""
    return tuple(g for g in grants if g.instance_team == team)


def granted_to(grants: Iterable[Grant], team: str) -> tuple[Grant, ...]:
    """What TEAM's instance may do on other instances: one outbound connection each."""
    return tuple(g for g in grants if g.team == team)
