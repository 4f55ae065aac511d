"""The rewrite templates of the rule pack (rules/rewrites.yaml), as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from ..rulepack import RulePack, shipped_folder
from ..yamlio import ConfigError, ConfigProblem


@dataclass(frozen=True)
class SensorApi:
    dag_endpoint: str
    task_endpoint: str
    date_from: str
    date_to: str
    task_params: dict[str, Any]


@dataclass(frozen=True)
class TriggerApi:
    endpoint: str
    run_endpoint: str


@dataclass(frozen=True)
class Templates:
    helper_module: str
    helper_source: str  # the helper module's text
    date_base: str
    date: str
    sensor_operator: str
    dag_check: str
    task_check: str
    sensor_api: dict[int, SensorApi]
    trigger_operator: str
    waiting_operator: str
    body: str
    run_id: str
    trigger_api: dict[int, TriggerApi]
    marker_replacement: str
    marker_comment: str

    def date_expression(self, shifted: str) -> str:
        return Template(self.date).substitute(date=shifted)


def _get(mapping: Any, *keys: str, where: str) -> Any:
    value = mapping
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise ConfigError([ConfigProblem(where, 0, f"rewrites: missing {'.'.join(keys)}")])
        value = value[key]
    return value


def _origin(rules: RulePack) -> str:
    return rules.rewrites_origin or "rules/rewrites.yaml"


def helper_module_name(rules: RulePack) -> str:
    """The dotted name of the module the rewritten calls import."""
    return _get(rules.rewrites, "helper_module", where=_origin(rules))


def load_templates(rules: RulePack, root: Path) -> Templates:
    raw, where = rules.rewrites, _origin(rules)
    source_name = _get(raw, "helper_source", where=where)
    if where.startswith("rules/"):
        helper = (shipped_folder() / source_name).read_text(encoding="utf-8")
    else:
        helper = (root / Path(where).parent / source_name).read_text(encoding="utf-8")
    sensor, trigger = _get(raw, "sensor", where=where), _get(raw, "trigger", where=where)
    return Templates(
        helper_module=helper_module_name(rules),
        helper_source=helper,
        date_base=_get(raw, "date_base", where=where),
        date=_get(raw, "date", where=where),
        sensor_operator=_get(sensor, "operator", where=where),
        dag_check=_get(sensor, "dag_check", where=where),
        task_check=_get(sensor, "task_check", where=where),
        sensor_api={
            int(version): SensorApi(
                api["dag_endpoint"], api["task_endpoint"], api["date_from"], api["date_to"], dict(api.get("task_params") or {})
            )
            for version, api in _get(sensor, "api", where=where).items()
        },
        trigger_operator=_get(trigger, "operator", where=where),
        waiting_operator=_get(trigger, "waiting_operator", where=where),
        body=_get(trigger, "body", where=where),
        run_id=_get(trigger, "run_id", where=where),
        trigger_api={int(v): TriggerApi(api["endpoint"], api["run_endpoint"]) for v, api in _get(trigger, "api", where=where).items()},
        marker_replacement=_get(raw, "marker", "replacement", where=where),
        marker_comment=_get(raw, "marker", "comment", where=where),
    )
