"""The analysis use case: discover files, extract facts from each, link them."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import MeshConfig, load_config
from .discover import discover
from .extract.extractor import Workspace
from .facts import RepoFacts
from .link import link
from .rulepack import RulePack, load_rule_pack

Progress = Callable[[int, int], None]


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


@contextmanager
def _rare_garbage_collection():
    """Parsing allocates millions of short-lived nodes that never form cycles; collecting
    after each burst only rescans what is still alive, which doubles the parse time."""
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def analyze(root: Path, *, progress: Progress | None = None) -> Analysis:
    root = root.resolve()
    config, rules = load_settings(root)
    found = discover(root, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax)
    workspace = Workspace(root, rules, list(config.python_paths))
    results = []
    with _rare_garbage_collection():
        for index, path in enumerate(found.files):
            results.append(workspace.extract(path))
            if progress is not None:
                progress(index + 1, len(found.files))
    skipped = [(s.path, s.reason) for s in found.skipped]
    return Analysis(config, rules, link(".", results, skipped))
