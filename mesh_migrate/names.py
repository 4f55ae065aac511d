"""Names derived from team names, safe for files and git branches whatever the team is called."""

from __future__ import annotations

import hashlib
import re

# Long enough for any real team name, short enough for every file system (255 bytes).
MAX_SLUG = 64


def plain_slug(team: str) -> str:
    """Letters, digits, `_`, `.` and `-` only; no `..`, no runs of `-`, no leading or
    trailing `.`/`-`, no `.lock` ending (git refuses it)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", team)
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"-{2,}", "-", name).strip(".-")
    while name.endswith(".lock"):
        name = name[: -len(".lock")].rstrip(".-")
    return name[:MAX_SLUG].rstrip(".-")


def team_slug(team: str) -> str:
    """A team's name for its plan files and its branch: unique for every name, and stable.

    A lowercase name the slug keeps as it is stays itself (`flights`). Any other name
    (`a b`, `A-B`, `データ`, a very long one) gets the first 8 hex digits of the SHA-256 of
    its exact text after its slug (`a-b-3c1f...`): two names then never share a file or a
    branch, not even on a file system that ignores case, and the name never depends on the
    other teams, so adding a team renames nothing.
    """
    slug = plain_slug(team)
    if slug and slug == team and team == team.lower():
        return slug
    digest = hashlib.sha256(team.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug or 'team'}-{digest}"


def file_name(team: str) -> str:
    """A file name for a team: no separators, no leading dots or dashes."""
    return team_slug(team)


def branch_name(team: str, prefix: str = "mesh/") -> str:
    """A git branch for a team, valid whatever the team is called (git check-ref-format rules):
    no spaces or control characters, no `..`, no leading `-` or `.`, no `.lock` ending."""
    return prefix + team_slug(team)
