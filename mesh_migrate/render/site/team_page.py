"""One team's page: its plan (what moves and why, dependencies both ways, API access to
grant, what to provision, manual work) and the codemod's diff for the team."""

from __future__ import annotations

from collections import defaultdict

from ...codemod.runner import CodemodResult
from ...access import Grant
from ...names import file_name
from ...plan import HTTP_PROVIDER, PlannedDependency, SplitPlan
from ..markdown import waited_on
from .html import Markup, el, join
from .layout import Links, code, counts, names, page, section, table
from .paths import anchor


def team_page(plan: SplitPlan, links: Links, preview: CodemodResult | str | None) -> str:
    """PREVIEW is the codemod's result for the team, or why there is none."""
    instance = plan.instance
    target = instance.url or "URL to be decided"
    api = f"REST API v{1 if instance.api_version == 2 else 2} (Airflow {instance.api_version})"
    placeholder = " — a placeholder: set this team's instance in mesh.yaml" if plan.instance_is_placeholder else ""
    wave = el("a", {"href": links.root(f"index.html#wave-{plan.wave}")}, f"wave {plan.wave}") if plan.wave else "no wave"
    together = join(", together with ", join([join(", " if i else None, links.team(t)) for i, t in enumerate(plan.moves_with)]), " (a dependency cycle)") if plan.moves_with else None
    facts = el(
        "ul", {"class": "facts"},
        el("li", {}, el("strong", {}, "Target instance: "), target, ", ", api, ", connection ", code(instance.http_conn_id), placeholder),
        el("li", {}, el("strong", {}, "Migration: "), wave, together),
    )
    sections = [
        ("dags", "DAGs that move", _dags(plan, links)),
        ("outbound", "Outbound: what we wait on or trigger in other teams", join(
            el("p", {}, "Each sensor or trigger changes in our code: the codemod points it at mesh_http, which reaches the other team's instance over its REST API. For a dataset, the producing task posts the dataset events to our instance."),
            _dependencies(plan.outbound, links, outbound=True))),
        ("connections", "Connections to create", _connections(plan)),
        ("inbound", "Inbound: who waits on or triggers our DAGs", join(
            el("p", {}, "These teams reach our instance through their connection ", code(instance.http_conn_id), "."),
            _dependencies(plan.inbound, links, outbound=False))),
        ("access", "API access to grant", _access(plan, links)),
        ("provision", "To provision on our instance", _provision(plan)),
        ("modules", "Shared modules to bring along", table(["module", "imported by", "also imported by teams"], [[code(m.name), names(list(m.dags)), names(list(m.shared_with))] for m in plan.modules])),
        ("manual", "Manual work", table(["what", "where", "why"], [[m.what, links.place(m.span), m.why] for m in plan.manual])),
        ("codemod", "Codemod preview", _preview(preview, links)),
        ("apply", "How to apply", el("pre", {}, el("code", {}, f"mesh-migrate codemod . --team {plan.team} --diff     # review\nmesh-migrate codemod . --team {plan.team} --branch   # branch mesh/…"))),
    ]
    toc = el("nav", {"aria-label": "On this page", "class": "toc"}, el("ol", {}, [el("li", {}, el("a", {"href": f"#{i}"}, t)) for i, t, _ in sections]))
    body = join(
        el("h1", {}, "Team ", el("span", {"class": "team-name"}, plan.team)),
        el("p", {"class": "lead"}, plan.description) if plan.description else None,
        facts,
        counts([("DAGs", len(plan.dags)), ("outbound", len(plan.outbound)), ("inbound", len(plan.inbound)), ("to provision", len(plan.resources)), ("manual work", len(plan.manual))]),
        toc,
        [section(i, t, content) for i, t, content in sections],
    )
    crumbs = [el("a", {"href": links.root("index.html")}, "Overview"), el("a", {"href": links.root("index.html#teams")}, "Teams"), el("span", {"aria-current": "page"}, plan.team)]
    return page(f"Team {plan.team}", links, body, crumbs=crumbs)


def dag_anchors(plan: SplitPlan) -> list[str]:
    """One id per DAG row; a dag id defined twice in the team still gets two distinct ids."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for dag in plan.dags:
        base = anchor("dag", dag.dag_id)
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def _dags(plan: SplitPlan, links: Links) -> Markup:
    rows = []
    for dag, id_ in zip(plan.dags, dag_anchors(plan)):
        why = join(f"{dag.source}: {dag.reason}", f" (also named: {'; '.join(dag.overruled)})" if dag.overruled else None)
        rows.append([el("code", {"id": id_}, dag.dag_id), links.place(dag.span), why])
    return table(["DAG", "defined at", "why this team"], rows)


def _dependencies(items: tuple[PlannedDependency, ...], links: Links, outbound: bool) -> Markup:
    rows = []
    for item in items:
        dep = item.dependency
        holder = join(code(dep.dag), " schedule") if dep.kind == "dataset" else join(code(dep.dag), " task ", code(dep.task_id or "—"))
        other = join(code(item.their_dag), " (", links.team(item.their_team), ")")
        becomes = el("span", {"class": "auto" if item.automatic else "manual"}, "codemod: " if item.automatic else "manual: ", item.rewrite)
        rows.append([el("span", {"class": "kind"}, dep.kind), holder, other if outbound else code(item.our_dag), waited_on(dep), links.place(dep.span), becomes])
    headers = ["kind", "our task" if outbound else "their task", "on" if outbound else "on our DAG", "tasks", "line", "becomes"]
    return table(headers, rows)


def _reach(grant: Grant) -> Markup:
    parts = [("polls", grant.reads), ("triggers", grant.triggers), ("posts dataset events for", grant.dataset_events)]
    return join([el("div", {}, f"{verb} ", names(list(items))) for verb, items in parts if items])


def _access(plan: SplitPlan, links: Links) -> Markup:
    """The role our instance gives each calling team (access/<team>.json)."""
    note = el("p", {}, "One role per calling team in ", code(f"access/{file_name(plan.team)}.json"), ": load it with ", code("POST /api/v1/roles"), " once our DAGs are parsed, then create each user with its role.") if plan.grants else None
    rows = [[links.team(g.team), code(g.user), code(g.role), _reach(g)] for g in plan.grants]
    return join(note, table(["team", "user", "role", "may"], rows))


def _connections(plan: SplitPlan) -> Markup:
    """The connections our instance needs to call the others, in the form the environment takes."""
    if not plan.connections:
        return el("p", {"class": "none"}, "None.")
    note = el("p", {}, "Type ", code("http"), ", provider ", code(HTTP_PROVIDER), "; the login is the user the other instance creates for us, its password a secret. Until a team leaves the monolith, point its connection at the monolith.")
    rows = []
    for c in plan.connections:
        setting, why = c.upstream_auth
        upstream = join(code(setting), f" ({why})") if setting else why
        rows.append([code(c.conn_id), c.team, c.url or "URL to be decided", code(c.login), code(c.role), _reach(c.grant), upstream])
    env = el("pre", {"tabindex": "0", "aria-label": "the connections as environment variables"}, el("code", {}, "\n".join(f"{c.env_var}='{c.env_value()}'" for c in plan.connections)))
    return join(note, table(["connection", "team", "URL", "login", "role there", "we", "that instance must allow"], rows), env)


def _provision(plan: SplitPlan) -> Markup:
    rows = [[r.kind, code(r.name), names(list(r.dags)), names(list(r.shared_with))] for r in plan.resources]
    note = el("p", {}, "A connection or variable other teams use too is a secret to duplicate or an ownership to settle.") if rows else None
    return join(table(["kind", "name", "used by", "also used by teams"], rows), note)


def _preview(preview: CodemodResult | str | None, links: Links) -> Markup:
    if preview is None or isinstance(preview, str):
        return el("p", {"class": "none"}, preview or "No preview: the analyzed files are not available.")
    summary = el("p", {}, f"The codemod would rewrite {len(preview.rewrites)} calls in {len(preview.changes)} files and leave {len(preview.manual)} as manual work.")
    rewrites = table(["where", "rewrite"], [[links.place(r.span), r.description] for r in preview.rewrites])
    left = table(["what", "where", "why"], [[m.what, links.place(m.span), m.why] for m in preview.manual]) if preview.manual else None
    errors = table(["file", "problem"], [[links.place(e.span), e.why] for e in preview.errors]) if preview.errors else None
    diffs = [join(el("h3", {"class": "diff-file"}, code(change.path)), diff_block(change.diff())) for change in preview.changes]
    return join(summary, rewrites, el("h3", {}, "Left as manual work") if left else None, left, el("h3", {}, "Files that cannot be rewritten") if errors else None, errors, diffs)


def diff_block(text: str) -> Markup:
    """A unified diff, one element per line so added and removed lines can be told apart (also in print)."""
    lines = []
    for line in text.splitlines():
        cls = "hunk" if line.startswith("@@") else "file" if line.startswith(("+++", "---")) else "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        lines.append(el("span", {"class": cls}, line + "\n"))
    return el("pre", {"class": "diff", "tabindex": "0", "aria-label": "unified diff"}, el("code", {}, lines))
