"""Git-style wildmatch patterns (gitignore, CODEOWNERS, mesh.yaml globs), one implementation."""

from __future__ import annotations

from typing import Iterable

import pathspec

try:  # pathspec >= 1.0 deprecates GitWildMatchPattern in favour of this same class
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern as GitWildMatch
except ImportError:  # pathspec 0.12
    from pathspec.patterns.gitwildmatch import GitWildMatchPattern as GitWildMatch


def wildmatch_spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    """A spec matching posix paths relative to the repository root; ValueError on a bad pattern."""
    return pathspec.PathSpec([GitWildMatch(p) for p in patterns])
