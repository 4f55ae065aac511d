"""Find the Python files of a repository, leaving out what Airflow or git would.

The walk mirrors Airflow's DAG folder scan (``airflow.utils.file.find_path_from_directory``):
``.airflowignore`` files in either syntax, symlinks followed, ignored directories
never entered. On top of that it honours ``.gitignore`` files and user exclude globs.
Every path left out is reported with the rule that left it out, so a report can say
why a file was not analyzed. Nothing is opened here except ignore files.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .globs import GitWildMatch as _GitWildMatch

__all__ = ["ALWAYS_SKIPPED_DIRS", "AIRFLOWIGNORE_SYNTAXES", "Discovery", "Skipped", "discover"]

# Tool and cache directories: never analyzed, and too noisy to report.
ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git",
        "__pycache__",
        ".venv",
        "venv",
        "node_modules",
        ".mesh-migrate-cache",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
    }
)

# "regexp" is Airflow 2's default [core] dag_ignore_file_syntax, "glob" Airflow 3's.
AIRFLOWIGNORE_SYNTAXES = ("regexp", "glob")

# Airflow cuts each .airflowignore line at its first '#', even mid-line and in glob syntax.
_AIRFLOWIGNORE_COMMENT = re.compile(r"\s*#.*")

SYMLINK_LOOP = "symlink loop"
BROKEN_SYMLINK = "broken symlink"
OUTSIDE_REPOSITORY = "outside the repository"

_DIRECTORY, _FILE, _OTHER = "directory", "file", "other"


@dataclass(frozen=True)
class Skipped:
    path: str  # posix, relative to root
    reason: str


@dataclass(frozen=True)
class Discovery:
    root: Path  # absolute, resolved
    files: tuple[str, ...]  # sorted posix paths, relative to root, of every *.py file to analyze
    skipped: tuple[Skipped, ...]  # sorted by path; an ignored directory appears once, not per file


def discover(
    root: Path, *, exclude: Sequence[str] = (), airflowignore_syntax: str = "regexp"
) -> Discovery:
    """Walk ``root`` and return the Python files to analyze and what was left out, and why."""
    if isinstance(exclude, str):
        raise TypeError("exclude takes a sequence of globs, not a single string")
    if airflowignore_syntax not in AIRFLOWIGNORE_SYNTAXES:
        raise ValueError(
            f"unsupported .airflowignore syntax {airflowignore_syntax!r}; "
            f"expected one of {', '.join(AIRFLOWIGNORE_SYNTAXES)}"
        )
    walker = _Walker(_resolved_root(root), _exclude_rules(exclude), airflowignore_syntax)
    walker.walk()
    return Discovery(
        root=walker.root,
        files=tuple(sorted(walker.files)),
        skipped=tuple(sorted(walker.skipped, key=lambda item: (item.path, item.reason))),
    )


def _resolved_root(root: Path) -> Path:
    path = Path(root)
    if not path.exists():
        raise FileNotFoundError(f"repository root does not exist: {path}")
    if not path.is_dir():
        raise NotADirectoryError(f"repository root is not a directory: {path}")
    return path.resolve()


# --- ignore rules -------------------------------------------------------------------


@dataclass(frozen=True)
class _GlobRule:
    """One gitwildmatch line (.gitignore, glob .airflowignore or exclude), compiled once."""

    regex: re.Pattern[str]
    negated: bool
    directory_only: bool  # trailing '/': never matches a file
    basename_only: bool  # no inner '/': matches the name at any depth, as in git
    base: str  # directory the pattern is relative to; "" is the root
    origin: str  # what Skipped.reason says when this rule ignores a path


@dataclass(frozen=True)
class _RegexpRule:
    """One regexp .airflowignore line; Airflow ``re.search``es it in the relative path."""

    regex: re.Pattern[str]
    origin: str


@dataclass(frozen=True)
class _Scope:
    """The ignore rules in force in one directory; its subdirectories inherit them."""

    gitignore: tuple[_GlobRule, ...] = ()
    airflowignore_glob: tuple[_GlobRule, ...] = ()
    airflowignore_regexp: tuple[_RegexpRule, ...] = ()
    # Airflow matches regexp rules against the path relative to the DAG folder, for
    # nested .airflowignore files too. The DAG folder is not known statically, so the
    # directory of the outermost .airflowignore stands in for it.
    dag_folder: str | None = None


def _compile_glob(line: str, base: str, origin: str) -> _GlobRule | None:
    try:
        pattern = _GitWildMatch(line)
    except ValueError:  # git drops patterns it cannot parse
        return None
    if pattern.include is None or pattern.regex is None:  # blank, comment or a lone "/"
        return None
    text = line.rstrip()
    if text.startswith("!"):
        text = text[1:]
    return _GlobRule(
        regex=pattern.regex,
        negated=not pattern.include,
        directory_only=text.endswith("/"),
        basename_only="/" not in text.rstrip("/"),
        base=base,
        origin=origin,
    )


def _exclude_rules(patterns: Sequence[str]) -> tuple[_GlobRule, ...]:
    rules = (
        _compile_glob(pattern.removeprefix("./"), "", f"exclude glob {pattern}")
        for pattern in patterns
    )
    return tuple(rule for rule in rules if rule is not None)


def _gitignore_rules(text: str, directory: str, file_path: str) -> tuple[_GlobRule, ...]:
    rules = (
        _compile_glob(line, directory, f".gitignore ({file_path}:{number}: {line.strip()})")
        for number, line in enumerate(text.splitlines(), start=1)
    )
    return tuple(rule for rule in rules if rule is not None)


def _airflowignore_lines(text: str, file_path: str) -> list[tuple[str, str]]:
    """(pattern, origin) for each rule line, read the way Airflow reads them."""
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        pattern = _AIRFLOWIGNORE_COMMENT.sub("", line)
        if pattern:
            lines.append((pattern, f".airflowignore ({file_path}:{number}: {pattern.strip()})"))
    return lines


def _airflowignore_glob_rules(text: str, directory: str, file_path: str) -> tuple[_GlobRule, ...]:
    rules = (
        _compile_glob(pattern, directory, origin)
        for pattern, origin in _airflowignore_lines(text, file_path)
    )
    return tuple(rule for rule in rules if rule is not None)


def _airflowignore_regexp_rules(text: str, file_path: str) -> tuple[_RegexpRule, ...]:
    rules = []
    for pattern, origin in _airflowignore_lines(text, file_path):
        try:
            rules.append(_RegexpRule(re.compile(pattern), origin))
        except re.error:  # Airflow logs and drops invalid regexps
            continue
    return tuple(rules)


def _relative(path: str, base: str) -> str:
    return path[len(base) + 1 :] if base else path


def _glob_verdict(
    rules: Sequence[_GlobRule],
    path: str,
    name: str,
    is_dir: bool,
    *,
    slash_every_directory: bool = False,
) -> str | None:
    """Origin of the rule that ignores ``path``; the last matching rule wins, as in git.

    Git tests a directory with a trailing '/' only against directory patterns (so
    ``build/**`` leaves ``build`` itself walkable); Airflow's glob syntax always adds
    it (so ``build/**`` prunes ``build``): ``slash_every_directory`` picks the latter.
    """
    for rule in reversed(rules):
        if rule.directory_only and not is_dir:
            continue
        subject = name if rule.basename_only else _relative(path, rule.base)
        if is_dir and (rule.directory_only or slash_every_directory):
            subject += "/"
        if rule.regex.match(subject) is not None:
            return None if rule.negated else rule.origin
    return None


def _regexp_verdict(rules: Sequence[_RegexpRule], subject: str) -> _RegexpRule | None:
    """The first matching rule: regexp syntax has no negation, so any match ignores."""
    for rule in rules:
        if rule.regex.search(subject) is not None:
            return rule
    return None


# --- the walk -----------------------------------------------------------------------


@dataclass(frozen=True)
class _PendingLink:
    """A symlinked directory, walked after the real tree so real paths win duplicates."""

    path: str
    absolute: str
    real: str
    scope: _Scope
    chain: tuple[str, ...]  # real paths of the directories above it


def _kind_of(entry: os.DirEntry[str]) -> str:
    """ "directory", "file", "other", or why a symlink cannot be followed.

    Symlinks are followed like ``os.walk(followlinks=True)`` does.
    """
    if not entry.is_symlink():
        # d_type answers these without a stat call per file.
        if entry.is_dir(follow_symlinks=False):
            return _DIRECTORY
        return _FILE if entry.is_file(follow_symlinks=False) else _OTHER
    try:
        mode = os.stat(entry.path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return SYMLINK_LOOP
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return BROKEN_SYMLINK
        return f"unreadable: {error.strerror}"
    if stat.S_ISDIR(mode):
        return _DIRECTORY
    return _FILE if stat.S_ISREG(mode) else _OTHER


def _is_python_file(name: str) -> bool:
    # Same test as Airflow's ``Path.suffix == ".py"``: a bare ".py" has no suffix.
    return os.path.splitext(name)[1] == ".py"


def _is_within(real: str, root: str) -> bool:
    return os.path.commonpath([real, root]) == root


def _read_ignore_file(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as ignore_file:
        return ignore_file.read()


class _Walker:
    """Mutable state of one walk; ``discover`` turns it into an immutable Discovery."""

    def __init__(self, root: Path, exclude: tuple[_GlobRule, ...], syntax: str) -> None:
        self.root = root
        self.root_path = str(root)
        self.exclude = exclude
        self.syntax = syntax
        self.files: list[str] = []
        self.skipped: list[Skipped] = []
        self.walked: dict[str, str] = {}  # real directory -> the path it was walked as
        self.pending_links: list[_PendingLink] = []

    def walk(self) -> None:
        self._walk_directory("", self.root_path, self.root_path, _Scope(), ())
        # Links found while walking links are walked in later rounds, each round in
        # path order, so the outcome never depends on the order scandir yields.
        while self.pending_links:
            batch = sorted(self.pending_links, key=lambda link: link.path)
            self.pending_links = []
            for link in batch:
                self._walk_subdirectory(link.path, link.absolute, link.real, link.scope, link.chain)

    def _skip(self, path: str, reason: str) -> None:
        self.skipped.append(Skipped(path, reason))

    def _walk_subdirectory(
        self, path: str, absolute: str, real: str, scope: _Scope, chain: tuple[str, ...]
    ) -> None:
        if real in chain:
            self._skip(path, SYMLINK_LOOP)
            return
        if real in self.walked:
            self._skip(path, f"already walked as {self.walked[real]}")
            return
        blanket_reason = self._reason_for_everything_below(path, scope)
        if blanket_reason is None:
            self._walk_directory(path, absolute, real, scope, chain)
            return
        # Some rules leave a directory walkable but match what is inside it: a regexp
        # "sandbox/" (Airflow tests the directory as "sandbox") or a glob "build/**".
        # Walk it, since a later rule may keep something, then report the directory
        # once if that rule left out everything in it.
        marks = (len(self.files), len(self.skipped), len(self.pending_links), len(self.walked))
        self._walk_directory(path, absolute, real, scope, chain)
        files_mark, skipped_mark, pending_mark, walked_mark = marks
        left_out = self.skipped[skipped_mark:]
        if (
            len(self.files) == files_mark
            and len(self.pending_links) == pending_mark
            and all(item.reason == blanket_reason for item in left_out)
        ):
            del self.skipped[skipped_mark:]
            for walked_real in list(self.walked)[walked_mark:]:
                del self.walked[walked_real]
            self._skip(path, blanket_reason)

    def _walk_directory(
        self, path: str, absolute: str, real: str, scope: _Scope, chain: tuple[str, ...]
    ) -> None:
        self.walked[real] = path or "."
        try:
            with os.scandir(absolute) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            self._skip(path or ".", f"unreadable: {error.strerror}")
            return
        scope = self._scope_inside(path, scope, {entry.name: entry for entry in entries})
        chain = (*chain, real)
        for entry in entries:
            self._visit(entry, path, scope, chain)

    def _scope_inside(
        self, path: str, scope: _Scope, entries: dict[str, os.DirEntry[str]]
    ) -> _Scope:
        """Add the rules of this directory's own ignore files, read once per directory."""
        gitignore_text = self._ignore_file_text(path, entries.get(".gitignore"))
        airflowignore_text = self._ignore_file_text(path, entries.get(".airflowignore"))
        if gitignore_text is None and airflowignore_text is None:
            return scope
        gitignore = scope.gitignore
        if gitignore_text is not None:
            gitignore += _gitignore_rules(gitignore_text, path, _join(path, ".gitignore"))
        if airflowignore_text is None:
            return replace(scope, gitignore=gitignore)
        file_path = _join(path, ".airflowignore")
        if self.syntax == "glob":
            rules = _airflowignore_glob_rules(airflowignore_text, path, file_path)
            return replace(
                scope, gitignore=gitignore, airflowignore_glob=scope.airflowignore_glob + rules
            )
        regexp_rules = _airflowignore_regexp_rules(airflowignore_text, file_path)
        return replace(
            scope,
            gitignore=gitignore,
            airflowignore_regexp=scope.airflowignore_regexp + regexp_rules,
            dag_folder=path if scope.dag_folder is None else scope.dag_folder,
        )

    def _ignore_file_text(self, directory: str, entry: os.DirEntry[str] | None) -> str | None:
        if entry is None:
            return None
        try:
            if not entry.is_file():
                return None
            return _read_ignore_file(entry.path)
        except OSError as error:
            self._skip(_join(directory, entry.name), f"unreadable: {error.strerror}")
            return None

    def _visit(
        self, entry: os.DirEntry[str], parent: str, scope: _Scope, chain: tuple[str, ...]
    ) -> None:
        name = entry.name
        if name in ALWAYS_SKIPPED_DIRS:
            return
        kind = _kind_of(entry)
        if kind == _OTHER or (kind == _FILE and not _is_python_file(name)):
            return
        path = _join(parent, name)
        is_dir = kind == _DIRECTORY
        # A link that cannot be followed is matched as a file: an ignore rule names it first.
        reason = self._ignore_reason(path, name, is_dir, scope)
        if reason is not None:
            self._skip(path, reason)
            return
        if kind not in (_DIRECTORY, _FILE):
            self._skip(path, kind)
            return
        real = os.path.join(chain[-1], name)
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not _is_within(real, self.root_path):
                self._skip(path, OUTSIDE_REPOSITORY)
                return
            if is_dir:
                self.pending_links.append(_PendingLink(path, entry.path, real, scope, chain))
                return
        if is_dir:
            self._walk_subdirectory(path, entry.path, real, scope, chain)
        else:
            self.files.append(path)

    def _ignore_reason(self, path: str, name: str, is_dir: bool, scope: _Scope) -> str | None:
        return (
            _glob_verdict(self.exclude, path, name, is_dir)
            or self._airflowignore_reason(path, name, is_dir, scope)
            or _glob_verdict(scope.gitignore, path, name, is_dir)
        )

    @staticmethod
    def _airflowignore_reason(path: str, name: str, is_dir: bool, scope: _Scope) -> str | None:
        if scope.airflowignore_glob:
            return _glob_verdict(
                scope.airflowignore_glob, path, name, is_dir, slash_every_directory=True
            )
        if scope.airflowignore_regexp:
            subject = _relative(path, scope.dag_folder or "")
            rule = _regexp_verdict(scope.airflowignore_regexp, subject)
            return rule.origin if rule is not None else None
        return None

    def _reason_for_everything_below(self, path: str, scope: _Scope) -> str | None:
        """The reason that would apply to ``path/``: likely the reason for all below it."""
        name = path.rpartition("/")[2]
        regexp_rule = None
        if scope.airflowignore_regexp:
            subject = _relative(path, scope.dag_folder or "") + "/"
            regexp_rule = _regexp_verdict(scope.airflowignore_regexp, subject)
        return (
            _glob_verdict(self.exclude, path, name, True, slash_every_directory=True)
            or (regexp_rule.origin if regexp_rule is not None else None)
            or _glob_verdict(scope.gitignore, path, name, True, slash_every_directory=True)
        )


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
