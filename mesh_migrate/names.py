"""Names derived from team names, safe for files and git branches whatever the team is called."""

from __future__ import annotations

import re


def _slug(team: str) -> str:
    """Letters, digits, `_`, `.` and `-` only; no `..`, no runs of `-`, no leading or trailing `.`/`-`."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", team)
    name = re.sub(r"\.{2,}", ".", name)
    return re.sub(r"-{2,}", "-", name).strip(".-")


def file_name(team: str) -> str:
    """A file name for a team: no separators, no leading dots or dashes."""
    return _slug(team) or "team"


def branch_name(team: str, prefix: str = "mesh/") -> str:
    """A git branch for a team, valid whatever the team is called (git check-ref-format rules):
    no spaces or control characters, no `..`, no leading `-` or `.`, no `.lock` ending."""
    name = _slug(team)
    while name.endswith(".lock"):
        name = name[: -len(".lock")].rstrip(".-")
    return prefix + (name or "team")
