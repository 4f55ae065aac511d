"""The analysis use case: discover, extract, link, own, graph and plan."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import assembled
from .codeowners import CodeOwners, codeowners_source, parse_codeowners
from .config import MeshConfig, load_config
from .discover import Discovery, discover
from .extract.runner import ExtractOptions, LazyExtraction, Progress, extract_lazily, paused_garbage_collection
from .facts import FileFacts, RepoFacts
from .layout import Layout, find_layout
from .link import link
from .rulepack import RulePack, load_rule_pack

if TYPE_CHECKING:  # imported where used: a cached result needs none of them (networkx)
    from .graph import MeshGraph
    from .runtime import Reconciliation, RuntimeFacts
    from .runtime.sizing import SizingPlan
    from .identity import IdentityPlan
    from .ownership import OwnershipResult, TeamAssigner
    from .overview import TeamOverview
    from .plan import SplitPlan


@dataclass(frozen=True)
class Analysis:
    root: Path | None  # None when built from facts alone
    config: MeshConfig
    rules: RulePack
    facts: RepoFacts
    codeowners: CodeOwners | None
    ownership: OwnershipResult
    graph: MeshGraph
    warnings: tuple[str, ...] = ()  # about the run itself, e.g. a cache that cannot be written
    layout: Layout | None = None  # None when built from facts alone
    runtime: Reconciliation | None = None  # with --airflow-db: the static graph against the metadata database
    sizing: SizingPlan | None = None  # with --airflow-db: each team's instance, sized from the monolith's load

    # Computed when first asked for: the analysis document needs neither the plans nor the
    # identities, only the size of each plan (a third of the assembly of a large monolith).
    @cached_property
    def plans(self) -> tuple[SplitPlan, ...]:
        from .plan import build_plans

        return tuple(build_plans(self.facts, self.config, self.rules, self.ownership, self.graph))

    @cached_property
    def identities(self) -> tuple[IdentityPlan, ...]:
        """One per team: what its instance may reach."""
        from .identity import build_identities

        return tuple(build_identities(self.facts, self.config, self.ownership))

    @cached_property
    def team_overviews(self) -> tuple[TeamOverview, ...]:
        from .overview import team_overviews

        return tuple(team_overviews(self.facts, self.config, self.ownership, self.graph))

    def status_of(self, dependency) -> str | None:
        """'seen' / 'not_seen' by the metadata database, None without one or for a kind Airflow never records."""
        return self._runtime_statuses.get(id(dependency))

    @cached_property
    def _runtime_statuses(self) -> dict[int, str | None]:
        """Each dependency fact's status by identity, so documents look each one up once, not by a scan."""
        if self.runtime is None:
            return {}
        statuses: dict[int, str | None] = {}
        for fact, status in zip(self.facts.dependencies, self.runtime.statuses):
            statuses.setdefault(id(fact), status)
        return statuses


def load_settings(root: Path) -> tuple[MeshConfig, RulePack]:
    """mesh.yaml and the rule pack in force for ROOT; raises ConfigError."""
    config = load_config(root)
    rules = load_rule_pack([(name, root / name) for name in config.rules])
    pins = config.environment
    return config, rules.with_environment(dict(pins.variables), dict(pins.airflow_variables))


def analyze(root: Path, *, options: ExtractOptions = ExtractOptions(), progress: Progress | None = None) -> Analysis:
    return start_analysis(root, options=options, progress=progress).analysis


def start_analysis(root: Path, *, options: ExtractOptions = ExtractOptions(), progress: Progress | None = None) -> AnalysisRun:
    """Settings, discovery and extraction; the rest is computed when asked for (or an
    output taken from the result cache instead, see `AnalysisRun.output`)."""
    root = root.resolve()
    config, rules = load_settings(root)
    layout = find_layout(root, config.dags_folders, config.python_paths)
    found = discover(root, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax)
    # Library code and tests are followed through imports, never counted as DAG files.
    dag_files = [path for path in found.files if layout.is_dag_file(path)]
    owners = _Owners(config, codeowners_source(root))
    extraction = extract_lazily(root, rules, layout.python_paths, dag_files, options, progress, received=owners.received)
    return AnalysisRun(root, config, rules, layout, found, owners, extraction)


class _Owners:
    """CODEOWNERS and the team of each DAG, worked out while the facts of the other files
    are still being extracted: what each source says of a DAG depends on that DAG alone."""

    def __init__(self, config: MeshConfig, source: tuple[str, str] | None):
        self.config, self.source = config, source  # source: the CODEOWNERS text and where it is

    @cached_property
    def codeowners(self) -> CodeOwners | None:
        return parse_codeowners(*self.source) if self.source else None

    @cached_property
    def teams(self) -> TeamAssigner:
        from .ownership import TeamAssigner

        return TeamAssigner(self.config, self.codeowners)

    def received(self, facts: FileFacts) -> None:
        if facts.dags:
            self.teams.prepare(facts.dags)


class AnalysisRun:
    """One analysis of a repository: its inputs, extracted, and what follows from them."""

    def __init__(self, root: Path, config: MeshConfig, rules: RulePack, layout: Layout, found: Discovery, owners: _Owners, extraction: LazyExtraction):
        self.root, self.config, self.rules, self.layout = root, config, rules, layout
        self.found, self.owners, self.extraction = found, owners, extraction
        self._written: list[str] = []
        self._reported: set[str] = set()

    @property
    def warnings(self) -> tuple[str, ...]:
        """About the run itself (the layout, a cache that cannot be written)."""
        analyzed = self.__dict__.get("analysis")
        return tuple(dict.fromkeys(self.layout.warnings + self.extraction.warnings + (analyzed.warnings if analyzed else ()) + tuple(self._written)))

    def unreported_warnings(self) -> tuple[str, ...]:
        """`warnings` not returned by an earlier call."""
        new = tuple(w for w in self.warnings if w not in self._reported)
        self._reported.update(new)
        return new

    @cached_property
    def analysis(self) -> Analysis:
        extraction = self.extraction.decoded()
        # Assembling makes hundreds of thousands of objects and no cycles: collections
        # would only scan the facts again and again.
        with paused_garbage_collection():
            facts = link(".", extraction.facts, [(s.path, s.reason) for s in self.found.skipped])
            result = assemble(facts, self.config, self.rules, root=self.root, teams=self.owners.teams)
        return replace(result, warnings=self.layout.warnings + extraction.warnings, layout=self.layout)

    @cached_property
    def _key(self) -> str | None:
        store = self.extraction.store
        if store is None:  # --no-cache, or no key to sign with
            return None
        settings = (self.config, self.rules.fingerprint, self.layout, self.found.skipped, self.owners.source)
        return assembled.analysis_key(settings, self.extraction.files, self.extraction.digests())

    def output(self, name: str, render: Callable[[Analysis], bytes]) -> bytes:
        """RENDER(analysis), or what it gave for the same facts and settings before."""
        store, key = self.extraction.store, self._key
        if store is None or key is None:
            return self._render(render)
        text = assembled.load_output(store.directory, name, key, store.key)
        if text is None:
            text = self._render(render)
            warning = assembled.save_output(store.directory, name, key, store.key, text)
            if warning:
                self._written.append(warning)
        return text

    def _render(self, render: Callable[[Analysis], bytes]) -> bytes:
        analysis = self.analysis
        with paused_garbage_collection():  # documents of plain values: no cycles to find
            return render(analysis)


def assemble(facts: RepoFacts, config: MeshConfig, rules: RulePack, codeowners: CodeOwners | None = None, root: Path | None = None, teams: TeamAssigner | None = None) -> Analysis:
    """Ownership and the graph, from facts alone (so it can be tested without files); the
    plans and identities follow from the result when asked for. TEAMS: an assigner made
    for CONFIG that has gathered claims already (it brings its own CODEOWNERS)."""
    from .graph import build_graph
    from .ownership import TeamAssigner

    teams = teams or TeamAssigner(config, codeowners)
    ownership = teams.assign(facts)
    facts = replace(facts, diagnostics=tuple(sorted(facts.diagnostics + ownership.diagnostics, key=lambda d: (d.span, d.code))))
    graph = build_graph(facts, ownership)
    return Analysis(root, config, rules, facts, teams.codeowners, ownership, graph)


def with_runtime(analysis: Analysis, runtime: RuntimeFacts) -> Analysis:
    """The analysis reconciled with what the monolith's metadata database recorded."""
    from .runtime import reconcile
    from .runtime.sizing import size_teams

    sizes = _file_sizes(analysis.root, {d.span.path for d in analysis.facts.dags})
    sizing = size_teams(analysis.facts, runtime, analysis.ownership.teams, analysis.ownership.team_of_id, sizes, analysis.config.sizing)
    return replace(analysis, runtime=reconcile(analysis.facts, runtime, analysis.rules), sizing=sizing)


def _file_sizes(root: Path | None, paths: set[str]) -> dict[str, int]:
    """Bytes of each DAG file: the parse cost the database cannot give (Airflow keeps parse times in metrics only)."""
    sizes: dict[str, int] = {}
    if root is None:
        return sizes
    for path in paths:
        try:
            sizes[path] = (root / path).stat().st_size
        except OSError:
            continue
    return sizes
