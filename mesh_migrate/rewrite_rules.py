"""The `rewrites` section of the rule pack, checked when the pack loads.

Every rule file may give part of it; a later file replaces a key as a whole. Each file's
keys are checked where they are written (file and line), and the merged section is checked
for completeness, so a broken override fails `analyze` as clearly as it would `codemod`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template
from typing import Any, Callable

from .yamlio import ConfigProblem, Located

_KEYS = {"helper_module", "helper_source", "registry", "classes", "dataset_hook", "marker"}
_CLASS_KEYS = {"kind", "replaces"}
_HOOK_KEYS = {"keyword", "function"}
_MARKER_KEYS = {"replacement", "comment"}
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_FILE_NAME = re.compile(r"[\w.-]+")
MARKER_PLACEHOLDERS = {"dag_id", "team"}


@dataclass(frozen=True)
class ReplacedClass:
    """Airflow's classes `replaces`, all pointed at `name` of the helper module."""

    name: str
    kind: str  # the dependency kind its calls create ("sensor", "trigger")
    replaces: tuple[str, ...]


@dataclass(frozen=True)
class RewriteRules:
    helper_module: str
    helper_source: str  # a file name, beside the rule file that names it
    helper_origin: str  # that rule file (as shown in messages)
    registry: str  # the registry's file name, written beside the helper module
    classes: tuple[ReplacedClass, ...]
    hook_keyword: str
    hook_function: str
    marker_replacement: str
    marker_comment: str

    def replacement_of(self, qualname: str) -> ReplacedClass | None:
        return next((c for c in self.classes if qualname in c.replaces), None)


def check_section(section: Any, display: str, line: int, has_file: Callable[[str], bool], problems: list[ConfigProblem]) -> dict[str, tuple[Any, str]]:
    """One file's `rewrites`: each key it gives, with that file; problems with their lines."""
    if not isinstance(section, Located):
        problems.append(ConfigProblem(display, line, "rewrites must be a mapping"))
        return {}
    at = section.line_of

    def problem(key: str, message: str) -> None:
        problems.append(ConfigProblem(display, at(key), f"rewrites: {message}"))

    for key in section:
        if key not in _KEYS:
            problem(key, f"unknown key {key!r}; expected one of: {', '.join(sorted(_KEYS))}")
    before = len(problems)
    module = section.get("helper_module")
    if "helper_module" in section and not (isinstance(module, str) and _DOTTED.fullmatch(module)):
        problem("helper_module", "helper_module must be a dotted module name")
    for key in ("helper_source", "registry"):
        if key in section and not (isinstance(section[key], str) and _FILE_NAME.fullmatch(section[key])):
            problem(key, f"{key} must be a file name")
    if isinstance(section.get("helper_source"), str) and _FILE_NAME.fullmatch(section["helper_source"]) and not has_file(section["helper_source"]):
        problem("helper_source", f"helper_source {section['helper_source']!r} is not a file beside {display}")
    if "classes" in section:
        _check_classes(section["classes"], display, at("classes"), problems)
    if "dataset_hook" in section:
        hook = section["dataset_hook"]
        if _mapping(hook, _HOOK_KEYS, "dataset_hook", display, at("dataset_hook"), problems):
            for key in sorted(_HOOK_KEYS):
                if not (isinstance(hook.get(key), str) and hook[key].isidentifier()):
                    problems.append(ConfigProblem(display, hook.line_of(key), f"rewrites: dataset_hook.{key} must be a Python name"))
    if "marker" in section:
        marker = section["marker"]
        if _mapping(marker, _MARKER_KEYS, "marker", display, at("marker"), problems):
            replacement = marker.get("replacement")
            if not (isinstance(replacement, str) and _DOTTED.fullmatch(replacement) and "." in replacement):
                problems.append(ConfigProblem(display, marker.line_of("replacement"), "rewrites: marker.replacement must be a qualified class name (module.Class)"))
            _check_comment(marker.get("comment"), display, marker.line_of("comment"), problems)
    if len(problems) > before:
        return {}
    return {key: (section[key], display) for key in section if key in _KEYS}


def _mapping(value: Any, allowed: set[str], where: str, display: str, line: int, problems: list[ConfigProblem]) -> bool:
    if not isinstance(value, Located):
        problems.append(ConfigProblem(display, line, f"rewrites: {where} must be a mapping"))
        return False
    for key in value:
        if key not in allowed:
            problems.append(ConfigProblem(display, value.line_of(key), f"rewrites: unknown key {key!r} in {where}; expected one of: {', '.join(sorted(allowed))}"))
    for key in sorted(allowed - set(value)):
        problems.append(ConfigProblem(display, value.line, f"rewrites: {where} is missing {key!r}"))
    return True


def _check_classes(classes: Any, display: str, line: int, problems: list[ConfigProblem]) -> None:
    if not isinstance(classes, Located) or not classes:
        problems.append(ConfigProblem(display, line, "rewrites: classes must map a class of the helper module to the Airflow classes it replaces"))
        return
    for name, body in classes.items():
        where = f"classes.{name}"
        if not (isinstance(name, str) and name.isidentifier()):
            problems.append(ConfigProblem(display, classes.line_of(name), f"rewrites: {name!r} is not a class name"))
        if not _mapping(body, _CLASS_KEYS, where, display, classes.line_of(name), problems):
            continue
        if not (isinstance(body.get("kind"), str) and body["kind"]):
            problems.append(ConfigProblem(display, body.line_of("kind"), f"rewrites: {where}.kind must name a dependency kind"))
        replaces = body.get("replaces")
        if not (isinstance(replaces, list) and replaces and all(isinstance(r, str) and _DOTTED.fullmatch(r) and "." in r for r in replaces)):
            problems.append(ConfigProblem(display, body.line_of("replaces"), f"rewrites: {where}.replaces must list qualified class names"))


def _check_comment(comment: Any, display: str, line: int, problems: list[ConfigProblem]) -> None:
    if not isinstance(comment, str) or not comment or "\n" in comment:
        problems.append(ConfigProblem(display, line, "rewrites: marker.comment must be one line of text"))
        return
    matches = list(Template.pattern.finditer(comment))
    names = {m.group("named") or m.group("braced") for m in matches if m.group("named") or m.group("braced")}
    invalid = [m for m in matches if m.group("invalid") is not None]
    unknown = sorted(names - MARKER_PLACEHOLDERS)
    if unknown or invalid:
        what = f"unknown placeholder ${{{unknown[0]}}}" if unknown else "a lone $ (write $$)"
        problems.append(ConfigProblem(display, line, f"rewrites: marker.comment has {what}; it may use ${{dag_id}} and ${{team}}"))


REQUIRED = ("helper_module", "helper_source", "registry", "classes", "dataset_hook", "marker")


def merge_sections(parts: list[dict[str, tuple[Any, str]]], problems: list[ConfigProblem]) -> RewriteRules | None:
    """The merged section (later files win key by key); None with problems when incomplete."""
    merged: dict[str, tuple[Any, str]] = {}
    for part in parts:
        merged.update(part)
    if not merged:
        return None  # no rule file gives rewrites: nothing to rewrite with
    missing = [key for key in REQUIRED if key not in merged]
    if missing:
        last = next(display for part in reversed(parts) for _, display in part.values())
        problems.append(ConfigProblem(last, 0, f"rewrites: missing {', '.join(missing)} (no rule file gives them)"))
        return None
    value = {key: merged[key][0] for key in REQUIRED}
    hook, marker = value["dataset_hook"], value["marker"]
    return RewriteRules(
        helper_module=value["helper_module"],
        helper_source=value["helper_source"],
        helper_origin=merged["helper_source"][1],
        registry=value["registry"],
        classes=tuple(ReplacedClass(str(name), body["kind"], tuple(body["replaces"])) for name, body in value["classes"].items()),
        hook_keyword=hook["keyword"],
        hook_function=hook["function"],
        marker_replacement=marker["replacement"],
        marker_comment=marker["comment"],
    )
