"""The codemod can never corrupt a repository: property tests, interruption, escapes, names."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.runner import FileChange, WriteRefused, apply_changes, run_codemod
from mesh_migrate.extract.runner import ExtractOptions
from mesh_migrate.names import branch_name

from .conftest import write_repo

OPTIONS = ExtractOptions(jobs=1, use_cache=False)
MESH = """
version: 1
teams:
  a: {paths: ["dags/a/**"], instance: {http_conn_id: airflow_a, api_version: 2}}
  c: {paths: ["dags/c/**"], instance: {http_conn_id: airflow_c, api_version: 3}}
"""
UPSTREAM = {"dags/c/up.py": "from airflow import DAG\nDAG('c_up')\n"}

IMPORTS = {
    "ExternalTaskSensor": "from airflow.sensors.external_task import ExternalTaskSensor",
    "ETS": "from airflow.sensors.external_task import ExternalTaskSensor as ETS",
    "et.ExternalTaskSensor": "from airflow.sensors import external_task as et",
    "std.ExternalTaskSensor": "import airflow.providers.standard.sensors.external_task as std",
}
# Arguments of the sensor, with the source text they were written with.
KEPT = {
    "mode": ['"reschedule"', '"poke"'],
    "timeout": ["600", "2 * 60 * 60"],
    "poke_interval": ["30", "60.0"],
    "soft_fail": ["True", "False"],
    "retries": ["0", "3"],
    "pool": ['"dwh_pool"'],
    "deferrable": ["False"],
}
MORE = {  # arguments the drop-in class takes as Airflow's does
    "external_task_id": ['"load"'],
    "execution_delta": ["timedelta(hours=1)", "timedelta(minutes=30)"],
    "allowed_states": ['["success"]'],
    "failed_states": ['["failed", "upstream_failed"]'],
}


@st.composite
def sensor_sources(draw):
    callee = draw(st.sampled_from(sorted(IMPORTS)))
    kept = draw(st.dictionaries(st.sampled_from(sorted(KEPT)), st.none(), max_size=len(KEPT)))
    more = draw(st.dictionaries(st.sampled_from(sorted(MORE)), st.none(), max_size=3))
    arguments = [("task_id", '"wait_c"'), ("external_dag_id", '"c_up"')]
    arguments += [(k, draw(st.sampled_from(KEPT[k]))) for k in kept]
    arguments += [(k, draw(st.sampled_from(MORE[k]))) for k in more]
    arguments = draw(st.permutations(arguments))
    multiline = draw(st.booleans())
    trailing = draw(st.booleans())
    comments = draw(st.lists(st.booleans(), min_size=len(arguments), max_size=len(arguments)))
    if multiline:
        lines = [f"        {k}={v},{'  # note ' + k if c else ''}" for (k, v), c in zip(arguments, comments)]
        if not trailing:
            last = lines[-1].split("  # ")[0].rstrip(",")
            lines[-1] = last + ("  # last" if comments[-1] else "")
        call = f"    wait = {callee}(\n" + "\n".join(lines) + "\n    )\n"
    else:
        call = f"    wait = {callee}(" + ", ".join(f"{k}={v}" for k, v in arguments) + ("," if trailing else "") + ")\n"
    head = (
        "from datetime import timedelta\n\nfrom airflow import DAG\n"
        + IMPORTS[callee]
        + "\n\nSTART = 1  # before the DAG\n\nwith DAG(\"a_down\") as dag:\n"
    )
    tail = "    after = START  # stays\n# the end\n"
    return head, call, tail


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(parts=sensor_sources())
def test_rewrites_parse_are_idempotent_keep_arguments_and_touch_nothing_else(tmp_path_factory, parts):
    head, call, tail = parts
    root = tmp_path_factory.mktemp("prop")
    source = head + call + tail
    write_repo(root, {"mesh.yaml": MESH, **UPSTREAM})
    (root / "dags/a").mkdir(parents=True)
    (root / "dags/a/down.py").write_text(source)
    result = run_codemod(analyze(root, options=OPTIONS), "a")
    [change] = [c for c in result.changes if c.path == "dags/a/down.py"]
    after = change.after
    ast.parse(after)
    # The call keeps every argument byte for byte; only a module-qualified callee changes.
    callee = call.split("(", 1)[0].split("= ", 1)[1]
    new_callee = f"mesh_http.{callee.split('.')[-1]}" if "." in callee else callee
    new_call = call.replace(callee, new_callee, 1)
    assert after.endswith(new_call + tail)
    imports = after.split("START = 1", 1)[0]
    assert ("import mesh_http\n" if "." in callee else "from mesh_http import ExternalTaskSensor") in imports
    assert "airflow.sensors" not in imports and "airflow.providers.standard" not in imports
    assert after.split("START = 1", 1)[1] == head.split("START = 1", 1)[1] + new_call + tail
    apply_changes(root, result.changes)
    assert run_codemod(analyze(root, options=OPTIONS), "a").changes == ()


def _many_sensors(root, count):
    files = {"mesh.yaml": MESH, **UPSTREAM}
    for index in range(count):
        files[f"dags/a/down_{index:03}.py"] = (
            "from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\n"
            f"with DAG('a_down_{index}'):\n    ExternalTaskSensor(task_id='w', external_dag_id='c_up')\n"
        )
    write_repo(root, files)
    return run_codemod(analyze(root, options=OPTIONS), "a")


def _each_file_is_old_or_new(root, result, killed=False):
    states = []
    for change in result.changes:
        path = root / change.path
        text = path.read_text() if path.exists() else ""
        assert text in (change.before, change.after), change.path
        states.append(text == change.after)
    leftovers = [p for p in root.rglob("*.tmp")]
    if killed:  # at most the hidden temporary file of the one file being written
        names = {Path(change.path).name for change in result.changes}
        assert len(leftovers) <= 1 and all(p.name.startswith(".") and p.name[1:].split(".py.")[0] + ".py" in names for p in leftovers), leftovers
    else:
        assert leftovers == []
    return states


def test_an_interrupted_apply_leaves_each_file_wholly_old_or_wholly_new(tmp_path, monkeypatch):
    result = _many_sensors(tmp_path, 12)
    real_replace = os.replace
    calls = {"n": 0}

    def interrupted(src, dst):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply_changes(tmp_path, result.changes)
    monkeypatch.setattr(os, "replace", real_replace)
    states = _each_file_is_old_or_new(tmp_path, result)
    assert states.count(True) == 4


@pytest.mark.parametrize("delay", [0.5, 1.2])
def test_killing_the_codemod_process_never_leaves_a_half_written_file(tmp_path, delay):
    result = _many_sensors(tmp_path, 30)
    process = subprocess.Popen(
        [sys.executable, "-m", "mesh_migrate.cli", "codemod", str(tmp_path), "--team", "a", "--apply", "--allow-dirty", "--jobs", "1", "--no-cache"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    _each_file_is_old_or_new(tmp_path, result, killed=True)
    # A temporary file the killed run was writing may stay; the next run removes it.
    again = subprocess.run(
        [sys.executable, "-m", "mesh_migrate.cli", "codemod", str(tmp_path), "--team", "a", "--apply", "--allow-dirty", "--jobs", "1", "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert list(tmp_path.rglob("*.tmp")) == []


def test_writes_outside_the_repository_are_refused(tmp_path):
    root, outside = tmp_path / "repo", tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.py").write_text("original\n")
    root.mkdir()
    (root / "link.py").symlink_to(outside / "victim.py")
    change = FileChange("link.py", "original\n", "rewritten\n", ())
    with pytest.raises(WriteRefused, match="outside"):
        apply_changes(root, (change,))
    assert (outside / "victim.py").read_text() == "original\n"


def test_a_team_folder_linked_from_outside_is_not_rewritten(tmp_path):
    root, outside = tmp_path / "repo", tmp_path / "outside"
    write_repo(outside, {"down.py": "from airflow import DAG\nfrom airflow.sensors.external_task import ExternalTaskSensor\nwith DAG('a_down'):\n    ExternalTaskSensor(task_id='w', external_dag_id='c_up')\n"})
    write_repo(root, {"mesh.yaml": MESH, **UPSTREAM})
    (root / "dags/a").symlink_to(outside, target_is_directory=True)
    analysis = analyze(root, options=OPTIONS)
    assert any("outside" in reason for _, reason in analysis.facts.skipped)
    assert run_codemod(analysis, "a").changes == ()


def test_a_file_changed_since_analysis_is_not_overwritten(tmp_path):
    result = _many_sensors(tmp_path, 2)
    first, second = [c for c in result.changes if c.before]
    (tmp_path / first.path).write_text("# edited meanwhile\n")
    with pytest.raises(WriteRefused, match="changed since"):
        apply_changes(tmp_path, result.changes)
    assert (tmp_path / second.path).read_text() == second.before
    assert not any(not c.before and (tmp_path / c.path).exists() for c in result.changes)


@pytest.mark.parametrize("team", ["data platform", "..", "-rf", "a..b", "x.lock", "team/../../etc", "", "ß-team", "~^:?*[\\", "@{x}"])
def test_hostile_team_names_give_valid_branch_names(tmp_path, team):
    name = branch_name(team)
    assert name.startswith("mesh/") and ".." not in name and " " not in name
    assert not name[len("mesh/"):].startswith(("-", "."))
    checked = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, text=True)
    assert checked.returncode == 0, (team, name, checked.stderr)
