"""Where a repository keeps its DAGs and where its imports resolve, found the way Airflow
and Python would find them, without running anything.

Airflow parses the files of its DAGs folder(s) and puts the DAGs folder, `$AIRFLOW_HOME/config`
and the plugins folder on `sys.path`; deployments add more through `PYTHONPATH`, and the code
itself through `sys.path.insert(...)`. Repositories declare this in many places (airflow.cfg,
docker-compose, Helm values, Dockerfiles, Makefiles, CI files, pytest settings, packaging
metadata); each place read here yields folders with the reason they were chosen, so the
report can say why an import resolved where it did.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator

from .discover import ALWAYS_SKIPPED_DIRS
from .extract.modules import INSTALLED_TOP_NAMES

# Folders that hold tests: followed through imports, never DAG folders by convention.
TEST_DIRS = frozenset({"tests", "test", "testing", "unittests", "unit_tests", "integration_tests"})
_CONFIG_FILES = re.compile(r"(?:^|/)(?:docker-compose[^/]*\.ya?ml|compose[^/]*\.ya?ml|values[^/]*\.ya?ml|[^/]*\.env|\.env[^/]*|Dockerfile[^/]*|Makefile|[^/]*\.mk|\.gitlab-ci\.yml|[^/]*\.cfg|tox\.ini|pytest\.ini|pyproject\.toml|\.github/workflows/[^/]*\.ya?ml)$")
_DAGS_FOLDER_SETTING = re.compile(rb"(?:AIRFLOW__CORE__DAGS_FOLDER|^\s*dags_folder)\s*[:=]\s*[\"']?([^\s\"'#]+)", re.M)
_PLUGINS_FOLDER_SETTING = re.compile(rb"(?:AIRFLOW__CORE__PLUGINS_FOLDER|^\s*plugins_folder)\s*[:=]\s*[\"']?([^\s\"'#]+)", re.M)
_PYTHONPATH_SETTING = re.compile(rb"PYTHONPATH\s*[:=]\s*[\"']?([^\s\"'#]+)")
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)[\w.]*[ \t]+import|import[ \t]+([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*))", re.M)
_COMMENT_LINE = re.compile(rb"^[ \t]*[#;].*$", re.M)
MAX_CONFIG_BYTES = 2_000_000


@dataclass(frozen=True)
class Folder:
    path: str  # posix, relative to the repository root; "" is the root itself
    reason: str

    def __str__(self) -> str:
        return self.path or "."


WHOLE_REPOSITORY = Folder("", "no DAGs folder declared or named dags: the whole repository but its tests")
# Always last among the import roots, as a fallback: deployments seldom put it on sys.path.
REPOSITORY_ROOT = Folder("", "the repository root")


@dataclass(frozen=True)
class Layout:
    dags_folders: tuple[Folder, ...]  # only files under these are DAG files
    import_roots: tuple[Folder, ...]  # sys.path order: the first folder holding a name wins
    warnings: tuple[str, ...] = ()

    @property
    def python_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.import_roots)

    whole_repository: bool = False  # no DAGs folder found: every file but tests counts

    def is_dag_file(self, path: str) -> bool:
        if self.whole_repository:
            return not any(part in TEST_DIRS for part in path.split("/")[:-1])
        return any(f.path == "" or path.startswith(f.path + "/") for f in self.dags_folders)

    def dags_folder_of(self, folder: str) -> Folder | None:
        """The DAGs folder Airflow parses FOLDER's files as part of, if any."""
        if self.whole_repository:
            return WHOLE_REPOSITORY
        return next((f for f in self.dags_folders if f.path == "" or folder == f.path or folder.startswith(f.path + "/")), None)

    def code_roots(self) -> tuple[Folder, ...]:
        """Import roots whose files Airflow imports but never parses for DAGs (sys.path order)."""
        return tuple(f for f in self.import_roots if f != REPOSITORY_ROOT and self.dags_folder_of(f.path) is None)


def find_layout(root: Path, dags_folders: Iterable[str] | None = None, python_paths: Iterable[str] | None = None) -> Layout:
    """The DAGs folders and import roots of ROOT; mesh.yaml's settings, when given, win."""
    tree = _Tree.scan(root)
    if dags_folders is not None:
        folders = [Folder(_clean(p), "mesh.yaml dags_folders") for p in dags_folders]
    else:
        folders = _dags_folders(tree)
    if python_paths is not None:
        roots = _unique([Folder(_clean(p), "mesh.yaml python_paths") for p in python_paths] + [REPOSITORY_ROOT])
        return Layout(tuple(folders), tuple(roots), whole_repository=folders == [WHOLE_REPOSITORY])
    roots = _import_roots(tree, folders)
    roots, warnings = _with_searched_packages(tree, roots, folders)
    return Layout(tuple(folders), tuple(roots), tuple(warnings), whole_repository=folders == [WHOLE_REPOSITORY])


# ---- the repository as a listing -------------------------------------------------------


@dataclass(frozen=True)
class _Tree:
    root: Path
    dirs: frozenset[str]  # every folder, posix relative paths ("" for the root)
    files: tuple[str, ...]  # every file

    @classmethod
    def scan(cls, root: Path) -> _Tree:
        dirs: set[str] = {""}
        files: list[str] = []
        for current, subdirs, names in os.walk(root):
            rel = os.path.relpath(current, root).replace(os.sep, "/")
            rel = "" if rel == "." else rel
            subdirs[:] = sorted(d for d in subdirs if d not in ALWAYS_SKIPPED_DIRS and not d.startswith("."))
            dirs.update(f"{rel}/{d}" if rel else d for d in subdirs)
            files.extend(f"{rel}/{n}" if rel else n for n in names)
        return cls(root, frozenset(dirs), tuple(sorted(files)))

    @cached_property  # asked once per __init__.py and imported name: built once
    def file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    def python_files(self) -> Iterator[str]:
        return (f for f in self.files if f.endswith(".py"))

    def read(self, path: str) -> bytes:
        try:
            with open(self.root / path, "rb") as handle:
                return handle.read(MAX_CONFIG_BYTES)
        except OSError:
            return b""

    def in_tests(self, path: str) -> bool:
        return any(part in TEST_DIRS for part in path.split("/"))

    @cached_property  # three settings are looked for in them: found and read once
    def config_texts(self) -> tuple[tuple[str, bytes], ...]:
        """The deployment and config files outside tests, each with its comment lines blanked."""
        return tuple((path, _COMMENT_LINE.sub(b"", self.read(path))) for path in self.files if _CONFIG_FILES.search(path) and not self.in_tests(path))


def _clean(path: str) -> str:
    text = PurePosixPath(path.strip().strip("/")).as_posix()
    return "" if text == "." else text


def _unique(folders: list[Folder]) -> list[Folder]:
    seen: set[str] = set()
    out = []
    for folder in folders:
        if folder.path not in seen:
            seen.add(folder.path)
            out.append(folder)
    return out


def _outermost(folders: list[Folder]) -> list[Folder]:
    paths = {f.path for f in folders}
    return [f for f in folders if not any(p != f.path and (p == "" or f.path.startswith(p + "/")) for p in paths)]


def _files_under(tree: _Tree, folders: list[Folder]) -> list[str]:
    prefixes = tuple(f"{f.path}/" if f.path else "" for f in folders)
    return [f for f in tree.python_files() if f.startswith(prefixes)]


def _has_python(tree: _Tree, folder: str) -> bool:
    prefix = f"{folder}/" if folder else ""
    return any(f.startswith(prefix) for f in tree.python_files())


# ---- DAGs folders ----------------------------------------------------------------------


def _dags_folders(tree: _Tree) -> list[Folder]:
    declared = [f for f in _declared(tree, _DAGS_FOLDER_SETTING, "dags_folder") if _has_python(tree, f.path)]
    if declared:
        return _outermost(_unique(declared))
    named = [Folder(d, "a folder named dags") for d in sorted(tree.dirs) if d.rpartition("/")[2] == "dags" and not tree.in_tests(d) and _has_python(tree, d)]
    ignoring = [
        Folder(f.rpartition("/")[0], "holds an .airflowignore")
        for f in tree.files
        if f.rpartition("/")[2] == ".airflowignore" and not tree.in_tests(f) and _has_python(tree, f.rpartition("/")[0])
    ]
    # A folder named dags is the clearer sign; an .airflowignore decides only without one.
    return _outermost(_unique(named or ignoring)) or [WHOLE_REPOSITORY]


def _declared(tree: _Tree, setting: re.Pattern[bytes], what: str) -> list[Folder]:
    """Folders named by a setting in the repository's deployment and config files.
    A PYTHONPATH value holds several folders joined by ':'."""
    found = []
    for path, text in tree.config_texts:
        for match in setting.finditer(text):
            for value in match.group(1).decode("utf-8", "replace").split(":"):
                if "PYTHONPATH" in value:
                    continue
                for folder in _repo_folders(tree, value, path):
                    found.append(Folder(folder, f"{what} = {value} in {path}"))
    return found


def _repo_folders(tree: _Tree, value: str, declared_in: str) -> list[str]:
    """The repository folders a deployment path stands for: the folder relative to the
    declaring file when it exists, else those whose trailing path parts match the most."""
    value = re.sub(r"^\$\{?\w+\}?/?", "", value).rstrip("/")  # $AIRFLOW_HOME/dags, ${PWD}/src
    if not value or "$" in value or "{" in value:
        return []
    if not value.startswith("/"):
        here = _clean(os.path.normpath(os.path.join(declared_in.rpartition("/")[0], value)))
        for candidate in (here, _clean(value)):
            if candidate in tree.dirs and not candidate.startswith(".."):
                return [candidate]
    parts = [p for p in value.split("/") if p]
    for depth in range(len(parts), 0, -1):
        tail = "/".join(parts[-depth:])
        matches = sorted(d for d in tree.dirs if d == tail or d.endswith("/" + tail))
        matches = [m for m in matches if not tree.in_tests(m)]
        if matches:
            shallowest = min(m.count("/") for m in matches)
            return [m for m in matches if m.count("/") == shallowest]
    return []


# ---- import roots ----------------------------------------------------------------------


def _import_roots(tree: _Tree, dags: list[Folder]) -> list[Folder]:
    roots: list[Folder] = []
    roots += _declared(tree, _PYTHONPATH_SETTING, "PYTHONPATH")
    roots += [f for f in dags]
    for folder in dags:
        home = folder.path.rpartition("/")[0] if folder.path else None
        if home is None:
            continue
        for name in ("config", "plugins"):
            candidate = f"{home}/{name}" if home else name
            if candidate in tree.dirs:
                roots.append(Folder(candidate, f"Airflow puts $AIRFLOW_HOME/{name} on sys.path (beside {folder.path})"))
    roots += _declared(tree, _PLUGINS_FOLDER_SETTING, "plugins_folder")
    roots += _pytest_paths(tree)
    roots += _package_dirs(tree)
    roots += _sys_path_edits(tree, dags)
    if "src" in tree.dirs and any(f.startswith("src/") and f.count("/") >= 2 and f.endswith("/__init__.py") for f in tree.files):
        roots.append(Folder("src", "a src/ layout"))
    roots.append(REPOSITORY_ROOT)
    return _unique(roots)




def _pytest_paths(tree: _Tree) -> list[Folder]:
    found = []
    for path in tree.files:
        name = path.rpartition("/")[2]
        if name not in ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini"):
            continue
        text = tree.read(path).decode("utf-8", "replace")
        match = re.search(r"^\s*pythonpath\s*=\s*(\[[^\]]*\]|[^\n]*)", text, re.M)
        if not match:
            continue
        base = path.rpartition("/")[0]
        for item in re.findall(r"[\w./-]+", match.group(1)):
            folder = _clean(os.path.normpath(os.path.join(base, item)))
            if folder in tree.dirs and folder != "":
                found.append(Folder(folder, f"pytest pythonpath in {path}"))
    return found


def _package_dirs(tree: _Tree) -> list[Folder]:
    """Where packaging metadata puts packages: setuptools' package_dir / where, poetry's from."""
    found = []
    for path in tree.files:
        name = path.rpartition("/")[2]
        if name == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read_string(tree.read(path).decode("utf-8", "replace"))
            except configparser.Error:
                continue
            values = [parser.get("options", "package_dir", fallback=""), parser.get("options.packages.find", "where", fallback="")]
        elif name == "pyproject.toml":
            text = tree.read(path).decode("utf-8", "replace")
            values = re.findall(r"^\s*(?:where\s*=\s*\[([^\]]*)\]|package-dir\s*=\s*\{([^}]*)\}|from\s*=\s*\"([^\"]+)\")", text, re.M)
            values = [" ".join(v) for v in values]
        else:
            continue
        base = path.rpartition("/")[0]
        for value in values:
            for item in re.findall(r"[\w./-]+", value.replace("=", " ")):
                folder = _clean(os.path.normpath(os.path.join(base, item)))
                if folder and folder in tree.dirs and not tree.in_tests(folder):
                    found.append(Folder(folder, f"package folder in {path}"))
    return found


def _sys_path_edits(tree: _Tree, dags: list[Folder]) -> list[Folder]:
    """`sys.path.insert(0, <static path>)` and `.append(...)` at module level of DAG files."""
    found = []
    for path in _files_under(tree, dags):
        data = tree.read(path)
        if b"sys.path" not in data:
            continue
        try:
            module = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for folder in _PathEvaluator(path).edits(module.body):
            folder = _clean(folder)
            if folder in tree.dirs and not folder.startswith(".."):
                found.append(Folder(folder, f"sys.path edited in {path}"))
    return found


class _PathEvaluator:
    """Computes the few path expressions that `sys.path` edits are written with."""

    def __init__(self, path: str):
        self.file = "/" + path  # a fake absolute path: relative results are the repo paths
        self.names: dict[str, str] = {}

    def edits(self, body: list[ast.stmt]) -> Iterator[str]:
        for stmt in body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = self.value(stmt.value)
                if value is not None:
                    self.names[stmt.targets[0].id] = value
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                if ast.unparse(call.func) in ("sys.path.insert", "sys.path.append") and call.args:
                    value = self.value(call.args[-1])
                    if value is not None and value.startswith("/"):
                        yield os.path.normpath(value)[1:]
            elif isinstance(stmt, (ast.If, ast.Try)):
                yield from self.edits(stmt.body)

    def value(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value if node.value.startswith("/") else os.path.join(os.path.dirname(self.file), node.value)
        if isinstance(node, ast.Name):
            return self.file if node.id == "__file__" else self.names.get(node.id)
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            values = [self.value(a) if not (isinstance(a, ast.Constant) and isinstance(a.value, str)) else a.value for a in node.args]
            args = [a for a in values if a is not None]
            if len(args) != len(values):
                return None
            if name in ("os.path.dirname",) and len(args) == 1:
                return os.path.dirname(args[0])
            if name in ("os.path.abspath", "os.path.realpath", "os.path.normpath", "str", "Path", "pathlib.Path") and len(args) == 1:
                return os.path.normpath(args[0])
            if name == "os.path.join" and args:
                return os.path.join(*args)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("resolve", "absolute") and not args:
                return self.value(node.func.value)
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            inner = self.value(node.value)
            return os.path.dirname(inner) if inner else None
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "parents":
            inner = self.value(node.value.value)
            if inner and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                for _ in range(node.slice.value + 1):
                    inner = os.path.dirname(inner)
                return inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            left, right = self.value(node.left), node.right
            if left and isinstance(right, ast.Constant) and isinstance(right.value, str):
                return os.path.join(left, right.value)
        return None


# ---- names found nowhere else ----------------------------------------------------------


def _with_searched_packages(tree: _Tree, roots: list[Folder], dags: list[Folder]) -> tuple[list[Folder], list[str]]:
    """A top-level name that DAG or plugin code imports, that no root holds, but that is a
    top-level package somewhere in the repository (its parent folder is no package): that
    parent folder becomes a root, and the report says so."""
    packages: dict[str, list[str]] = {}
    for path in tree.files:
        if path.endswith("/__init__.py"):
            package_dir = path.rpartition("/")[0]
            parent, _, name = package_dir.rpartition("/")
            if f"{parent}/__init__.py" not in tree.file_set:
                packages.setdefault(name, []).append(parent)
    wanted: set[str] = set()
    for path in _files_under(tree, [r for r in roots if r.path] or dags):
        for match in _IMPORT_LINE.finditer(tree.read(path)):
            if match.group(1):
                wanted.add(match.group(1).decode())
            else:
                wanted.update(part.strip().split(".")[0].split()[0] for part in match.group(2).decode().split(","))
    held = {p for p in roots}
    warnings = []
    extra: list[Folder] = []
    for name in sorted(wanted - INSTALLED_TOP_NAMES):
        if name not in packages or _resolves(tree, name, [r.path for r in roots + extra]):
            continue
        candidates = [p for p in packages[name] if not tree.in_tests(p)] or packages[name]
        depth = min(c.count("/") + (c != "") for c in candidates)
        shallowest = sorted(c for c in candidates if c.count("/") + (c != "") == depth)
        if len(shallowest) > 1:
            warnings.append(f"package {name!r} exists in several folders ({', '.join(s or '.' for s in shallowest)}); imports use {shallowest[0] or '.'}")
        folder = Folder(shallowest[0], f"holds package {name!r}, imported by the code and found on no other root")
        if folder not in held:
            extra.append(folder)
    return _unique(roots + extra), warnings


def _resolves(tree: _Tree, name: str, roots: list[str]) -> bool:
    for root in roots:
        base = f"{root}/{name}" if root else name
        if base in tree.dirs or f"{base}.py" in tree.file_set:
            return True
    return False
