"""Codemod cases met in real repositories, as before/after pairs: each reproduces the
pattern (not the repository's code) that a first version of the codemod got wrong."""

from __future__ import annotations

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.runner import REWRITTEN, apply_changes, run_codemod

from .conftest import write_repo
from .test_codemod_cases import MESH, OPTIONS, UPSTREAMS, src


def test_a_file_in_python_312_syntax_is_rewritten_though_this_python_is_older(tmp_path):
    # An f-string reusing its own quotes inside a replacement field is 3.12 syntax: the
    # analysis reads it, so the rewrite must not be refused as "would not parse".
    before = src('''
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        STREAMS = {"up": "c_up"}

        with DAG("a_down"):
            for name, upstream in STREAMS.items():
                ExternalTaskSensor(task_id=f"wait_{name}_{"x" if name else "y"}", external_dag_id=upstream)
        ''')
    write_repo(tmp_path, {"mesh.yaml": MESH, **UPSTREAMS, "dags/a/down.py": before})
    result = run_codemod(analyze(tmp_path, options=OPTIONS), "a")
    assert result.errors == () and result.manual == ()
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    assert change.after == before.replace(
        "from airflow.sensors.external_task import ExternalTaskSensor\n", "\nfrom mesh_http import ExternalTaskSensor\n"
    )
    assert [f.status for f in result.files] == [REWRITTEN]
    apply_changes(tmp_path, result.changes)
    assert run_codemod(analyze(tmp_path, options=OPTIONS), "a").changes == ()
