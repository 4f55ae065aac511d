"""Hostile and broken input: each fault is reported once with its place, and the run goes on.

The corpus is `tests/faults/`: a repository of files that can be committed as they are
(a syntax error, Python 2, tabs, an empty file, duplicate ids, a dangling sensor, a
self-dependency, code that would run shell commands, value bombs) and broken mesh.yaml
variants. What git or an editor could rewrite, and what is too large or not a plain file,
is built here in tmp_path: NUL bytes, invalid UTF-8, a BOM, CRLF and form feeds, a 5 MB
DAG, a file over the size limit, deep nesting, symlink loops and an unreadable file.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner, Result

from mesh_migrate.cli import main
from mesh_migrate.extract import extractor
from mesh_migrate.extract.extractor import MAX_FILE_BYTES
from mesh_migrate.extract.recorder import Recorder

FAULTS = Path(__file__).resolve().parent / "faults"
GOOD_DAG = "faults_good"


def run(*args) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def analyze_json(root: Path, *options) -> dict:
    result = run("analyze", root, "--format", "json", *(options or ("--no-cache",)))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def places(doc: dict, section: str = "diagnostics") -> Counter:
    """(code, file, line) of each diagnostic, counted; unresolved items by what they are."""
    key = "code" if section == "diagnostics" else "what"
    return Counter((item[key], item["file"], item["line"]) for item in doc[section])


def dag_ids(doc: dict) -> set[str]:
    return {d["dag_id"] for d in doc["dags"]}


# ---- building the corpus ---------------------------------------------------------------


def copy(*names: str) -> Callable[[Path], None]:
    """Committed corpus files, copied as they are."""

    def build(root: Path) -> None:
        for name in names:
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(FAULTS / name, target)

    return build


def write(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data() if callable(data) else data)

    return build


def together(*builders: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        for builder in builders:
            builder(root)

    return build


def shell_files(root: Path) -> None:
    """runs_shell.py and its helper, touching files next to the repository if ever run."""
    sentinel = str(root.parent / "sentinel")
    for name in ("dags/runs_shell.py", "plugins/shell_helper.py"):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((FAULTS / name).read_text(encoding="utf-8").replace("@SENTINEL@", sentinel), encoding="utf-8")


def symlink_loops(root: Path) -> None:
    (root / "dags").mkdir(parents=True, exist_ok=True)
    os.symlink("loop_b.py", root / "dags/loop_a.py")
    os.symlink("loop_a.py", root / "dags/loop_b.py")
    os.symlink("..", root / "dags/up")


HUGE_TASKS = 5_300


@functools.lru_cache(maxsize=1)
def huge_dag() -> bytes:
    """A valid 5 MB DAG file: thousands of tasks with long commands, chained."""
    lines = [
        '"""One DAG with thousands of tasks."""',
        "from airflow import DAG",
        "from airflow.operators.bash import BashOperator",
        "",
        'with DAG("faults_huge", schedule="@hourly") as dag:',
    ]
    padding = "x" * 900
    for count in range(HUGE_TASKS):
        lines.append(f'    t{count} = BashOperator(task_id="step_{count}", bash_command="echo {count} {padding}")')
        if count:
            lines.append(f"    t{count - 1} >> t{count}")
    return ("\n".join(lines) + "\n").encode()


def deep_chain(terms: int) -> str:
    return " + ".join(["1"] * terms)


@dataclass(frozen=True)
class Fault:
    name: str
    build: Callable[[Path], None]
    diagnostics: tuple[tuple[str, str, int], ...] = ()  # (code, file, line), each exactly once
    dags: tuple[str, ...] = ()  # dag ids these files define
    unresolved: tuple[tuple[str, str, int], ...] = ()  # (what, file, line)
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason)


FAULT_CASES = [
    Fault("syntax error", copy("dags/syntax_error.py"), (("parse-error", "dags/syntax_error.py", 3),)),
    Fault("python 2", copy("dags/python2.py"), (("parse-error", "dags/python2.py", 3),)),
    Fault(
        "NUL byte",
        write("dags/nul_byte.py", b'from airflow import DAG\n\nDAG("faults_nul")\n# \x00\n'),
        (("parse-error", "dags/nul_byte.py", 4),),
    ),
    Fault(
        "invalid UTF-8",
        write("dags/latin1.py", b'from airflow import DAG\n\n# caf\xe9\nDAG("faults_latin1")\n'),
        (("parse-error", "dags/latin1.py", 3),),
    ),
    Fault("UTF-8 BOM", write("dags/bom.py", b'\xef\xbb\xbffrom airflow import DAG\n\nDAG("faults_bom")\n'), dags=("faults_bom",)),
    Fault(
        "CRLF line endings",
        write(
            "dags/crlf.py",
            b'from airflow import DAG\r\nfrom airflow.sensors.external_task import ExternalTaskSensor\r\n\r\n'
            b'with DAG("faults_crlf") as dag:\r\n    ExternalTaskSensor(task_id="wait", external_dag_id="faults_good")\r\n',
        ),
        dags=("faults_crlf",),
    ),
    Fault("CR line endings", write("dags/cr.py", b'from airflow import DAG\r\rDAG("faults_cr")\r'), dags=("faults_cr",)),
    Fault(
        "form feeds",
        write(
            "dags/form_feed.py",
            b"from airflow import DAG\nfrom airflow.hooks.base import BaseHook\nfrom airflow.operators.python import PythonOperator\n\x0c\n\n"
            b'def load():\n    return BaseHook.get_connection("faults_warehouse")\n\x0c\n\n'
            b'with DAG("faults_form_feed") as dag:\n    PythonOperator(task_id="load", python_callable=load)\n',
        ),
        dags=("faults_form_feed",),
    ),
    Fault("tabs", copy("dags/tabs.py"), dags=("faults_tabs",)),
    Fault("empty file", copy("dags/empty.py")),
    Fault("5 MB DAG", write("dags/huge.py", huge_dag), dags=("faults_huge",)),
    Fault(
        "over the size limit",
        write("dags/too_large.py", lambda: b'from airflow import DAG\nDAG("faults_too_large")\n#' + b"x" * MAX_FILE_BYTES + b"\n"),
        (("file-too-large", "dags/too_large.py", 1),),
    ),
    Fault(
        "250 nested parentheses",
        write("dags/nested_parens.py", f"from airflow import DAG\nX = {'(' * 250}1{')' * 250}\n".encode()),
        (("parse-error", "dags/nested_parens.py", 2),),
    ),
    Fault(
        "20,000-term sum",
        write("dags/long_sum.py", f"from airflow import DAG\nX = {deep_chain(20_000)}\nDAG('faults_long_sum')\n".encode()),
        (("parse-error", "dags/long_sum.py", 1),),  # the parser gives up without a line
    ),
    Fault(
        "900-term sum",
        write("dags/deep_sum.py", f"from airflow import DAG\n\nX = {deep_chain(900)}\nDAG('faults_after_deep_sum')\n".encode()),
        (("too-deep", "dags/deep_sum.py", 3),),
        dags=("faults_after_deep_sum",),
    ),
    Fault(
        "900-term sum in an imported module",
        together(
            write("dags/a_imports_deep_module.py", b'from airflow import DAG\n\nimport deep_module\n\nDAG("faults_after_deep_import")\n'),
            write("dags/deep_module.py", f'"""Imported by a_imports_deep_module.py."""\nX = {deep_chain(900)}\n'.encode()),
        ),
        (("too-deep", "dags/deep_module.py", 2),),  # once, in the module itself, whichever file runs first
        dags=("faults_after_deep_import",),
    ),
    Fault(
        "nested containers and calls",
        write(
            "dags/nested_containers.py",
            (
                "from airflow import DAG\n"
                f"LISTS = {'[' * 150}{']' * 150}\n"
                f"DICTS = {'{1: ' * 150}1{'}' * 150}\n"
                f"CALLS = {'str(' * 150}1{')' * 150}\n"
                'DAG("faults_nested", params={"lists": LISTS, "dicts": DICTS, "calls": CALLS})\n'
            ).encode(),
        ),
        dags=("faults_nested",),
    ),
    Fault(
        "deep expression in a task callable",
        write(
            "dags/deep_callable.py",
            (
                "from airflow import DAG\nfrom airflow.hooks.base import BaseHook\nfrom airflow.operators.python import PythonOperator\n\n\n"
                f"def load():\n    return BaseHook.get_connection({deep_chain(900)})\n\n\n"
                'with DAG("faults_deep_callable") as dag:\n    PythonOperator(task_id="load", python_callable=load)\n'
            ).encode(),
        ),
        (("too-deep", "dags/deep_callable.py", 6),),
        dags=("faults_deep_callable",),
    ),
    Fault(
        "break outside a loop",
        write("dags/break_outside_loop.py", b'from airflow import DAG\n\nDAG("faults_break")\nbreak\n'),
        (("parse-error", "dags/break_outside_loop.py", 4),),
    ),
    Fault("value bombs", copy("dags/value_bombs.py"), unresolved=(("dag_id", "dags/value_bombs.py", 8),)),
    Fault("shell commands", shell_files, dags=("faults_runs_shell",)),
    Fault(
        "duplicate dag ids",
        copy("dags/duplicate_a.py", "dags/duplicate_b.py"),
        (("duplicate-dag-id", "dags/duplicate_a.py", 3), ("duplicate-dag-id", "dags/duplicate_b.py", 4)),
        dags=("faults_duplicate",),
    ),
    Fault(
        "sensor on a missing DAG",
        copy("dags/sensor_on_missing_dag.py"),
        (("unknown-dag", "dags/sensor_on_missing_dag.py", 5),),
        dags=("faults_waits_on_nothing",),
    ),
    Fault(
        "self-dependency",
        copy("dags/self_dependency.py"),
        (("self-dependency", "dags/self_dependency.py", 8),),
        dags=("faults_self_waiting",),
    ),
    Fault("unreadable file", write("dags/unreadable.py", b'from airflow import DAG\nDAG("faults_unreadable")\n'), (("unreadable", "dags/unreadable.py", 1),)),
    Fault(
        "unreadable imported module",
        together(
            write("dags/uses_locked_module.py", b'from airflow import DAG\n\nfrom locked.unreadable import DAG_ID, OTHER\n\nDAG(DAG_ID)\nDAG(OTHER)\n'),
            write("plugins/locked/unreadable.py", b'DAG_ID = "faults_locked"\nOTHER = "faults_locked_other"\n'),
        ),
        # Once, at the import that needs it: plugins/ holds no DAG files, so nothing else reports it.
        (("unreadable-import", "dags/uses_locked_module.py", 3),),
        unresolved=(("dag_id", "dags/uses_locked_module.py", 5), ("dag_id", "dags/uses_locked_module.py", 6)),
    ),
    Fault(
        "symlink loops",
        symlink_loops,
        skipped=(("dags/loop_a.py", "symlink loop"), ("dags/loop_b.py", "symlink loop"), ("dags/up", "symlink loop")),
    ),
]


@pytest.fixture
def lock_unreadable(monkeypatch):
    """Makes every `unreadable.py` unreadable: chmod 000, or as root (who reads it anyway)
    an open that fails as it would without permission (through a file object, Path or the
    descriptor itself), on the same code path."""
    locked: list[Path] = []
    if os.geteuid() == 0:
        read_bytes, open_, os_open = Path.read_bytes, builtins.open, os.open

        def refuse(self: Path) -> bytes:
            if self.name == "unreadable.py":
                raise PermissionError(13, "Permission denied", str(self))
            return read_bytes(self)

        def refuse_open(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and os.path.basename(file) == "unreadable.py":
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return open_(file, *args, **kwargs)

        def refuse_os_open(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and os.path.basename(file) == "unreadable.py":
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return os_open(file, *args, **kwargs)

        monkeypatch.setattr(Path, "read_bytes", refuse)
        monkeypatch.setattr(builtins, "open", refuse_open)
        monkeypatch.setattr(os, "open", refuse_os_open)

    def lock(root: Path) -> None:
        for path in root.rglob("unreadable.py"):
            if os.geteuid() != 0:
                path.chmod(0)
                locked.append(path)

    yield lock
    for path in locked:
        path.chmod(0o644)


def build_repo(root: Path, faults: list[Fault], lock: Callable[[Path], None]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    copy("mesh.yaml", "dags/good.py")(root)
    for fault in faults:
        fault.build(root)
    lock(root)
    return root


def expected_places(faults: list[Fault]) -> Counter:
    return Counter(place for fault in faults for place in fault.diagnostics)


def fillers(count: int) -> Callable[[Path], None]:
    """Enough plain DAG files for the runner to start worker processes."""

    def build(root: Path) -> None:
        for index in range(count):
            write(f"dags/filler/filler_{index}.py", f'from airflow import DAG\nDAG("faults_filler_{index}")\n'.encode())(root)

    return build


FILLERS = Fault("fillers", fillers(80), dags=tuple(f"faults_filler_{i}" for i in range(80)))


def forking() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def case(name: str) -> Fault:
    return next(f for f in FAULT_CASES if f.name == name)


# ---- one fault at a time, next to a good DAG -------------------------------------------


@pytest.mark.parametrize("fault", FAULT_CASES, ids=[f.name for f in FAULT_CASES])
def test_each_fault_is_reported_once_and_the_rest_is_analyzed(tmp_path, lock_unreadable, fault):
    root = build_repo(tmp_path / "repo", [fault], lock_unreadable)
    started = time.perf_counter()
    doc = analyze_json(root)
    assert time.perf_counter() - started < 20
    assert places(doc) == expected_places([fault])
    assert dag_ids(doc) == {GOOD_DAG, *fault.dags}
    assert places(doc, "unresolved") == Counter(fault.unresolved)
    assert [(s["file"], s["reason"]) for s in doc["skipped"]] == list(fault.skipped)
    for diagnostic in doc["diagnostics"]:
        assert diagnostic["line"] >= 1 and diagnostic["message"]


def test_bom_crlf_and_tabs_keep_their_lines_and_tasks(tmp_path, lock_unreadable):
    cases = [case(name) for name in ("UTF-8 BOM", "CRLF line endings", "CR line endings", "tabs", "form feeds")]
    doc = analyze_json(build_repo(tmp_path / "repo", cases, lock_unreadable))
    dags = {d["dag_id"]: d for d in doc["dags"]}
    assert (dags["faults_bom"]["file"], dags["faults_bom"]["line"]) == ("dags/bom.py", 3)
    assert dags["faults_crlf"]["line"] == 4
    assert dags["faults_cr"]["line"] == 3
    assert [(d["source"], d["target"], d["line"]) for d in doc["dependencies"]] == [("faults_good", "faults_crlf", 5)]
    assert dags["faults_tabs"]["tasks"] == ["echo_a", "echo_b"]
    # A form feed is no line break for Python: what follows one keeps its line.
    assert dags["faults_form_feed"]["line"] == 10
    [warehouse] = [r for r in doc["resources"] if r["name"] == "faults_warehouse"]
    assert (warehouse["kind"], warehouse["line"]) == ("connection", 7)


def test_a_5mb_dag_is_analyzed_whole(tmp_path, lock_unreadable):
    assert len(huge_dag()) >= 5_000_000 and HUGE_TASKS > 5000
    fault = case("5 MB DAG")
    doc = analyze_json(build_repo(tmp_path / "repo", [fault], lock_unreadable))
    [huge] = [d for d in doc["dags"] if d["dag_id"] == "faults_huge"]
    assert len(huge["tasks"]) == HUGE_TASKS
    assert huge["team"] == "faults"


def test_the_unreadable_file_cannot_be_read_by_this_process(tmp_path, lock_unreadable):
    """The unreadable case tests what it claims: as root too, reading the file fails."""
    root = build_repo(tmp_path / "repo", [case("unreadable file")], lock_unreadable)
    with pytest.raises(PermissionError):
        (root / "dags/unreadable.py").read_bytes()


def test_a_parser_out_of_memory_is_a_parse_error(tmp_path, lock_unreadable, monkeypatch):
    parse = ast.parse

    def exhausted(source, *args, **kwargs):
        if "faults_out_of_memory" in source:
            raise MemoryError()
        return parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", exhausted)
    fault = Fault("out of memory", write("dags/oom.py", b'from airflow import DAG\nDAG("faults_out_of_memory")\n'))
    doc = analyze_json(build_repo(tmp_path / "repo", [fault], lock_unreadable))
    [diagnostic] = doc["diagnostics"]
    assert (diagnostic["code"], diagnostic["file"], diagnostic["line"]) == ("parse-error", "dags/oom.py", 1)
    assert "MemoryError" in diagnostic["message"]
    assert dag_ids(doc) == {GOOD_DAG}


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_bug_while_interpreting_costs_one_file_not_the_run(tmp_path, lock_unreadable, monkeypatch, jobs):
    if jobs != "1" and not forking():
        pytest.skip("the bug is injected into forked workers")
    dag = Recorder.dag

    def broken(self, interp, args, kwargs, *rest, **options):
        if "faults_bug" in args:
            raise ValueError("simulated bug")
        return dag(self, interp, args, kwargs, *rest, **options)

    monkeypatch.setattr(Recorder, "dag", broken)
    fault = Fault("bug", write("dags/bug.py", b'from airflow import DAG\n\nDAG("faults_bug")\n'))
    doc = analyze_json(build_repo(tmp_path / "repo", [fault, FILLERS], lock_unreadable), "--jobs", jobs, "--no-cache")
    [diagnostic] = doc["diagnostics"]
    assert (diagnostic["code"], diagnostic["file"], diagnostic["line"]) == ("internal-error", "dags/bug.py", 3)
    assert "simulated bug" in diagnostic["message"]
    assert dag_ids(doc) == {GOOD_DAG, *FILLERS.dags}


# ---- code that would run if imported ---------------------------------------------------


def test_code_that_runs_shell_commands_is_never_run(tmp_path, lock_unreadable):
    root = build_repo(tmp_path / "repo", [case("shell commands")], lock_unreadable)
    doc = analyze_json(root)
    assert dag_ids(doc) == {GOOD_DAG, "faults_runs_shell"}
    assert doc["diagnostics"] == []
    assert sorted(p.name for p in tmp_path.glob("sentinel*")) == []
    # The sentinel is real: running the helper (as importing it would) creates one.
    subprocess.run([sys.executable, str(root / "plugins/shell_helper.py")], check=True, cwd=tmp_path, timeout=30)
    assert sorted(p.name for p in tmp_path.glob("sentinel*")) == ["sentinel.helper_import"]


# ---- the whole corpus as one repository ------------------------------------------------


def test_whole_corpus_every_diagnostic_once_with_its_place(tmp_path, lock_unreadable):
    root = build_repo(tmp_path / "repo", FAULT_CASES, lock_unreadable)
    doc = analyze_json(root)
    assert places(doc) == expected_places(FAULT_CASES)
    assert dag_ids(doc) == {GOOD_DAG, *(d for f in FAULT_CASES for d in f.dags)}
    assert places(doc, "unresolved") == Counter(u for f in FAULT_CASES for u in f.unresolved)
    assert sorted((s["file"], s["reason"]) for s in doc["skipped"]) == sorted(s for f in FAULT_CASES for s in f.skipped)
    assert doc["cycles"] == []  # the self-dependency is not a cycle
    assert not list(tmp_path.glob("sentinel*"))


def test_whole_corpus_on_the_terminal(tmp_path, lock_unreadable):
    root = build_repo(tmp_path / "repo", FAULT_CASES, lock_unreadable)
    result = run("-v", "analyze", root, "--no-cache")
    assert result.exit_code == 0
    rows = [line.strip() for line in result.output.splitlines()]
    for (code, file, line), count in expected_places(FAULT_CASES).items():
        assert sum(row.startswith(f"{file}:{line} ") and f" {code}:" in row for row in rows) == count, (code, file, line)
    assert "1 self-dependencies" in result.output
    assert "Team cycles: none" in result.output


def test_whole_corpus_from_the_cache_matches(tmp_path, lock_unreadable):
    root = build_repo(tmp_path / "repo", FAULT_CASES, lock_unreadable)
    cache = tmp_path / "cache"
    first = analyze_json(root, "--cache-dir", cache)
    second = analyze_json(root, "--cache-dir", cache)
    assert places(first) == places(second) == expected_places(FAULT_CASES)
    assert first["dags"] == second["dags"]


def test_whole_corpus_in_worker_processes(tmp_path, lock_unreadable):
    faults = [*FAULT_CASES, FILLERS]
    root = build_repo(tmp_path / "repo", faults, lock_unreadable)
    doc = analyze_json(root, "--jobs", "2", "--no-cache")
    assert places(doc) == expected_places(faults)
    assert dag_ids(doc) == {GOOD_DAG, *(d for f in faults for d in f.dags)}
    assert not list(tmp_path.glob("sentinel*"))


def test_a_worker_that_dies_does_not_end_the_run(tmp_path, lock_unreadable, monkeypatch):
    if not forking():  # decided at run time, as the runner decides
        pytest.skip("the crash is injected into forked workers")
    parent = os.getpid()
    extract = extractor.Workspace.extract

    def dies(self, path, data=None):
        if path == "dags/crash.py" and os.getpid() != parent:
            os._exit(70)  # as a segfault or the OOM killer would end a worker
        return extract(self, path, data)

    monkeypatch.setattr(extractor.Workspace, "extract", dies)
    crash = Fault("crash", write("dags/crash.py", b'from airflow import DAG\nDAG("faults_crash")\n'))
    root = build_repo(tmp_path / "repo", [crash, FILLERS], lock_unreadable)
    result = run("analyze", root, "--format", "json", "--jobs", "2", "--no-cache")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert dag_ids(doc) >= {GOOD_DAG, *FILLERS.dags}
    assert any(d["file"] == "dags/crash.py" and d["line"] >= 1 for d in doc["diagnostics"]) or "faults_crash" in dag_ids(doc)


# ---- mesh.yaml ---------------------------------------------------------------------------


def alias_problems() -> list[str]:
    return [f"mesh.yaml:{line}: YAML aliases (*a{line - 3}) are not supported" for line in range(3, 12)]


MESH_CASES = {
    "teams: 5": ("mesh/teams_not_a_mapping.yaml", ["mesh.yaml:2: teams must be a mapping"]),
    "exclude: 3": ("mesh/exclude_not_a_list.yaml", ["mesh.yaml:2: exclude must be a list of strings"]),
    "unknown key": ("mesh/unknown_key.yaml", ["mesh.yaml:2: unknown key 'colour' in mesh.yaml"]),
    "duplicate key": ("mesh/duplicate_key.yaml", ["mesh.yaml:5: duplicate key 'faults' (first at line 3)"]),
    "billion laughs": ("mesh/alias_bomb.yaml", alias_problems()),
    "nested 5000 deep": ("version: 1\nexclude: " + "[" * 5000 + "]" * 5000 + "\n", ["mesh.yaml:0: invalid YAML: nested too deeply"]),
    "python tag": ('version: 1\nexclude: !!python/object/apply:os.system ["touch sentinel"]\n', ["mesh.yaml:2: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not supported"]),
    "python name": ('version: 1\nrules: !!python/name:os.system ""\n', ["mesh.yaml:2: invalid value '' (tag:yaml.org,2002:python/name:os.system)"]),
    "bad date": ("version: 1\nteams:\n  faults:\n    description: !!timestamp 2024-13-45\n", ["mesh.yaml:4: invalid value '2024-13-45' (tag:yaml.org,2002:timestamp): month must be in 1..12"]),
}


@pytest.mark.parametrize("name", list(MESH_CASES))
def test_each_mesh_yaml_fault_is_reported_once_with_exit_2(tmp_path, lock_unreadable, name):
    source, problems = MESH_CASES[name]
    root = build_repo(tmp_path / "repo", [], lock_unreadable)
    text = (FAULTS / source).read_text(encoding="utf-8") if source.startswith("mesh/") else source
    (root / "mesh.yaml").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    result = run("analyze", root, "--no-cache")
    assert time.perf_counter() - started < 10
    assert result.exit_code == 2
    assert f"error: {len(problems)} configuration problem(s):" in result.output
    reported = [line.strip() for line in result.output.splitlines() if line.startswith("  ")]
    assert len(reported) == len(problems)
    for problem in problems:
        assert sum(line.startswith(problem) for line in reported) == 1, (problem, result.output)
    assert not list(tmp_path.glob("sentinel*"))


MESH_NOT_A_FILE = {
    "a folder": (lambda path: path.mkdir(), "mesh.yaml:0: must be a file, not a folder"),
    "a dangling symlink": (lambda path: path.symlink_to("moved.yaml"), "mesh.yaml:0: must be a file, not a symbolic link to moved.yaml, which does not exist"),
    "a named pipe": (os.mkfifo, "mesh.yaml:0: must be a file, not a named pipe"),
}


@pytest.mark.parametrize("name", list(MESH_NOT_A_FILE))
def test_a_mesh_yaml_that_is_not_a_file_is_an_error_not_absent(tmp_path, lock_unreadable, name):
    make, problem = MESH_NOT_A_FILE[name]
    root = build_repo(tmp_path / "repo", [], lock_unreadable)
    (root / "mesh.yaml").unlink()
    make(root / "mesh.yaml")
    # In a process of its own: reading a named pipe would block forever.
    done = subprocess.run([sys.executable, "-m", "mesh_migrate.cli", "analyze", str(root), "--no-cache"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert [line.strip() for line in done.stderr.splitlines()] == ["error: 1 configuration problem(s):", problem]
