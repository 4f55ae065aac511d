"""What the codemod needs from the rule pack's `rewrites` section, checked when the pack loads.

A rule file's `rewrites` replaces the shipped section key by key (a whole `sensor:` at a
time), so a partial override is caught here, at its line, rather than in the codemod.
Adapt REQUIRED when the rewrites change.
"""

from __future__ import annotations

from typing import Any, Protocol

from .yamlio import ConfigProblem, Located


class Folder(Protocol):
    def __truediv__(self, name: str) -> Any: ...


PER_API_VERSION = "<api version>"  # a mapping of Airflow major versions, each with these keys

# The rewrites a dependency kind may name (the codemod has one transformer each), and the
# keys each part of the section must have; a nested mapping lists the keys it requires.
REWRITES = ("sensor", "trigger", "marker")
REQUIRED: dict[str, Any] = {
    "helper_module": str,
    "helper_source": str,
    "date_base": str,
    "date": str,
    "sensor": {
        "operator": str,
        "dag_check": str,
        "task_check": str,
        "api": {PER_API_VERSION: {"dag_endpoint": str, "task_endpoint": str, "date_from": str, "date_to": str}},
    },
    "trigger": {
        "operator": str,
        "waiting_operator": str,
        "body": str,
        "run_id": str,
        "api": {PER_API_VERSION: {"endpoint": str, "run_endpoint": str}},
    },
    "marker": {"replacement": str, "comment": str},
}


def check_rewrites(rewrites: dict[str, Any], origins: dict[str, tuple[str, int]], helper_folder: Folder | None, problems: list[ConfigProblem]) -> None:
    """The merged section against REQUIRED; ORIGINS: the file and line that gave each top-level key;
    HELPER_FOLDER: where the codemod reads `helper_source` from (None: not checked)."""
    for key, shape in REQUIRED.items():
        display, line = origins.get(key, ("rules/rewrites.yaml", 0))
        if key not in rewrites:
            problems.append(ConfigProblem(display, line, f"rewrites: missing {key}"))
            continue
        for path, message in _mismatches(rewrites[key], shape, key):
            problems.append(ConfigProblem(display, _line_of(rewrites[key], path, line), f"rewrites.{path}: {message}"))
    source = rewrites.get("helper_source")
    if helper_folder is not None and isinstance(source, str) and source and not (helper_folder / source).is_file():
        display, line = origins.get("helper_source", ("rules/rewrites.yaml", 0))
        problems.append(ConfigProblem(display, line, f"rewrites.helper_source: no file {source} beside this rule file"))


def _mismatches(value: Any, shape: Any, path: str) -> list[tuple[str, str]]:
    if shape is str:
        return [] if isinstance(value, str) and value else [(path, "must be a non-empty string")]
    if not isinstance(value, dict):
        return [(path, f"must be a mapping with {', '.join(k for k in shape if k != PER_API_VERSION) or 'one entry per Airflow version'}")]
    if PER_API_VERSION in shape:
        found = []
        if not value:
            found.append((path, "needs an entry per Airflow major version (2, 3)"))
        for version, api in value.items():
            if not isinstance(version, int) or isinstance(version, bool):
                found.append((path, f"{version!r} is not an Airflow major version (2, 3)"))
                continue
            found += _mismatches(api, shape[PER_API_VERSION], f"{path}.{version}")
        return found
    missing = [k for k in shape if k not in value]
    found = [(path, f"missing {', '.join(missing)} (a rule file's rewrites.{path.split('.')[0]} replaces the shipped one as a whole)")] if missing else []
    for key, inner in shape.items():
        if key in value:
            found += _mismatches(value[key], inner, f"{path}.{key}")
    return found


def _line_of(value: Any, path: str, line: int) -> int:
    """The line of PATH's last key found inside VALUE (a Located mapping), else LINE."""
    for part in path.split(".")[1:]:
        if not isinstance(value, Located):
            break
        key: Any = int(part) if part.isdigit() and int(part) in value else part
        line = value.line_of(key)
        value = value.get(key)
    return line
