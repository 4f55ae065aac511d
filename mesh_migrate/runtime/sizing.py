"""How big each team's instance must be, from what the monolith ran: pure functions over RuntimeFacts.

The formula, with every constant from mesh.yaml `sizing` (README, Sizing each team's instance):

    worker slots     = ceil(peak concurrent tasks x headroom), at least 1
    worker vCPUs     = ceil(worker slots / slots_per_vcpu)
    scheduler vCPUs  = max(1, ceil(DAGs / dags_per_scheduler_vcpu), ceil(parse MB / parse_mb_per_scheduler_vcpu))
    memory GB        = (worker vCPUs + scheduler vCPUs) x gb_per_vcpu
    monthly cost     = (worker vCPUs + scheduler vCPUs) x vcpu_month + memory GB x gb_month
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Mapping

from ..config import Sizing
from ..facts import RepoFacts
from .facts import RuntimeFacts, TaskSpan

UNOWNED = "(unowned)"  # DAGs no team owns, and DAGs only the database knows
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Load:
    """What a set of DAGs ran in the window."""

    task_runs: int
    task_seconds: float
    peak_concurrency: int


@dataclass(frozen=True)
class TeamSize:
    team: str
    dags: int  # DAGs the team owns in the code, plus database-only ones in the unowned row
    task_runs_per_day: float
    task_hours_per_day: float
    peak_concurrency: int
    pools: tuple[tuple[str, int | None], ...]  # pools its DAGs use (code), with their slots (database; None: unknown there)
    parse_bytes: int  # the size of its DAG files: what its scheduler parses
    worker_slots: int
    worker_vcpus: int
    scheduler_vcpus: int
    memory_gb: float
    monthly_cost: float

    @property
    def pool_slots(self) -> int:
        return sum(slots or 0 for _, slots in self.pools)


@dataclass(frozen=True)
class SizingPlan:
    days: float  # the window's length
    settings: Sizing
    teams: tuple[TeamSize, ...]  # configured teams in order, then the unowned row if it has DAGs or load
    monolith: Load  # every task in the window, whoever owns it

    @property
    def mesh_monthly_cost(self) -> float:
        return sum(t.monthly_cost for t in self.teams)

    @property
    def monolith_task_hours_per_day(self) -> float:
        return self.monolith.task_seconds / 3600 / self.days


def peak_concurrency(spans: Iterable[TaskSpan]) -> int:
    """The most tasks running at one instant: a sweep over starts (+1) and ends (-1); a task
    ending when another starts is not counted as overlapping it (ends sort first)."""
    events: list[tuple[datetime, int]] = []
    for span in spans:
        events.append((span.start, 1))
        events.append((max(span.end, span.start), -1))
    events.sort()
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def load_of(spans: Iterable[TaskSpan]) -> Load:
    spans = list(spans)
    seconds = sum(max((s.end - s.start).total_seconds(), 0.0) for s in spans)
    return Load(len(spans), seconds, peak_concurrency(spans))


def instance_size(team: str, dags: int, load: Load, days: float, pools: tuple[tuple[str, int | None], ...], parse_bytes: int, settings: Sizing) -> TeamSize:
    """The formula of the module docstring, for one team."""
    slots = max(1, math.ceil(load.peak_concurrency * settings.headroom))
    workers = math.ceil(slots / settings.slots_per_vcpu)
    scheduler = max(1, math.ceil(dags / settings.dags_per_scheduler_vcpu), math.ceil(parse_bytes / 1e6 / settings.parse_mb_per_scheduler_vcpu))
    memory = (workers + scheduler) * settings.gb_per_vcpu
    cost = (workers + scheduler) * settings.vcpu_month + memory * settings.gb_month
    return TeamSize(
        team=team,
        dags=dags,
        task_runs_per_day=load.task_runs / days,
        task_hours_per_day=load.task_seconds / 3600 / days,
        peak_concurrency=load.peak_concurrency,
        pools=pools,
        parse_bytes=parse_bytes,
        worker_slots=slots,
        worker_vcpus=workers,
        scheduler_vcpus=scheduler,
        memory_gb=memory,
        monthly_cost=round(cost, 2),
    )


def size_teams(facts: RepoFacts, runtime: RuntimeFacts, teams: tuple[str, ...], team_of: Callable[[str], str | None], file_sizes: Mapping[str, int], settings: Sizing) -> SizingPlan:
    """One TeamSize per team (and the unowned row): every task in the window lands in exactly one row."""
    days = max((runtime.until - runtime.since).total_seconds() / SECONDS_PER_DAY, 1e-9)
    row_of = {dag_id: team_of(dag_id) or UNOWNED for dag_id in {d.dag_id for d in facts.dags} | {d.dag_id for d in runtime.dags}}
    spans: dict[str, list[TaskSpan]] = {}
    for span in runtime.tasks:
        spans.setdefault(row_of.get(span.dag_id) or UNOWNED, []).append(span)
    dag_ids: dict[str, set[str]] = {}
    files: dict[str, set[str]] = {}
    for dag_id, row in row_of.items():
        dag_ids.setdefault(row, set()).add(dag_id)
    for dag in facts.dags:
        files.setdefault(row_of[dag.dag_id], set()).add(dag.span.path)
    slots = dict(runtime.pools)
    pools: dict[str, set[str]] = {}
    for use in facts.resources:
        if use.kind == "pool" and use.dag is not None:
            pools.setdefault(row_of.get(use.dag, UNOWNED), set()).add(use.name)
    others = sorted((set(dag_ids) | set(spans)) - set(teams) - {UNOWNED})  # never drop a row's load
    rows = list(teams) + others + ([UNOWNED] if UNOWNED in dag_ids or UNOWNED in spans else [])
    sized = tuple(
        instance_size(
            row,
            len(dag_ids.get(row, ())),
            load_of(spans.get(row, ())),
            days,
            tuple((p, slots.get(p)) for p in sorted(pools.get(row, ()))),
            sum(file_sizes.get(f, 0) for f in files.get(row, ())),
            settings,
        )
        for row in rows
    )
    return SizingPlan(days, settings, sized, load_of(runtime.tasks))
