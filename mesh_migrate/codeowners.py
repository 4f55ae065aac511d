"""CODEOWNERS files (GitHub and GitLab syntax): which owners a path has."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

from .globs import literal_prefix, path_matcher
from .prefixes import PrefixIndex

LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    matches: Callable[[str], bool]


@dataclass(frozen=True)
class CodeOwners:
    path: str  # where the file was found, relative to the root
    rules: tuple[OwnerRule, ...]

    def owners_of(self, path: str) -> OwnerRule | None:
        """The rule that applies to a path: the last one that matches wins."""
        for rule in self._last_first.candidates(path):
            if rule.matches(path):
                return rule
        return None

    @cached_property
    def _last_first(self) -> PrefixIndex[OwnerRule]:
        return PrefixIndex((literal_prefix(rule.pattern), rule) for rule in reversed(self.rules))


def find_codeowners(root: Path) -> CodeOwners | None:
    found = codeowners_source(root)
    return parse_codeowners(*found) if found is not None else None


def codeowners_source(root: Path) -> tuple[str, str] | None:
    """The text of the CODEOWNERS file in force and where it is, if there is one."""
    for location in LOCATIONS:
        candidate = root / location
        if candidate.is_file():
            try:
                return candidate.read_bytes().decode("utf-8-sig", errors="replace"), location
            except OSError:
                return None
    return None


def parse_codeowners(text: str, path: str = "CODEOWNERS") -> CodeOwners:
    rules: list[OwnerRule] = []
    section_owners: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith(("[", "^[")):  # a GitLab section: its default owners follow the name
            section_owners = tuple(t for t in line.split("]", 1)[-1].split() if not t.startswith("["))
            continue
        pattern, *owners = line.split()
        pattern = pattern.replace("\\ ", " ")
        try:
            matches = path_matcher([pattern])
        except ValueError:
            continue
        rules.append(OwnerRule(pattern, tuple(owners) or section_owners, number, matches))
    return CodeOwners(path, tuple(rules))
