"""The overview page: counts, the waves as a timeline, the team graph, cycles, findings,
unresolved items and diagnostics, each with a link to its place."""

from __future__ import annotations


from ...analysis import Analysis
from ..markdown import WAVE_POLICY, kind_counts
from .graph_svg import team_graph_svg
from .html import Child, Markup, el, join
from .layout import Links, code, counts, names, page, section, table


def overview_page(analysis: Analysis, links: Links, title: str) -> str:
    facts, graph, ownership = analysis.facts, analysis.graph, analysis.ownership
    plans = {p.team: p for p in analysis.plans}
    unowned = [o for o in ownership.by_dag.values() if o.team is None]
    summary = counts([
        ("DAGs", len(facts.dags)),
        ("files", len(facts.files)),
        ("teams", len(ownership.teams)),
        ("dependencies", len(facts.dependencies)),
        ("across teams", len(graph.cross_team_links())),
        ("waves", len(graph.waves)),
        ("team cycles", len(graph.cycles)),
        ("manual work", sum(len(p.manual) for p in analysis.plans)),
        ("unresolved", len(facts.unresolved)),
        ("diagnostics", len(facts.diagnostics)),
        ("unowned DAGs", len(unowned)),
    ])
    by_kind = el("p", {}, "Dependencies by kind: ", kind_counts(analysis) or "none", ". Ownership sources in force: ", "; ".join(ownership.fallbacks) or "—", ".")
    body = join(
        el("h1", {}, title),
        section("summary", "Summary", summary, by_kind),
        section("waves", "Migration waves", el("p", {}, WAVE_POLICY), _timeline(analysis, links)),
        section("graph", "Team graph", _graph(analysis, links)),
        section("teams", "Teams", _teams_table(analysis, links, plans)),
        section("cycles", "Team cycles", _cycles(analysis, links)),
        section("findings", "Findings", _findings(analysis, links, unowned)),
        section("unresolved", "Unresolved items", el("p", {}, "Values that cannot be known without running the code; never guessed."),
                table(["what", "expression", "reason", "place"], [[u.what, code(u.expression), u.reason, links.place(u.span)] for u in facts.unresolved])),
        section("diagnostics", "Diagnostics", table(["severity", "code", "message", "place"], [
            [el("span", {"class": f"severity {d.severity}"}, d.severity), code(d.code), d.message, links.place(d.span)] for d in facts.diagnostics])),
        section("skipped", "Files not analyzed", table(["file", "reason"], [[code(path), reason] for path, reason in facts.skipped])),
    )
    return page("Overview", links, body)


def _timeline(analysis: Analysis, links: Links) -> Markup:
    plans = {p.team: p for p in analysis.plans}
    steps = []
    for number, wave in enumerate(analysis.graph.waves, start=1):
        dags = sum(len(plans[t].dags) for t in wave if t in plans)
        steps.append(el(
            "li", {"id": f"wave-{number}"},
            el("h3", {}, f"Wave {number}"),
            el("p", {"class": "muted"}, f"{len(wave)} team{'s' if len(wave) != 1 else ''}, {dags} DAGs"),
            el("ul", {}, [el("li", {}, links.team(team)) for team in wave]),
        ))
    return el("ol", {"class": "timeline"}, steps) if steps else el("p", {"class": "none"}, "No teams.")


def _graph(analysis: Analysis, links: Links) -> Markup:
    graph = analysis.graph
    figure = el(
        "figure", {},
        team_graph_svg(graph, links.paths, links.up),
        el("figcaption", {}, "An arrow A → B means B waits on A; thicker means more dependencies; red arrows are cycles. Select a team to open its page."),
    )
    rows = [
        el("li", {}, links.team(team), ": waits on ", _team_list(links, sorted(graph.teams.predecessors(team))),
           "; waited on by ", _team_list(links, sorted(graph.teams.successors(team))))
        for team in analysis.ownership.teams
    ]
    return join(figure, el("h3", {}, "The same graph as a list"), el("ul", {"class": "graph-list"}, rows))


def _team_list(links: Links, teams: list[str]) -> Markup:
    if not teams:
        return Markup("nobody")
    return join([join(", " if i else None, links.team(t)) for i, t in enumerate(teams)])


def _teams_table(analysis: Analysis, links: Links, plans: dict) -> Markup:
    rows: list[list[Child]] = []
    for team in analysis.ownership.teams:
        plan = plans.get(team)
        if plan is None:
            continue
        wave = el("a", {"href": f"#wave-{plan.wave}"}, plan.wave) if plan.wave else "—"
        rows.append([links.team(team), len(plan.dags), len(plan.outbound), len(plan.inbound), len(plan.manual), wave])
    return table(["team", "DAGs", "outbound", "inbound", "manual work", "wave"], rows, class_="teams")


def _cycles(analysis: Analysis, links: Links) -> Markup:
    graph = analysis.graph
    if not graph.cycles:
        return el("p", {"class": "none"}, "None.")
    items = []
    for cycle in graph.cycles:
        steps = [join(links.team(b), f" waits on {a} ({graph.teams.edges[a, b]['weight']})") for a, b in zip(cycle, cycle[1:] + cycle[:1])]
        items.append(el("li", {}, join([join("; " if i else None, s) for i, s in enumerate(steps)])))
    return join(el("p", {}, "These teams wait on each other: they move together, or one edge is broken first."), el("ul", {}, items))


def _findings(analysis: Analysis, links: Links, unowned: list) -> Markup:
    graph = analysis.graph
    secrets = [s for s in graph.shared if s.kind in ("connection", "variable")]
    modules = [s for s in graph.shared if s.kind == "module"]
    return join(
        el("h3", {}, f"Dependencies on DAGs no file defines ({len(graph.dangling)})"),
        table(["DAG", "names", "place"], [[code(l.dependency.dag), code(l.other_dag), links.place(l.dependency.span)] for l in graph.dangling]),
        el("h3", {}, f"Duplicate dag ids ({len(graph.duplicates)})"),
        table(["dag id", "files"], [[code(dag_id), names(list(paths))] for dag_id, paths in graph.duplicates.items()]),
        el("h3", {}, f"Connections and variables several teams use ({len(secrets)})"),
        table(["kind", "name", "teams"], [[s.kind, code(s.name), names(list(s.teams))] for s in secrets]),
        el("h3", {}, f"Modules several teams import ({len(modules)})"),
        table(["module", "teams"], [[code(s.name), names(list(s.teams))] for s in modules]),
        el("h3", {}, f"Unowned DAGs ({len(unowned)})"),
        table(["DAG", "file", "suggested team"], [[code(o.dag_id), code(o.file), join(links.team(o.suggested), f" ({o.suggestion_reason})") if o.suggested else "—"] for o in unowned]),
    )
