"""Rule packs: the declarative list of what defines DAGs and cross-DAG dependencies.

The shipped pack lives in the top-level `rules/` folder (installed as the
`mesh_migrate.rules` package data); a repository adds its own files through mesh.yaml.
Every file is checked in full when the pack loads, and all problems reported together.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

from .kinds import DependencyKind, merge_kinds, read_kinds, undeclared
from .rewrite_rules import REWRITES, RewriteRules, check_class_kinds, check_section, merge_sections
from .yamlio import ConfigError, ConfigProblem, Located, parse_yaml

DIRECTIONS = ("upstream", "downstream")


@dataclass(frozen=True)
class DependencyRule:
    """Calls to `callables` create a dependency of `kind` on the DAG named by `dag_argument`."""

    name: str
    kind: str
    callables: tuple[str, ...]
    dag_keyword: str
    dag_position: int | None
    direction: str  # "upstream": the named DAG is waited on (source); "downstream": it is the target
    task_arguments: tuple[str, ...] = ()
    group_argument: str | None = None
    origin: str = ""  # "<rule file>:<line>"
    # A regex the argument must match, whose group "dag_id" (or first group) is the DAG:
    # for calls that name a DAG inside a longer string, like an HTTP endpoint.
    dag_pattern: re.Pattern | None = None


ACCESSES = ("read", "write")


@dataclass(frozen=True)
class CloudKeywordRule:
    """Keywords naming a cloud resource of `kind`, on `callables` (fnmatch; empty: any call)."""

    kind: str
    keywords: tuple[str, ...]
    callables: tuple[str, ...] = ()
    project_keywords: tuple[str, ...] = ()  # their value qualifies the name: project.dataset
    origin: str = ""

    def applies(self, keyword: str, qualname: str | None) -> bool:
        if not _matches_any(self.keywords, keyword):
            return False
        return not self.callables or (qualname is not None and _matches_any(self.callables, qualname))


@dataclass(frozen=True)
class CloudAccessRule:
    """Resources named by `keywords` (fnmatch) of `callables` (fnmatch) are read or written."""

    access: str
    keywords: tuple[str, ...] = ()
    callables: tuple[str, ...] = ()
    origin: str = ""

    def applies(self, keyword: str, qualname: str | None) -> bool:
        if self.keywords and not _matches_any(self.keywords, keyword):
            return False
        return not self.callables or (qualname is not None and _matches_any(self.callables, qualname))


@dataclass(frozen=True)
class RulePack:
    dag_constructors: frozenset[str] = frozenset()
    dag_decorators: frozenset[str] = frozenset()
    task_decorators: frozenset[str] = frozenset()
    task_groups: frozenset[str] = frozenset()
    task_group_decorators: frozenset[str] = frozenset()
    dataset_callables: frozenset[str] = frozenset()
    dataset_conditions: frozenset[str] = frozenset()
    dependencies: tuple[DependencyRule, ...] = ()
    connection_keywords: tuple[str, ...] = ()
    connection_getters: frozenset[str] = frozenset()
    variable_getters: frozenset[str] = frozenset()
    pool_keywords: tuple[str, ...] = ()
    parse_time_sources: tuple[tuple[str, str], ...] = ()  # (callable, reason)
    cloud_keywords: tuple[CloudKeywordRule, ...] = ()
    cloud_uri_schemes: tuple[tuple[str, str], ...] = ()  # (scheme, kind): gs -> gcs_bucket
    cloud_access: tuple[CloudAccessRule, ...] = ()  # the first that applies decides
    # The deployment analyzed (mesh.yaml `environment`): what parse-time reads of environment
    # and Airflow Variables give. Part of the fingerprint, so cached facts follow it.
    environment: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)
    fingerprint: str = ""
    rewrites: RewriteRules | None = field(default=None, compare=False)  # see rules/rewrites.yaml
    kinds: dict[str, DependencyKind] = field(default_factory=dict, compare=False)  # see rules/kinds.yaml
    _by_callable: dict[str, DependencyRule] = field(default_factory=dict, compare=False, repr=False)

    def dependency_rule(self, qualname: str) -> DependencyRule | None:
        return self._by_callable.get(qualname)

    def is_dataset_hook(self, qualname: str) -> bool:
        """The helper module's hook that posts a task's dataset events to other instances."""
        return qualname == self._dataset_hook

    @cached_property
    def _dataset_hook(self) -> str | None:
        found = self.rewrites
        return f"{found.helper_module}.{found.hook_function}" if found is not None else None

    def kind(self, name: str) -> DependencyKind:
        """What a dependency kind means; loading refuses a rule whose kind no file declares."""
        return self.kinds.get(name) or undeclared(name)

    def with_environment(self, variables: dict[str, str], airflow_variables: dict[str, Any]) -> RulePack:
        if not variables and not airflow_variables:
            return self
        environment = {"variables": dict(variables), "airflow_variables": dict(airflow_variables)}
        digest = hashlib.sha256((self.fingerprint + json.dumps(environment, sort_keys=True, default=str)).encode()).hexdigest()
        return replace(self, environment=environment, fingerprint=digest)

    def parse_time_reason(self, qualname: str) -> str | None:
        for name, reason in self.parse_time_sources:
            if name == qualname:
                return reason
        return None

    @cached_property
    def resource_keyword_kinds(self) -> dict[str, str | None]:
        """Per keyword, "connection" or "pool" when it names one, else None: read for every
        keyword of every call, so a plain lookup once a keyword was seen."""
        return PerKey(_resource_kind, self.connection_keywords, self.pool_keywords)

    @cached_property
    def cloud_rules_naming(self) -> dict[str, tuple[CloudKeywordRule, ...]]:
        """Per keyword, the cloud keyword rules whose keywords it matches, on whatever call:
        none for nearly every keyword, so the rules need not be asked about the call."""
        return PerKey(_cloud_rules_naming, self.cloud_keywords)

    @cached_property
    def call_roles(self) -> dict[str, str | None]:
        """Per qualified name, what a call of it makes by these rules ("dag", "task group",
        "dataset", ...; see _call_role), or None: asked of every library call."""
        return PerKey(_call_role, self)

    def cloud_keyword_rule(self, keyword: str, qualname: str | None) -> CloudKeywordRule | None:
        """The first keyword rule for KEYWORD on a call of QUALNAME (worked out once per pair)."""
        if not self.cloud_rules_naming[keyword]:
            return None
        return self._cloud_rule_of[keyword, qualname]

    def cloud_access_of(self, keyword: str, qualname: str | None) -> str | None:
        """Read or write, by the first access rule that applies (worked out once per pair)."""
        return self._cloud_access_of[keyword, qualname]

    def is_task_decorator(self, qualname: str) -> bool:
        """`task` itself or any of its attributes (`task.virtualenv`, `task.bash`)."""
        return self._task_decorator[qualname]

    @cached_property
    def _cloud_rule_of(self) -> dict[tuple[str, str | None], CloudKeywordRule | None]:
        return PerKey(_first_cloud_rule, self.cloud_rules_naming)

    @cached_property
    def _cloud_access_of(self) -> dict[tuple[str, str | None], str | None]:
        return PerKey(_first_cloud_access, self.cloud_access)

    @cached_property
    def _task_decorator(self) -> dict[str, bool]:
        return PerKey(_names_a_task_decorator, self.task_decorators)


class PerKey(dict):
    """A dict that works out a missing key's value on first use: COMPUTE(key, *CONTEXT).
    A module function and plain data, so a rule pack in use still pickles (spawned workers)."""

    def __init__(self, compute: Callable[..., Any], *context: Any):
        super().__init__()
        self._compute = compute
        self._context = context

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._compute(key, *self._context)
        return value


def _call_role(qualname: str, rules: RulePack) -> str | None:
    """The first role the rules give QUALNAME, in the order the interpreter asks them."""
    roles: tuple[tuple[str, Callable[[str], bool]], ...] = (
        ("task group decorator", rules.task_group_decorators.__contains__),
        ("dag", rules.dag_constructors.__contains__),
        ("dag decorator", rules.dag_decorators.__contains__),
        ("task decorator", rules.is_task_decorator),
        ("task group", rules.task_groups.__contains__),
        ("dataset", rules.dataset_callables.__contains__),
        ("dataset condition", rules.dataset_conditions.__contains__),
        ("dataset hook", rules.is_dataset_hook),
    )
    return next((role for role, names in roles if names(qualname)), None)


def _first_cloud_rule(key: tuple[str, str | None], naming: dict[str, tuple[CloudKeywordRule, ...]]) -> CloudKeywordRule | None:
    keyword, qualname = key
    return next((rule for rule in naming[keyword] if rule.applies(keyword, qualname)), None)


def _first_cloud_access(key: tuple[str, str | None], rules: tuple[CloudAccessRule, ...]) -> str | None:
    keyword, qualname = key
    return next((rule.access for rule in rules if rule.applies(keyword, qualname)), None)


def _names_a_task_decorator(qualname: str, decorators: frozenset[str]) -> bool:
    parts = qualname.split(".")
    return any(".".join(parts[:end]) in decorators for end in range(len(parts), 0, -1))


def _resource_kind(keyword: str, connection_keywords: tuple[str, ...], pool_keywords: tuple[str, ...]) -> str | None:
    return "connection" if _matches_any(connection_keywords, keyword) else "pool" if keyword in pool_keywords else None


def _cloud_rules_naming(keyword: str, rules: tuple[CloudKeywordRule, ...]) -> tuple[CloudKeywordRule, ...]:
    return tuple(rule for rule in rules if _matches_any(rule.keywords, keyword))


@lru_cache(maxsize=4096)
def _matches_any(patterns: tuple[str, ...], keyword: str) -> bool:
    return any(fnmatchcase(keyword, pattern) for pattern in patterns)


_LIST_KEYS = {
    "dag_constructors",
    "dag_decorators",
    "task_decorators",
    "task_groups",
    "task_group_decorators",
}
_TOP_KEYS = _LIST_KEYS | {"version", "datasets", "dependencies", "resources", "parse_time_sources", "rewrites", "cloud_resources", "kinds", "kind_defaults"}
_RULE_KEYS = {"name", "kind", "direction", "callables", "dag_argument", "task_arguments", "group_argument"}
_DATASET_KEYS = {"callables", "conditions"}
_RESOURCE_KEYS = {"connection_keywords", "connection_getters", "variable_getters", "pool_keywords"}
_CLOUD_KEYS = {"keywords", "uris", "access"}
_CLOUD_KEYWORD_KEYS = {"kind", "keywords", "callables", "project_keywords"}
_CLOUD_ACCESS_KEYS = {"access", "keywords", "callables"}


def shipped_folder() -> Any:
    """The shipped rule pack's folder: a plain path when the package is on disk, as pip
    installs it (importlib.resources and the zipfile module it imports cost a few ms a
    run), else what importlib.resources finds (a zipped package)."""
    shipped = importlib.import_module("mesh_migrate.rules").__file__
    folder = Path(shipped).parent if shipped else None
    if folder is not None and folder.is_dir():
        return folder
    from importlib import resources

    return resources.files("mesh_migrate.rules")


def shipped_rule_files() -> list[tuple[str, str]]:
    """(display name, text) of every rule file shipped with the package, sorted."""
    folder = shipped_folder()
    found = [
        (f"rules/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    ]
    return sorted(found)


def load_rule_pack(extra_files: Sequence[tuple[str, Path]] = ()) -> RulePack:
    """The shipped pack merged with a repository's own rule files; ConfigError with every problem."""
    return _load(tuple(extra_files)) if extra_files else _shipped_pack()


@lru_cache(maxsize=1)
def _shipped_pack() -> RulePack:
    return _load(())


def _load(extra_files: tuple[tuple[str, Path], ...]) -> RulePack:
    sources = shipped_rule_files()
    folders: dict[str, Any] = {display: shipped_folder() for display, _ in sources}
    problems: list[ConfigProblem] = []
    for display, path in extra_files:
        folders[display] = path.parent
        try:
            sources.append((display, path.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(ConfigProblem(display, 0, f"cannot read rule file: {exc}"))
    parts: list[dict[str, Any]] = []
    for display, text in sources:
        try:
            data = parse_yaml(text, display)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        parts.append(_check_file(data, display, problems, folders[display]))
    # Across files: what a later file overrides is checked as merged.
    sections = [part["rewrites"] for part in parts if "rewrites" in part]
    rewrites = merge_sections(sections, problems)
    kinds, declared = merge_kinds(parts, REWRITES, problems)
    _check_rule_kinds(parts, declared, problems)
    check_class_kinds(sections, {name: kind.rewrite for name, kind in kinds.items()}, declared, problems)
    if problems:
        raise ConfigError(sorted(problems, key=_reading_order([display for display, _ in sources])))
    digest = hashlib.sha256("\0".join(text for _, text in sources).encode()).hexdigest()[:16]
    return replace(_merge(parts, digest, kinds), rewrites=rewrites)


def _reading_order(files: list[str]):
    """Problems by file (in loading order), then line."""
    rank = {display: index for index, display in enumerate(files)}
    return lambda problem: (rank.get(problem.path, len(rank)), problem.line)


def _check_rule_kinds(parts: list[dict[str, Any]], declared: set[str], problems: list[ConfigProblem]) -> None:
    for part in parts:
        for rule in part["rules"]:
            if rule.kind not in declared:
                display, _, line = rule.origin.rpartition(":")
                names = ", ".join(sorted(declared)) or "none"
                problems.append(ConfigProblem(display, int(line), f"dependency rule {rule.name}: kind {rule.kind!r} is declared in no rule file's kinds (declared: {names})"))



def _check_file(data: Any, display: str, problems: list[ConfigProblem], folder: Any) -> dict[str, Any]:
    if not isinstance(data, Located):
        problems.append(ConfigProblem(display, 1, "a rule file must be a mapping"))
        return {"rules": []}
    out: dict[str, Any] = {"rules": [], **read_kinds(data, display, problems)}
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(ConfigProblem(display, data.line_of(key), f"unknown key {key!r}"))
    for key in _LIST_KEYS:
        if key in data:
            out[key] = _names(data[key], display, data.line_of(key), key, problems)
    datasets: Any = data.get("datasets") or {}  # YAML: checked by _check_keys
    if datasets:
        _check_keys(datasets, _DATASET_KEYS, display, problems, "datasets")
        out["dataset_callables"] = _names(datasets.get("callables", []), display, datasets.line, "callables", problems)
        out["dataset_conditions"] = _names(datasets.get("conditions", []), display, datasets.line, "conditions", problems)
    res: Any = data.get("resources") or {}
    if res:
        _check_keys(res, _RESOURCE_KEYS, display, problems, "resources")
        for key in _RESOURCE_KEYS:
            if key in res:
                out[key] = _names(res[key], display, res.line_of(key), key, problems)
    for entry in data.get("parse_time_sources") or []:
        if not isinstance(entry, Located) or not isinstance(entry.get("reason"), str):
            problems.append(ConfigProblem(display, getattr(entry, "line", data.line), "parse_time_sources entries need a reason"))
            continue
        for name in _names(entry.get("callables", []), display, entry.line, "callables", problems):
            out.setdefault("parse_time_sources", []).append((name, entry["reason"]))
    if data.get("cloud_resources") is not None:
        _check_cloud(data["cloud_resources"], display, data.line_of("cloud_resources"), out, problems)
    if "rewrites" in data:
        out["rewrites"] = check_section(data["rewrites"], display, data.line_of("rewrites"), lambda name: folder.joinpath(name).is_file(), problems)
    deps = data.get("dependencies") or []
    if not isinstance(deps, list):
        problems.append(ConfigProblem(display, data.line_of("dependencies"), "dependencies must be a list"))
        deps = []
    for entry in deps:
        rule = _check_rule(entry, display, problems)
        if rule:
            out["rules"].append(rule)
    return out


def _check_cloud(section: Any, display: str, line: int, out: dict[str, Any], problems: list[ConfigProblem]) -> None:
    """`cloud_resources`: keywords naming cloud resources, URI schemes, read and write rules."""
    if not isinstance(section, Located):
        problems.append(ConfigProblem(display, line, "cloud_resources must be a mapping"))
        return
    _check_keys(section, _CLOUD_KEYS, display, problems, "cloud_resources")
    for entry in _entries(section, "keywords", display, problems):
        before = len(problems)
        _check_keys(entry, _CLOUD_KEYWORD_KEYS, display, problems, "a cloud_resources keyword rule")
        kind = entry.get("kind")
        if not isinstance(kind, str) or not kind:
            problems.append(ConfigProblem(display, entry.line, "a cloud_resources keyword rule needs a kind"))
        names = {key: tuple(_names(entry.get(key, []), display, entry.line_of(key), key, problems)) for key in ("keywords", "callables", "project_keywords")}
        if "keywords" not in entry:
            problems.append(ConfigProblem(display, entry.line, "a cloud_resources keyword rule needs keywords"))
        if len(problems) == before:
            out.setdefault("cloud_keywords", []).append(CloudKeywordRule(str(kind), names["keywords"], names["callables"], names["project_keywords"], f"{display}:{entry.line}"))
    uris = section.get("uris") or Located({}, {}, section.line)
    if not isinstance(uris, Located):
        problems.append(ConfigProblem(display, section.line_of("uris"), "uris must map a URI scheme to a resource kind"))
        uris = Located({}, {}, section.line)
    for scheme, kind in uris.items():
        if not isinstance(scheme, str) or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme) or not isinstance(kind, str) or not kind:
            problems.append(ConfigProblem(display, uris.line_of(scheme), f"uris: {scheme!r} must be a lowercase URI scheme mapped to a resource kind"))
            continue
        out.setdefault("cloud_uri_schemes", []).append((scheme, kind))
    for entry in _entries(section, "access", display, problems):
        before = len(problems)
        _check_keys(entry, _CLOUD_ACCESS_KEYS, display, problems, "a cloud_resources access rule")
        if entry.get("access") not in ACCESSES:
            problems.append(ConfigProblem(display, entry.line_of("access") if "access" in entry else entry.line, f"access must be one of {', '.join(ACCESSES)}"))
        names = {key: tuple(_names(entry.get(key, []), display, entry.line_of(key), key, problems)) for key in ("keywords", "callables")}
        if not names["keywords"] and not names["callables"] and len(problems) == before:
            problems.append(ConfigProblem(display, entry.line, "an access rule needs keywords or callables"))
        if len(problems) == before:
            out.setdefault("cloud_access", []).append(CloudAccessRule(entry["access"], names["keywords"], names["callables"], f"{display}:{entry.line}"))


def _entries(section: Located, key: str, display: str, problems: list[ConfigProblem]) -> list[Located]:
    """The mappings of a list under KEY; a problem for anything else."""
    value = section.get(key) or []
    if not isinstance(value, list):
        problems.append(ConfigProblem(display, section.line_of(key), f"{key} must be a list"))
        return []
    good = [entry for entry in value if isinstance(entry, Located)]
    if len(good) < len(value):
        problems.append(ConfigProblem(display, section.line_of(key), f"each entry of {key} must be a mapping"))
    return good


def _check_rule(entry: Any, display: str, problems: list[ConfigProblem]) -> DependencyRule | None:
    if not isinstance(entry, Located):
        problems.append(ConfigProblem(display, 0, "each dependency rule must be a mapping"))
        return None
    before = len(problems)
    _check_keys(entry, _RULE_KEYS, display, problems, "a dependency rule")
    for key in ("name", "kind", "callables", "dag_argument"):
        if key not in entry:
            problems.append(ConfigProblem(display, entry.line, f"dependency rule is missing {key!r}"))
    direction = entry.get("direction", "upstream")
    if direction not in DIRECTIONS:
        problems.append(
            ConfigProblem(display, entry.line_of("direction"), f"direction must be one of {', '.join(DIRECTIONS)}")
        )
    argument = entry.get("dag_argument") or {}
    if not isinstance(argument, Located) or not isinstance(argument.get("keyword"), str):
        problems.append(ConfigProblem(display, entry.line_of("dag_argument"), "dag_argument needs a keyword"))
        argument = {}
    position = argument.get("position")
    if position is not None and (not isinstance(position, int) or position < 0):
        problems.append(ConfigProblem(display, entry.line_of("dag_argument"), "position must be a whole number"))
    pattern = None
    if argument.get("pattern") is not None:
        try:
            pattern = re.compile(str(argument["pattern"]))
        except re.error as exc:
            problems.append(ConfigProblem(display, entry.line_of("dag_argument"), f"pattern is not a valid regular expression: {exc}"))
    callables = _names(entry.get("callables", []), display, entry.line_of("callables"), "callables", problems)
    tasks = _names(entry.get("task_arguments", []), display, entry.line_of("task_arguments"), "task_arguments", problems)
    if len(problems) > before:
        return None
    return DependencyRule(
        name=str(entry["name"]),
        kind=str(entry["kind"]),
        callables=tuple(callables),
        dag_keyword=argument["keyword"],
        dag_position=position,
        direction=direction,
        task_arguments=tuple(tasks),
        group_argument=entry.get("group_argument"),
        origin=f"{display}:{entry.line}",
        dag_pattern=pattern,
    )


def _check_keys(mapping: Any, allowed: set[str], display: str, problems: list[ConfigProblem], where: str) -> None:
    if not isinstance(mapping, Located):
        problems.append(ConfigProblem(display, 0, f"{where} must be a mapping"))
        return
    for key in mapping:
        if key not in allowed:
            problems.append(ConfigProblem(display, mapping.line_of(key), f"unknown key {key!r} in {where}"))


def _names(value: Any, display: str, line: int, key: str, problems: list[ConfigProblem]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(ConfigProblem(display, line, f"{key} must be a list of names"))
        return []
    return list(value)


def _merge(parts: list[dict[str, Any]], digest: str, kinds: dict[str, DependencyKind]) -> RulePack:
    def union(key: str) -> frozenset[str]:
        return frozenset(name for part in parts for name in part.get(key, ()))

    def ordered(key: str) -> tuple:
        seen: dict[Any, None] = {}
        for part in parts:
            for item in part.get(key, ()):
                seen.setdefault(item, None)
        return tuple(seen)

    rules = tuple(rule for part in parts for rule in part["rules"])
    by_callable: dict[str, DependencyRule] = {}
    for rule in rules:  # later files win, so a repository can redefine a shipped callable
        for name in rule.callables:
            by_callable[name] = rule
    return RulePack(
        dag_constructors=union("dag_constructors"),
        dag_decorators=union("dag_decorators"),
        task_decorators=union("task_decorators"),
        task_groups=union("task_groups"),
        task_group_decorators=union("task_group_decorators"),
        dataset_callables=union("dataset_callables"),
        dataset_conditions=union("dataset_conditions"),
        dependencies=rules,
        connection_keywords=ordered("connection_keywords"),
        connection_getters=union("connection_getters"),
        variable_getters=union("variable_getters"),
        pool_keywords=ordered("pool_keywords"),
        parse_time_sources=ordered("parse_time_sources"),
        # A repository's own rules come first: they refine the shipped ones.
        cloud_keywords=tuple(rule for part in reversed(parts) for rule in part.get("cloud_keywords", ())),
        cloud_uri_schemes=ordered("cloud_uri_schemes"),
        cloud_access=tuple(rule for part in reversed(parts) for rule in part.get("cloud_access", ())),
        fingerprint=digest,
        kinds=kinds,
        _by_callable=by_callable,
    )
