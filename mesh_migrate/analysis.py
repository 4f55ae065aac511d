"""The analysis use case: discover, extract, link, own, graph and plan."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .codeowners import CodeOwners, find_codeowners
from .config import MeshConfig, load_config
from .discover import discover
from .extract.runner import ExtractOptions, Progress, extract
from .facts import RepoFacts
from .graph import MeshGraph, build_graph
from .identity import IdentityPlan, build_identities
from .layout import Layout, find_layout
from .link import link
from .ownership import OwnershipResult, assign_teams
from .plan import SplitPlan, build_plans
from .runtime import Reconciliation, RuntimeFacts, reconcile
from .rulepack import RulePack, load_rule_pack


@dataclass(frozen=True)
class Analysis:
    root: Path | None  # None when built from facts alone
    config: MeshConfig
    rules: RulePack
    facts: RepoFacts
    codeowners: CodeOwners | None
    ownership: OwnershipResult
    graph: MeshGraph
    plans: tuple[SplitPlan, ...]
    identities: tuple[IdentityPlan, ...] = ()  # one per team: what its instance may reach
    warnings: tuple[str, ...] = ()  # about the run itself, e.g. a cache that cannot be written
    layout: Layout | None = None  # None when built from facts alone
    runtime: Reconciliation | None = None  # with --airflow-db: the static graph against the metadata database

    def status_of(self, dependency) -> str | None:
        """'seen' / 'not_seen' by the metadata database, None without one or for a kind Airflow never records."""
        if self.runtime is None:
            return None
        for fact, status in zip(self.facts.dependencies, self.runtime.statuses):
            if fact is dependency:
                return status
        return None


def load_settings(root: Path) -> tuple[MeshConfig, RulePack]:
    """mesh.yaml and the rule pack in force for ROOT; raises ConfigError."""
    config = load_config(root)
    rules = load_rule_pack([(name, root / name) for name in config.rules])
    pins = config.environment
    return config, rules.with_environment(dict(pins.variables), dict(pins.airflow_variables))


def analyze(root: Path, *, options: ExtractOptions = ExtractOptions(), progress: Progress | None = None) -> Analysis:
    root = root.resolve()
    config, rules = load_settings(root)
    layout = find_layout(root, config.dags_folders, config.python_paths)
    found = discover(root, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax)
    # Library code and tests are followed through imports, never counted as DAG files.
    dag_files = [path for path in found.files if layout.is_dag_file(path)]
    extraction = extract(root, rules, layout.python_paths, dag_files, options, progress)
    facts = link(".", extraction.facts, [(s.path, s.reason) for s in found.skipped])
    assembled = assemble(facts, config, rules, find_codeowners(root), root)
    return replace(assembled, warnings=layout.warnings + extraction.warnings, layout=layout)


def assemble(facts: RepoFacts, config: MeshConfig, rules: RulePack, codeowners: CodeOwners | None = None, root: Path | None = None) -> Analysis:
    """Everything after extraction, from facts alone (so it can be tested without files)."""
    ownership = assign_teams(facts, config, codeowners)
    facts = replace(facts, diagnostics=tuple(sorted(facts.diagnostics + ownership.diagnostics, key=lambda d: (d.span, d.code))))
    graph = build_graph(facts, ownership)
    plans = tuple(build_plans(facts, config, ownership, graph))
    identities = tuple(build_identities(facts, config, ownership))
    return Analysis(root, config, rules, facts, codeowners, ownership, graph, plans, identities)


def with_runtime(analysis: Analysis, runtime: RuntimeFacts) -> Analysis:
    """The analysis reconciled with what the monolith's metadata database recorded."""
    return replace(analysis, runtime=reconcile(analysis.facts, runtime))
