"""One git branch per team: the codemod applied in a separate worktree, then committed.

The user's checkout and every other branch stay untouched: the branch is created from the
current HEAD in a temporary worktree, analyzed and rewritten there, committed, and the
worktree is removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..names import branch_name
from .runner import CodemodResult


class GitError(Exception):
    pass


@dataclass(frozen=True)
class BranchResult:
    team: str
    branch: str
    result: CodemodResult | None  # None when the branch was not made
    commit: str | None
    note: str


def git(*args: str, cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def repository_of(path: Path) -> Path:
    return Path(git("rev-parse", "--show-toplevel", cwd=path).strip())


def is_dirty(top: Path) -> bool:
    return bool(git("status", "--porcelain", "--untracked-files=no", cwd=top).strip())


def untracked_among(root: Path, paths: list[str]) -> list[str]:
    """Those of PATHS (relative to ROOT) that git does not track."""
    if not paths:
        return []
    listed = git("--literal-pathspecs", "ls-files", "-z", "--", *paths, cwd=root)
    tracked = set(listed.split("\0"))
    return [path for path in paths if path not in tracked]


def matches_head(top: Path) -> bool:
    """No change and no untracked file: the work tree holds exactly HEAD's files."""
    return not git("status", "--porcelain", cwd=top).strip()


def branch_exists(top: Path, branch: str) -> bool:
    try:
        git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=top)
    except GitError:
        return False
    return True


def commit_message(result: CodemodResult) -> str:
    lines = [f"mesh-migrate: rewrite the cross-team dependencies of {', '.join(result.teams)}", ""]
    for rewrite in result.rewrites:
        lines.append(f"- {rewrite.span}: {rewrite.kind} {', '.join(t for t in rewrite.task_ids if t)} -> {rewrite.description}")
    if result.created:
        lines.append(f"- added {', '.join(result.created)} (the module the rewritten code imports, and what it reads)")
    if result.manual:
        lines += ["", f"Left as manual work ({len(result.manual)}): see the team's split plan."]
    return "\n".join(lines) + "\n"


def make_branch(
    path: Path,
    team: str,
    rewrite: Callable[[Path, str], CodemodResult],
    apply: Callable[[Path, CodemodResult], None],
) -> BranchResult:
    """Create mesh/<team> from HEAD with the team's rewrites committed on it."""
    top = repository_of(path)
    branch = branch_name(team)
    git("check-ref-format", "--branch", branch, cwd=top)
    if branch_exists(top, branch):
        return BranchResult(team, branch, None, None, f"branch {branch} already exists: delete it or rename it first")
    inside = Path(os.path.relpath(path.resolve(), top.resolve()))
    work = Path(tempfile.mkdtemp(prefix="mesh-migrate-"))
    tree = work / "tree"
    try:
        # Within the try: an interruption while git makes the worktree is rolled back too.
        git("worktree", "add", "--quiet", "-b", branch, str(tree), "HEAD", cwd=top)
        root = tree / inside
        result = rewrite(root, team)
        if not result.changes:
            git("worktree", "remove", "--force", str(tree), cwd=top)
            git("branch", "-D", branch, cwd=top)
            return BranchResult(team, branch, result, None, "nothing to rewrite: no branch made")
        apply(root, result)
        paths = [str(inside / change.path) for change in result.changes]
        # -f: a file the repository's .gitignore lists (some list .airflowignore) is still
        # part of the change; these are only the files the codemod wrote.
        git("add", "-f", "--", *paths, cwd=tree)
        identity = [] if _has_identity(tree) else ["-c", "user.name=mesh-migrate", "-c", "user.email=mesh-migrate@localhost"]
        git(*identity, "commit", "--quiet", "--no-verify", "-m", commit_message(result), cwd=tree)
        commit = git("rev-parse", "HEAD", cwd=tree).strip()
        return BranchResult(team, branch, result, commit, f"{len(result.rewrites)} rewrites in {len(result.changes)} files")
    except BaseException:
        _discard(top, tree, branch)
        raise
    finally:
        _remove_worktree(top, tree)
        shutil.rmtree(work, ignore_errors=True)


def _has_identity(cwd: Path) -> bool:
    try:
        return bool(git("config", "user.email", cwd=cwd).strip())
    except GitError:
        return False


def _remove_worktree(top: Path, tree: Path) -> None:
    """Remove the temporary worktree, also one a killed git left half made or locked."""
    for args in (("worktree", "remove", "--force", "--force", str(tree)), ("worktree", "prune")):
        try:
            git(*args, cwd=top)
        except GitError:
            pass  # not registered (any more): prune drops what is left


def _discard(top: Path, tree: Path, branch: str) -> None:
    """Undo a half-made branch, so a failure leaves the repository as it was."""
    _remove_worktree(top, tree)
    shutil.rmtree(tree, ignore_errors=True)
    try:
        git("branch", "-D", branch, cwd=top)
    except GitError:
        pass  # git stopped before it made the branch
