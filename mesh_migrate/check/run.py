"""The check use case: findings of an Analysis, minus suppressed and accepted ones, in scope."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterable, Sequence

from ..analysis import Analysis
from .baseline import BaselineEntry, apply_baseline
from .findings import Finding, collect, missing_helper_module, sort_key
from .runtime import runtime_findings
from .suppress import apply_suppressions, read_suppressions


@dataclass(frozen=True)
class Scope:
    """The files a report is limited to; the analysis itself always sees the whole repository."""

    files: frozenset[str] | None = None  # None: everything
    folders: tuple[str, ...] = ()

    def __contains__(self, path: str) -> bool:
        if self.files is None or path in self.files:
            return True
        return any(path.startswith(folder + "/") for folder in self.folders)


EVERYTHING = Scope()


def scope_of(root: Path, names: Iterable[str], cwd: Path | None = None) -> Scope:
    """FILES as a user or pre-commit gives them (relative to CWD, or absolute), relative to ROOT.

    Names outside ROOT are dropped. Symlinks are not resolved first, since the analysis
    names files by the path it walked; resolving is the fallback for a ROOT given through one.
    """
    cwd = cwd or Path.cwd()
    anchors = (os.path.abspath(root), os.path.realpath(root))
    files: set[str] = set()
    folders: list[str] = []
    for name in names:
        full = os.path.abspath(os.path.join(cwd, name))
        for candidate, anchor in zip((full, os.path.realpath(full)), anchors):
            relative = os.path.relpath(candidate, anchor)
            if relative == os.pardir or relative.startswith(os.pardir + os.sep):
                continue
            if relative == os.curdir:
                return EVERYTHING
            posix = PurePath(relative).as_posix()
            (folders.append if os.path.isdir(full) else files.add)(posix)
            break
    return Scope(frozenset(files), tuple(folders))


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...]  # in scope, the suppressed and accepted ones marked, not dropped
    stale: tuple[BaselineEntry, ...]  # baseline entries in scope that matched nothing
    baseline: bool  # whether a baseline was applied

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.failing)

    @property
    def clean(self) -> bool:
        """Only new findings fail; stale baseline entries are reported so the baseline shrinks."""
        return not self.failing


def run_check(
    analysis: Analysis,
    *,
    scope: Scope = EVERYTHING,
    baseline: Sequence[BaselineEntry] | None = None,
    repo: str = ".",
) -> CheckResult:
    """Suppressions and the baseline are per file and per key, so limiting to SCOPE first changes no verdict."""
    in_scope = [path for path in analysis.facts.files if path in scope]
    found = [f for f in (*collect(analysis, repo), *runtime_findings(analysis)) if f.file in scope]
    found += missing_helper_module(analysis, in_scope, repo)
    kept = apply_suppressions(found, read_suppressions(analysis.root, in_scope))
    findings = tuple(sorted(kept, key=sort_key))
    stale: tuple[BaselineEntry, ...] = ()
    if baseline is not None:
        findings, stale = apply_baseline(findings, [entry for entry in baseline if entry.file in scope])
    return CheckResult(findings, stale, baseline is not None)
