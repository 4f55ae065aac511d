"""Dependency kinds: what each kind of cross-DAG dependency means, declared in the rule pack.

A rule file's `kinds` section declares kinds (rules/kinds.yaml ships Airflow's own) and
`kind_defaults` fills in what a kind leaves out; a repository's rule file adds kinds or
overrides single fields of the shipped ones. Plans, `check`, the codemod's choice of call
sites and the renderers ask a DependencyKind instead of naming kinds in code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template
from typing import Any, Callable

from .codes import DEPENDENCY_CODES
from .yamlio import ConfigProblem, Located

HELD_BY = ("task", "schedule")  # where the holding DAG writes it: a task, or its schedule (datasets)
# What an instance's role grants another team's (access.py): the holder reads the DAG it
# waits on, starts runs of the DAG it names, or the DAG it names posts dataset events to the
# holder's instance; or nothing.
API_ACCESS = ("read", "trigger", "dataset_events", "none")
RECORDED = ("sensor", "trigger", "dataset")  # the dependency types Airflow records in serialized DAGs
SEVERITIES = ("error", "warning")
MESSAGE_FIELDS = ("label", "task", "holder", "theirs", "operator", "dataset")
MANUAL_FIELDS = ("operator",)
# Made by the analysis itself, not by a rule: a DAG scheduled on a dataset, and one whose
# producing task posts its events (link.py).
ANALYZER_KINDS = ("dataset", "http_dataset")


@dataclass(frozen=True)
class DependencyKind:
    name: str
    label: str  # in tables and messages
    plural: str  # in counts: "3 sensors"
    migrated: bool  # the dependency already crosses instances (the codemod's own output)
    rewrite: str | None  # how the codemod migrates it: a part of `rewrites` (rewrite_rules.REWRITES)
    becomes: str | None  # what it becomes once migrated; for a migrated kind, what it is
    manual: str | None  # why it is left as manual work (${operator}: the callable)
    code: str  # the `check` finding code
    severity: str
    message: str  # the `check` description (${label} ${task} ${holder} ${theirs} ${operator} ${dataset})
    held_by: str  # one of HELD_BY
    whole_dag: bool  # naming no task or group, it waits on the other DAG's whole run
    api_access: str  # one of API_ACCESS
    recorded_as: str | None  # one of RECORDED, or None when Airflow records nothing for it
    graph: tuple[tuple[str, str], ...]  # DOT attributes of its edges
    origin: str = ""  # "<rule file>:<line>" of its last declaration (a repository's override)

    @property
    def automatic(self) -> bool:
        """The codemod migrates it into a dependency that crosses instances."""
        return not self.migrated and self.rewrite is not None and self.becomes is not None

    def outcome(self, operator: str) -> str:
        """What the plan shows it becomes, or why it is manual work."""
        if self.automatic or self.migrated:
            return self.becomes or ""
        return Template(self.manual or "").substitute(operator=operator)

    def count(self, number: int) -> str:
        return f"{number} {self.label if number == 1 else self.plural}"

    def describe(self, *, task: str, holder: str, theirs: str, operator: str, dataset: str) -> str:
        fields = {"label": self.label, "task": task, "holder": holder, "theirs": theirs, "operator": operator, "dataset": dataset}
        return Template(self.message).substitute(fields)


def undeclared(name: str) -> DependencyKind:
    """A kind no rule file declares: only facts built by hand have one (loading refuses them)."""
    return DependencyKind(
        name, name, f"{name}s", migrated=False, rewrite=None, becomes=None,
        manual=f"no rule file declares the kind {name}: migrate it by hand", code="MM105", severity="error",
        message="${label}${task} (${operator}) in ${holder} depends on ${theirs}",
        held_by="task", whole_dag=False, api_access="read", recorded_as=None, graph=(),
    )


# ---- reading: one file's `kinds` and `kind_defaults` ---------------------------------------

Given = tuple[Any, str, int]  # (value, rule file, line)
Declared = dict[str, Given]  # field -> where it was given


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _choice(*allowed: str | None) -> Callable[[Any], str | None]:
    shown = ", ".join("null" if a is None else a for a in allowed)
    return lambda value: None if value in allowed else f"must be one of {shown}"


def _name_or_null(value: Any) -> str | None:
    return None if value is None or (isinstance(value, str) and value) else "must be a name or null"


def _template(fields: tuple[str, ...], nullable: bool) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            return "must be a non-empty string" + (" or null" if nullable else "")
        template = Template(value)
        if not template.is_valid():
            return "has a $ that is not ${name} (write $$ for a dollar sign)"
        unknown = [name for name in template.get_identifiers() if name not in fields]
        if unknown:
            return f"names ${{{unknown[0]}}}; it may name only " + (", ".join(f"${{{f}}}" for f in fields) or "nothing")
        return None

    return check


def _attributes(value: Any) -> str | None:
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return "must map DOT attribute names to strings"


def _code(value: Any) -> str | None:
    return None if value in DEPENDENCY_CODES else f"must be one of {', '.join(DEPENDENCY_CODES)}"


FIELDS: dict[str, Callable[[Any], str | None]] = {
    "label": _text,
    "plural": _text,
    "migrated": _flag,
    "rewrite": _name_or_null,
    "becomes": _template((), nullable=True),
    "manual": _template(MANUAL_FIELDS, nullable=True),
    "held_by": _choice(*HELD_BY),
    "whole_dag": _flag,
    "api_access": _choice(*API_ACCESS),
    "recorded_as": _choice(*RECORDED, None),
    "graph": _attributes,
    "check.code": _code,
    "check.severity": _choice(*SEVERITIES),
    "check.message": _template(MESSAGE_FIELDS, nullable=False),
}
PER_KIND = ("label", "plural")  # not in kind_defaults: they default to the kind's name
_NAME = r"[a-z][a-z0-9_]*"


def read_kinds(data: Located, display: str, problems: list[ConfigProblem]) -> dict[str, Any]:
    """This file's kinds (name -> declared fields, and the line of each name) and defaults."""
    out: dict[str, Any] = {}
    if data.get("kind_defaults") is not None:
        section = data["kind_defaults"]
        if isinstance(section, Located):
            out["kind_defaults"] = _fields(section, display, problems, "kind_defaults", set(FIELDS) - set(PER_KIND))
        else:
            problems.append(ConfigProblem(display, data.line_of("kind_defaults"), "kind_defaults must be a mapping"))
    if data.get("kinds") is None:
        return out
    section = data["kinds"]
    if not isinstance(section, Located):
        problems.append(ConfigProblem(display, data.line_of("kinds"), "kinds must map kind names to their fields"))
        return out
    kinds: dict[str, tuple[Declared, str, int]] = {}
    for name, fields in section.items():
        line = section.line_of(name)
        if not isinstance(name, str) or not re.fullmatch(_NAME, name):
            problems.append(ConfigProblem(display, line, f"kind {name!r}: a kind name is lowercase letters, digits and _"))
            continue
        if fields is None:
            fields = Located({}, {}, line)  # `my_kind:` alone: every field from kind_defaults
        if not isinstance(fields, Located):
            problems.append(ConfigProblem(display, line, f"kind {name}: must be a mapping of its fields"))
            continue
        kinds[name] = (_fields(fields, display, problems, f"kind {name}", set(FIELDS)), display, line)
    out["kinds"] = kinds
    return out


def _fields(mapping: Located, display: str, problems: list[ConfigProblem], where: str, allowed: set[str]) -> Declared:
    flat: list[tuple[str, Any, int]] = []
    for key, value in mapping.items():
        if key == "check" and isinstance(value, Located):
            flat += [(f"check.{k}", v, value.line_of(k)) for k, v in value.items()]
        elif key == "check":
            problems.append(ConfigProblem(display, mapping.line_of(key), f"{where}: check must be a mapping (code, severity, message)"))
        else:
            flat.append((str(key), value, mapping.line_of(key)))
    declared: Declared = {}
    for key, value, line in flat:
        if key not in allowed:
            problems.append(ConfigProblem(display, line, f"{where}: unknown field {key!r}"))
            continue
        error = FIELDS[key](value)
        if error:
            problems.append(ConfigProblem(display, line, f"{where}: {key} {error}"))
            continue
        declared[key] = (value, display, line)
    return declared


# ---- merging: every file's kinds, later files overriding field by field ------------------


def merge_kinds(parts: list[dict[str, Any]], known_rewrites: tuple[str, ...], problems: list[ConfigProblem]) -> tuple[dict[str, DependencyKind], set[str]]:
    """The kinds of every file, in order, and every name declared (a kind with a problem
    included); KNOWN_REWRITES: the rewrites a kind may name."""
    defaults: Declared = {}
    declared: dict[str, Declared] = {}
    where: dict[str, tuple[str, int]] = {}
    for part in parts:
        defaults.update(part.get("kind_defaults", {}))
        for name, (fields, display, line) in part.get("kinds", {}).items():
            declared.setdefault(name, {}).update(fields)
            where[name] = (display, line)  # problems of the merged kind: at the last file that changed it
    kinds: dict[str, DependencyKind] = {}
    for name, fields in declared.items():
        kind = _build(name, {**defaults, **fields}, where[name], known_rewrites, problems)
        if kind is not None:
            kinds[name] = kind
    for name in ANALYZER_KINDS:
        if name not in declared:
            problems.append(ConfigProblem("rules/kinds.yaml", 0, f"no rule file declares the kind {name}, which the analysis itself creates"))
    return kinds, set(declared)


def _build(name: str, fields: Declared, where: tuple[str, int], known_rewrites: tuple[str, ...], problems: list[ConfigProblem]) -> DependencyKind | None:
    display, line = where
    before = len(problems)
    missing = [key for key in FIELDS if key not in PER_KIND and key not in fields]
    if missing:
        problems.append(ConfigProblem(display, line, f"kind {name}: no {', '.join(missing)} (and kind_defaults gives none)"))
        return None

    def value(key: str) -> Any:
        return fields[key][0]

    def at(key: str) -> tuple[str, int]:
        """KEY's line when the file that changed the kind last gave it, else the kind's."""
        return (display, fields[key][2]) if fields[key][1] == display else where

    rewrite = value("rewrite")
    if rewrite is not None and rewrite not in known_rewrites:
        problems.append(ConfigProblem(*at("rewrite"), f"kind {name}: rewrite {rewrite!r} is not one of the rewrites ({', '.join(known_rewrites) or 'none'})"))
    if value("migrated"):
        if rewrite is not None:
            problems.append(ConfigProblem(*at("rewrite"), f"kind {name}: a migrated kind already crosses instances; its rewrite must be null"))
        if value("becomes") is None:
            problems.append(ConfigProblem(*at("migrated"), f"kind {name}: a migrated kind needs becomes (what the plans say it is)"))
    elif (rewrite is None or value("becomes") is None) and value("manual") is None:
        problems.append(ConfigProblem(display, line, f"kind {name}: give a rewrite and what it becomes, or manual: why it is left as manual work"))
    if len(problems) > before:
        return None
    label = value("label") if "label" in fields else name
    plural = value("plural") if "plural" in fields else f"{label}s"
    return DependencyKind(
        name=name,
        label=label,
        plural=plural,
        migrated=value("migrated"),
        rewrite=rewrite,
        becomes=value("becomes"),
        manual=value("manual"),
        code=value("check.code"),
        severity=value("check.severity"),
        message=value("check.message"),
        held_by=value("held_by"),
        whole_dag=value("whole_dag"),
        api_access=value("api_access"),
        recorded_as=value("recorded_as"),
        graph=tuple(sorted(value("graph").items())),
        origin=f"{display}:{line}",
    )
