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
from .sites import Manual, Site, manual_for, select_sites, team_files
from .templates import Templates, load_templates
from .transform import rewrite_source


@dataclass(frozen=True)
class Rewrite:
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
class CodemodResult:
    team: str
    changes: tuple[FileChange, ...]
    manual: tuple[Manual, ...]
    errors: tuple[Manual, ...]  # files that could not be rewritten at all

    @property
    def rewrites(self) -> tuple[Rewrite, ...]:
        return tuple(r for change in self.changes for r in change.rewrites)


class WriteRefused(Exception):
    """Nothing is written: a target is outside the repository or changed since analysis."""
    pass


def run_codemod(analysis: Analysis, team: str, *, remove_markers: bool = False) -> CodemodResult:
    """What the codemod would change for TEAM: pure, writes nothing."""
    root = analysis.root
    templates = load_templates(analysis.rules, root)
    sites, manual = select_sites(analysis, team)
    owned = team_files(analysis, team)
    by_file: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        by_file[site.path].append(site)
    changes: list[FileChange] = []
    errors: list[Manual] = []
    needs_helper = False
    for path, file_sites in sorted(by_file.items()):
        if path not in owned:
            manual += [manual_for(d, _named(d), s.other_team, "the file defines no DAG of this team") for s in file_sites for d in s.dependencies]
            continue
        try:
            before = (root / path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(Manual(path, SourceSpan(path, 0), f"cannot read: {exc}"))
            continue
        after, outcome = rewrite_source(before, file_sites, analysis.rules, templates, remove_markers)
        manual += [manual_for(d, _named(d), s.other_team, why) for s, why in outcome.refused for d in s.dependencies]
        if after == before:
            continue
        try:
            ast.parse(after)
        except SyntaxError as exc:  # never write a file that does not parse
            errors.append(Manual(path, SourceSpan(path, exc.lineno or 0), f"the rewrite would not parse ({exc.msg}); left unchanged"))
            continue
        rewrites = tuple(
            Rewrite(s.first.span, s.kind, tuple(d.task_id or "" for d in s.dependencies), s.other_team, description)
            for s, description in outcome.applied
        )
        needs_helper = needs_helper or any(r.kind in ("sensor", "trigger") for r in rewrites)
        changes.append(FileChange(path, before, after, rewrites))
    if needs_helper:
        helper = _helper_change(analysis, templates)
        if helper is not None:
            changes.append(helper)
    return CodemodResult(team, tuple(changes), tuple(sorted(set(manual), key=lambda m: (m.span, m.what))), tuple(errors))


def _named(dep) -> str:
    return dep.target if dep.source == dep.dag else dep.source


def helper_path(analysis: Analysis, templates: Templates) -> str:
    roots = analysis.layout.python_paths if analysis.layout is not None else ("",)
    folder = roots[0]
    name = templates.helper_module.replace(".", "/") + ".py"
    return name if folder in ("", ".") else f"{folder}/{name}"


def _helper_change(analysis: Analysis, templates: Templates) -> FileChange | None:
    """The shared helper module, created once per repository (a customised one is kept)."""
    path = helper_path(analysis, templates)
    if (analysis.root / path).exists():
        return None
    return FileChange(path, "", templates.helper_source, ())


def apply_changes(root: Path, changes: tuple[FileChange, ...]) -> list[Path]:
    """Write each file atomically, only inside ROOT; a file changed since it was read is refused."""
    real_root = root.resolve()
    targets = []
    for change in changes:
        target = root / change.path
        resolved = target.resolve()
        if not resolved.is_relative_to(real_root):
            raise WriteRefused(f"{change.path} resolves outside {root} ({resolved}); nothing written")
        if change.before and target.read_bytes().decode("utf-8", errors="replace") != change.before:
            raise WriteRefused(f"{change.path} changed since it was analyzed; nothing written")
        targets.append((resolved, change))
    written = []
    for resolved, change in targets:
        write_atomic(resolved, change.after)
        written.append(resolved)
    return written
