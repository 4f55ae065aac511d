"""Git-style wildmatch patterns (gitignore, CODEOWNERS, mesh.yaml globs), one implementation."""

from __future__ import annotations

import re
from typing import Callable, Iterable

import pathspec

try:  # pathspec >= 1.0 deprecates GitWildMatchPattern in favour of this same class
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern as GitWildMatch
except ImportError:  # pathspec 0.12
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern as GitWildMatch


def wildmatch_spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    """A spec matching posix paths relative to the repository root; ValueError on a bad pattern."""
    return pathspec.PathSpec([GitWildMatch(p) for p in patterns])


def glob_problem(pattern: str) -> str | None:
    """Why a repository-relative glob is not usable, or None when it is."""
    if not pattern.strip():
        return "an empty glob matches nothing"
    if ".." in pattern.split("/"):
        return f"glob {pattern!r} leaves the repository (..)"
    if pattern.count("[") != pattern.count("]"):
        return f"glob {pattern!r} has an unclosed [ ]"
    try:
        wildmatch_spec([pattern])
    except (ValueError, TypeError) as exc:
        return f"glob {pattern!r} is not valid: {exc}"
    return None


def literal_prefix(pattern: str) -> str:
    """What every path PATTERN matches starts with, '' when it can match at any depth: a
    test of it skips the regex for paths elsewhere (every DAG is asked of every team)."""
    anchored = pattern[1:] if pattern.startswith("/") else pattern
    if pattern.startswith("!") or "/" not in anchored.rstrip("/ "):
        return ""  # negated, or no slash before the end: matched in any folder
    literal = re.split(r"[*?\[\\]", anchored, maxsplit=1)[0]
    return literal.rstrip(" ") if literal == anchored else literal  # trailing spaces are not part of a pattern


def path_matcher(patterns: Iterable[str]) -> Callable[[str], bool]:
    """A fast test for "does a path match any of these globs": one compiled regex when no
    pattern negates (pathspec's own loop over patterns costs more than the match)."""
    spec = wildmatch_spec(patterns)
    compiled = [p for p in spec.patterns if p.include is not None]
    if all(p.include for p in compiled) and all(getattr(p, "regex", None) is not None for p in compiled):
        if not compiled:
            return lambda path: False
        regex = re.compile("|".join(f"(?:{p.regex.pattern})" for p in compiled))
        return lambda path: regex.match(path) is not None
    return spec.match_file
