"""The end-to-end before-repository through the CLI (analyze --out, codemod --apply), without
Airflow: what `make e2e-airflow` then runs against real servers must come out of the codemod."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "airflow"))

from e2e_codemod import prepare, rewrite_problems  # noqa: E402

MESH_MIGRATE = Path(sys.executable).with_name("mesh-migrate")


def test_the_codemod_rewrites_every_construct_of_the_before_repository(tmp_path: Path) -> None:
    prepared = prepare(MESH_MIGRATE, tmp_path)
    assert rewrite_problems(prepared) == []
    partial = (prepared.repo / "dags/downstream/down_dags.py").read_text(encoding="utf-8")
    assert "functools.partial(ExternalTaskSensor" in partial  # now mesh_http's, through the file's import
    assert "class TargetTrigger(TriggerDagRunOperator)" in partial
