"""The sizing plan (`analyze --airflow-db`) as JSON, a terminal table and Markdown sections."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..runtime.sizing import SizingPlan, TeamSize

FORMULA = (
    "worker slots = ceil(peak × headroom); worker vCPUs = ceil(slots / slots_per_vcpu); "
    "scheduler vCPUs = max(1, ceil(DAGs / dags_per_scheduler_vcpu), ceil(parse MB / parse_mb_per_scheduler_vcpu)); "
    "memory = vCPUs × gb_per_vcpu; cost = vCPUs × vcpu_month + memory × gb_month"
)


def sizing_document(plan: SizingPlan) -> dict[str, Any]:
    """`runtime.sizing` in the analysis document."""
    return {
        "days": round(plan.days, 3),
        "settings": asdict(plan.settings),
        "formula": FORMULA,
        "parse_cost": "bytes of the team's DAG files",
        "teams": [_team(t) for t in plan.teams],
        "monolith": {
            "task_runs_per_day": round(plan.monolith.task_runs / plan.days, 3),
            "task_hours_per_day": round(plan.monolith_task_hours_per_day, 3),
            "peak_concurrency": plan.monolith.peak_concurrency,
            "monthly_cost": plan.settings.monolith_monthly_cost,
        },
        "mesh_monthly_cost": round(plan.mesh_monthly_cost, 2),
    }


def plan_sizing_document(plan: SizingPlan, team: str) -> dict[str, Any] | None:
    """`sizing` in a team's YAML plan: its row, the window and the formula."""
    size = next((t for t in plan.teams if t.team == team), None)
    if size is None:
        return None
    return {"days": round(plan.days, 3), "formula": FORMULA, "settings": asdict(plan.settings), **_team(size)}


def _team(size: TeamSize) -> dict[str, Any]:
    return {
        "team": size.team,
        "dags": size.dags,
        "task_runs_per_day": round(size.task_runs_per_day, 3),
        "task_hours_per_day": round(size.task_hours_per_day, 3),
        "peak_concurrency": size.peak_concurrency,
        "pools": [{"pool": name, "slots": slots} for name, slots in size.pools],
        "pool_slots": size.pool_slots,
        "parse_bytes": size.parse_bytes,
        "worker_slots": size.worker_slots,
        "worker_vcpus": size.worker_vcpus,
        "scheduler_vcpus": size.scheduler_vcpus,
        "memory_gb": size.memory_gb,
        "monthly_cost": size.monthly_cost,
    }


def _money(value: float | None) -> str:
    return "not configured" if value is None else f"{value:,.0f}"


def _comparison(plan: SizingPlan) -> str:
    monolith = plan.settings.monolith_monthly_cost
    line = f"mesh {_money(plan.mesh_monthly_cost)} a month against the monolith's {_money(monolith)}"
    if monolith:
        line += f" ({plan.mesh_monthly_cost / monolith:.0%})"
    return line


HEADERS = ["team", "DAGs", "runs/day", "task-h/day", "peak", "pool slots", "parse KB", "worker slots", "worker vCPU", "sched vCPU", "GB", "cost/month"]


def _row(size: TeamSize) -> list[Any]:
    return [size.team, size.dags, f"{size.task_runs_per_day:.1f}", f"{size.task_hours_per_day:.2f}", size.peak_concurrency,
            size.pool_slots, f"{size.parse_bytes / 1000:.0f}", size.worker_slots, size.worker_vcpus, size.scheduler_vcpus,
            f"{size.memory_gb:g}", _money(size.monthly_cost)]


def _total(plan: SizingPlan) -> list[Any]:
    teams = plan.teams
    return ["**total**", sum(t.dags for t in teams), f"{sum(t.task_runs_per_day for t in teams):.1f}", f"{sum(t.task_hours_per_day for t in teams):.2f}",
            f"{plan.monolith.peak_concurrency} (monolith)", "", f"{sum(t.parse_bytes for t in teams) / 1000:.0f}", sum(t.worker_slots for t in teams),
            sum(t.worker_vcpus for t in teams), sum(t.scheduler_vcpus for t in teams), f"{sum(t.memory_gb for t in teams):g}", _money(plan.mesh_monthly_cost)]


def _table(rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def sizing_lines(plan: SizingPlan) -> list[str]:
    """One short table for the terminal."""
    rows = [[t.team, f"{t.task_hours_per_day:.2f}", str(t.peak_concurrency), f"{t.worker_vcpus}+{t.scheduler_vcpus}", _money(t.monthly_cost)] for t in plan.teams]
    headers = ["team", "task-h/day", "peak", "vCPU w+s", "cost/month"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)] if rows else [len(h) for h in headers]
    out = [f"Sizing over {plan.days:.1f} days: {_comparison(plan)}"]
    for row in [headers, *rows]:
        out.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return out


def summary_sizing_markdown(plan: SizingPlan) -> list[str]:
    out = ["## Size of each team's instance", "",
           f"From the monolith's load over {plan.days:.1f} days; {FORMULA}. Parse cost: bytes of the team's DAG files.", ""]
    out += _table([_row(t) for t in plan.teams] + [_total(plan)])
    out += ["", f"Monolith: {plan.monolith_task_hours_per_day:.2f} task-hours a day, peak {plan.monolith.peak_concurrency} tasks at once. "
            f"Cost: {_comparison(plan)}. Load per team: [sizing.svg](sizing.svg).", ""]
    return out


def plan_sizing_markdown(plan: SizingPlan, team: str) -> list[str]:
    size = next((t for t in plan.teams if t.team == team), None)
    if size is None:
        return []
    pools = ", ".join(f"`{name}` ({'?' if slots is None else slots} slots)" for name, slots in size.pools) or "none"
    return [
        "## Size of the team's instance", "",
        f"From the monolith's metadata database, over {plan.days:.1f} days:", "",
        f"- load: {size.task_runs_per_day:.1f} task runs and {size.task_hours_per_day:.2f} task-hours a day, at most {size.peak_concurrency} tasks at once",
        f"- {size.dags} DAGs, {size.parse_bytes / 1000:.0f} KB of DAG files to parse; pools: {pools}",
        f"- workers: {size.worker_slots} slots on {size.worker_vcpus} vCPUs; scheduler: {size.scheduler_vcpus} vCPUs; {size.memory_gb:g} GB in all",
        f"- about {_money(size.monthly_cost)} a month ({size.worker_vcpus + size.scheduler_vcpus} vCPUs × {plan.settings.vcpu_month:g} + {size.memory_gb:g} GB × {plan.settings.gb_month:g})",
        "",
        f"Formula: {FORMULA}.", "",
    ]
