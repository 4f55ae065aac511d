"""Running extraction over many files: the one place that decides how (in-process for now)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..facts import FileFacts
from ..rulepack import RulePack
from .extractor import Workspace

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExtractOptions:
    jobs: int | None = None  # None: every core; 1: in-process
    cache_dir: Path | None = None  # None: ROOT/.mesh-migrate-cache
    use_cache: bool = True


@contextmanager
def rare_garbage_collection():
    """Parsing allocates millions of short-lived nodes that never form cycles; collecting
    after each burst only rescans what is still alive, which doubles the parse time."""
    previous = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def extract_files(
    root: Path,
    rules: RulePack,
    python_paths: Sequence[str],
    files: Sequence[str],
    options: ExtractOptions = ExtractOptions(),
    progress: Progress | None = None,
) -> list[FileFacts]:
    workspace = Workspace(root, rules, list(python_paths))
    results: list[FileFacts] = []
    with rare_garbage_collection():
        for index, path in enumerate(files):
            results.append(workspace.extract(path))
            if progress is not None:
                progress(index + 1, len(files))
    return results
