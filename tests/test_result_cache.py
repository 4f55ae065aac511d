"""The result cache: an unchanged repository is answered from it, and it never changes a result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_migrate import cache
from mesh_migrate.cli import main

from .conftest import json_run_in_a_fresh_process, write_repo

FILES = {
    "mesh.yaml": """
        teams:
          flights:
            paths: ["dags/flights/**"]
          hotels:
            paths: ["dags/hotels/**"]
    """,
    "dags/flights/load.py": """
        from airflow import DAG
        with DAG("flights_load"):
            pass
    """,
    "dags/hotels/report.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("hotels_report"):
            ExternalTaskSensor(task_id="wait", external_dag_id="flights_load")
    """,
}
RESULT = cache.CACHE_DIR_NAME + "/analysis-json"


def analyze_json(root: Path, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["analyze", str(root), "--format", "json", "--jobs", "1", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", FILES)


def teams_of(document: dict) -> dict[str, str]:
    return {d["dag_id"]: d["team"] for d in document["dags"]}


def test_an_unchanged_repository_is_answered_from_the_cache(root: Path) -> None:
    cold = analyze_json(root)
    stored = (root / RESULT).stat().st_mtime_ns
    assert analyze_json(root) == cold == analyze_json(root, "--no-cache")
    assert (root / RESULT).stat().st_mtime_ns == stored  # read, not written again


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"dags/flights/load.py": 'from airflow import DAG\nwith DAG("flights_load_v2"):\n    pass\n'}, {"flights_load_v2": "flights", "hotels_report": "hotels"}),
        ({"mesh.yaml": "teams:\n  everyone:\n    paths: ['dags/**']\n"}, {"flights_load": "everyone", "hotels_report": "everyone"}),
        ({"CODEOWNERS": "dags/ @sky/ops\n", "mesh.yaml": "teams: {}\n"}, {"flights_load": "ops", "hotels_report": "ops"}),
    ],
    ids=["facts", "mesh.yaml", "CODEOWNERS"],
)
def test_a_change_of_facts_or_settings_is_never_answered_from_the_cache(root: Path, change: dict, expected: dict) -> None:
    analyze_json(root)
    write_repo(root, change)
    document = analyze_json(root)
    assert teams_of(document) == expected
    assert document == analyze_json(root, "--no-cache")


def test_a_file_touched_without_changing_its_facts_keeps_the_result(root: Path) -> None:
    cold = analyze_json(root)
    stored = (root / RESULT).stat().st_mtime_ns
    with (root / "dags/hotels/report.py").open("a", encoding="utf-8") as out:
        out.write("# a comment\n")
    assert analyze_json(root) == cold
    assert (root / RESULT).stat().st_mtime_ns == stored  # read, not computed and written again


def test_the_piped_summary_is_answered_from_the_cache_too(root: Path) -> None:
    def summary(*extra: str) -> str:
        result = CliRunner().invoke(main, ["-v", "analyze", str(root), "--jobs", "1", *extra])
        assert result.exit_code == 0, result.output
        return result.output

    cold = summary()
    stored = {p.name: p.stat().st_mtime_ns for p in (root / cache.CACHE_DIR_NAME).glob("analysis-text-*")}
    assert len(stored) == 1
    assert summary() == cold == summary("--no-cache")
    assert {p.name: p.stat().st_mtime_ns for p in (root / cache.CACHE_DIR_NAME).glob("analysis-text-*")} == stored
    write_repo(root, {"dags/flights/load.py": 'from airflow import DAG\nwith DAG("flights_load_v2"):\n    pass\n'})
    assert "names DAG 'flights_load', which no analyzed file defines" in summary() == summary("--no-cache")


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["edited", "signed-elsewhere"])
def test_a_result_this_user_did_not_sign_is_never_used(root: Path, key: bytes | None) -> None:
    cold = analyze_json(root)
    path = root / RESULT
    data = path.read_bytes()
    forged = data.replace(b'"hotels_report"', b'"forged"')
    assert forged != data
    if key is None:
        path.write_bytes(forged)  # the signature line kept, the body edited
    else:
        path.write_bytes(cache.signed(cache.document_body(forged), key, b"mesh-migrate-analysis hmac-sha256 "))
    assert analyze_json(root) == cold
    assert b'"forged"' not in path.read_bytes()  # rewritten


def test_a_fact_document_never_passes_for_a_result(root: Path) -> None:
    cold = analyze_json(root)
    directory = root / cache.CACHE_DIR_NAME
    (directory / "analysis-json").write_bytes((directory / cache.FACTS_FILE).read_bytes())
    assert analyze_json(root) == cold


def test_an_unwritable_result_is_a_warning(root: Path) -> None:
    analyze_json(root)
    (root / RESULT).unlink()
    (root / RESULT).mkdir()  # os.replace cannot put a file there
    result = CliRunner().invoke(main, ["analyze", str(root), "--format", "json", "--jobs", "1"])
    assert result.exit_code == 0
    assert "warning: result cache not written" in result.output


def test_a_warm_json_run_imports_no_heavy_module(root: Path) -> None:
    """Rendering libraries, the graph library and the rewriting library are imported only
    by what uses them: a result answered from the cache needs none of them."""
    analyze_json(root)
    output, modules = json_run_in_a_fresh_process(root)
    heavy = ("rich", "networkx", "libcst", "graphviz", "mesh_migrate.extract.interpreter")
    assert json.loads(output)["dags"]
    assert sorted(m for m in modules if m.split(".")[0] in heavy or m in heavy) == []
