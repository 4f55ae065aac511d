"""The analysis use case: discover files, extract facts from each, link them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import MeshConfig, load_config
from .discover import discover
from .extract.runner import ExtractOptions, Progress, extract_files
from .facts import RepoFacts
from .link import link
from .rulepack import RulePack, load_rule_pack


@dataclass(frozen=True)
class Analysis:
    config: MeshConfig
    rules: RulePack
    facts: RepoFacts


def load_settings(root: Path) -> tuple[MeshConfig, RulePack]:
    """mesh.yaml and the rule pack in force for ROOT; raises ConfigError."""
    config = load_config(root)
    rules = load_rule_pack([(name, root / name) for name in config.rules])
    return config, rules


def analyze(root: Path, *, options: ExtractOptions = ExtractOptions(), progress: Progress | None = None) -> Analysis:
    root = root.resolve()
    config, rules = load_settings(root)
    found = discover(root, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax)
    results = extract_files(root, rules, config.python_paths, found.files, options, progress)
    skipped = [(s.path, s.reason) for s in found.skipped]
    return Analysis(config, rules, link(".", results, skipped))
