"""The module the rewritten files import (`mesh_http`): where it lives, who imports it.

It is one module per repository, written by the codemod before any file that imports it,
with the registry beside it. It goes into an import root that Airflow does not parse for
DAGs; when every import root is a DAGs folder, that folder's .airflowignore lists it, so
the scheduler does not parse it in every loop.
`check` reports files importing it while it is missing, since Airflow cannot load them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TypeGuard

from ..extract.modules import parse_source
from ..facts import SourceSpan
from ..layout import Layout

AIRFLOWIGNORE = ".airflowignore"


@dataclass(frozen=True)
class Placement:
    folder: str  # relative to the repository; "" is its root
    ignored_by: str | None  # the .airflowignore that must list the module, if in a DAGs folder

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}" if self.folder else name


def placement(layout: Layout | None) -> Placement:
    """The first import root, outside the DAGs folders, that a DAG file's first line can
    import from at run time; else the DAGs folder (always on sys.path), with its ignore file."""
    if layout is None or not layout.import_roots:
        return Placement("", AIRFLOWIGNORE)
    outside = sorted((f for f in layout.code_roots() if _rank(f.reason) is not None), key=lambda f: _rank(f.reason) or 0)
    if outside:
        return Placement(outside[0].path, None)
    root = next((f for f in layout.import_roots if layout.dags_folder_of(f.path) is not None), layout.import_roots[0])
    dags = layout.dags_folder_of(root.path)
    ignore_folder = dags.path if dags is not None else root.path
    return Placement(root.path, f"{ignore_folder}/{AIRFLOWIGNORE}" if ignore_folder else AIRFLOWIGNORE)


# Import roots on the deployed Airflow's sys.path before a DAG file runs, best first (the
# reasons are the layout's). The others are left out: a folder put there by a test or CI
# configuration (tox, pytest, a Makefile) is absent in production, and one a DAG file adds
# with sys.path.insert is there only after that line, below the file's imports.
_RUN_TIME_ROOTS = (
    re.compile(r"^mesh\.yaml python_paths$"),
    re.compile(r"^Airflow puts \$AIRFLOW_HOME/plugins "),
    re.compile(r"^plugins_folder = "),
    re.compile(r"^PYTHONPATH = .* in (?:.*/)?(?:Dockerfile[^/]*|[^/]*compose[^/]*\.ya?ml|values[^/]*\.ya?ml|[^/]*\.env|\.env[^/]*|airflow\.cfg)$"),
    re.compile(r"^Airflow puts \$AIRFLOW_HOME/config "),
)


def _rank(reason: str) -> int | None:
    return next((rank for rank, pattern in enumerate(_RUN_TIME_ROOTS) if pattern.search(reason)), None)


def helper_path(layout: Layout | None, module: str) -> str:
    """The module's file, relative to the repository."""
    return placement(layout).path(module.replace(".", "/") + ".py")


def ignore_pattern(module_file: str) -> str:
    """The module's line in .airflowignore. A bare file name reads the same in both syntaxes:
    as a regexp it is searched in each relative path (its dots match themselves too), as a
    glob it matches the file in any folder."""
    return module_file.rpartition("/")[2]


def with_ignored(text: str, pattern: str) -> str:
    """TEXT of an .airflowignore that lists PATTERN (TEXT itself when it does already)."""
    lines = text.splitlines()
    if pattern in (line.strip() for line in lines):
        return text
    newline = "\r\n" if "\r\n" in text else "\n"
    separator = "" if not text or text.endswith(("\n", "\r")) else newline
    return f"{text}{separator}{pattern}{newline}"


def import_line(data: bytes, module: str) -> int | None:
    """The first line of DATA (a Python file) that imports MODULE or a name from it."""
    if module.encode() not in data:
        return None  # cheap: most files never mention it
    tree = parse_source(data, "").tree  # as the analysis reads it: 3.12 f-strings too
    if tree is None:
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
