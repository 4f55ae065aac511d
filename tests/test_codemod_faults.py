"""The codemod under faults: several teams in one file, git that fails, signals, odd bytes.

Every case runs the real command line on a real git repository in tmp_path.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from mesh_migrate.analysis import analyze
from mesh_migrate.cli import main
from mesh_migrate.codemod.cli import EXIT_FILES_FAILED, run_codemod_command
from mesh_migrate.codemod.runner import run_codemod
from mesh_migrate.extract.runner import ExtractOptions

from .conftest import write_repo

OPTIONS = ExtractOptions(jobs=1, use_cache=False)
MESH = """
version: 1
teams:
  a: {dag_ids: ["a_*"], instance: {http_conn_id: airflow_a, api_version: 2}}
  b: {dag_ids: ["b_*"], instance: {http_conn_id: airflow_b, api_version: 2}}
  c: {dag_ids: ["c_*"], instance: {http_conn_id: airflow_c, api_version: 2}}
"""
UPSTREAM = "from airflow import DAG\nDAG('c_up')\n"
# DAGs of two teams in one file: b's first sensor stays in the team, its second leaves it.
MIXED = """\
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("a_one") as a_dag:
    ExternalTaskSensor(task_id="a_waits_c", external_dag_id="c_up")

with DAG("b_one") as b_dag:
    ExternalTaskSensor(task_id="b_waits_b", external_dag_id="b_two")
    ExternalTaskSensor(task_id="b_waits_c", external_dag_id="c_up")

with DAG("b_two") as b_two:
    pass
"""
MIXED_AFTER = """\
from airflow import DAG

from mesh_http import ExternalTaskSensor

with DAG("a_one") as a_dag:
    ExternalTaskSensor(task_id="a_waits_c", external_dag_id="c_up")

with DAG("b_one") as b_dag:
    ExternalTaskSensor(task_id="b_waits_b", external_dag_id="b_two")
    ExternalTaskSensor(task_id="b_waits_c", external_dag_id="c_up")

with DAG("b_two") as b_two:
    pass
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def committed(root: Path, files: dict[str, str]) -> Path:
    """A git repository holding FILES in one commit."""
    write_repo(root, files)
    git("init", "-q", "-b", "main", cwd=root)
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "monolith", cwd=root)
    return root


def codemod(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["codemod", str(root), *args, "--jobs", "1", "--no-cache"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output, result.output
    return result


def cli(root: Path, *args: str, limit_file_size: int | None = None) -> subprocess.CompletedProcess:
    """The real command in a process of its own; LIMIT_FILE_SIZE makes larger writes fail as on a full disk."""

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    command = [sys.executable, "-m", "mesh_migrate.cli", *args, str(root), "--jobs", "1", "--no-cache"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, preexec_fn=limited if limit_file_size else None)


def mixed_repo(root: Path) -> Path:
    return committed(root, {"mesh.yaml": MESH, "dags/c/up.py": UPSTREAM, "dags/mixed.py": MIXED})


# ---- several teams at once -----------------------------------------------------------------


@pytest.mark.parametrize("teams", [("--team", "a", "--team", "b"), ("--team", "b", "--team", "a"), ("--all-teams",)])
def test_several_teams_in_one_file_apply_what_the_diff_shows(tmp_path, teams):
    applied, diffed = mixed_repo(tmp_path / "applied"), mixed_repo(tmp_path / "diffed")
    result = codemod(applied, *teams, "--apply")
    assert result.exit_code == 0, result.output
    assert (applied / "dags/mixed.py").read_text() == MIXED_AFTER

    diff = codemod(diffed, *teams, "--diff")
    assert diff.exit_code == 0, diff.output
    subprocess.run(["git", "apply", "-"], input=diff.output, text=True, cwd=diffed, check=True)
    for path in ("dags/mixed.py", "dags/mesh_http.py"):
        assert (diffed / path).read_bytes() == (applied / path).read_bytes(), path


def test_several_teams_report_each_teams_rewrites(tmp_path):
    result = codemod(mixed_repo(tmp_path / "repo"), "--team", "a", "--team", "b", "--check")
    assert result.exit_code == 1
    assert "a: would rewrite 1 calls in 1 files" in result.output
    assert "b: would rewrite 1 calls in 1 files" in result.output
    assert "dags/mixed.py:9" in result.output and "dags/mixed.py:8" not in result.output


def test_a_file_edited_after_the_analysis_is_never_rewritten_at_stale_places(tmp_path):
    marker = MIXED.replace("    pass\n", '    ExternalTaskMarker(task_id="clear", external_dag_id="c_up")\n').replace(
        "import ExternalTaskSensor", "import ExternalTaskMarker, ExternalTaskSensor")
    root = committed(tmp_path / "repo", {"mesh.yaml": MESH, "dags/c/up.py": UPSTREAM, "dags/mixed.py": marker})
    analysis = analyze(root, options=OPTIONS)
    # Another, longer call now starts where the analysis saw b's marker.
    edited = marker.replace('ExternalTaskMarker(task_id="clear", external_dag_id="c_up")', 'ExternalTaskMarker(task_id="clear", external_dag_id="c_up", external_task_id="x")')
    (root / "dags/mixed.py").write_text(edited)
    result = run_codemod(analysis, "b", remove_markers=True)
    assert [(m.span.line, m.why) for m in result.manual] == [(12, "no call spans 12:4 as the analysis saw it: the file changed since; analyze again")]
    [change] = [c for c in result.changes if c.path == "dags/mixed.py"]
    assert "ExternalTaskMarker(task_id=\"clear\"" in change.after, "the marker stays as it is"


def test_a_file_that_fails_is_reported_and_the_run_goes_on(tmp_path):
    """A file that cannot be read any more fails with its message; the others are written,
    and the status says some files failed."""
    other = MIXED.replace('"a_one"', '"a_two"').replace('"b_one"', '"b_three"').replace('"b_two"', '"b_four"')
    root = committed(tmp_path / "repo", {"mesh.yaml": MESH, "dags/c/up.py": UPSTREAM, "dags/mixed.py": MIXED, "dags/other.py": other})
    analysis = analyze(root, options=OPTIONS)
    (root / "dags/other.py").write_bytes(b"# caf\xe9\n" + other.encode())
    out, err = Console(file=io.StringIO(), no_color=True, width=400), Console(file=io.StringIO(), no_color=True, width=400)
    status = run_codemod_command(root, ("a",), False, "apply", True, False, lambda _: analysis, False, out, err)
    report = err.file.getvalue()
    assert status == EXIT_FILES_FAILED == 3, report
    assert "failed dags/other.py: cannot read: 'utf-8' codec can't decode byte 0xe9" in report
    assert "manual dags/other.py:5: sensor a_waits_c on c_up (c): dags/other.py could not be rewritten: cannot read" in report
    assert (root / "dags/mixed.py").read_text() == MIXED_AFTER


# ---- the module the rewritten calls import -------------------------------------------------

HELPER = "dags/mesh_http.py"


def test_a_failed_write_of_the_helper_module_leaves_every_dag_untouched(tmp_path):
    root = mixed_repo(tmp_path / "repo")
    [helper] = [c for c in run_codemod(analyze(root, options=OPTIONS), "a").changes if c.path == HELPER]
    helper_size = len(helper.after.encode())
    assert helper_size > 2 * len(MIXED_AFTER)
    # The DAG file fits under the limit, the module does not: the disk fills up while writing it.
    result = cli(root, "codemod", "--all-teams", "--apply", limit_file_size=2 * len(MIXED_AFTER))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot write {HELPER}:") and "File too large" in line
    assert (root / "dags/mixed.py").read_text() == MIXED
    assert not (root / HELPER).exists()
    assert git("status", "--porcelain", cwd=root) == ""


def test_a_rerun_recreates_a_missing_helper_module_and_check_reports_it_meanwhile(tmp_path):
    root = mixed_repo(tmp_path / "repo")
    assert codemod(root, "--all-teams", "--apply").exit_code == 0
    (root / HELPER).unlink()
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "migrated, module lost", cwd=root)

    check = CliRunner().invoke(main, ["check", str(root), "--format", "json", "--no-cache"])
    assert check.exit_code == 1, check.output
    findings = [(f["code"], f["file"], f["line"], f["team"]) for f in json.loads(check.output)["findings"]]
    assert findings == [("MM403", "dags/mixed.py", 3, "a")]

    again = codemod(root, "--team", "a", "--apply")
    assert again.exit_code == 0, again.output
    assert f"created {HELPER}" in again.output
    assert (root / HELPER).read_text() == (Path(__file__).parent.parent / "rules/mesh_http.py").read_text()
    assert (root / "dags/mixed.py").read_text() == MIXED_AFTER
    assert CliRunner().invoke(main, ["check", str(root), "--no-cache"]).exit_code == 0


def read_only(root: Path, command: list[str]) -> list[str]:
    """COMMAND run on ROOT mounted read-only (as root, for whom permissions are no barrier), else ROOT made unwritable."""
    if os.geteuid() != 0:
        for path in (root, *root.rglob("*")):
            path.chmod(path.stat().st_mode & ~0o222)
        return command
    if not shutil.which("unshare"):
        pytest.skip("needs unshare to mount a read-only tree as root")
    mount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && shift && exec "$@"'
    return ["unshare", "--mount", "sh", "-c", mount, str(root), "--", *command]


def test_apply_on_a_read_only_tree_is_one_line_naming_the_path(tmp_path):
    root = mixed_repo(tmp_path / "repo")
    command = read_only(root, [sys.executable, "-m", "mesh_migrate.cli", "codemod", str(root), "--all-teams", "--apply", "--jobs", "1", "--no-cache"])
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if "unshare" in result.stderr and "Operation not permitted" in result.stderr:
        pytest.skip("mounts are not permitted here")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"error: cannot write {HELPER}: {'Read-only file system' if os.geteuid() == 0 else 'Permission denied'}; nothing written"]
    assert (root / "dags/mixed.py").read_text() == MIXED


# ---- the dirty-tree guard ------------------------------------------------------------------


def break_git_dir(root: Path) -> dict[str, str]:
    return {"GIT_DIR": str(root.parent / "nowhere")}


def pretend_git(root: Path) -> dict[str, str]:
    shutil.rmtree(root / ".git")
    (root / ".git").write_text(f"gitdir: {root.parent / 'nowhere'}\n")
    return {}


def no_git(root: Path) -> dict[str, str]:
    shutil.rmtree(root / ".git")
    return {}


def dubious_ownership(root: Path) -> dict[str, str]:
    if os.geteuid() != 0:
        pytest.skip("only root can give the repository to another user")
    for path in (root, *root.rglob("*")):
        os.chown(path, 65534, 65534, follow_symlinks=False)
    return {}


@pytest.mark.parametrize("break_git", [break_git_dir, pretend_git, no_git, dubious_ownership])
def test_apply_refuses_when_git_cannot_tell_what_is_uncommitted(tmp_path, break_git):
    root = mixed_repo(tmp_path / "repo")
    edited = MIXED + "# not committed yet\n"
    (root / "dags/mixed.py").write_text(edited)
    env = break_git(root)
    result = CliRunner().invoke(main, ["codemod", str(root), "--all-teams", "--apply", "--jobs", "1", "--no-cache"], env=env)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert line.startswith("error: cannot tell whether the work tree has uncommitted changes (git ")
    assert line.endswith("); pass --allow-dirty to write anyway")
    assert (root / "dags/mixed.py").read_text() == edited
    assert not (root / HELPER).exists()

    allowed = CliRunner().invoke(main, ["codemod", str(root), "--all-teams", "--apply", "--allow-dirty", "--jobs", "1", "--no-cache"], env=env)
    assert allowed.exit_code == 0, allowed.output
    assert (root / "dags/mixed.py").read_text() == MIXED_AFTER + "# not committed yet\n"


def test_apply_refuses_to_rewrite_files_git_does_not_track(tmp_path):
    root = mixed_repo(tmp_path / "repo")
    (root / "dags/[new] one.py").write_text(MIXED.replace('"a_one"', '"a_new"').replace('"b_one"', '"b_new"').replace('"b_two"', '"b_new_two"'))
    result = codemod(root, "--all-teams", "--apply")
    assert result.exit_code == 2, result.output
    assert "error: git does not track dags/[new] one.py, so its original could not be restored; commit it, or pass --allow-dirty" in result.output
    assert (root / "dags/mixed.py").read_text() == MIXED
    assert not (root / HELPER).exists()

    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "new DAGs", cwd=root)
    assert codemod(root, "--all-teams", "--apply").exit_code == 0


# ---- signals during --branch ---------------------------------------------------------------


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_branch_rolls_back_the_worktree_and_the_branch(tmp_path, signum):
    root = mixed_repo(tmp_path / "repo")
    checking_out = tmp_path / "checking-out"
    hook = root / ".git/hooks/post-checkout"  # runs inside `git worktree add`: holds the run there
    hook.write_text(f'#!/bin/sh\ntouch "{checking_out}"\nsleep 10\n')
    hook.chmod(0o755)
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = [sys.executable, "-m", "mesh_migrate.cli", "codemod", str(root), "--team", "a", "--branch", "--jobs", "1", "--no-cache"]
    process = subprocess.Popen(command, env={**os.environ, "TMPDIR": str(temp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(checking_out, process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == (-signal.SIGTERM if signum == signal.SIGTERM else 1), stderr  # 1: Aborted!
    assert "Traceback" not in stderr, stderr
    assert git("branch", "--list", "mesh/*", cwd=root) == ""
    assert len(git("worktree", "list", "--porcelain", cwd=root).strip().split("\n\n")) == 1
    assert list(temp.iterdir()) == []
    assert git("status", "--porcelain", cwd=root) == ""

    hook.unlink()
    again = codemod(root, "--team", "a", "--branch")
    assert again.exit_code == 0, again.output
    assert git("branch", "--list", "mesh/*", cwd=root).split() == ["mesh/a"]


# ---- bytes outside the rewrite -------------------------------------------------------------

ONE_SENSOR = """\
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor

with DAG("a_one") as a_dag:  # café

    ExternalTaskSensor(task_id="a_waits_c", external_dag_id="c_up")
"""
ONE_SENSOR_AFTER = """\
from airflow import DAG

from mesh_http import ExternalTaskSensor

with DAG("a_one") as a_dag:  # café

    ExternalTaskSensor(task_id="a_waits_c", external_dag_id="c_up")
"""
# BOM, line break, the last line's break, and whether a page break (form feed) replaces the blank line before the DAG
LAYOUTS = {
    "UTF-8 BOM": ("\ufeff", "\n", "\n", False),
    "CR line endings": ("", "\r", "\r", False),
    "CRLF line endings": ("", "\r\n", "\r\n", False),
    "BOM and CRLF": ("\ufeff", "\r\n", "\r\n", False),
    "CR, no final line break": ("", "\r", "", False),
    "form feed before the DAG": ("", "\n", "\n", True),
}


def laid_out(text: str, layout: str) -> bytes:
    bom, newline, last, page_break = LAYOUTS[layout]
    if page_break:
        text = text.replace("\n\nwith DAG", "\n\x0c\nwith DAG")
    body = text.removesuffix("\n").replace("\n", newline)
    return (bom + body + last).encode()


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_bytes_outside_the_rewrite_are_kept(tmp_path, layout):
    root = committed(tmp_path / "repo", {"mesh.yaml": MESH, "dags/c/up.py": UPSTREAM})
    (root / "dags/one.py").write_bytes(laid_out(ONE_SENSOR, layout))
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one", cwd=root)
    result = codemod(root, "--team", "a", "--apply")
    assert result.exit_code == 0, result.output
    assert (root / "dags/one.py").read_bytes() == laid_out(ONE_SENSOR_AFTER, layout)
    assert codemod(root, "--team", "a", "--check", "--allow-dirty").exit_code == 0
