"""The team graph's groups, cycles and waves, computed without networkx, are what
networkx computes on the same graph (it is the reference here, and still draws it)."""

from __future__ import annotations

import random
from collections import defaultdict

import networkx as nx
import pytest

from mesh_migrate.graph import MAX_CYCLES, migration_waves, short_cycles, strongly_connected, team_cycles, team_graph


def random_team_edges(seed: int) -> tuple[list[str], list[tuple[str, str, dict]]]:
    rng = random.Random(seed)
    teams = [f"team_{n:02d}" for n in range(rng.randint(1, 14))]
    density = rng.choice([0.05, 0.1, 0.2, 0.4])
    edges = [(a, b, {"weight": 1, "kinds": {"sensor": 1}}) for a in teams for b in teams if a != b and rng.random() < density]
    return teams, sorted(edges)


def reference(teams: list[str], edges) -> tuple:
    graph = team_graph(teams, edges)
    groups = tuple(sorted(tuple(sorted(c)) for c in nx.strongly_connected_components(graph) if len(c) > 1))
    condensed = nx.condensation(graph.reverse(copy=False))
    waves = tuple(tuple(sorted(t for c in generation for t in condensed.nodes[c]["members"])) for generation in nx.topological_generations(condensed))
    return groups, team_cycles(graph), waves


def computed(teams: list[str], edges) -> tuple:
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in edges:
        successors[source].append(target)
    components = strongly_connected(teams, successors)
    groups = tuple(sorted(tuple(sorted(c)) for c in components if len(c) > 1))
    cycles = short_cycles(successors, components)
    return groups, cycles if cycles is not None else team_cycles(team_graph(teams, edges)), migration_waves(edges, components)


@pytest.mark.parametrize("seed", range(200))
def test_groups_cycles_and_waves_are_those_networkx_finds(seed: int) -> None:
    teams, edges = random_team_edges(seed)
    assert computed(teams, edges) == reference(teams, edges)


def test_past_the_bound_the_cycles_are_left_to_networkx() -> None:
    teams = [f"t{n}" for n in range(7)]
    edges = sorted((a, b, {"weight": 1, "kinds": {}}) for a in teams for b in teams if a != b)  # complete: thousands of cycles
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in edges:
        successors[source].append(target)
    assert short_cycles(successors, strongly_connected(teams, successors)) is None
    assert len(computed(teams, edges)[1]) == MAX_CYCLES


def test_a_ring_of_teams_is_one_group_one_cycle_and_one_wave() -> None:
    teams = ["a", "b", "c", "d"]
    edges = [("a", "b", {}), ("b", "c", {}), ("c", "a", {}), ("c", "d", {})]
    groups, cycles, waves = computed(teams, edges)
    assert groups == (("a", "b", "c"),)
    assert cycles == (("a", "b", "c"),)
    assert waves == (("d",), ("a", "b", "c"))
