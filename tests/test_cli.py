"""The command line, end to end through click's CliRunner."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from click.testing import CliRunner

from mesh_migrate import __version__
from mesh_migrate.cli import main

from .conftest import SKYFLOW, write_repo


def run(*args, **env):
    return CliRunner().invoke(main, [str(a) for a in args], env=env or None)


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_analyze_prints_a_plain_summary_when_piped():
    result = run("analyze", SKYFLOW)
    assert result.exit_code == 0, result.output
    assert "DAGs" in result.output and "dependencies: sensor" in result.output
    assert "\x1b[" not in result.output  # no ANSI codes when not on a terminal
    assert "Traceback" not in result.output


def test_quiet_prints_one_line():
    result = run("-q", "analyze", SKYFLOW)
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == 1
    assert "DAGs in" in result.output


def test_verbose_lists_every_unresolved_item(tmp_path):
    source = "import os\nfrom airflow import DAG\n" + "".join(f"DAG(os.getenv('X{i}'))\n" for i in range(15))
    write_repo(tmp_path, {"dags/a.py": source})
    short = run("analyze", tmp_path).output
    long = run("-v", "analyze", tmp_path).output
    assert "and 5 more" in short
    assert long.count("read from environment variable") == 15


def test_json_document_schema():
    result = run("analyze", SKYFLOW, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["schema"] == "mesh-migrate/analysis@1"
    assert doc["root"] == "."
    assert set(doc) >= {"dags", "dependencies", "resources", "unresolved", "diagnostics"}
    dag = doc["dags"][0]
    assert set(dag) >= {"dag_id", "file", "line", "owners", "tags", "schedule", "tasks", "team", "team_source"}
    dep = doc["dependencies"][0]
    assert set(dep) >= {"kind", "source", "target", "task_id", "source_tasks", "dataset", "dag", "file", "line", "cross_team"}
    assert not dep["file"].startswith("/")
    for item in doc["unresolved"]:
        assert item["file"] and item["line"] and item["reason"]


def test_missing_path_is_a_clear_error(tmp_path):
    result = run("analyze", tmp_path / "nope")
    assert result.exit_code == 2
    assert "no such directory" in result.output
    assert "Traceback" not in result.output


def test_mesh_yaml_problems_are_reported_together_with_lines(tmp_path):
    write_repo(tmp_path, {
        "mesh.yaml": """
            version: 1
            colour: blue
            airflowignore_syntax: fnmatch
            teams:
              flights:
                paths: ["dags/flights/**"]
                instance: {api_version: 9}
              flights:
                paths: []
        """,
        "dags/a.py": "from airflow import DAG\nDAG('a')\n",
    })
    result = run("analyze", tmp_path)
    assert result.exit_code == 2
    assert "mesh.yaml:8: duplicate key 'flights'" in result.output
    result_text = result.output
    assert "Traceback" not in result_text


def test_mesh_yaml_unknown_keys_and_types_all_at_once(tmp_path):
    write_repo(tmp_path, {
        "mesh.yaml": """
            version: 1
            colour: blue
            airflowignore_syntax: fnmatch
            teams:
              flights:
                paths: "dags/flights/**"
                instance: {api_version: 9}
        """,
    })
    result = run("analyze", tmp_path)
    assert result.exit_code == 2
    assert "mesh.yaml:2: unknown key 'colour'" in result.output
    assert "mesh.yaml:3: airflowignore_syntax must be one of regexp, glob" in result.output
    assert "mesh.yaml:7: api_version of team 'flights' must be 2 or 3" in result.output


def test_yaml_alias_bomb_is_refused(tmp_path):
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nversion: 1\n"
    write_repo(tmp_path, {"mesh.yaml": bomb})
    result = run("analyze", tmp_path)
    assert result.exit_code == 2
    assert "aliases" in result.output


def test_bad_globs_in_mesh_yaml_are_reported_with_lines(tmp_path):
    write_repo(tmp_path, {
        "mesh.yaml": """
            version: 1
            exclude: ["../outside/**", "dags/[abc/*.py"]
            teams:
              flights:
                paths:
                  - "dags/flights/**"
                  - "dags/flights/[x"
        """,
    })
    result = run("analyze", tmp_path)
    assert result.exit_code == 2
    assert "mesh.yaml:2: glob '../outside/**' leaves the repository (..)" in result.output
    assert "mesh.yaml:2: glob 'dags/[abc/*.py' has an unclosed [ ]" in result.output
    assert "mesh.yaml:7: team 'flights': glob 'dags/flights/[x' has an unclosed [ ]" in result.output


def test_one_cause_reaching_many_places_is_one_line(tmp_path):
    callable_source = (
        "def load_{i}():\n"
        "    bucket = Variable.get('LANDING_BUCKET')\n"
        "    S3Hook(aws_conn_id='aws').load_string('x', key='k', bucket_name=bucket)\n"
    )
    files = {
        f"dags/d{i}.py": "from airflow import DAG\nfrom airflow.models import Variable\n"
        "from airflow.providers.amazon.aws.hooks.s3 import S3Hook\nfrom airflow.operators.python import PythonOperator\n"
        + callable_source.format(i=i) + f"with DAG('d{i}'):\n    PythonOperator(task_id='t', python_callable=load_{i})\n"
        for i in range(12)
    }
    write_repo(tmp_path, files)
    output = " ".join(run("analyze", tmp_path, "--no-cache").output.split())  # the table wraps lines
    assert output.count("read from Airflow Variable LANDING_BUCKET when the task runs") == 1
    assert "12 places in 12 files" in output


def test_graph_writes_graphml_of_the_team_graph_and_of_a_team(tmp_path):
    import xml.etree.ElementTree as ElementTree

    for extra in ((), ("--team", "finance")):
        out = tmp_path / "graph.graphml"
        result = run("graph", SKYFLOW, "--format", "graphml", "--output", str(out), *extra)
        assert result.exit_code == 0, result.output
        edges = [e for e in ElementTree.parse(out).iter() if e.tag.endswith("}edge")]
        assert edges


def test_a_teams_graph_is_the_same_text_whatever_the_hash_seed(tmp_path):
    import os
    import subprocess
    import sys

    def drawn(seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [str(Path(sys.executable).parent / "mesh-migrate"), "graph", str(SKYFLOW), "--team", "finance", "--no-cache"]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    assert drawn("1") == drawn("2") != ""


def _buffered() -> dict[str, str]:
    """The environment, with output buffered as in a user's shell: what the exit must flush."""
    import os

    return {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def _script(*arguments: str, stdout=None):
    """The mesh-migrate script as installed: `mesh_migrate.cli:run` in a fresh interpreter."""
    import subprocess
    import sys

    command = [sys.executable, "-c", "from mesh_migrate.cli import run; run()", *arguments]
    return subprocess.run(command, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, env=_buffered(), check=False)


def test_the_script_writes_its_whole_output_before_it_exits(tmp_path):
    expected = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--no-cache"]).output
    with open(tmp_path / "out.json", "wb") as out:
        done = _script("analyze", str(SKYFLOW), "--format", "json", "--no-cache", stdout=out)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.json").read_text() == expected


def test_the_script_keeps_the_exit_status_and_message_of_a_failure(tmp_path):
    done = _script("analyze", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert b"missing" in done.stderr
    assert _script("--version").stdout.decode().strip().endswith(__version__)


def test_the_script_ends_as_click_does_when_its_reader_goes_away():
    import subprocess
    import sys

    def closed_early(entry: str) -> tuple[int, bytes]:
        command = [sys.executable, "-c", f"from mesh_migrate.cli import {entry}; {entry}()", "analyze", str(SKYFLOW), "--format", "json", "--no-cache"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_buffered()) as process:
            assert process.stdout is not None and process.stderr is not None
            process.stdout.read(10)
            process.stdout.close()  # the reader is gone, as with `| head -c 10`
            errors = process.stderr.read()
        return process.returncode, errors

    status, errors = closed_early("run")
    assert b"Traceback" not in errors
    assert (status, errors) == closed_early("main")


def test_a_caller_of_main_that_goes_on_running_gets_the_analysis_freed():
    """Only the script, which exits at once, leaves its analysis unfreed."""
    import gc

    from mesh_migrate.analysis import AnalysisRun

    result = CliRunner().invoke(main, ["analyze", str(SKYFLOW), "--format", "json", "--no-cache"])
    assert result.exit_code == 0
    gc.collect()
    assert [item for item in gc.get_objects() if isinstance(item, AnalysisRun)] == []


def test_the_progress_bar_on_a_terminal_leaves_the_workers_forked(monkeypatch) -> None:
    """Drawn by the results' arrival, not by a refresh thread: a second thread would make the
    runner spawn its workers (a fresh interpreter and every import each) instead of forking."""
    import threading

    from mesh_migrate import cli as cli_module
    from mesh_migrate.extract import runner

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("NO_COLOR", raising=False)
    threads = threading.active_count()
    with cli_module._progress(True) as update:
        assert update is not None, "no progress bar drawn: the test's terminal is not one"
        for done in range(0, 2001, 250):
            update(done, 2000)
        assert threading.active_count() == threads
        if threads == 1:
            assert runner._start_method() == "fork"
    assert "2000/2000" in terminal.getvalue()  # drawn as the files were done
