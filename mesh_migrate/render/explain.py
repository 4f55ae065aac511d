"""`explain DAG_ID`: one DAG's team and reason, what it waits on and who waits on it."""

from __future__ import annotations

from ..analysis import Analysis
from ..facts import DependencyFact


def explain_lines(analysis: Analysis, dag_id: str) -> list[str] | None:
    definitions = [d for d in analysis.facts.dags if d.dag_id == dag_id]
    mentioned = any(dag_id in (d.source, d.target) for d in analysis.facts.dependencies)
    if not definitions and not mentioned:
        return None
    lines = [f"DAG {dag_id}"]
    if not definitions:
        lines.append("  defined in no analyzed file (other DAGs name it: a dangling dependency)")
    for dag in definitions:
        owned = analysis.ownership.of(dag)
        lines.append(f"  defined at {dag.span} ({dag.defined_by}), owners: {', '.join(dag.owners) or '-'}, tags: {', '.join(dag.tags) or '-'}")
        if owned.team:
            lines.append(f"  team: {owned.team}, by {owned.source}: {owned.reason}")
        else:
            hint = f"; suggested: {owned.suggested} ({owned.suggestion_reason})" if owned.suggested else ""
            lines.append(f"  team: none{hint}")
        for claim in owned.overruled:
            lines.append(f"    overruled: {claim.team} by {claim.source}: {claim.reason}")
    team_of = analysis.ownership.team_of_id

    def label(dep: DependencyFact) -> str:
        return analysis.rules.kind(dep.kind).label

    upstream = [d for d in analysis.facts.dependencies if d.target == dag_id and d.source != dag_id]
    downstream = [d for d in analysis.facts.dependencies if d.source == dag_id and d.target != dag_id]
    lines.append(f"  runs after ({len(upstream)}):")
    for dep in upstream:
        tasks = f" tasks {', '.join(dep.source_tasks)}" if dep.source_tasks else ""
        lines.append(f"    {label(dep):<8} {dep.source} [{team_of(dep.source) or '?'}]{tasks} via task {dep.task_id} at {dep.span}")
    lines.append(f"  runs before ({len(downstream)}):")
    for dep in downstream:
        lines.append(f"    {label(dep):<8} {dep.target} [{team_of(dep.target) or '?'}] via task {dep.task_id} at {dep.span}")
    selfs = [d for d in analysis.facts.dependencies if d.source == dag_id == d.target]
    for dep in selfs:
        lines.append(f"  waits on itself: {label(dep)} task {dep.task_id} at {dep.span} (allowed, not a cycle)")
    return lines
