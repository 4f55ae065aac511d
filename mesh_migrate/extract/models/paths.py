"""Paths: `__file__`, os.path, pathlib, directory listings and globs, inside the repository.

Code that builds DAG ids from its own file name or from the folders beside it runs the same
here as under Airflow: `__file__` is the file's absolute path, and listings are read from
the repository. A path outside it (a deployment path such as /home/airflow/gcs/dags/...) is
mapped to the repository file whose trailing parts match, or stays unknown.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..values import MISSING, BoundBuiltin, ModelValue, Unknown
from . import Call, model

MAX_LISTING = 5000


@dataclass(frozen=True, order=True)
class PathValue(ModelValue):
    """A pathlib.Path with a known, absolute, normalised value."""

    path: str
    static = True

    def __str__(self) -> str:
        return self.path

    def __format__(self, spec: str) -> str:
        return format(self.path, spec)

    def __fspath__(self) -> str:
        return self.path

    def get_attribute(self, name: str) -> Any:
        if name == "name":
            return posixpath.basename(self.path)
        if name == "stem":
            return posixpath.splitext(posixpath.basename(self.path))[0]
        if name == "suffix":
            return posixpath.splitext(self.path)[1]
        if name == "parent":
            return PathValue(posixpath.dirname(self.path))
        if name == "parents":
            return [PathValue(p) for p in _ancestors(self.path)]
        if name == "parts":
            return tuple(Path(self.path).parts)
        if name in _METHODS:
            return BoundBuiltin(self, name)
        return MISSING

    def call_method(self, name: str, call: Call) -> Any:
        if call.first_unknown():
            return call.first_unknown()
        if name in ("resolve", "absolute", "expanduser"):
            return self
        if name == "joinpath":
            return self.join(*call.args)
        if name == "with_suffix":
            return PathValue(posixpath.splitext(self.path)[0] + str(call.arg(0, "suffix", "")))
        if name == "with_name":
            return PathValue(posixpath.join(posixpath.dirname(self.path), str(call.arg(0, "name", ""))))
        if name == "relative_to":
            return PathValue(posixpath.relpath(self.path, str(call.args[0]))) if call.args else MISSING
        files = RepoFiles.of(call)
        if name in ("exists", "is_dir", "is_file"):
            return files.test(self.path, name, call)
        if name == "iterdir":
            return files.listing(self.path, call, lambda entry: PathValue(posixpath.join(self.path, entry)))
        if name in ("glob", "rglob"):
            pattern = str(call.arg(0, "pattern", "*"))
            return files.glob(self.path, pattern if name == "glob" else f"**/{pattern}", call, wrap=PathValue)
        if name == "read_text":
            return files.read_text(self.path, call)
        if name == "open":
            from .datafiles import FileValue

            return FileValue(self.path)
        return MISSING

    def join(self, *parts: Any) -> Any:
        path = self.path
        for part in parts:
            if not isinstance(part, (str, PathValue)):
                return Unknown(str(part), "path part is not static")
            path = posixpath.join(path, str(part))
        return PathValue(posixpath.normpath(path))


_METHODS = {"resolve", "absolute", "expanduser", "joinpath", "with_suffix", "with_name", "relative_to", "exists", "is_dir", "is_file", "iterdir", "glob", "rglob", "read_text", "open"}


def _ancestors(path: str) -> list[str]:
    out = []
    while posixpath.dirname(path) != path:
        path = posixpath.dirname(path)
        out.append(path)
    return out


class RepoFiles:
    """The repository's files as the analyzed code sees them: read-only, never outside.
    One per extraction run (kept on its workspace), so deployment paths are matched
    against one listing of the repository."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._by_name: dict[str, list[str]] | None = None  # last part -> repository paths
        self._located: dict[str, Path | None] = {}

    @classmethod
    def of(cls, call: Call) -> RepoFiles:
        workspace = call.interp.ws
        if getattr(workspace, "repo_files", None) is None:
            workspace.repo_files = cls(workspace.root)
        return workspace.repo_files

    def locate(self, path: str) -> Path | None:
        """The repository path for a path the code names; None when it is outside, or
        relative (it then depends on the folder Airflow runs in)."""
        if not path.startswith("/"):
            return None
        if path not in self._located:
            self._located[path] = self._locate(posixpath.normpath(path))
        return self._located[path]

    def _locate(self, path: str) -> Path | None:
        candidate = Path(path)
        try:
            resolved = candidate.resolve()
            resolved.relative_to(self.root)
            return resolved
        except (ValueError, OSError):
            pass
        # A deployment path: the repository file or folder whose trailing parts match it.
        parts = candidate.parts[1:]
        if not parts:
            return None
        named = self._names().get(parts[-1], [])
        for depth in range(len(parts) - 1, 1, -1):
            tail = "/".join(parts[-depth:])
            matches = [p for p in named if p == tail or p.endswith("/" + tail)]
            if len(matches) == 1:
                return self.root / matches[0]
            if matches:
                return None
        return None

    def _names(self) -> dict[str, list[str]]:
        if self._by_name is None:
            self._by_name = {}
            for current, dirs, files in os.walk(self.root):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                rel = os.path.relpath(current, self.root)
                for name in dirs + files:
                    self._by_name.setdefault(name, []).append(name if rel == "." else f"{rel}/{name}")
        return self._by_name

    def display(self, path: str) -> str:
        """A path as reports show it: relative to the repository when inside it."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path

    def test(self, path: str, how: str, call: Call) -> Any:
        found = self.locate(path)
        if found is None:
            return call.unknown(f"{path} is outside the repository")
        return {"exists": found.exists, "is_dir": found.is_dir, "is_file": found.is_file}[how]()

    def listing(self, path: str, call: Call, wrap: Any = str) -> Any:
        found = self.locate(path)
        if found is None or not found.is_dir():
            return call.unknown(f"lists {path}, which is not a folder of the repository")
        names = sorted(os.listdir(found))[:MAX_LISTING + 1]
        if len(names) > MAX_LISTING:
            return call.unknown(f"lists more than {MAX_LISTING} entries")
        return [wrap(name) for name in names if not name.startswith(".git")]

    def glob(self, base: str, pattern: str, call: Call, wrap: Any = str) -> Any:
        found = self.locate(base)
        if found is None or not found.is_dir():
            return call.unknown(f"globs {posixpath.join(base, pattern)}, which is not in the repository")
        matches: list[Any] = []
        for match in sorted(found.glob(pattern)):
            if len(matches) > MAX_LISTING:
                return call.unknown(f"globs more than {MAX_LISTING} entries")
            matches.append(wrap(posixpath.join(base, match.relative_to(found).as_posix())))
        return matches

    def read_text(self, path: str, call: Call, limit: int = 2_000_000) -> Any:
        found = self.locate(path)
        if not path.startswith("/"):
            return call.unknown(f"reads {path!r}, a relative path: it depends on the folder Airflow runs in")
        if found is None or not found.is_file():
            return call.unknown(f"reads {path}, which is not a file of the repository")
        if found.stat().st_size > limit:
            return call.unknown(f"reads {path}, larger than {limit // 1_000_000} MB")
        try:
            return found.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return call.unknown(f"cannot read {path}: {exc}")


def _strings(call: Call) -> list[str] | Unknown:
    unknown = call.first_unknown()
    if unknown:
        return unknown
    if not all(isinstance(a, (str, PathValue)) for a in call.args):
        return call.unknown("path is not static")
    return [str(a) for a in call.args]


@model("os.path.basename", "os.path.dirname", "os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.splitext", "os.path.split", "os.path.join", "posixpath.join", "os.path.relpath", "os.path.expanduser")
def os_path(call: Call) -> Any:
    args = _strings(call)
    if isinstance(args, Unknown):
        return args
    name = call.qualname.rpartition(".")[2]
    functions: dict[str, Callable[..., Any]] = {
        "basename": posixpath.basename, "dirname": posixpath.dirname, "abspath": posixpath.normpath,
        "realpath": posixpath.normpath, "normpath": posixpath.normpath, "splitext": posixpath.splitext,
        "split": posixpath.split, "join": posixpath.join, "relpath": posixpath.relpath, "expanduser": lambda p: p,
    }
    function = functions.get(name)
    if function is None:
        return call.unknown("cannot compute this path statically")
    try:
        return function(*args)
    except (TypeError, ValueError):
        return call.unknown("cannot compute this path statically")


@model("os.path.exists", "os.path.isdir", "os.path.isfile")
def os_path_test(call: Call) -> Any:
    args = _strings(call)
    if isinstance(args, Unknown) or len(args) != 1:
        return args if isinstance(args, Unknown) else call.unknown("path test with several arguments")
    how = {"exists": "exists", "isdir": "is_dir", "isfile": "is_file"}[call.qualname.rpartition(".")[2]]
    return RepoFiles.of(call).test(args[0], how, call)


@model("os.listdir")
def listdir(call: Call) -> Any:
    args = _strings(call)
    return args if isinstance(args, Unknown) else RepoFiles.of(call).listing(args[0] if args else ".", call)


@model("glob.glob", "glob.iglob")
def glob_glob(call: Call) -> Any:
    args = _strings(call)
    if isinstance(args, Unknown) or not args:
        return args if isinstance(args, Unknown) else call.unknown("glob without a pattern")
    pattern = args[0]
    base = pattern.split("*")[0].split("?")[0].split("[")[0]
    base = base if base.endswith("/") else posixpath.dirname(base)
    rest = pattern[len(base):].lstrip("/")
    if not call.kwargs.get("recursive"):
        rest = rest.replace("**", "*")
    return RepoFiles.of(call).glob(base.rstrip("/") or "/", rest, call)


@model("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath")
def path(call: Call) -> Any:
    args = _strings(call)
    if isinstance(args, Unknown):
        return args
    if not args:
        return call.unknown("the current directory depends on where Airflow runs")
    joined = posixpath.join(*args)
    if not joined.startswith("/"):
        return call.unknown(f"relative path {joined!r} depends on where Airflow runs")
    return PathValue(posixpath.normpath(joined))


def module_file(root: Path, rel_path: str) -> str:
    """The value of `__file__` in a repository module (REL_PATH normalized, as discovery and
    the module finder give it; joined as text: it is asked of every file)."""
    return posixpath.join(root.as_posix(), rel_path)


VALID = [
    ("result = os.path.splitext(os.path.basename(__file__))[0]", "example"),
    ("result = pathlib.Path(__file__).stem", "example"),
    ("result = pathlib.Path(__file__).parent.name", "pkg"),
    ("result = (pathlib.Path(__file__).parent / 'x.yaml').name", "x.yaml"),
    ("result = sorted(p.name for p in pathlib.Path(__file__).parent.iterdir() if p.suffix != '.yml')", ["example.py", "sub", "x.csv", "x.ini", "x.json", "x.yaml"]),
    ("result = [os.path.basename(p) for p in glob.glob(os.path.dirname(__file__) + '/*.yaml')]", ["x.yaml"]),
]
