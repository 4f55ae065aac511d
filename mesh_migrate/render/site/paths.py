"""Where each page of the site lives: file names that are safe and unique whatever the
analyzed repository calls its teams, files and DAGs."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from ...names import file_name, plain_slug

MAX_SLUG = 60


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _slug(text: str) -> str:
    return plain_slug(text)[:MAX_SLUG].rstrip(".-") or "x"


def unique_slugs(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """name -> slug; names whose slugs collide (ignoring case, as macOS and Windows do) or
    that had to be cut or emptied get a short hash of the name appended."""
    slugs = {name: _slug(name) for name in names}
    taken = Counter(slug.lower() for slug in slugs.values())
    return {
        name: slug if taken[slug.lower()] == 1 and slug == file_name(name) else f"{slug}-{short_hash(name)}"
        for name, slug in slugs.items()
    }


def anchor(prefix: str, name: str) -> str:
    """An element id (and URL fragment) for a name: readable when the name is plain, hashed otherwise."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", name):
        return f"{prefix}-{name}"
    return f"{prefix}-{_slug(name)}-{short_hash(name)}"


@dataclass(frozen=True)
class SitePaths:
    """Relative paths from the site's root folder."""

    teams: dict[str, str]  # team -> teams/<slug>.html
    sources: dict[str, str]  # analyzed file -> src/<slug>-<hash>.html

    def team(self, team: str | None) -> str | None:
        return self.teams.get(team) if team else None

    def source(self, path: str, line: int = 0) -> str | None:
        page = self.sources.get(path)
        if page is None:
            return None
        return f"{page}#L{line}" if line else page


def site_paths(teams: tuple[str, ...], files: tuple[str, ...]) -> SitePaths:
    team_slugs = unique_slugs(list(teams))
    return SitePaths(
        teams={team: f"teams/{slug}.html" for team, slug in team_slugs.items()},
        # Paths are unique already; the hash keeps `a/b.py` and `a-b.py` apart after slugging.
        sources={path: f"src/{_slug(path.replace('/', '-'))}-{short_hash(path)}.html" for path in files},
    )
