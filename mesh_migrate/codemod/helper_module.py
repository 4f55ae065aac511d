"""The module of functions the rewritten calls import (`mesh_http`): where it lives, who imports it.

It is one module per repository, written by the codemod before any file that imports it.
`check` reports files importing it while it is missing, since Airflow cannot load them.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterable, TypeGuard

from ..facts import SourceSpan
from ..layout import Layout


def helper_path(layout: Layout | None, module: str) -> str:
    """The module's file, relative to the repository: in the first import root."""
    folder = layout.python_paths[0] if layout is not None and layout.python_paths else "."
    name = module.replace(".", "/") + ".py"
    return name if folder in ("", ".") else f"{folder}/{name}"


def import_line(data: bytes, module: str) -> int | None:
    """The first line of DATA (a Python file) that imports MODULE or a name from it."""
    if module.encode() not in data:
        return None  # cheap: most files never mention it
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None  # the analysis reports files that do not parse
    lines = [node.lineno for node in ast.walk(tree) if _imports(node, module)]
    return min(lines, default=None)


def _imports(node: ast.AST, module: str) -> TypeGuard[ast.Import | ast.ImportFrom]:
    def within(name: str) -> bool:
        return name == module or name.startswith(module + ".")

    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and node.module is not None and within(node.module)
    if isinstance(node, ast.Import):
        return any(within(alias.name) for alias in node.names)
    return False


def importers(root: Path, paths: Iterable[str], module: str) -> tuple[SourceSpan, ...]:
    """Where each of PATHS (relative to ROOT) first imports MODULE; unreadable files are skipped."""
    found = []
    for path in sorted(paths):
        try:
            data = (root / path).read_bytes()
        except OSError:
            continue  # the analysis already reported the unreadable file
        line = import_line(data, module)
        if line is not None:
            found.append(SourceSpan(path, line))
    return tuple(found)
