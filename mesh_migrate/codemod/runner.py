"""The codemod use case: choose a team's changes, rewrite each file, check, diff or write.

As LibCST's codemod runner does, every file ends in one result (rewritten, refused with a
reason, failed with a message, or unchanged) and the run goes on with the next file.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..analysis import Analysis
from ..extract.modules import ModuleFinder, parse_source
from ..facts import SourceSpan
from ..fsutil import write_atomic
from ..rewrite_rules import CLASSES, DATASET_HOOK, ReplacedClass
from ..rulepack import RulePack
from .helper_module import helper_path, ignore_pattern, importers, placement, with_ignored
from .reach import Reach
from .registry import build_registry, registry_text
from .sites import CallSite, Manual, ReferenceNeed, manual_for, select
from .templates import Templates, load_templates
from .transform import Outcome, Unfaithful, rewrite_source

REWRITTEN, REFUSED, FAILED, UNCHANGED = "rewritten", "refused", "failed", "unchanged"
HELPED_REWRITES = (CLASSES, DATASET_HOOK)  # rewrites that use the helper module


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
    """A file that could not be rewritten at all; it is left unchanged, the run goes on."""

    span: SourceSpan
    why: str


@dataclass(frozen=True)
class FileResult:
    """What became of one file the codemod looked at."""

    path: str
    status: str  # REWRITTEN | UNCHANGED | REFUSED (left unchanged, with the reason) | FAILED (with the message)
    message: str = ""


@dataclass(frozen=True)
class CodemodResult:
    teams: tuple[str, ...]
    # One change per file: every chosen team's rewrites of a file are made in one pass over
    # the analyzed text, since positions found by the analysis hold only in that text.
    changes: tuple[FileChange, ...]
    manual: tuple[Manual, ...]
    errors: tuple[FileError, ...]
    files: tuple[FileResult, ...] = ()
    notes: tuple[str, ...] = ()

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


def run_codemod(analysis: Analysis, *teams: str, remove_markers: bool = False) -> CodemodResult:
    """What the codemod would change for TEAMS: pure, writes nothing."""
    teams = tuple(dict.fromkeys(teams))
    root = _repository(analysis)
    templates = load_templates(analysis.rules, root)
    python_paths = analysis.layout.python_paths if analysis.layout is not None else tuple(analysis.config.python_paths or ())
    read = _reader(root)
    reach = Reach(root, python_paths, read)
    first_party = _first_party(reach.finder, templates.helper_module)
    calls: dict[str, list[CallSite]] = defaultdict(list)
    needs: list[ReferenceNeed] = []
    manual: list[Manual] = []
    for team in teams:
        chosen = select(analysis, team, templates.rules, reach)
        manual += chosen.manual
        needs += chosen.needs
        for site in chosen.calls:
            calls[site.path].append(site)
    classes_of = _classes_by_file(read, needs)
    outcomes: dict[str, Outcome] = {}
    changes: list[FileChange] = []
    errors: list[FileError] = []
    files: list[FileResult] = []
    for path in sorted(set(calls) | set(classes_of)):
        classes = list(classes_of.get(path, {}).values())
        result, outcome, after, before = _rewrite_file(read, path, calls.get(path, []), classes, templates, remove_markers, first_party)
        files.append(result)
        if result.status == FAILED:
            errors.append(FileError(SourceSpan(path, 0), result.message))
            continue
        if outcome is not None:
            outcomes[path] = outcome
            manual += [_refused(analysis.rules, site, dep, why) for site, why in outcome.refused for dep in site.dependencies]
        if after is not None and before is not None and after != before:
            changes.append(FileChange(path, before, after, _call_rewrites(outcome)))
    reference_rewrites, left = _resolve(analysis.rules, needs, outcomes, {r.path: r for r in files}, templates.helper_module)
    manual += left
    changes = _attach(changes, reference_rewrites)
    notes: list[str] = []
    changes[:0] = _support_files(analysis, templates, teams, changes, notes)
    return CodemodResult(teams, tuple(changes), tuple(sorted(set(manual), key=lambda m: (m.span, m.what))), tuple(errors), tuple(files), tuple(notes))


def _repository(analysis: Analysis) -> Path:
    """The analyzed folder, whose files the codemod reads and rewrites."""
    if analysis.root is None:
        raise ValueError("an analysis built from facts alone has no files to rewrite")
    return analysis.root


def _first_party(finder: ModuleFinder, helper: str) -> Callable[[str], bool]:
    """Whether a top-level module name is the repository's own (isort's first party)."""
    helper_top = helper.partition(".")[0]
    return lambda top: top == helper_top or finder.find(top) is not None


def _reader(root: Path) -> Callable[[str], bytes | OSError]:
    """Each file's bytes, read once per run: the reach, the look for a class name and the rewrite all need them."""

    @lru_cache(maxsize=None)
    def read(path: str) -> bytes | OSError:
        try:
            return (root / path).read_bytes()
        except OSError as exc:
            return exc

    return read


def _classes_by_file(read: Callable[[str], bytes | OSError], needs: list[ReferenceNeed]) -> dict[str, dict[str, ReplacedClass]]:
    """The files to point at the drop-in classes: those of each need's reach that name the
    class (a cheap look at the text: the others are not parsed), else its fallback's."""
    texts: dict[str, str] = {}

    def names(path: str, replaced: ReplacedClass) -> bool:
        if path not in texts:
            data = read(path)
            texts[path] = "" if isinstance(data, OSError) else data.decode("utf-8", errors="replace")
        return replaced.name in texts[path] or any(q.rpartition(".")[2] in texts[path] for q in replaced.replaces)

    found: dict[str, dict[str, ReplacedClass]] = defaultdict(dict)
    for need in needs:
        naming = [p for p in need.files if names(p, need.replaced)] or [p for p in need.fallback if names(p, need.replaced)]
        for path in naming or need.files[:1]:
            found[path][need.replaced.name] = need.replaced
    return found


def _rewrite_file(
    read: Callable[[str], bytes | OSError],
    path: str,
    sites: list[CallSite],
    classes: list[ReplacedClass],
    templates: Templates,
    remove_markers: bool,
    first_party: Callable[[str], bool],
) -> tuple[FileResult, Outcome | None, str | None, str | None]:
    data = read(path)
    if isinstance(data, OSError):
        return FileResult(path, FAILED, f"cannot read: {data}"), None, None, None
    try:
        before = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileResult(path, FAILED, f"cannot read: {exc}"), None, None, None
    try:
        after, outcome = rewrite_source(before, sites, classes, templates, remove_markers, first_party)
    except Unfaithful as exc:
        return FileResult(path, REFUSED, f"{exc}; left unchanged"), None, None, None
    except Exception as exc:  # noqa: BLE001 - one file's failure must not end the run (as LibCST's runner)
        return FileResult(path, FAILED, f"the rewrite failed ({type(exc).__name__}: {exc}); left unchanged"), None, None, None
    if after == before:
        reason = outcome.unreachable or "; ".join(why for _, why in outcome.refused)
        return FileResult(path, REFUSED if reason else UNCHANGED, reason), outcome, None, None
    # Never write a file that does not parse; read as the analysis reads (3.12 f-strings too).
    parsed = parse_source(after.encode(), path)  # bytes: Python reads a BOM as it reads the file
    if parsed.tree is None:
        return FileResult(path, FAILED, f"the rewrite would not parse at line {parsed.line} ({parsed.error}); left unchanged"), None, None, None
    return FileResult(path, REWRITTEN), outcome, after, before


def _call_rewrites(outcome: Outcome | None) -> tuple[Rewrite, ...]:
    if outcome is None:
        return ()
    return tuple(
        Rewrite(s.team, s.span, s.first.kind, tuple(d.task_id or "" for d in s.dependencies), ", ".join(s.other_teams), description)
        for s, description in outcome.applied
    )


def _resolve(rules: RulePack, needs: list[ReferenceNeed], outcomes: dict[str, Outcome], results: dict[str, FileResult], helper: str) -> tuple[dict[str, list[Rewrite]], list[Manual]]:
    """Each sensor or trigger: rewritten where a file of its reach now names the drop-in class."""
    rewrites: dict[str, list[Rewrite]] = defaultdict(list)
    manual: list[Manual] = []
    for need in needs:
        dep, name = need.dependency, need.replaced.name
        where = next((p for p in need.files + need.fallback if name in (outcomes[p].references if p in outcomes else ())), None)
        if where is not None:
            how = "its file's import" if where == dep.span.path else f"the reference in {where}"
            description = f"{helper}.{name} through {how}: routes {need.other_dag} ({need.other_team}) at run time"
            rewrites[where].append(Rewrite(need.team, dep.span, dep.kind, (dep.task_id or "",), need.other_team, description))
            continue
        manual.append(manual_for(rules, need.team, dep, need.other_dag, need.other_team, _why_not(need, outcomes, results)))
    return rewrites, manual


def _why_not(need: ReferenceNeed, outcomes: dict[str, Outcome], results: dict[str, FileResult]) -> str:
    for path in need.files + need.fallback:
        result = results.get(path)
        if result is not None and result.status == FAILED:
            return f"{path} could not be rewritten: {result.message}"
        outcome = outcomes.get(path)
        if outcome is not None and outcome.unreachable:
            return f"{path}: {outcome.unreachable}"
        if result is not None and result.status == REFUSED and result.message:
            return f"{path}: {result.message}"
    short = need.replaced.replaces[0].rpartition(".")[2]
    files = ", ".join(need.files[:3]) + (" ..." if len(need.files) > 3 else "")
    return (
        f"{need.dependency.operator} is reached through code the codemod cannot rewrite (no import of {short} in {files}): "
        f"import it by name from {need.replaced.replaces[0].rpartition('.')[0]} where the task is built"
    )


def _attach(changes: list[FileChange], rewrites: dict[str, list[Rewrite]]) -> list[FileChange]:
    out = []
    for change in changes:
        extra = tuple(sorted(rewrites.get(change.path, []), key=lambda r: (r.span, r.task_ids)))
        out.append(FileChange(change.path, change.before, change.after, change.rewrites + extra) if extra else change)
    return out


def _refused(rules: RulePack, site: CallSite, dep, why: str) -> Manual:
    if site.rewrite == DATASET_HOOK:  # the producer's task: the other end is the consuming DAG
        item = manual_for(rules, site.team, dep, dep.target, ", ".join(site.other_teams), why)
        return replace(item, span=site.span)
    return manual_for(rules, site.team, dep, dep.target if dep.source == dep.dag else dep.source, ", ".join(site.other_teams), why)


def _support_files(analysis: Analysis, templates: Templates, teams: tuple[str, ...], changes: list[FileChange], notes: list[str]) -> list[FileChange]:
    """The helper module, the team's registry beside it, and the .airflowignore line when it
    sits in a DAGs folder: written first, so no file imports a module not yet there."""
    root = _repository(analysis)
    place = placement(analysis.layout)
    module_file = helper_path(analysis.layout, templates.helper_module)
    helped = any(analysis.rules.kind(r.kind).rewrite in HELPED_REWRITES for change in changes for r in change.rewrites)
    # Every file of the repository is read only when no rewrite of this run needs the module.
    everywhere = () if helped else importers(root, analysis.facts.files, templates.helper_module)
    if not (helped or everywhere):
        return []
    out: list[FileChange] = []
    if not (root / module_file).exists():  # a customised module is kept
        out.append(FileChange(module_file, "", templates.helper_source, ()))
    if len(teams) == 1:
        # The team's registry follows mesh.yaml on every run (a team that moves off the
        # monolith changes it), as long as the team's code uses the helper module.
        owned = {d.span.path for d in analysis.facts.dags if analysis.ownership.of(d).team == teams[0]}
        if helped or any(span.path in owned for span in everywhere):
            out += _text_change(root, place.path(templates.rules.registry), registry_text(build_registry(analysis, teams[0])))
    else:
        notes.append(f"{templates.rules.registry} is written per team: run the codemod for one team, or with --branch")
    if place.ignored_by is not None:
        path = place.ignored_by
        before = _read(root / path)
        out += _text_change(root, path, with_ignored(before, ignore_pattern(module_file)))
    return out


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _text_change(root: Path, path: str, text: str) -> list[FileChange]:
    before = _read(root / path)
    return [] if before == text else [FileChange(path, before, text, ())]


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
