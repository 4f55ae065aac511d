"""Finding and parsing the repository's own modules, as Airflow's sys.path would see them."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 10_000_000  # larger files are reported, not analyzed

# Python finds these in the standard library or site-packages before any folder Airflow adds
# to sys.path, so a repository folder of the same name (an `airflow/` deployment folder) never
# shadows them.
INSTALLED_TOP_NAMES = frozenset({"airflow", "astronomer", "pendulum"}) | frozenset(sys.stdlib_module_names)


@dataclass(eq=False)
class ModuleRef:
    """A module of the analyzed repository (executed statically on first use). Defined
    here, not among the values: finding modules (which a cached run does) then does not
    import the interpreter's values."""

    name: str
    path: str | None  # None for a namespace package (a folder without __init__.py)


@dataclass(frozen=True)
class ParseResult:
    tree: ast.Module | None
    error: str | None = None
    line: int = 0
    lines: list[str] = field(default_factory=list)


def decode_source(data: bytes) -> str:
    """UTF-8 with or without BOM; raises UnicodeDecodeError otherwise."""
    return data.decode("utf-8-sig")


def source_lines(text: str) -> list[str]:
    """Lines as Python numbers them. str.splitlines() also splits at form feeds (^L page
    breaks) and other separators, which would shift every line after them."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_source(data: bytes, path: str) -> ParseResult:
    try:
        text = decode_source(data)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ParseResult(None, f"not valid UTF-8 ({exc.reason})", line)
    if "\0" in text:
        return ParseResult(None, "contains a NUL byte", text[: text.index("\0")].count("\n") + 1)
    try:
        return ParseResult(ast.parse(text, filename=path), lines=source_lines(text))
    except SyntaxError as exc:
        from .newer_syntax import as_python_311  # libcst: only for the rare file 3.11 refuses

        rewritten = as_python_311(text) if "f-string" in (exc.msg or "") else None
        if rewritten is not None:
            try:
                return ParseResult(ast.parse(rewritten, filename=path), lines=source_lines(text))
            except SyntaxError:
                pass
        return ParseResult(None, f"syntax error: {exc.msg}", exc.lineno or 1)
    except RecursionError:  # `1 + 1 + ... + 1` thousands of times, `- - - ... 1`
        return ParseResult(None, "nested too deeply for Python's parser", 1)
    except (MemoryError, ValueError) as exc:
        return ParseResult(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, 1)


def _relative_prefix(root: Path, base: Path) -> str | None:
    """BASE as the text that starts the relative paths of the files below it: "" for ROOT,
    "dags/" for ROOT/dags; None for a folder outside ROOT, which holds none of its files."""
    try:
        relative = base.relative_to(root).as_posix()
    except ValueError:
        return None
    return "" if relative == "." else relative + "/"


def _stem(name: str) -> str:
    """A file name without its suffix, as pathlib reads one: "a.b.py" -> "a.b", ".py" -> ".py"."""
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


class ModuleFinder:
    """Maps dotted module names to files under the import roots (python_paths)."""

    def __init__(self, root: Path, python_paths: list[str]):
        self.root = root
        self.import_roots = [root / p for p in python_paths if p not in ("", ".")] + [root]
        # Each import root as the text that starts the relative paths of its files ("" for
        # the root itself): a module's name is asked of every file, and comparing text is a
        # small part of what joining and relating Path objects costs.
        self._root_prefixes = [_relative_prefix(root, base) for base in self.import_roots]
        self._cache: dict[str, ModuleRef | None] = {}

    def find(self, dotted: str) -> ModuleRef | None:
        if dotted not in self._cache:
            self._cache[dotted] = self._find(dotted)
        return self._cache[dotted]

    def _find(self, dotted: str) -> ModuleRef | None:
        """As Python's path finder: on each root in order, a package directory, then a
        module; a folder without __init__.py only when no root holds the name otherwise."""
        parts = dotted.split(".")
        if not all(p.isidentifier() for p in parts) or parts[0] in INSTALLED_TOP_NAMES:
            return None
        namespace = False
        for base in self.import_roots:
            candidate = base.joinpath(*parts)
            for path in (candidate / "__init__.py", candidate.with_suffix(".py")):
                if path.is_file() and self._inside(path):
                    return ModuleRef(dotted, path.relative_to(self.root).as_posix())
            namespace = namespace or (candidate.is_dir() and self._inside(candidate))
        return ModuleRef(dotted, None) if namespace else None

    def module_name(self, rel_path: str) -> str:
        """The dotted name a file is imported by, relative to the first import root holding
        it. REL_PATH is a normalized posix path relative to the root, as discovery gives it."""
        for prefix in self._root_prefixes:
            if prefix is not None and rel_path.startswith(prefix) and len(rel_path) > len(prefix):
                parts = rel_path[len(prefix) :].split("/")
                parts[-1] = _stem(parts[-1])
                if parts[-1] == "__init__":
                    parts.pop()
                return ".".join(parts)
        return _stem(rel_path.rpartition("/")[2])

    def _inside(self, path: Path) -> bool:
        try:
            path.resolve().relative_to(self.root.resolve())
        except (ValueError, OSError):
            return False
        return True
