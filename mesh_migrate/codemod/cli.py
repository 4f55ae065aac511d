"""What `mesh-migrate codemod` prints and which exit code it returns (kept out of cli.py's way)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.syntax import Syntax

from ..analysis import Analysis
from ..fsutil import terminate_as_interrupt
from ..yamlio import ConfigError
from .branches import GitError, is_dirty, make_branch, matches_head, repository_of, untracked_among
from .runner import CodemodResult, FileChange, WriteFailed, WriteRefused, apply_changes, run_codemod

# Documented in the README and in `codemod --help`.
EXIT_OK, EXIT_CHANGES, EXIT_ERROR, EXIT_FILES_FAILED = 0, 1, 2, 3


def run_codemod_command(
    root: Path,
    teams: tuple[str, ...],
    all_teams: bool,
    action: str,
    allow_dirty: bool,
    remove_markers: bool,
    analyze: Callable[[Path], Analysis],
    quiet: bool,
    out: Console,
    err: Console,
) -> int:
    """Diffs go to OUT, errors and the report to ERR (the consoles cli.py makes)."""
    analysis = analyze(root)
    chosen = list(analysis.ownership.teams) if all_teams else list(teams)
    unknown = [t for t in chosen if t not in analysis.ownership.teams]
    if unknown:
        err.print(f"error: unknown team(s) {', '.join(unknown)}; teams: {', '.join(analysis.ownership.teams)}", markup=False)
        return EXIT_ERROR
    try:
        if action == "branch":
            dirty, pristine = _branch_start(root, allow_dirty)
            # A work tree that is exactly HEAD: its analysis stands for every branch's tree.
            seed = analysis if pristine else None
            with terminate_as_interrupt():  # SIGTERM rolls back a half-made branch, as Ctrl-C does
                return _branches(root, chosen, remove_markers, analyze, out, dirty, seed)
        result = run_codemod(analysis, *chosen, remove_markers=remove_markers)
        if action == "diff":
            for change in result.changes:
                _print_diff(out, change.diff())
        elif action == "apply":
            if not allow_dirty:
                _guard_in_place(root, result.changes)
            apply_changes(root, result.changes)
        if not quiet or result.errors:
            _report(err, result, action)
        if result.errors:
            return EXIT_FILES_FAILED
        if action == "check":
            return EXIT_CHANGES if result.changes else EXIT_OK
        return EXIT_OK
    except (Unsafe, WriteRefused, WriteFailed, GitError, ConfigError) as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_ERROR


class Unsafe(Exception):
    """Writing would lose work that git could not give back."""


DIRTY = "the work tree has uncommitted changes; commit or stash them, or pass --allow-dirty"


def _branch_start(root: Path, allow_dirty: bool) -> tuple[bool, bool]:
    """Whether the work tree has uncommitted changes, and whether it is exactly HEAD."""
    top = repository_of(root)
    dirty = is_dirty(top)
    if dirty and not allow_dirty:
        raise Unsafe(DIRTY)
    return dirty, matches_head(top)


def _guard_in_place(root: Path, changes: tuple[FileChange, ...]) -> None:
    """Refuse to overwrite what git could not restore; when git cannot tell, refuse too."""
    try:
        dirty = is_dirty(repository_of(root))
        untracked = untracked_among(root, [change.path for change in changes if change.before])
    except GitError as exc:
        reason = str(exc).splitlines()[0]
        raise Unsafe(f"cannot tell whether the work tree has uncommitted changes ({reason}); pass --allow-dirty to write anyway") from None
    if dirty:
        raise Unsafe(DIRTY)
    if untracked:
        raise Unsafe(f"git does not track {', '.join(untracked)}, so its original could not be restored; commit it, or pass --allow-dirty")


def _branches(root: Path, teams: list[str], remove_markers: bool, analyze: Callable[[Path], Analysis], out: Console, dirty: bool, seed: Analysis | None) -> int:
    analyses: list[Analysis] = [seed] if seed is not None else []

    def rewrite(tree_root: Path, team: str) -> CodemodResult:
        # Every branch starts from the same HEAD: analyze its tree once, reuse it for each team.
        if not analyses:
            analyses.append(analyze(tree_root))
        return run_codemod(replace(analyses[0], root=tree_root), team, remove_markers=remove_markers)

    def apply(tree_root: Path, result: CodemodResult) -> None:
        apply_changes(tree_root, result.changes)

    if dirty:
        out.print("note: uncommitted changes are not part of the branches (they start from HEAD)", markup=False)
    status = EXIT_OK
    for team in teams:
        made = make_branch(root, team, rewrite, apply)
        if made.commit:
            out.print(f"{made.branch}: {made.note} ({made.commit[:10]})", markup=False)
        else:
            out.print(f"{made.branch}: {made.note}", markup=False)
            if made.result is None:
                status = EXIT_ERROR
        if made.result is not None and made.result.manual:
            out.print(f"  {len(made.result.manual)} items left as manual work (see the team's plan)", markup=False)
        for error in made.result.errors if made.result is not None else ():
            out.print(f"  failed {error.span.path}: {error.why}", markup=False)
            if status == EXIT_OK:
                status = EXIT_FILES_FAILED
    return status


def _print_diff(console, text: str) -> None:
    if not text:
        return
    if console.no_color:
        console.file.write(text)
    else:
        console.print(Syntax(text, "diff", theme="ansi_dark", background_color="default"))


def _report(console, result: CodemodResult, action: str) -> None:
    planned = action != "apply"
    verb = "would rewrite" if planned else "rewrote"
    for team in result.teams:
        rewrites = [r for r in result.rewrites if r.team == team]
        manual = [m for m in result.manual if m.team == team]
        files = {change.path for change in result.changes if any(r.team == team for r in change.rewrites)}
        console.print(f"{team}: {verb} {len(rewrites)} calls in {len(files)} files; {len(manual)} left as manual work", markup=False)
        # One call in a loop makes one rewrite per item: each distinct line once, with a count.
        lines = Counter(f"  {rewrite.span}: {rewrite.description}" for rewrite in rewrites)
        lines.update(f"  manual {item.span}: {item.what}: {item.why}" for item in manual)
        for line, times in lines.items():
            console.print(line + (f" (x{times})" if times > 1 else ""), markup=False)
    for path in result.created:
        console.print(f"{'would create' if planned else 'created'} {path}", markup=False)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    for outcome in result.files:
        if outcome.status in ("refused", "failed"):
            console.print(f"{outcome.status} {outcome.path}: {outcome.message}", markup=False)
