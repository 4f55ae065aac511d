"""Faults of the machine around the analysis: outputs that cannot be written, a full disk,
odd targets, file names that hold control characters.

Every I/O failure is one line naming the path, exit 2, never a traceback. Read-only
folders and full disks are real: as root (whom permissions do not stop) a small tmpfs is
mounted, read-only or filled up; without the right to mount, those cases are skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from .test_faults import copy, run


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


# ---- check ----------------------------------------------------------------------------


def test_a_baseline_nested_too_deep_is_a_clear_error(tmp_path):
    root = fault_repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    baseline.write_text("[" * 100_000 + "]" * 100_000)
    one_line_error(run("check", root, "--no-cache", "--baseline", baseline), str(baseline))


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
