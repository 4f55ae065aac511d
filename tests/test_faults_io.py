"""Faults of the machine around the analysis: outputs that cannot be written, a full disk,
odd targets, file names that hold control characters.

Every I/O failure is one line naming the path, exit 2, never a traceback. Read-only
folders and full disks are real: as root (whom permissions do not stop) a small tmpfs is
mounted, read-only or filled up; without the right to mount, those cases are skipped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from mesh_migrate.cache import CACHE_DIR_NAME, FACTS_FILE
from mesh_migrate.facts import FileFacts
from mesh_migrate.fsutil import read_regular_file, write_atomic
from mesh_migrate.names import branch_name, file_name

from .conftest import SKYFLOW
from .processes import alive, descendants
from .test_faults import copy, fillers, huge_dag, run, write


def fault_repo(root: Path) -> Path:
    """A good DAG and a sensor on a DAG defined nowhere: one MM401 finding for `check`."""
    copy("mesh.yaml", "dags/good.py", "dags/sensor_on_missing_dag.py")(root)
    return root


@contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(["size=256k", *options]), "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@contextmanager
def read_only_folder(where: Path) -> Iterator[Path]:
    """A folder nobody can create files in, root included."""
    if os.geteuid() != 0:
        where.mkdir(parents=True)
        where.chmod(0o555)
        try:
            yield where
        finally:
            where.chmod(0o755)
        return
    with tmpfs(where, "ro") as folder:
        yield folder


@contextmanager
def full_disk(where: Path) -> Iterator[Path]:
    with tmpfs(where) as folder:
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"x" * 4096):
                pass
        except OSError:
            pass  # full
        finally:
            os.close(fd)
        yield folder


def one_line_error(result, *names: str) -> str:
    """The run failed with exit 2 and a single `error:` line naming each of NAMES."""
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for name in names:
        assert name in errors[0], (name, errors[0])
    return errors[0]


# ---- analyze --out -----------------------------------------------------------------------


def test_out_into_a_read_only_folder(tmp_path):
    root = fault_repo(tmp_path / "repo")
    with read_only_folder(tmp_path / "ro") as folder:
        one_line_error(run("analyze", root, "--no-cache", "--out", folder / "report"), str(folder / "report"))


def test_out_under_a_file(tmp_path):
    root = fault_repo(tmp_path / "repo")
    (tmp_path / "a-file").write_text("not a folder")
    one_line_error(run("analyze", root, "--no-cache", "--out", tmp_path / "a-file" / "report"), "a-file")


def test_out_through_a_dangling_symlink(tmp_path):
    root = fault_repo(tmp_path / "repo")
    (tmp_path / "report").symlink_to(tmp_path / "nowhere")
    one_line_error(run("analyze", root, "--no-cache", "--out", tmp_path / "report"), str(tmp_path / "report"))


def test_out_on_a_full_disk_keeps_nothing_half_written(tmp_path):
    root = fault_repo(tmp_path / "repo")
    with full_disk(tmp_path / "disk") as disk:
        one_line_error(run("analyze", root, "--no-cache", "--out", disk / "report"), str(disk / "report"))
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_a_temporary_file_left_by_a_killed_write_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "plan.md"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".plan.md.{dead.pid}.k3x9q2ab.tmp"
    left.write_text("half")
    writing = tmp_path / f".plan.md.{os.getpid()}.a8f0c1de.tmp"  # a write still running: kept
    writing.write_text("half")
    other = tmp_path / f".other.md.{dead.pid}.k3x9q2ab.tmp"  # another file's: left to its next write
    other.write_text("half")
    write_atomic(target, "whole\n")
    assert target.read_text() == "whole\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, "plan.md", writing.name])


def test_a_dot_that_cannot_be_run_is_a_hint(tmp_path):
    root = fault_repo(tmp_path / "repo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\nexit 0\n")  # not executable
    env = {"PATH": str(bin_dir)}  # alone: a runnable `dot` further on PATH would be used instead
    from click.testing import CliRunner

    from mesh_migrate.cli import main

    result = CliRunner().invoke(main, ["analyze", str(root), "--no-cache", "--out", str(tmp_path / "report")], env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "hint: " in result.output and "dot" in result.output
    assert (tmp_path / "report" / "graph.dot").is_file()
    assert not (tmp_path / "report" / "graph.svg").exists()


# ---- graph -o, check -o, --write-baseline, --baseline -------------------------------------


def test_graph_output_into_a_read_only_folder(tmp_path):
    root = fault_repo(tmp_path / "repo")
    with read_only_folder(tmp_path / "ro") as folder:
        one_line_error(run("graph", root, "--no-cache", "-o", folder / "teams.dot"), str(folder / "teams.dot"))


@pytest.mark.parametrize("option", ["-o", "--write-baseline"])
def test_check_writes_on_a_full_disk(tmp_path, option):
    root = fault_repo(tmp_path / "repo")
    with full_disk(tmp_path / "disk") as disk:
        target = disk / "out.json"
        one_line_error(run("check", root, "--no-cache", option, target), str(target), "No space left")
        assert not target.exists()


def test_check_output_into_a_fifo_writes_into_it(tmp_path):
    """`-o /dev/stdout` or a named pipe is written to, never replaced by a regular file."""
    root = fault_repo(tmp_path / "repo")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("check", root, "--no-cache", "--format", "json", "-o", fifo)
    reader.join(timeout=60)
    assert result.exit_code == 1, result.output
    assert fifo.is_fifo()
    assert json.loads(received[0])["summary"]["failing"] == 1


def test_a_baseline_nested_too_deep_is_a_clear_error(tmp_path):
    root = fault_repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    baseline.write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(run("check", root, "--no-cache", "--baseline", baseline), str(baseline))


# ---- text output -------------------------------------------------------------------------


def test_check_text_escapes_control_characters_in_file_names(tmp_path):
    """A file name holding a newline and a workflow command stays one line of text output."""
    root = fault_repo(tmp_path / "repo")
    evil = "dags/evil\n::error file=x.py::pwned\r\x1b[2J.py"
    (root / "dags/sensor_on_missing_dag.py").rename(root / evil)
    result = run("check", root, "--no-cache")
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("::") or "\x1b" in line or "\r" in line]
    [finding] = [line for line in lines if ": MM401 " in line]
    assert finding.startswith(f"{root}/dags/evil\\n::error file=x.py::pwned\\r\\x1b[2J.py:5: MM401 ")


# ---- analyze --out, interrupted --------------------------------------------------------------

FAKE_DOT = """#!/bin/sh
# Stands in for graphviz: renders at once, or (with DOT_BLOCK set) says so and hangs.
if [ -n "$DOT_BLOCK" ]; then touch "$DOT_BLOCK"; exec sleep 120; fi
cat > /dev/null
echo '<svg xmlns="http://www.w3.org/2000/svg"/>'
"""


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def mesh_migrate(*args, env: dict[str, str], **options) -> subprocess.Popen:
    command = [sys.executable, "-m", "mesh_migrate.cli", *map(str, args)]
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, **options)


def wait_for(path: Path, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_out_interrupted_by_sigterm_keeps_the_previous_report_whole(tmp_path):
    root = fault_repo(tmp_path / "repo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dot").write_text(FAKE_DOT)
    (bin_dir / "dot").chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    out = tmp_path / "report"
    first = mesh_migrate("analyze", root, "--no-cache", "--out", out, env=env)
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    before = tree(out)
    assert "graph.svg" in before and "plans/faults.md" in before

    (root / "dags/more.py").write_text('from airflow import DAG\nDAG("faults_more")\n')
    marker = tmp_path / "rendering"
    second = mesh_migrate("analyze", root, "--no-cache", "--out", out, env={**env, "DOT_BLOCK": str(marker)})
    try:
        wait_for(marker, second)  # the new report is being rendered: every other file is written
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == -signal.SIGTERM
    finally:
        os.killpg(second.pid, signal.SIGKILL)  # the hanging `dot`, if it is left
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "rendering", "repo", "report"]

    third = mesh_migrate("analyze", root, "--no-cache", "--out", out, env=env)
    assert third.wait(timeout=120) == 0
    assert b"faults_more" in tree(out)["analysis.json"]


# ---- team names that slug alike -------------------------------------------------------------

CLASHING_TEAMS = ["a b", "a-b", "a/b", "A-B", "データ", "日本", "..", "x.lock", "x", "t" * 300]


def test_every_team_gets_its_own_plan_files_and_the_count_is_real(tmp_path):
    teams = "".join(f"  {json.dumps(team)}:\n    dag_ids: [{json.dumps(f'dag_{index}')}]\n" for index, team in enumerate(CLASHING_TEAMS))
    files = {f"dags/dag_{index}.py": f'from airflow import DAG\nDAG("dag_{index}")\n' for index in range(len(CLASHING_TEAMS))}
    root = tmp_path / "repo"
    for name, text in {"mesh.yaml": f"version: 1\nteams:\n{teams}", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    out = tmp_path / "report"
    result = run("analyze", root, "--no-cache", "--out", out)
    assert result.exit_code == 0, result.output
    plans = sorted((out / "plans").glob("*.yaml"))
    assert len(plans) == len(CLASHING_TEAMS)
    assert sorted(yaml.safe_load(p.read_text(encoding="utf-8"))["team"] for p in plans) == sorted(CLASHING_TEAMS)
    written = sum(1 for p in out.rglob("*") if p.is_file())
    assert f"wrote {written} files to {out} ({len(CLASHING_TEAMS)} team plans)" in result.output


def test_file_and_branch_names_are_stable_and_shared():
    # A name that is already safe is kept; any other gets a digest of the exact name, so
    # adding a team never renames another one's files or branch.
    assert file_name("flights") == "flights" and branch_name("flights") == "mesh/flights"
    assert file_name("a b").startswith("a-b-") and file_name("a b") != file_name("a-b")
    for team in CLASHING_TEAMS:
        assert branch_name(team) == f"mesh/{file_name(team)}"
        assert len(file_name(team).encode()) <= 100
    assert len({file_name(team).lower() for team in CLASHING_TEAMS}) == len(CLASHING_TEAMS)


# ---- worker processes of a killed run --------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds worker processes through /proc")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_end_with_a_killed_run_and_release_its_output(tmp_path, signum):
    """`mesh-migrate analyze ... | wc -c` ends when the run is killed: no worker keeps the pipe."""
    root = fault_repo(tmp_path / "repo")
    fillers(120)(root)
    for index in range(4):  # seconds of work, so that the run is killed while its workers run
        write(f"dags/huge_{index}.py", huge_dag().replace(b"faults_huge", f"faults_huge_{index}".encode()))(root)
    command = [sys.executable, "-m", "mesh_migrate.cli", "analyze", str(root), "--no-cache", "--jobs", "2", "--format", "json"]
    run_ = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 3:  # the zygote and the two workers it forks
            assert run_.poll() is None and time.monotonic() < deadline, "no worker processes seen"
            workers = descendants(run_.pid)
            time.sleep(0.02)
        run_.send_signal(signum)
        output = threading.Thread(target=run_.stdout.read, daemon=True)
        output.start()
        output.join(timeout=60)
        assert not output.is_alive(), "the output pipe is still held open"
        deadline = time.monotonic() + 60
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)]
        assert run_.wait(timeout=60) == -signum
    finally:
        for pid in workers | {run_.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---- a fact cache edited by hand or by another tool ---------------------------------------


def edit_cache(document_path: Path, edit) -> None:
    """Change the JSON document of the cache as an editor would, leaving anything before
    it (a first line that is not JSON) as it is."""
    data = document_path.read_bytes()
    head, body = (b"", data) if data.startswith(b"{") else data.split(b"\n", 1)
    document = json.loads(body)
    edit(document)
    document_path.write_bytes(head + (b"\n" if head else b"") + json.dumps(document).encode())


DEPENDENCIES = [f.name for f in dataclasses.fields(FileFacts)].index("dependencies")


def test_a_cache_with_its_dependency_records_emptied_changes_no_verdict(tmp_path):
    root = tmp_path / "skyflow"
    shutil.copytree(SKYFLOW, root, ignore=shutil.ignore_patterns(CACHE_DIR_NAME))
    honest = run("check", root, "--jobs", "1")
    assert honest.exit_code == 1 and "MM101" in honest.output

    def forget_dependencies(document: dict) -> None:
        for entry in document["files"].values():
            entry[2][DEPENDENCIES] = []  # content hashes kept

    edit_cache(root / CACHE_DIR_NAME / FACTS_FILE, forget_dependencies)
    again = run("check", root, "--jobs", "1")
    assert (again.exit_code, again.output) == (honest.exit_code, honest.output)


@pytest.mark.parametrize("planted", ["../fifo", "/dev/zero", "dags/../../fifo"])
def test_cache_paths_to_a_fifo_or_a_device_are_never_read(tmp_path, planted):
    root = fault_repo(tmp_path / "repo")
    os.mkfifo(tmp_path / "fifo")
    expected = analyze_in_process(root)
    analyze_in_process(root)  # writes the cache

    def plant(document: dict) -> None:
        for entry in document["files"].values():
            entry[1][planted] = "0" * 64

    edit_cache(root / CACHE_DIR_NAME / FACTS_FILE, plant)
    done = subprocess.run([sys.executable, "-m", "mesh_migrate.cli", "analyze", str(root), "--format", "json"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


@pytest.mark.parametrize("kind", ["fifo", "device", "garbage"])
def test_a_cache_document_that_is_not_a_plain_file_is_ignored(tmp_path, kind):
    root = fault_repo(tmp_path / "repo")
    expected = analyze_in_process(root)
    document = root / CACHE_DIR_NAME / FACTS_FILE
    document.unlink()
    if kind == "fifo":
        os.mkfifo(document)
    elif kind == "device":
        document.symlink_to("/dev/zero")
    else:
        document.write_bytes(b"\n" * 10)
    done = subprocess.run([sys.executable, "-m", "mesh_migrate.cli", "analyze", str(root), "--format", "json"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def analyze_in_process(root: Path) -> dict:
    result = run("analyze", root, "--format", "json", "--jobs", "1")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize("make", [os.mkfifo, lambda path: path.symlink_to("/dev/zero"), lambda path: path.write_bytes(b"x" * 101)], ids=["fifo", "device", "too-large"])
def test_read_regular_file_refuses_what_would_block_or_never_end(tmp_path, make):
    target = tmp_path / "target"
    make(target)
    with pytest.raises(OSError) as raised:
        read_regular_file(target, 100)
    assert raised.value.filename == str(target)
    (tmp_path / "plain").write_bytes(b"x" * 100)
    assert read_regular_file(tmp_path / "plain", 100) == b"x" * 100
