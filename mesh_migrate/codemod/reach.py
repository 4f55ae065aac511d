"""Which repository files a file's code reaches through its imports.

A sensor built through `functools.partial` or a subclass names Airflow's class where the
partial or the subclass is defined: in the file that builds the sensor or in a module it
imports, directly or not. Those files are the candidates for the reference rewrite.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import Callable

from ..extract.modules import ModuleFinder, parse_source

MAX_FILES = 500  # a closure larger than this is cut: the nearest files come first


class Reach:
    def __init__(self, root: Path, python_paths: tuple[str, ...], read: Callable[[str], bytes | OSError]):
        self.read = read  # a file's bytes (or why not), shared with the rest of the run
        self.finder = ModuleFinder(root, list(python_paths))
        self.imports = lru_cache(maxsize=None)(self._imports)
        self.closure = lru_cache(maxsize=None)(self._closure)

    def _closure(self, start: str) -> tuple[str, ...]:
        """START and every repository file it imports, nearest first."""
        seen = [start]
        queue = [start]
        while queue and len(seen) < MAX_FILES:
            for found in self.imports(queue.pop(0)):
                if found not in seen:
                    seen.append(found)
                    queue.append(found)
        return tuple(seen)

    def _imports(self, path: str) -> tuple[str, ...]:
        data = self.read(path)
        if isinstance(data, OSError):
            return ()  # the analysis reported it already
        tree = parse_source(data, path).tree  # as the analysis reads it: 3.12 f-strings too
        if tree is None:
            return ()  # the analysis reported it already
        package = self.finder.module_name(path).split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        names: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1] if node.level <= len(package) + 1 else []
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                if module:
                    names.append(module)
                    names += [f"{module}.{alias.name}" for alias in node.names if alias.name != "*"]
        found: list[str] = []
        for name in names:
            ref = self.finder.find(name)
            if ref is not None and ref.path is not None and ref.path != path and ref.path not in found:
                found.append(ref.path)
        return tuple(found)
