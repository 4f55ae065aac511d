"""The shipped pre-commit hook, run by pre-commit itself in a real temporary git repository.

The hook definition is read from .pre-commit-hooks.yaml and only made local: `language:
system` and the absolute path of this environment's `mesh-migrate`, so no network is needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .checkrepo import make_repo, sensor_dag

BIN = Path(sys.executable).parent
PRE_COMMIT = BIN / "pre-commit"
MESH_MIGRATE = BIN / "mesh-migrate"
HOOKS = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"

pytestmark = pytest.mark.skipif(
    not (PRE_COMMIT.exists() and MESH_MIGRATE.exists() and shutil.which("git")),
    reason="needs git, and pre-commit and mesh-migrate installed in this environment",
)


def local_config(args: list[str]) -> str:
    [hook] = yaml.safe_load(HOOKS.read_text())
    entry = hook["entry"].split()
    assert entry[0] == "mesh-migrate"
    hook.update(entry=" ".join([str(MESH_MIGRATE), *entry[1:]]), language="system", args=args)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]})


@pytest.fixture
def git_repo(tmp_path):
    repo = make_repo(tmp_path / "repo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
        GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
    )

    def sh(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)

    def hook(*files: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        (repo / ".pre-commit-config.yaml").write_text(local_config(list(args)))
        sh("git", "add", "-A")
        return sh(PRE_COMMIT, "run", "--files", *files)

    assert sh("git", "init", "-q").returncode == 0
    (repo / ".pre-commit-config.yaml").write_text(local_config([]))
    sh("git", "add", "-A")
    assert sh("git", "commit", "-q", "-m", "monolith").returncode == 0
    return repo, hook


def test_the_hook_stops_a_new_cross_team_sensor_until_suppressed(git_repo):
    repo, hook = git_repo
    (repo / "dags/alpha/wait.py").write_text(sensor_dag("alpha_wait", "beta_prices"))
    failed = hook("dags/alpha/wait.py")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "dags/alpha/wait.py:4: MM101" in failed.stdout

    (repo / "dags/alpha/wait.py").write_text(sensor_dag("alpha_wait", "beta_prices", comment="  # mesh: ignore[MM101]"))
    passed = hook("dags/alpha/wait.py")
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_hook_passes_what_the_baseline_accepts(git_repo):
    repo, hook = git_repo
    (repo / "dags/alpha/wait.py").write_text(sensor_dag("alpha_wait", "beta_prices"))
    written = subprocess.run([MESH_MIGRATE, "check", ".", "--write-baseline", "mesh-baseline.json"], cwd=repo, capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    args = ("--baseline", "mesh-baseline.json")
    assert hook("dags/alpha/wait.py", args=args).returncode == 0

    (repo / "dags/alpha/more.py").write_text(sensor_dag("alpha_more", "gamma_report"))
    failed = hook("dags/alpha/wait.py", "dags/alpha/more.py", args=args)
    assert failed.returncode == 1 and "dags/alpha/more.py:4: MM101" in failed.stdout
    assert "wait.py:4" not in failed.stdout
