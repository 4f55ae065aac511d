"""Every library model's VALID examples, run as its tests: each example is module code
that sets `result`; the interpreter must compute exactly the value given beside it."""

from __future__ import annotations

import importlib
import pkgutil
import textwrap
from pathlib import Path

import pytest

from mesh_migrate.analysis import load_settings
from mesh_migrate.extract import models
from mesh_migrate.extract.extractor import Workspace
from mesh_migrate.extract.interpreter import Interpreter, ModuleState
from mesh_migrate.extract.models.paths import module_file
from mesh_migrate.extract.modules import parse_source
from mesh_migrate.extract.recorder import Recorder
from mesh_migrate.extract.values import Instance

PRELUDE = """\
import collections, configparser, copy, csv, functools, glob, json, os, pathlib
import yaml, gusty, dagfactory
from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.empty import EmptyOperator
"""

# The files beside the example module that examples read.
DATA = {
    "pkg/x.yaml": "a: [1, 2]\n",
    "pkg/x.json": '{"b": "c"}',
    "pkg/x.ini": "[first]\nid = one\n[second]\nid = two\n",
    "pkg/x.csv": "id,team\np,t1\nq,t2\n",
    "pkg/sub/METADATA.yml": "description: a gusty DAG\n",
    "pkg/f.yml": "default: {tags: [x]}\nfactory_dag: {schedule: '@daily'}\n",
}


def examples():
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"{models.__name__}.{info.name}")
        for index, (source, expected) in enumerate(getattr(module, "VALID", [])):
            yield pytest.param(source, expected, id=f"{info.name}-{index}")


def evaluate(root: Path, source: str) -> object:
    for name, text in DATA.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    path = "pkg/example.py"
    (root / path).write_text(PRELUDE + textwrap.dedent(source))
    _, rules = load_settings(root)
    workspace = Workspace(root, rules, [])
    recorder = Recorder(path, rules)
    state = ModuleState("pkg.example", path, parse_source((root / path).read_bytes(), path).tree, module_file(root, path))
    Interpreter(workspace, recorder).run_module(state)
    return state.scope.vars.get("result")


@pytest.mark.parametrize("source, expected", list(examples()))
def test_model_examples(tmp_path: Path, source: str, expected: object) -> None:
    result = evaluate(tmp_path, source)
    if isinstance(result, Instance):  # a DAG object of a factory: compare its id
        result = result.attrs.get("dag_id")
    assert result == expected


def test_every_model_module_has_examples() -> None:
    bare = [info.name for info in pkgutil.iter_modules(models.__path__) if not hasattr(importlib.import_module(f"{models.__name__}.{info.name}"), "VALID")]
    assert bare == []
