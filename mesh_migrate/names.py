"""Names derived from team names, safe for files and git branches whatever the team is called."""

from __future__ import annotations

import re


def file_name(team: str) -> str:
    """A file name for a team: no separators, no leading dots or dashes."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", team).strip(".-")
    name = re.sub(r"\.{2,}", ".", name)
    return name or "team"
