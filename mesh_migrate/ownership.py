"""Ownership: every DAG gets a team and the reason, from the strongest source that names one.

Sources, strongest first: mesh.yaml team rules (dag_id patterns, paths, owners, tags),
CODEOWNERS, DAG owners mapped through `people`, tags naming a team, the team folder.
A DAG that none of them names is unowned and gets a suggested team from its neighbours.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from fnmatch import translate
from pathlib import PurePosixPath
from typing import Iterable, Mapping, TypeGuard

from .codeowners import CodeOwners
from .config import MeshConfig
from .facts import DagFact, Diagnostic, RepoFacts
from .globs import literal_prefix, path_matcher
from .prefixes import PrefixIndex

SOURCES = ("mesh.yaml", "CODEOWNERS", "owner", "tag", "folder")
UNOWNED = "unowned"


@dataclass(frozen=True)
class Claim:
    team: str
    source: str  # one of SOURCES
    reason: str  # e.g. "path dags/crm/** (mesh.yaml:40)"


@dataclass(frozen=True)
class Ownership:
    dag_id: str
    file: str
    team: str | None  # None when unowned
    source: str  # a SOURCES entry, or "unowned"
    reason: str
    overruled: tuple[Claim, ...] = ()  # weaker sources that named another team
    suggested: str | None = None  # for unowned DAGs: the team of most of its neighbours
    suggestion_reason: str = ""


@dataclass(frozen=True)
class OwnershipResult:
    by_dag: dict[tuple[str, str], Ownership]  # (dag_id, file) -> ownership
    teams: tuple[str, ...]
    fallbacks: tuple[str, ...]  # the sources that were in force, in order
    diagnostics: tuple[Diagnostic, ...]

    def of(self, dag: DagFact) -> Ownership:
        return self.by_dag[(dag.dag_id, dag.span.path)]

    def team_of_id(self, dag_id: str) -> str | None:
        """The team of a DAG id (the first definition wins for duplicated ids)."""
        return self._by_id().get(dag_id)

    def teams_by_id(self) -> Mapping[str, str | None]:
        """`team_of_id` as a mapping, for loops over tens of thousands of facts."""
        return self._by_id()

    def _by_id(self) -> dict[str, str | None]:
        cache = self.__dict__.get("_id_cache")
        if cache is None:
            cache = {}
            for (dag_id, _), owned in sorted(self.by_dag.items()):
                cache.setdefault(dag_id, owned.team)
            object.__setattr__(self, "_id_cache", cache)
        return cache


def tag_team(tag: str) -> str | None:
    for prefix in ("team:", "team=", "team/", "team-"):
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def codeowner_team(handle: str, config: MeshConfig) -> str | None:
    for team in config.teams:
        if handle in team.codeowners:
            return team.name
    if handle in config.people:
        return config.people[handle]
    if not config.teams and handle.startswith("@"):
        return handle.rsplit("/", 1)[-1].lstrip("@")  # @org/flights -> flights
    return None


# A claim before its reason is written: (team, source, reason template, its arguments).
# Most DAGs are named by several sources for one team; only the winner's reason and those
# of the sources it overrules are kept, so only those are written.
_Pending = tuple[str, str, str, tuple]


def _claim(pending: _Pending) -> Claim:
    team, source, template, arguments = pending
    return Claim(team, source, template.format(*arguments))


class _Resolver:
    def __init__(self, config: MeshConfig, codeowners: CodeOwners | None):
        self.config = config
        self.codeowners = codeowners
        self.known = {t.name for t in config.teams}
        self.where = config.path or "mesh.yaml"
        path_specs = []
        for team in config.teams:
            for pattern in team.paths:
                try:
                    path_specs.append((literal_prefix(pattern), (team, pattern, path_matcher([pattern]))))
                except ValueError:
                    pass  # reported by config validation
        # Asked once per DAG: patterns compiled once, each tried only on what starts with its
        # literal text, and the teams an owner or tag names.
        self.path_specs = PrefixIndex(path_specs)
        self.dag_id_specs = PrefixIndex((_id_glob_prefix(pattern), (team, pattern, re.compile(translate(pattern)).match)) for team in config.teams for pattern in team.dag_ids)
        self.by_owner: dict[str, set[int]] = defaultdict(set)
        self.by_tag: dict[str, set[int]] = defaultdict(set)
        for number, team in enumerate(config.teams):
            for owner in team.owners:
                self.by_owner[owner].add(number)
            for tag in team.tags:
                self.by_tag[tag].add(number)
        self.folder_base = PurePosixPath(self.folder_root()).parts

    def accepts(self, team: str | None) -> TypeGuard[str]:
        return bool(team) and (not self.known or team in self.known)

    def claims(self, dag: DagFact) -> list[_Pending]:
        """Every source's verdict, strongest first."""
        out: list[_Pending] = []
        where = self.where
        for team, pattern, match_id in self.dag_id_specs.candidates(dag.dag_id):
            if match_id(dag.dag_id):
                out.append((team.name, "mesh.yaml", "dag_id matches {!r} ({}:{})", (pattern, where, team.line)))
        path = dag.span.path
        for team, pattern, matches in self.path_specs.candidates(path):
            if matches(path):
                out.append((team.name, "mesh.yaml", "path matches {!r} ({}:{})", (pattern, where, team.line)))
        listing = {n for owner in dag.owners for n in self.by_owner.get(owner, ())} | {n for tag in dag.tags for n in self.by_tag.get(tag, ())}
        for number in sorted(listing):  # in the order of the teams
            team = self.config.teams[number]
            for owner in dag.owners:
                if owner in team.owners:
                    out.append((team.name, "mesh.yaml", "owner {!r} is listed for the team ({}:{})", (owner, where, team.line)))
            for tag in dag.tags:
                if tag in team.tags:
                    out.append((team.name, "mesh.yaml", "tag {!r} is listed for the team ({}:{})", (tag, where, team.line)))
        if self.codeowners is not None:
            rule = self.codeowners.owners_of(path)
            if rule is not None:
                for handle in rule.owners:
                    named = codeowner_team(handle, self.config)
                    if self.accepts(named):
                        out.append((named, "CODEOWNERS", "{} {} ({}:{})", (rule.pattern, handle, self.codeowners.path, rule.line)))
                        break
        for owner in dag.owners:
            named = self.config.people.get(owner) or (owner if owner in self.known else None)
            if self.accepts(named):
                how = "mapped in people" if owner in self.config.people else "names the team"
                out.append((named, "owner", "owner {!r} {}", (owner, how)))
        for tag in dag.tags:
            named = tag_team(tag) or (tag if tag in self.known else None)
            if self.accepts(named):
                out.append((named, "tag", "tag {!r}", (tag,)))
        folder = self.folder_team(path)
        if self.accepts(folder):
            out.append((folder, "folder", "folder {}/{}/", (self.folder_root(), folder)))
        return out

    def folder_root(self) -> str:
        return (self.config.folders_are_teams or "dags").strip("/")

    def folder_team(self, path: str) -> str | None:
        if self.config.path is not None and self.config.folders_are_teams is None:
            return None  # a mesh.yaml that does not ask for folders means no folder rule
        parts = tuple(part for part in path.split("/") if part and part != ".")  # a relative path's PurePosixPath parts
        base = self.folder_base
        if len(parts) > len(base) + 1 and parts[: len(base)] == base:
            return parts[len(base)]
        return None


def _id_glob_prefix(pattern: str) -> str:
    """What every id a glob matches starts with: the text before its first wildcard. A
    test of it skips the regex for the other teams' ids (every DAG is asked of every team)."""
    return re.split(r"[*?\[]", pattern, maxsplit=1)[0]


def assign_teams(facts: RepoFacts, config: MeshConfig, codeowners: CodeOwners | None) -> OwnershipResult:
    return TeamAssigner(config, codeowners).assign(facts)


class TeamAssigner:
    """Gives every DAG its team. What each source says of a DAG depends on that DAG alone,
    so it can be asked file by file (`prepare`) while the rest is still being extracted."""

    def __init__(self, config: MeshConfig, codeowners: CodeOwners | None):
        self.config, self.codeowners = config, codeowners
        self._resolver = _Resolver(config, codeowners)
        self._claims: dict[int, tuple[DagFact, list[_Pending]]] = {}  # by the DAG fact's identity

    def prepare(self, dags: Iterable[DagFact]) -> None:
        for dag in dags:
            self._claims[id(dag)] = (dag, self._resolver.claims(dag))

    def claims(self, dag: DagFact) -> list[_Pending]:
        prepared = self._claims.get(id(dag))
        return prepared[1] if prepared is not None and prepared[0] is dag else self._resolver.claims(dag)

    def assign(self, facts: RepoFacts) -> OwnershipResult:
        by_dag: dict[tuple[str, str], Ownership] = {}
        diagnostics: list[Diagnostic] = []
        for dag in facts.dags:
            claims = self.claims(dag)
            if not claims:
                by_dag[(dag.dag_id, dag.span.path)] = Ownership(dag.dag_id, dag.span.path, None, UNOWNED, "no source names a team")
                continue
            winner = _claim(claims[0])
            overruled = tuple(_claim(c) for c in claims[1:] if c[0] != winner.team)
            by_dag[(dag.dag_id, dag.span.path)] = Ownership(dag.dag_id, dag.span.path, winner.team, winner.source, winner.reason, overruled)
            if overruled:
                others = "; ".join(f"{c.team} by {c.source}: {c.reason}" for c in overruled)
                diagnostics.append(
                    Diagnostic("warning", "ownership-conflict", f"DAG {dag.dag_id!r} goes to {winner.team} ({winner.source}: {winner.reason}); also named: {others}", dag.span)
                )
        by_dag = _suggest_for_unowned(facts, by_dag)
        for owned in by_dag.values():
            if owned.team is None:
                span = next(d.span for d in facts.dags if (d.dag_id, d.span.path) == (owned.dag_id, owned.file))
                hint = f"; suggested team: {owned.suggested} ({owned.suggestion_reason})" if owned.suggested else ""
                diagnostics.append(Diagnostic("warning", "unowned-dag", f"DAG {owned.dag_id!r} has no team{hint}", span))
        teams = sorted({o.team for o in by_dag.values() if o.team} | self._resolver.known)
        return OwnershipResult(by_dag, tuple(teams), _fallbacks(self.config, self.codeowners), tuple(diagnostics))


def _fallbacks(config: MeshConfig, codeowners: CodeOwners | None) -> tuple[str, ...]:
    used = []
    if config.path is not None:
        used.append(f"mesh.yaml ({len(config.teams)} teams)")
    else:
        used.append("no mesh.yaml: teams come from the sources below")
    used.append(f"CODEOWNERS ({codeowners.path})" if codeowners else "no CODEOWNERS file")
    used.append("DAG owners" + (" mapped through people" if config.people else " naming a team"))
    used.append("tags such as team:<name>")
    if config.path is None or config.folders_are_teams:
        used.append(f"folders under {(config.folders_are_teams or 'dags').strip('/')}/")
    return tuple(used)


def _suggest_for_unowned(facts: RepoFacts, by_dag: dict[tuple[str, str], Ownership]) -> dict[tuple[str, str], Ownership]:
    """The team an unowned DAG shares most dependencies and resources with."""
    if all(o.team for o in by_dag.values()):
        return by_dag
    team_of: dict[str, str] = {}
    for (dag_id, _), owned in sorted(by_dag.items()):
        if owned.team:
            team_of.setdefault(dag_id, owned.team)
    neighbours: dict[str, Counter] = defaultdict(Counter)
    for dep in facts.dependencies:
        for here, there in ((dep.source, dep.target), (dep.target, dep.source)):
            if there in team_of and here != there:
                neighbours[here][team_of[there]] += 1
    unowned = {o.dag_id for o in by_dag.values() if o.team is None}
    resource_teams: dict[tuple[str, str], Counter] = defaultdict(Counter)
    used_by_unowned: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for use in facts.resources:
        if use.dag in team_of:
            resource_teams[(use.kind, use.name)][team_of[use.dag]] += 1
        elif use.dag in unowned:
            used_by_unowned[use.dag].add((use.kind, use.name))
    for dag_id, used in used_by_unowned.items():
        for resource in used:
            teams = resource_teams.get(resource, Counter())
            if 0 < len(teams) <= 3:  # a resource half the company uses says nothing about ownership
                neighbours[dag_id].update(teams)
    out = dict(by_dag)
    for key, owned in by_dag.items():
        if owned.team is None and neighbours.get(owned.dag_id):
            (team, count), *_ = sorted(neighbours[owned.dag_id].items(), key=lambda kv: (-kv[1], kv[0]))
            reason = f"{count} of {sum(neighbours[owned.dag_id].values())} dependency and resource links"
            out[key] = Ownership(owned.dag_id, owned.file, None, UNOWNED, owned.reason, (), team, reason)
    return out
