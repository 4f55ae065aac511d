"""The shipped helper module binds the names the codemod imports from it (its behaviour: make e2e-airflow)."""

from __future__ import annotations

import ast
import pytest

from mesh_migrate.rulepack import shipped_folder

HELPER = shipped_folder() / "mesh_http.py"


def _top_level(source: str) -> dict[str, ast.AST]:
    names: dict[str, ast.AST] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
    return names


@pytest.mark.parametrize(
    "name, base",
    [("ExternalTaskSensor", "_AirflowExternalTaskSensor"), ("TriggerDagRunOperator", "_AirflowTriggerDagRunOperator")],
)
def test_the_drop_in_classes_subclass_airflows_own(name: str, base: str) -> None:
    node = _top_level(HELPER.read_text(encoding="utf-8"))[name]
    assert isinstance(node, ast.ClassDef)
    assert [ast.unparse(b) for b in node.bases] == [base]
    init = next(item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__")
    assert "http_conn_id" in [arg.arg for arg in init.args.kwonlyargs]


def test_the_dataset_hook_takes_optional_uris() -> None:
    node = _top_level(HELPER.read_text(encoding="utf-8"))["publish_dataset_events"]
    assert isinstance(node, ast.FunctionDef)
    assert [arg.arg for arg in node.args.args] == ["uris"] and ast.unparse(node.args.defaults[0]) == "None"

