"""Split plans and the summary as Markdown that reads well as a pull request description."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from ..analysis import Analysis
from ..facts import SourceSpan
from ..names import file_name
from ..access import Grant
from ..plan import HTTP_PROVIDER, PlannedDependency, SplitPlan

WAVE_POLICY = (
    "Teams nobody waits on move first and the most upstream teams last: when a team leaves, "
    "only its own sensors change (they poll the monolith over HTTP through one connection per "
    "upstream team), and when an upstream team follows, that connection is repointed at its new "
    "instance with no code change. Teams in a cycle share a wave."
)


def link(span: SourceSpan, base: str = "../") -> str:
    """A relative link to file:line that works in a pull request and in a local checkout."""
    if not span.line:
        return f"[`{span.path}`]({base}{span.path})"
    return f"[`{span.path}:{span.line}`]({base}{span.path}#L{span.line})"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def waited_on(dep) -> str:
    if dep.kind == "dataset":
        return f"{dep.dataset} (by {dep.task_id})"
    if dep.source_tasks:
        return ", ".join(dep.source_tasks)
    if dep.task_group:
        return f"group {dep.task_group}"
    return "whole DAG" if dep.kind in ("sensor", "skyflow_sensor") else "—"


def plan_markdown(plan: SplitPlan, base: str = "../../") -> list[str]:
    instance = plan.instance
    wave = f"wave {plan.wave}" if plan.wave else "no wave"
    out = [f"# Split plan: {plan.team}", ""]
    if plan.description:
        out += [f"_{plan.description}_", ""]
    target = instance.url or "URL to be decided"
    placeholder = " (placeholder: set `instance` for this team in mesh.yaml)" if plan.instance_is_placeholder else ""
    out += [
        f"- **Target instance:** {target}, Airflow REST API v{1 if instance.api_version == 2 else 2} "
        f"(Airflow {instance.api_version}), connection `{instance.http_conn_id}`{placeholder}",
        f"- **Migration {wave}**" + (f", together with {', '.join(plan.moves_with)} (a dependency cycle)" if plan.moves_with else ""),
        f"- **{len(plan.dags)} DAGs move**, {len(plan.outbound)} outbound and {len(plan.inbound)} inbound cross-team dependencies, "
        f"{len(plan.manual)} items of manual work",
        "",
    ]
    out += ["## DAGs that move", ""]
    rows = [[f"`{d.dag_id}`", link(d.span, base), f"{d.source}: {d.reason}" + (f" (also named: {'; '.join(d.overruled)})" if d.overruled else "")] for d in plan.dags]
    out += _table(["DAG", "defined at", "why this team"], rows) if rows else ["None."]
    out += ["", "## Outbound: what we wait on or trigger in other teams", ""]
    out += ["Each sensor or trigger changes in our code: the codemod points it at mesh_http, which reaches the other team's instance over its REST API. For a dataset, the producing task posts the dataset events to our instance.", ""]
    out += _dependency_table(plan.outbound, base, ours_first=True) if plan.outbound else ["None."]
    out += ["", "## Connections to create", ""]
    out += connections_markdown(plan)
    out += ["", "## Inbound: who waits on or triggers our DAGs", ""]
    out += [f"These teams reach our instance through their connection `{plan.instance.http_conn_id}`.", ""]
    out += _dependency_table(plan.inbound, base, ours_first=False) if plan.inbound else ["None."]
    out += ["", "## API access to grant", ""]
    out += grants_markdown(plan)
    out += ["", "## To provision on our instance", ""]
    if plan.resources:
        rows = [[r.kind, f"`{r.name}`" + (f" ({r.access})" if r.access else ""), _names(r.dags), _names(r.shared_with)] for r in plan.resources]
        out += _table(["kind", "name", "used by", "also used by teams"], rows)
        out += ["", "A connection or variable other teams use too is a secret to duplicate or an ownership to settle."]
        if any(r.access for r in plan.resources):
            out += [
                f"Cloud resources are granted to the instance's own service account: see `iam/{file_name(plan.team)}.yaml` "
                f"and `iam/{file_name(plan.team)}.tf`. One another team uses too has an owner to agree on."
            ]
    else:
        out += ["None."]
    out += ["", "## Shared modules to bring along", ""]
    if plan.modules:
        rows = [[f"`{m.name}`", _names(m.dags), _names(m.shared_with)] for m in plan.modules]
        out += _table(["module", "imported by", "also imported by teams"], rows)
        out += ["", "Modules other teams import too are best packaged (or vendored) rather than copied."]
    else:
        out += ["None."]
    out += ["", "## Manual work", ""]
    if plan.manual:
        out += _table(["what", "where", "why"], [[m.what, link(m.span, base), m.why] for m in plan.manual])
    else:
        out += ["None: every cross-team dependency is rewritten by the codemod."]
    out += ["", "## How to apply", "", "```", f"mesh-migrate codemod . --team {plan.team} --diff     # review", f"mesh-migrate codemod . --team {plan.team} --branch   # branch mesh/{plan.team}", "```", ""]
    return out


def reach(grant: Grant) -> str:
    """What a calling team does on the granting instance, in words."""
    parts = []
    if grant.reads:
        parts.append("polls " + ", ".join(f"`{d}`" for d in grant.reads))
    if grant.triggers:
        parts.append("triggers " + ", ".join(f"`{d}`" for d in grant.triggers))
    if grant.dataset_events:
        parts.append("posts dataset events for " + ", ".join(f"`{u}`" for u in grant.dataset_events))
    return "; ".join(parts)


def connections_markdown(plan: SplitPlan) -> list[str]:
    """The Airflow connections our instance needs, one per instance it calls."""
    if not plan.connections:
        return ["None: no DAG of ours waits on, triggers or feeds a dataset of another team."]
    out = [
        f"One connection per instance we call, type `http` (provider `{HTTP_PROVIDER}` on our instance). "
        "The login is the service user that instance creates for us with the role of its `access/<team>.json`; "
        "its password goes into a secrets backend or the environment, never into code. Until a team leaves the "
        "monolith, point its connection at the monolith's URL (the monolith loads the same roles).",
        "",
    ]
    rows = [
        [f"`{c.conn_id}`" + (" (placeholder)" if c.placeholder else ""), c.team, c.url or "URL to be decided", f"Airflow {c.api_version}", f"`{c.login}`", f"`{c.role}`", reach(c.grant)]
        for c in plan.connections
    ]
    out += _table(["connection", "team", "URL", "API", "login", "role there", "we"], rows)
    out += ["", "As environment variables (JSON form):", "", "```"]
    out += [f"{c.env_var}='{c.env_value()}'" for c in plan.connections]
    out += ["```", "", "What each of those instances must allow:", ""]
    for c in plan.connections:
        setting, why = c.upstream_auth
        out.append(f"- {c.team} (Airflow {c.api_version}): " + (f"`{setting}` ({why})" if setting else why))
    return out


def grants_markdown(plan: SplitPlan) -> list[str]:
    """The roles our instance gives the teams that call it (access/<team>.json)."""
    if not plan.grants:
        return ["None: no other team waits on, triggers or feeds our DAGs."]
    out = [
        f"`access/{file_name(plan.team)}.json` holds one role per calling team: exactly the DAGs it polls or "
        "triggers, and dataset events for the datasets it feeds us. Load it once our DAGs are parsed: "
        "`POST /api/v1/roles` for each role, then one user per team with its role (see the README, Access "
        "between instances).",
        "",
    ]
    out += _table(["team", "user", "role", "may"], [[g.team, f"`{g.user}`", f"`{g.role}`", reach(g)] for g in plan.grants])
    return out


def _names(names: tuple[str, ...], shown: int = 6) -> str:
    if not names:
        return "—"
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _dependency_table(items: tuple[PlannedDependency, ...], base: str, ours_first: bool) -> list[str]:
    rows = []
    for item in items:
        dep = item.dependency
        other = f"`{item.their_dag}` ({item.their_team})"
        holder = f"`{dep.dag}` schedule" if dep.kind == "dataset" else f"`{dep.dag}` task `{dep.task_id or '—'}`"
        rows.append([
            dep.kind,
            holder,
            other if ours_first else f"`{item.our_dag}`",
            waited_on(dep),
            link(dep.span, base),
            ("codemod: " if item.automatic else "manual: ") + item.rewrite,
        ])
    header = ["kind", "our task" if ours_first else "their task", "on" if ours_first else "on our DAG", "tasks", "line", "becomes"]
    return _table(header, rows)


def summary_markdown(analysis: Analysis, base: str = "../") -> list[str]:
    facts, graph, ownership = analysis.facts, analysis.graph, analysis.ownership
    kinds = Counter(d.kind for d in facts.dependencies)
    cross = graph.cross_team_links()
    out = ["# Monolith split: summary", ""]
    out += [
        f"- {len(facts.dags)} DAGs in {len(facts.files)} files, {len(ownership.teams)} teams",
        f"- {len(facts.dependencies)} cross-DAG dependencies ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}), {len(cross)} of them across teams",
        f"- {len(facts.unresolved)} unresolved items, {len(facts.diagnostics)} diagnostics",
        f"- Ownership sources in force: {'; '.join(ownership.fallbacks)}",
        "",
        "## Teams",
        "",
    ]
    rows = []
    for plan in analysis.plans:
        rows.append([f"[{plan.team}](plans/{file_name(plan.team)}.md)", len(plan.dags), len(plan.inbound), len(plan.outbound), len(plan.manual), plan.wave or "—"])
    out += _table(["team", "DAGs", "inbound", "outbound", "manual", "wave"], rows)
    out += ["", "## Migration waves", "", WAVE_POLICY, ""]
    out += [f"{n}. {', '.join(wave)}" for n, wave in enumerate(graph.waves, start=1)]
    out += ["", "## Team cycles", ""]
    if graph.cycles:
        out += ["Two or more teams wait on each other: they move together, or one edge is broken first.", ""]
        for cycle in graph.cycles:
            out.append("- " + " → ".join([*cycle, cycle[0]]) + ": " + "; ".join(_cycle_edges(analysis, cycle)))
    else:
        out += ["None."]
    out += ["", "## Heaviest cross-team edges", ""]
    edges = sorted(graph.teams.edges(data=True), key=lambda e: (-e[2]["weight"], e[0], e[1]))[:15]
    out += _table(["upstream team", "downstream team", "dependencies", "by kind"], [[a, b, d["weight"], ", ".join(f"{k} {n}" for k, n in d["kinds"].items())] for a, b, d in edges])
    out += ["", "## Findings", ""]
    out += [f"- Dangling: {len(graph.dangling)} dependencies name a DAG no file defines"]
    out += [f"  - {link(l.dependency.span, base)} `{l.dependency.dag}` → `{l.other_dag}`" for l in graph.dangling]
    out += [f"- Duplicate dag ids: {len(graph.duplicates)}"]
    out += [f"  - `{dag_id}` in {', '.join(paths)}" for dag_id, paths in graph.duplicates.items()]
    out += [f"- Self-dependencies (allowed, not a cycle): {len(graph.self_dependencies)}"]
    secrets = [s for s in graph.shared if s.kind in ("connection", "variable")]
    modules = [s for s in graph.shared if s.kind == "module"]
    out += [f"- Connections and variables shared by several teams: {len(secrets)}"]
    out += [f"  - {s.kind} `{s.name}`: {len(s.teams)} teams ({', '.join(s.teams)})" for s in secrets]
    out += [f"- Shared modules imported by several teams (package or vendor them): {len(modules)}"]
    out += [f"  - `{s.name}`: {len(s.teams)} teams" for s in modules]
    out += _identity_findings(analysis)
    grants = [g for plan in analysis.plans for g in plan.grants]
    out += [
        f"- API access between instances: {len(grants)} roles on {len({g.instance_team for g in grants})} instances "
        f"for {len({g.team for g in grants})} calling teams (`access/<team>.json`; each plan lists the connections to create)"
    ]
    unowned = [o for o in ownership.by_dag.values() if o.team is None]
    out += [f"- Unowned DAGs: {len(unowned)}"]
    out += [f"  - `{o.dag_id}` ({o.file})" + (f": suggested {o.suggested} ({o.suggestion_reason})" if o.suggested else "") for o in unowned]
    out.append("")
    return out


def _identity_findings(analysis: Analysis) -> list[str]:
    """Each team's service account, and the cloud resources several teams use."""
    shared: dict[tuple[str, str], tuple[set[str], tuple[str, ...]]] = {}
    for plan in analysis.identities:
        for need in plan.shared:
            teams, _ = shared.setdefault((need.kind, need.name), (set(), need.owners))
            teams.add(plan.team)
    used = [p for p in analysis.identities if p.impersonate or p.resources]
    out = [f"- Cloud identities: {len(used)} teams reach cloud resources (`iam/<team>.yaml` and `.tf`)"]
    out += [
        f"  - {p.team}: `{p.service_account}`, impersonates {len(p.impersonate)} accounts, {len(p.resources)} resources"
        for p in used
    ]
    out += [f"- Cloud resources shared by several teams (ownership to settle): {len(shared)}"]
    for (kind, name), (teams, owners) in sorted(shared.items()):
        owner = f"written by {', '.join(owners)}" if owners else "written by no team"
        out.append(f"  - {kind} `{name}`: {len(teams)} teams ({', '.join(sorted(teams))}); {owner}")
    return out


def _cycle_edges(analysis: Analysis, cycle: tuple[str, ...]) -> list[str]:
    parts = []
    for a, b in zip(cycle, cycle[1:] + cycle[:1]):
        data = analysis.graph.teams.edges[a, b]
        parts.append(f"{b} waits on {a} ({data['weight']})")
    return parts
