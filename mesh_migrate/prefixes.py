"""Items keyed by the literal text every string they match starts with (a glob's text
before its first wildcard), so that a string is tested only against the items it can match:
every DAG is asked of every team's globs, and of every CODEOWNERS rule."""

from __future__ import annotations

from collections import defaultdict
from typing import Generic, Iterable, TypeVar

T = TypeVar("T")


class PrefixIndex(Generic[T]):
    def __init__(self, entries: Iterable[tuple[str, T]]):
        """ENTRIES: (prefix, item) in the order `candidates` keeps; '' may start anything."""
        numbered = list(enumerate(entries))
        # Rows keyed by the first WIDTH characters, the length of the shortest prefix but ''.
        self._width = min((len(prefix) for _, (prefix, _) in numbered if prefix), default=0)
        rows: dict[str, list[tuple[int, str, T]]] = defaultdict(list)
        anywhere: list[tuple[int, str, T]] = [(n, prefix, item) for n, (prefix, item) in numbered if not prefix]
        for n, (prefix, item) in numbered:
            if prefix:
                rows[prefix[: self._width]].append((n, prefix, item))
        self._rows = {key: [(prefix, item) for _, prefix, item in sorted(row + anywhere, key=lambda e: e[0])] for key, row in rows.items()}
        self._anywhere = [item for _, _, item in anywhere]

    def candidates(self, text: str) -> list[T]:
        """The items whose prefix TEXT starts with, in the order they were given."""
        row = self._rows.get(text[: self._width])
        if row is None:
            return self._anywhere
        return [item for prefix, item in row if text.startswith(prefix)]
