"""The codemod use case: choose a team's call sites, rewrite each file, check, diff or write."""

from __future__ import annotations

import ast
import difflib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..analysis import Analysis
from ..facts import SourceSpan
from ..fsutil import write_atomic
from .helper_module import helper_path, importers
from .sites import Manual, Site, manual_for, select_sites
from .templates import Templates, load_templates
from .transform import Unfaithful, rewrite_source


# These rewrites call functions of the helper module.
HELPED_REWRITES = ("sensor", "trigger")


@dataclass(frozen=True)
class Rewrite:
    team: str  # the team whose code holds the call
    span: SourceSpan
    kind: str
    task_ids: tuple[str, ...]
    other_team: str
    description: str


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the analyzed root
    before: str
    after: str
    rewrites: tuple[Rewrite, ...]

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path}",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True)
class FileError:
    """A file that could not be rewritten at all; it is left unchanged."""

    span: SourceSpan
    why: str


@dataclass(frozen=True)
class CodemodResult:
    teams: tuple[str, ...]
    # One change per file: every chosen team's rewrites of a file are made in one pass over
    # the analyzed text, since positions found by the analysis hold only in that text.
    changes: tuple[FileChange, ...]
    manual: tuple[Manual, ...]
    errors: tuple[FileError, ...]

    @property
    def rewrites(self) -> tuple[Rewrite, ...]:
        return tuple(r for change in self.changes for r in change.rewrites)

    @property
    def created(self) -> tuple[str, ...]:
        return tuple(change.path for change in self.changes if not change.before)


class WriteRefused(Exception):
    """Nothing is written: a target is outside the repository or changed since analysis."""


class WriteFailed(Exception):
    """The system refused a write (read-only, full disk); the message says what was written before."""


@dataclass(frozen=True)
class _FileOutcome:
    change: FileChange | None
    manual: tuple[Manual, ...]
    error: FileError | None


def run_codemod(analysis: Analysis, *teams: str, remove_markers: bool = False) -> CodemodResult:
    """What the codemod would change for TEAMS: pure, writes nothing."""
    teams = tuple(dict.fromkeys(teams))
    templates = load_templates(analysis.rules, _repository(analysis))
    by_file: dict[str, list[Site]] = defaultdict(list)
    manual: list[Manual] = []
    for team in teams:
        sites, left = select_sites(analysis, team)
        manual += left
        for site in sites:
            by_file[site.path].append(site)
    changes: list[FileChange] = []
    errors: list[FileError] = []
    for path, file_sites in sorted(by_file.items()):
        outcome = _rewrite_file(analysis, path, file_sites, templates, remove_markers)
        manual += outcome.manual
        changes += [outcome.change] if outcome.change else []
        errors += [outcome.error] if outcome.error else []
    helper = _helper_change(analysis, templates, changes)
    if helper is not None:
        changes.insert(0, helper)  # written first: a file never imports a module not yet there
    return CodemodResult(teams, tuple(changes), tuple(sorted(set(manual), key=lambda m: (m.span, m.what))), tuple(errors))


def _repository(analysis: Analysis) -> Path:
    """The analyzed folder, whose files the codemod reads and rewrites."""
    if analysis.root is None:
        raise ValueError("an analysis built from facts alone has no files to rewrite")
    return analysis.root


def _rewrite_file(analysis: Analysis, path: str, sites: list[Site], templates: Templates, remove_markers: bool) -> _FileOutcome:
    try:
        before = (_repository(analysis) / path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _FileOutcome(None, (), FileError(SourceSpan(path, 0), f"cannot read: {exc}"))
    try:
        after, outcome = rewrite_source(before, sites, analysis.rules, templates, remove_markers)
    except Unfaithful as exc:
        return _FileOutcome(None, (), FileError(SourceSpan(path, 0), f"{exc}; left unchanged"))
    manual = tuple(manual_for(analysis, s.team, d, _named(d), s.other_team, why) for s, why in outcome.refused for d in s.dependencies)
    if after == before:
        return _FileOutcome(None, manual, None)
    try:
        ast.parse(after.encode())  # bytes: Python reads a BOM as it reads the file
    except SyntaxError as exc:  # never write a file that does not parse
        return _FileOutcome(None, manual, FileError(SourceSpan(path, exc.lineno or 0), f"the rewrite would not parse ({exc.msg}); left unchanged"))
    rewrites = tuple(
        Rewrite(s.team, s.first.span, s.kind, tuple(d.task_id or "" for d in s.dependencies), s.other_team, description)
        for s, description in outcome.applied
    )
    return _FileOutcome(FileChange(path, before, after, rewrites), manual, None)


def _named(dep) -> str:
    return dep.target if dep.source == dep.dag else dep.source


def _helper_change(analysis: Analysis, templates: Templates, changes: list[FileChange]) -> FileChange | None:
    """The module the rewritten calls import, when it is missing (a customised one is kept):
    for new rewrites, and for files that import it already (a rerun repairs a lost one)."""
    root = _repository(analysis)
    path = helper_path(analysis.layout, templates.helper_module)
    if (root / path).exists():
        return None
    rewritten = any(analysis.rules.kind(r.kind).rewrite in HELPED_REWRITES for change in changes for r in change.rewrites)
    if rewritten or importers(root, analysis.facts.files, templates.helper_module):
        return FileChange(path, "", templates.helper_source, ())
    return None


def apply_changes(root: Path, changes: tuple[FileChange, ...]) -> list[Path]:
    """Write each file atomically, in order, only inside ROOT; a file changed since it was read is refused."""
    real_root = root.resolve()
    targets = []
    for change in changes:
        target = root / change.path
        resolved = target.resolve()
        if not resolved.is_relative_to(real_root):
            raise WriteRefused(f"{change.path} resolves outside {root} ({resolved}); nothing written")
        if change.before and _current(target, change.path) != change.before:
            raise WriteRefused(f"{change.path} changed since it was analyzed; nothing written")
        targets.append((resolved, change))
    written: list[Path] = []
    for resolved, change in targets:
        try:
            write_atomic(resolved, change.after)
        except OSError as exc:
            done = f"{len(written)} of {len(targets)} files written before it" if written else "nothing written"
            raise WriteFailed(f"cannot write {change.path}: {exc.strerror or exc}; {done}") from None
        written.append(resolved)
    return written


def _current(target: Path, path: str) -> str:
    try:
        return target.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise WriteRefused(f"cannot read {path}: {exc.strerror or exc}; nothing written") from None
