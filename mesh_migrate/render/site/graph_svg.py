"""The team graph as inline SVG, laid out here (no graphviz needed): one row per migration
wave, the first wave at the top; each team is a link to its page."""

from __future__ import annotations

from dataclasses import dataclass

from ...graph import MeshGraph
from .html import Markup, el
from .paths import SitePaths

BOX_W, BOX_H, GAP_X, GAP_Y, LEFT, TOP = 150, 30, 24, 64, 70, 12
LABEL_CHARS = 19


@dataclass(frozen=True)
class Box:
    team: str
    wave: int  # 0-based row
    x: float
    y: float


def layout(graph: MeshGraph) -> dict[str, Box]:
    """Rows by wave; within a row, teams ordered by where their neighbours already sit (one
    barycentre pass), which removes most crossings on graphs of this size."""
    boxes: dict[str, Box] = {}
    placed: dict[str, int] = {}
    teams = graph.teams
    for row, wave in enumerate(graph.waves):
        def weight(team: str) -> tuple[float, str]:
            columns = [placed[n] for n in (*teams.predecessors(team), *teams.successors(team)) if n in placed]
            return (sum(columns) / len(columns) if columns else float("inf"), team)

        for column, team in enumerate(sorted(wave, key=weight)):
            placed[team] = column
            boxes[team] = Box(team, row, LEFT + column * (BOX_W + GAP_X), TOP + row * (BOX_H + GAP_Y))
    return boxes


def _label(team: str) -> str:
    return team if len(team) <= LABEL_CHARS else team[: LABEL_CHARS - 1] + "…"


def _edge(a: Box, b: Box, weight: int, kinds: dict, red: bool) -> Markup:
    """a -> b (b waits on a). Across rows a curve between facing sides; within a row an arc below."""
    x1, x2 = a.x + BOX_W / 2, b.x + BOX_W / 2
    if a.y == b.y:
        y = a.y + BOX_H
        bend = y + 22
        path = f"M{x1:.0f},{y:.0f} C{x1:.0f},{bend:.0f} {x2:.0f},{bend:.0f} {x2 + 6:.0f},{y + 4:.0f}"
    else:
        down = a.y < b.y
        y1 = a.y + BOX_H if down else a.y
        y2 = b.y - 4 if down else b.y + BOX_H + 4
        mid = (y1 + y2) / 2
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{mid:.0f} {x2:.0f},{mid:.0f} {x2:.0f},{y2:.0f}"
    what = ", ".join(f"{n} {k}" for k, n in kinds.items())
    return el(
        "path",
        {"d": path, "class": "edge cycle" if red else "edge", "stroke-width": f"{min(1 + weight / 3, 6):.1f}", "marker-end": "url(#arrow-red)" if red else "url(#arrow)"},
        el("title", {}, f"{b.team} waits on {a.team}: {what}"),
    )


def team_graph_svg(graph: MeshGraph, paths: SitePaths, up: str = "") -> Markup:
    boxes = layout(graph)
    if not boxes:
        return Markup("")
    in_cycle = {(a, b) for cycle in graph.cycles for a, b in zip(cycle, cycle[1:] + cycle[:1])}
    width = LEFT + max(len(w) for w in graph.waves) * (BOX_W + GAP_X) + 10
    height = TOP + len(graph.waves) * (BOX_H + GAP_Y) - GAP_Y + 30
    markers = el(
        "defs",
        {},
        [
            el("marker", {"id": mid, "viewBox": "0 0 10 10", "refX": "9", "refY": "5", "markerWidth": "6", "markerHeight": "6", "orient": "auto-start-reverse"},
               el("path", {"d": "M0,0 L10,5 L0,10 z", "class": cls}))
            for mid, cls in (("arrow", "arrowhead"), ("arrow-red", "arrowhead cycle"))
        ],
    )
    labels = [el("text", {"x": 4, "y": TOP + r * (BOX_H + GAP_Y) + BOX_H / 2 + 4, "class": "wave-label"}, f"wave {r + 1}") for r in range(len(graph.waves))]
    edges = [
        _edge(boxes[a], boxes[b], data["weight"], data["kinds"], (a, b) in in_cycle)
        for a, b, data in sorted(graph.teams.edges(data=True), key=lambda e: (e[0], e[1]))
        if a in boxes and b in boxes
    ]
    nodes = []
    for team, box in sorted(boxes.items(), key=lambda kv: (kv[1].wave, kv[1].x)):  # tab order: by wave, left to right
        page = paths.team(team)
        shape = [
            el("title", {}, f"{team} (wave {box.wave + 1})"),
            el("rect", {"x": box.x, "y": box.y, "width": BOX_W, "height": BOX_H, "rx": 6}),
            el("text", {"x": box.x + BOX_W / 2, "y": box.y + BOX_H / 2 + 4, "text-anchor": "middle"}, _label(team)),
        ]
        nodes.append(el("a", {"href": up + page, "class": "node"}, shape) if page else el("g", {"class": "node"}, shape))
    return el(
        "svg",
        {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {width:.0f} {height:.0f}", "width": f"{width:.0f}", "class": "team-graph", "role": "group", "aria-label": "Team graph: an arrow A → B means B waits on A"},
        markers,
        labels,
        el("g", {"class": "edges"}, edges),
        el("g", {"class": "nodes"}, nodes),
    )
