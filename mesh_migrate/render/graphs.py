"""Graphs for people (DOT, SVG, PNG via graphviz) and for programs (node-link JSON, GraphML)."""

from __future__ import annotations

import json
from io import BytesIO

import graphviz
import networkx as nx

from ..graph import MeshGraph
from ..rulepack import RulePack

RENDER_HINT = "graphviz's `dot` program is not installed: wrote the .dot files only (apt-get install graphviz, or brew install graphviz, renders them)"


class RenderUnavailable(Exception):
    """The `dot` program is missing; DOT text is still available."""


def team_dot(graph: MeshGraph, rules: RulePack) -> graphviz.Digraph:
    """Teams as nodes, cross-team dependencies as weighted edges, cycles in red."""
    dot = graphviz.Digraph("teams", graph_attr={"rankdir": "LR", "label": "Teams: an edge A → B means B waits on A (label: dependencies by kind)", "labelloc": "t", "fontname": "Helvetica"})
    dot.attr("node", shape="box", style="rounded,filled", fillcolor="#f4f4f4", fontname="Helvetica")
    in_cycle = {(a, b) for cycle in graph.cycles for a, b in zip(cycle, cycle[1:] + cycle[:1])}
    for number, wave in enumerate(graph.waves, start=1):
        with dot.subgraph(name=f"wave_{number}") as column:  # one column per wave, upstream left
            column.attr(rank="same")
            for team in wave:
                column.node(team, f"{team}\\nwave {number}")
    for a, b, data in graph.teams.edges(data=True):
        label = ", ".join(rules.kind(k).count(n) for k, n in data["kinds"].items())
        attrs = {"label": label, "penwidth": str(min(1 + data["weight"] / 2, 6)), "fontsize": "10"}
        if (a, b) in in_cycle:
            attrs.update(color="red", fontcolor="red")
        dot.edge(a, b, **attrs)
    return dot


def neighbourhood(graph: MeshGraph, team: str) -> nx.MultiDiGraph:
    """The team's DAGs and every DAG they depend on or that depends on them."""
    dags = graph.dags
    ours = {n for n, d in dags.nodes(data=True) if d.get("type") == "dag" and d.get("team") == team}
    keep = set(ours)
    for node in ours:
        keep.update(n for n in dags.predecessors(node) if dags.nodes[n].get("type") == "dag")
        keep.update(n for n in dags.successors(node) if dags.nodes[n].get("type") == "dag")
    view = nx.MultiDiGraph()  # nodes and edges in a stable order, whatever the set's order
    view.add_nodes_from((n, dags.nodes[n]) for n in sorted(keep))
    view.add_edges_from(sorted(((a, b, k, d) for a, b, k, d in dags.edges(keys=True, data=True) if a in keep and b in keep), key=lambda e: (e[0], e[1], str(e[2]))))
    view.remove_edges_from([(a, b, k) for a, b, k in view.edges(keys=True) if a not in ours and b not in ours])
    return view


def dag_dot(dags: nx.MultiDiGraph, title: str, rules: RulePack) -> graphviz.Digraph:
    """DAGs clustered by team; dependency edges styled by kind (the rule pack's `graph`); resources left out."""
    drawn = sorted({data["kind"] for a, b, data in dags.edges(data=True) if _between_dags(dags, a, b)})
    legend = ", ".join(f"{rules.kind(k).label}: {' '.join(v for _, v in rules.kind(k).graph)}" for k in drawn)
    # newrank avoids dot's "trouble in init_rank" crash on many clusters.
    dot = graphviz.Digraph("dags", graph_attr={"rankdir": "LR", "newrank": "true", "label": f"{title}\n{legend}", "labelloc": "t", "fontname": "Helvetica"})
    dot.attr("node", shape="box", style="rounded", fontname="Helvetica", fontsize="10")
    by_team: dict[str, list[str]] = {}
    for node, data in dags.nodes(data=True):
        if data.get("type") == "dag":
            by_team.setdefault(data.get("team") or "(no team)", []).append(node)
    for team, nodes in sorted(by_team.items()):
        with dot.subgraph(name=f"cluster_{team}") as cluster:
            cluster.attr(label=team, style="rounded", color="#999999")
            for node in sorted(nodes):
                missing = dags.nodes[node].get("missing")
                cluster.node(node, node + ("\\n(defined nowhere)" if missing else ""), color="red" if missing else "black")
    for a, b, data in dags.edges(data=True):
        if _between_dags(dags, a, b):
            dot.edge(a, b, **dict(rules.kind(data["kind"]).graph))
    return dot


def _between_dags(dags: nx.MultiDiGraph, a: str, b: str) -> bool:
    """A dependency edge, not one to a dataset or resource node."""
    return all(dags.nodes[n].get("type") == "dag" for n in (a, b))


def render(dot: graphviz.Digraph, fmt: str) -> bytes:
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderUnavailable(RENDER_HINT) from None
    except OSError as error:  # a `dot` on PATH that cannot be run
        raise RenderUnavailable(f"graphviz's `dot` program cannot be run ({error.strerror or error}): wrote the .dot files only") from None
    except graphviz.CalledProcessError as failed:
        detail = (failed.stderr or b"").decode(errors="replace").strip().splitlines()
        raise RenderUnavailable(f"`dot` failed to lay out the graph ({detail[0] if detail else 'no message'}); the .dot file is still written") from None


def node_link_json(dags: nx.MultiDiGraph) -> str:
    data = nx.node_link_data(dags, edges="links")
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def graphml(dags: nx.MultiDiGraph) -> bytes:
    """GraphML allows only scalar attributes: lists become comma-separated text."""
    clean = nx.MultiDiGraph()
    for node, data in dags.nodes(data=True):
        clean.add_node(node, **_scalars(data))
    for a, b, data in dags.edges(data=True):
        clean.add_edge(a, b, **_scalars(data))
    buffer = BytesIO()
    nx.write_graphml(clean, buffer)
    return buffer.getvalue()


def _scalars(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict):  # e.g. a team edge's dependencies by kind
            out[key] = ",".join(f"{k}={v}" for k, v in sorted(value.items()))
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = ",".join(sorted(map(str, value)) if isinstance(value, (set, frozenset)) else map(str, value))
        else:
            out[key] = value
    return out
