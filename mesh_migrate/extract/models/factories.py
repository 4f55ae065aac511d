"""DAG factories that build DAGs from data files: gusty and dag-factory.

gusty's `create_dag(folder)` makes one DAG named after the folder (its METADATA.yml may
name it otherwise). dag-factory's `load_yaml_dags(...)` and `DagFactory(file).generate_dags()`
make one DAG per top-level key of each YAML file (`default` holds shared arguments).
"""

from __future__ import annotations

import posixpath
from typing import Any

import yaml

from ..values import MISSING, BoundBuiltin, ModelValue, Unknown
from . import Call, model
from .datafiles import _TolerantLoader
from .paths import PathValue, RepoFiles

MAX_FACTORY_FILES = 2000


def _yaml(call: Call, path: str) -> Any:
    text = RepoFiles.of(call).read_text(path, call)
    if isinstance(text, Unknown):
        return text
    try:
        return yaml.load(text, Loader=_TolerantLoader)
    except yaml.YAMLError as exc:
        return call.unknown(f"{path}: YAML that does not parse: {str(exc).splitlines()[0]}")


def _record(call: Call, dag_id: Any, kwargs: dict[str, Any]) -> Any:
    return call.interp.rec.dag(call.interp, [dag_id], kwargs, call.node, "factory")


@model("gusty.create_dag")
def gusty_create_dag(call: Call) -> Any:
    folder = call.arg(0, "dag_dir")
    if not isinstance(folder, (str, PathValue)):
        return folder if isinstance(folder, Unknown) else call.unknown("gusty folder is not static")
    metadata = _yaml(call, posixpath.join(str(folder), "METADATA.yml"))
    named = metadata.get("dag_id") if isinstance(metadata, dict) else None
    dag_id = call.kwargs.get("dag_id") or named or posixpath.basename(str(folder).rstrip("/"))
    settings = {k: v for k, v in (metadata.items() if isinstance(metadata, dict) else ()) if k in ("tags", "schedule", "schedule_interval", "default_args")}
    return _record(call, dag_id, {**settings, **{k: v for k, v in call.kwargs.items() if k in ("tags", "default_args")}})


def _factory_dags(call: Call, paths: list[str]) -> Any:
    dags = None
    for path in paths:
        config = _yaml(call, path)
        if isinstance(config, Unknown):
            return config
        if not isinstance(config, dict):
            continue
        shared = config.get("default", {}) if isinstance(config.get("default"), dict) else {}
        for dag_id, settings in config.items():
            if dag_id == "default" or not isinstance(settings, dict):
                continue
            merged = {**shared, **settings}
            dags = _record(call, dag_id, {k: merged[k] for k in ("default_args", "tags", "schedule", "schedule_interval") if k in merged})
    return dags


@model("dagfactory.load_yaml_dags")
def load_yaml_dags(call: Call) -> Any:
    """Every YAML file under `dags_folder=` whose name ends in a suffix. Without it, the
    DAGs folder: taken as the folder of the file that calls it, where it usually sits."""
    folder = call.kwargs.get("dags_folder")
    suffixes = call.kwargs.get("suffix", [".yaml", ".yml"])
    if folder is None:
        module = call.interp.module
        assert module is not None, "models run inside a module"
        folders = [posixpath.dirname(module.scope.vars.get("__file__", "/"))]
    elif isinstance(folder, (str, PathValue)):
        folders = [str(folder)]
    else:
        return folder if isinstance(folder, Unknown) else call.unknown("dags_folder is not static")
    if not isinstance(suffixes, (list, tuple)) or not all(isinstance(s, str) for s in suffixes):
        return call.unknown("file suffixes are not static")
    paths: list[str] = []
    for base in folders:
        found = RepoFiles.of(call).glob(str(base), "**/*", call)
        if isinstance(found, Unknown):
            return found
        paths += [p for p in found if p.endswith(tuple(suffixes))]
    if len(paths) > MAX_FACTORY_FILES:
        return call.unknown(f"more than {MAX_FACTORY_FILES} YAML files")
    if not paths:
        shown = ", ".join(RepoFiles.of(call).display(str(f)) for f in folders)
        return call.unknown(f"no YAML file ending in {' or '.join(suffixes)} under {shown}")
    return _factory_dags(call, sorted(paths))


class DagFactoryValue(ModelValue):
    def __init__(self, path: str):
        self.path = path

    def get_attribute(self, name: str) -> Any:
        return BoundBuiltin(self, name) if name in ("generate_dags", "clean_dags") else MISSING

    def call_method(self, name: str, call: Call) -> Any:
        return _factory_dags(call, [self.path]) if name == "generate_dags" else None


@model("dagfactory.DagFactory", "dagfactory.dagfactory.DagFactory")
def dag_factory(call: Call) -> Any:
    path = call.arg(0, "config_filepath")
    if not isinstance(path, (str, PathValue)):
        return path if isinstance(path, Unknown) else call.unknown("dag-factory config path is not static")
    return DagFactoryValue(str(path))


VALID = [
    ("result = gusty.create_dag(os.path.join(os.path.dirname(__file__), 'sub')).dag_id", "sub"),
    ("dagfactory.DagFactory(os.path.dirname(__file__) + '/f.yml').generate_dags(globals())\nresult = 1", 1),
]
