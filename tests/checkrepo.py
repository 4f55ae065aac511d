"""A small three-team repository for the `check` tests, and ways to grow it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.check import run_check
from mesh_migrate.cli import main

from .conftest import write_repo

MESH_YAML = """
    version: 1
    rules: [mesh-rules.yaml]
    exclude: ["dags/**/legacy_*.py"]
    teams:
      alpha:
        paths: ["dags/alpha/**"]
      beta:
        paths: ["dags/beta/**"]
      gamma:
        paths: ["dags/gamma/**"]
"""

# A company sensor (MM105) and a wrapper of the codemod's kind, already migrated.
RULES = """
    version: 1
    kinds:
      company_sensor: {}
    dependencies:
      - name: CompanyDagSensor
        kind: company_sensor
        callables: [company.sensors.CompanyDagSensor]
        dag_argument: {keyword: upstream_dag}
        direction: upstream
      - name: RemoteDagSensor
        kind: http_sensor
        callables: [company.remote.RemoteDagSensor]
        dag_argument: {keyword: remote_dag}
        direction: upstream
"""

HEADER = """\
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor
"""

# Clean: the only dependency stays inside team alpha.
BASE = {
    "mesh.yaml": MESH_YAML,
    "mesh-rules.yaml": RULES,
    ".gitignore": "build/\n",
    "dags/alpha/raw.py": HEADER + 'with DAG("alpha_raw") as dag:\n    pass\n',
    "dags/alpha/orders.py": HEADER
    + """
with DAG("alpha_orders") as dag:
    wait_raw = ExternalTaskSensor(task_id="wait_raw", external_dag_id="alpha_raw")
""",
    "dags/beta/prices.py": HEADER + 'with DAG("beta_prices") as dag:\n    pass\n',
    "dags/gamma/report.py": HEADER + 'with DAG("gamma_report") as dag:\n    pass\n',
}


def sensor_dag(dag_id: str, *waits: str, comment: str = "") -> str:
    """A DAG file whose sensors wait on WAITS, one call per line (with COMMENT after each)."""
    lines = [HEADER + f'with DAG("{dag_id}") as dag:']
    for other in waits:
        lines.append(f'    ExternalTaskSensor(task_id="wait_{other}", external_dag_id="{other}"){comment}')
    if not waits:
        lines.append("    pass")
    return "\n".join(lines) + "\n"


def make_repo(root: Path, extra: dict[str, str] | None = None) -> Path:
    return write_repo(root, {**BASE, **(extra or {})})


def check_repo(root: Path, **options):
    return run_check(analyze(root), **options)


def codes(result) -> list[tuple[str, str, int]]:
    return [(f.code, f.file, f.line) for f in result.failing]


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


__all__ = ["BASE", "HEADER", "check_repo", "codes", "make_repo", "run", "sensor_dag", "write_repo"]
