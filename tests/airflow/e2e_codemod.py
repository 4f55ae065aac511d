"""The before-repository (tests/airflow/e2e_repo) through mesh-migrate, as a team would run it.

`prepare(mesh_migrate, folder)` copies the repository into FOLDER, writes the analysis report
(`analyze --out`, for the access roles), commits the copy in a new git repository and runs
`codemod --team downstream --apply` on it, then `codemod --check` and `check` on the result.
`rewrite_problems(prepared)` lists what the codemod did not do as it should; the rewritten
copy is what tests/airflow/e2e_cases.py runs against the upstream servers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE / "e2e_repo"
ROOT = HERE.parent.parent
TEAM = "downstream"
UPSTREAM_TEAM = "upstream"

# Airflow's own import paths: none may survive in a rewritten file.
AIRFLOW_PATHS = re.compile(r"airflow\.(sensors\.external_task|operators\.trigger_dagrun|operators import trigger_dagrun)")


@dataclass(frozen=True)
class Prepared:
    repo: Path  # the rewritten copy
    report: Path  # analyze --out of the repository before the rewrite
    codemod_output: str
    recheck_output: str  # codemod --check after --apply
    check_output: str  # mesh-migrate check after --apply
    seconds: float


def prepare(mesh_migrate: Path, folder: Path) -> Prepared:
    started = time.monotonic()
    repo, report = folder / "repo", folder / "report"
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns("__pycache__", ".mesh-migrate-cache"))
    _run([str(mesh_migrate), "analyze", str(repo), "--out", str(report), "--no-cache"])
    # a clean git work tree, so --apply runs as on a team's checkout (no --allow-dirty)
    git = ["git", "-C", str(repo), "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "before"]):
        _run([*git, *command])
    output = _run([str(mesh_migrate), "codemod", str(repo), "--team", TEAM, "--apply", "--no-cache"])
    recheck = _run([str(mesh_migrate), "codemod", str(repo), "--team", TEAM, "--check", "--no-cache"])
    check = _run([str(mesh_migrate), "check", str(repo), "--no-cache"], allowed=(0, 1))  # 1: findings
    return Prepared(repo, report, output, recheck, check, time.monotonic() - started)


def _run(command: list[str], allowed: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode not in allowed:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def rewrite_problems(prepared: Prepared) -> list[str]:
    """What the codemod should have rewritten in the before-repository and did not."""
    repo, problems = prepared.repo, []
    if not re.search(r"rewrote \d+ calls in 3 files; 0 left as manual work", prepared.codemod_output):
        problems.append(f"codemod summary: {prepared.codemod_output.splitlines()[:1]}")
    changed = {
        "dags/downstream/down_dags.py": [
            "from mesh_http import ExternalTaskSensor, TriggerDagRunOperator, publish_dataset_events",  # direct, partial, subclass
            "mesh_http.TriggerDagRunOperator(task_id=f\"fan_out_{target}\"",  # the loop's module-style reference
            'outlets=[Dataset("s3://lake/e2e_bookings")], post_execute=publish_dataset_events()',
        ],
        "dags/downstream/down_run.py": [
            "from mesh_http import ExternalTaskSensor, TriggerDagRunOperator, publish_dataset_events",
            'outlets=[Dataset("s3://lake/e2e_bookings")], post_execute=publish_dataset_events()',
        ],
        "lib/downstream_tools/waits.py": ["from mesh_http import ExternalTaskSensor"],  # the shared helper
    }
    for path, expected in changed.items():
        text = (repo / path).read_text(encoding="utf-8")
        problems += [f"{path}: no {line!r}" for line in expected if line not in text]
        problems += [f"{path}: still imports {found.group(0)}" for found in AIRFLOW_PATHS.finditer(text)]
    for path in ("dags/upstream/upstream_dags.py", "dags/reports/reports_dags.py", "mesh.yaml"):
        if (repo / path).read_bytes() != (REPO / path).read_bytes():
            problems.append(f"{path}: another team's file was changed")
    helper = repo / "lib" / "mesh_http.py"
    if not helper.exists() or helper.read_bytes() != (ROOT / "rules" / "mesh_http.py").read_bytes():
        problems.append("lib/mesh_http.py is missing or not the shipped rules/mesh_http.py")
    problems += registry_problems(repo / "lib" / "mesh_registry.json")
    # a second run changes nothing, and what check still finds is the other teams' work
    if "would rewrite 0 calls in 0 files" not in prepared.recheck_output:
        problems.append(f"codemod --check after --apply: {prepared.recheck_output.strip()[:300]}")
    problems += [f"check after --apply: {line}" for line in prepared.check_output.splitlines() if f"--team {TEAM} " in line]
    if not (prepared.report / "access" / f"{UPSTREAM_TEAM}.json").exists():
        problems.append(f"analyze wrote no access/{UPSTREAM_TEAM}.json")
    return problems


def registry_problems(path: Path) -> list[str]:
    if not path.exists():
        return [f"{path.name} was not written"]
    registry = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    if registry.get("team") != TEAM:
        problems.append(f"registry team {registry.get('team')!r}")
    remote = set(registry.get("dags", {}))
    for dag_id in ("up_tasks", "up_wide", "up_target", "up_missing"):
        if registry["dags"].get(dag_id) != UPSTREAM_TEAM:
            problems.append(f"registry: {dag_id} not on instance {UPSTREAM_TEAM}")
    problems += [f"registry: own DAG {dag_id} listed as remote" for dag_id in sorted(remote) if dag_id.startswith("down")]
    if registry.get("task_groups", {}).get("up_tasks", {}).get("flat") != ["flat_a", "flat_b"]:
        problems.append("registry: the members of group flat (prefix_group_id=False) are not listed")
    if registry.get("datasets", {}).get("s3://lake/e2e_bookings") != [UPSTREAM_TEAM]:
        problems.append("registry: s3://lake/e2e_bookings is not posted to upstream")
    return problems
