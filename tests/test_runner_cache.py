"""The extraction runner: process pool, fact cache and prefilter never change the facts."""

from __future__ import annotations

import ast
import dataclasses
import gc
import json
import os
import shutil
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from mesh_migrate.layout import find_layout
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mesh_migrate import cache
from mesh_migrate.analysis import analyze, load_settings
from mesh_migrate.cli import main
from mesh_migrate.discover import ALWAYS_SKIPPED_DIRS, discover
from mesh_migrate.extract import extractor, runner
from mesh_migrate.extract.extractor import Workspace
from mesh_migrate.extract.runner import MIN_FILES_FOR_POOL, ExtractOptions, extract_lazily, inert
from mesh_migrate.facts import (
    DagFact,
    DatasetUse,
    DependencyFact,
    Diagnostic,
    FileFacts,
    ResourceUse,
    SourceSpan,
    Unresolved,
    to_plain,
)
from mesh_migrate.rulepack import load_rule_pack

from .conftest import SKYFLOW, write_repo

NO_CACHE = ExtractOptions(jobs=1, use_cache=False)
SENSORS = "dags/common/sensors.py"


@pytest.fixture
def skyflow_copy(tmp_path: Path) -> Path:
    root = tmp_path / "skyflow"
    shutil.copytree(SKYFLOW, root, ignore=shutil.ignore_patterns(cache.CACHE_DIR_NAME))
    return root


def extract(*args) -> runner.Extraction:
    return extract_lazily(*args).decoded()


def run(root: Path, options: ExtractOptions = ExtractOptions(jobs=1), rules=None):
    config, loaded = load_settings(root)
    files = discover(root, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax).files
    layout = find_layout(root, config.dags_folders, config.python_paths)
    return extract(root, rules or loaded, layout.python_paths, files, options)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The paths parsed in this process (extraction runs in-process with jobs=1)."""
    seen: list[str] = []
    original = extractor.parse_source

    def spy(data: bytes, path: str):
        seen.append(path)
        return original(data, path)

    monkeypatch.setattr(extractor, "parse_source", spy)
    return seen


def append_comment(path: Path) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write("\n# touched\n")


# ---- the process pool -------------------------------------------------------------------


def test_pool_yields_the_in_process_facts_in_input_order(skyflow_copy: Path) -> None:
    alone = run(skyflow_copy, NO_CACHE)
    pooled = run(skyflow_copy, ExtractOptions(jobs=2, use_cache=False))
    assert alone.stats.files > MIN_FILES_FOR_POOL
    assert pooled.stats.processes == 2 and alone.stats.processes == 1
    assert pooled.facts == alone.facts


def test_pool_and_in_process_analyses_agree(skyflow_copy: Path) -> None:
    alone = analyze(skyflow_copy, options=NO_CACHE).facts
    pooled = analyze(skyflow_copy, options=ExtractOptions(jobs=2, use_cache=False)).facts
    assert pooled == alone


@pytest.mark.skipif(runner._start_method() != "fork", reason="a zygote forks the workers on Linux only")
@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "first-cached-run"])
def test_a_pooled_run_without_a_cache_to_consult_never_imports_the_interpreter_here(skyflow_copy: Path, cached: bool) -> None:
    """The workers' zygote imports it while this process reads the files; the facts are
    those of a run in one process."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mesh_migrate.analysis import start_analysis\n"
        "from mesh_migrate.extract.runner import ExtractOptions\n"
        f"run = start_analysis(Path({str(skyflow_copy)!r}), options=ExtractOptions(jobs=2, use_cache={cached}))\n"
        "print(run.extraction.stats.processes, 'mesh_migrate.extract.extractor' in sys.modules, len(run.analysis.facts.dags))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    processes, imported, dags = completed.stdout.split()
    assert (processes, imported) == ("2", "False")
    assert int(dags) == len(analyze(skyflow_copy, options=NO_CACHE).facts.dags)


def test_spawned_workers_yield_the_same_facts(skyflow_copy: Path, monkeypatch) -> None:
    monkeypatch.setattr(runner, "_start_method", lambda: "spawn")
    pooled = run(skyflow_copy, ExtractOptions(jobs=2, use_cache=False))
    assert pooled.stats.processes == 2
    assert pooled.facts == run(skyflow_copy, NO_CACHE).facts


def test_a_failing_worker_fails_the_run_instead_of_hanging(skyflow_copy: Path, monkeypatch) -> None:
    def broken(*args):
        raise RuntimeError("worker cannot start")

    if runner._start_method() != "fork":  # decided at run time: fork only when single-threaded
        pytest.skip("the failure is injected into forked workers")
    monkeypatch.setattr(runner, "_start_worker", broken)  # forked workers inherit it
    with pytest.raises(BrokenProcessPool):
        run(skyflow_copy, ExtractOptions(jobs=2, use_cache=False))


@pytest.mark.skipif(runner._start_method() != "fork", reason="the crash is injected into forked workers")
@pytest.mark.parametrize("deadly", [1, 2, 5], ids=["first-file", "two-files", "five-files"])
def test_a_file_that_kills_its_worker_is_reported_and_the_rest_analyzed(skyflow_copy: Path, monkeypatch, deadly: int) -> None:
    if runner._start_method() != "fork":
        pytest.skip("the crash is injected into forked workers")
    expected = run(skyflow_copy, NO_CACHE).facts
    victims = {f.path for f in expected[: deadly * 7 : 7]}
    parent = os.getpid()
    extract_one = Workspace.extract

    def dies(self, path, data=None):
        if path in victims and os.getpid() != parent:
            os._exit(70)  # as a segfault or the OOM killer would end it
        return extract_one(self, path, data)

    monkeypatch.setattr(Workspace, "extract", dies)
    result = run(skyflow_copy, ExtractOptions(jobs=2))
    for facts, want in zip(result.facts, expected):
        if facts.path in victims:
            assert [d.code for d in facts.diagnostics] == [runner.CRASHED]
        else:
            assert facts == want
    monkeypatch.undo()
    again = run(skyflow_copy, ExtractOptions(jobs=1))
    assert again.stats.extracted == len(victims)  # a crash is never cached
    assert again.facts == expected


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collection_is_left_as_it_was(skyflow_copy: Path, enabled: bool) -> None:
    if not enabled:
        gc.disable()
    try:
        run(skyflow_copy, ExtractOptions(jobs=2))  # cold, through the pool
        run(skyflow_copy, ExtractOptions(jobs=2))  # warm, from the cache
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()


def test_each_file_s_syntax_tree_is_freed_before_the_next_file_is_parsed(skyflow_copy: Path, monkeypatch) -> None:
    """Extraction runs with automatic collection paused: a tree the interpreter's values
    left in a cycle must still be freed before the next file, or memory would grow."""
    original = extractor.parse_source
    parsed: list[str] = []
    alive: list[int] = []

    def counting(data: bytes, path: str):
        alive.append(sum(1 for item in gc.get_objects() if type(item) is ast.Module))
        parsed.append(path)
        return original(data, path)

    monkeypatch.setattr(extractor, "parse_source", counting)
    gc.collect()
    before = sum(1 for item in gc.get_objects() if type(item) is ast.Module)  # kept by earlier tests
    result = run(skyflow_copy, ExtractOptions(jobs=1, use_cache=False))
    assert len(parsed) > 100
    # The modules the files import stay parsed for the next files; no other tree stays.
    imported = {path for facts in result.facts for path in facts.depends_on if path != facts.path}
    assert 0 < max(alive) - before <= len(imported)


def test_small_repositories_run_in_process(tmp_path: Path) -> None:
    write_repo(tmp_path, {"dags/a.py": "from airflow import DAG\nDAG('a')\n"})
    assert run(tmp_path, ExtractOptions(jobs=4, use_cache=False)).stats.processes == 1


# ---- the cache ----------------------------------------------------------------------------


def test_warm_run_parses_nothing_and_returns_the_same_facts(skyflow_copy: Path, parses: list[str]) -> None:
    cold = run(skyflow_copy)
    parses.clear()
    warm = run(skyflow_copy)
    assert parses == []
    assert warm.facts == cold.facts
    assert warm.stats.extracted == 0
    assert warm.stats.cached == cold.stats.files - cold.stats.inert


def test_warm_analysis_equals_an_uncached_one(skyflow_copy: Path) -> None:
    analyze(skyflow_copy)
    assert analyze(skyflow_copy).facts == analyze(skyflow_copy, options=NO_CACHE).facts


def test_editing_a_file_invalidates_only_that_file(skyflow_copy: Path, parses: list[str]) -> None:
    run(skyflow_copy)
    append_comment(skyflow_copy / "dags/flights/flights_bookings_daily.py")
    parses.clear()
    after = run(skyflow_copy)
    assert after.stats.extracted == 1
    assert parses[0] == "dags/flights/flights_bookings_daily.py"
    assert after.facts == run(skyflow_copy, NO_CACHE).facts


def test_editing_a_shared_module_invalidates_every_file_that_imports_it(skyflow_copy: Path) -> None:
    cold = run(skyflow_copy)
    # common/ may be left out of discovery (.airflowignore) and still be imported.
    importers = {f.path for f in cold.facts if SENSORS in f.depends_on or f.path == SENSORS}
    assert len(importers) > 3
    sensors = skyflow_copy / SENSORS
    sensors.write_text(sensors.read_text().replace("mode=", "soft_fail=True, mode=", 1))
    after = run(skyflow_copy)
    assert after.stats.extracted == len(importers)
    changed = {f.path for f, before in zip(after.facts, cold.facts) if f != before}
    assert changed and changed <= importers
    assert after.facts == run(skyflow_copy, NO_CACHE).facts


@pytest.mark.parametrize(
    "importer",
    [
        "import common\ncommon.factory.build('x')\n",  # a submodule reached as an attribute
        "from common.factory import *\nbuild('x')\n",
        "from common import factory\nfactory.build('x')\n",
    ],
    ids=["attribute", "star", "from"],
)
def test_every_module_a_file_reaches_invalidates_it(tmp_path: Path, importer: str) -> None:
    write_repo(
        tmp_path,
        {
            "dags/common/__init__.py": "",
            "dags/common/factory.py": "from airflow import DAG\ndef build(name):\n    return DAG(name + '_v1')\n",
            "dags/team.py": importer,
        },
    )
    assert [d.dag_id for f in run(tmp_path).facts for d in f.dags] == ["x_v1"]
    factory = tmp_path / "dags/common/factory.py"
    factory.write_text(factory.read_text().replace("_v1", "_v2"))
    assert [d.dag_id for f in run(tmp_path).facts for d in f.dags] == ["x_v2"]


def test_a_new_module_that_shadows_an_external_import_invalidates(tmp_path: Path) -> None:
    write_repo(tmp_path, {"dags/team.py": "from helpers import build\nbuild('made_by_helper')\n"})
    assert [f.dags for f in run(tmp_path).facts] == [()]
    write_repo(tmp_path, {"dags/helpers.py": "from airflow import DAG\ndef build(name):\n    return DAG(name)\n"})
    after = run(tmp_path)
    team = next(f for f in after.facts if f.path == "dags/team.py")
    assert [d.dag_id for d in team.dags] == ["made_by_helper"]


def test_a_truncated_document_is_ignored_and_rewritten(skyflow_copy: Path) -> None:
    cold = run(skyflow_copy)
    document = skyflow_copy / cache.CACHE_DIR_NAME / cache.FACTS_FILE
    document.write_bytes(document.read_bytes()[: document.stat().st_size // 2])
    again = run(skyflow_copy)
    assert again.facts == cold.facts
    assert again.stats.cached == 0
    json.loads(cache.document_body(document.read_bytes()))  # whole again
    assert run(skyflow_copy).stats.extracted == 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry: ["not", "an", "entry"],
        lambda entry: [entry[0], entry[1], entry[2][:3], entry[3]],
        lambda entry: [entry[0], entry[1], [*entry[2][:1], "dags", *entry[2][2:]], entry[3]],
        lambda entry: [entry[0], {SENSORS: "0" * 64}, entry[2], entry[3]],
        lambda entry: None,
    ],
    ids=["garbage", "short-row", "wrong-type", "stale-dependency", "null"],
)
def test_a_corrupt_entry_is_ignored_and_rewritten(skyflow_copy: Path, damage) -> None:
    cold = run(skyflow_copy)
    document_path = skyflow_copy / cache.CACHE_DIR_NAME / cache.FACTS_FILE
    document = json.loads(cache.document_body(document_path.read_bytes()))
    victim = "dags/hotels/hotels_availability.py"
    document["files"][victim] = damage(document["files"][victim])
    # Signed, as a bug of this tool could write it: every entry is still checked.
    document_path.write_bytes(cache.signed(json.dumps(document).encode(), cache.machine_key()))
    again = run(skyflow_copy)
    assert again.stats.extracted == 1
    assert again.facts == cold.facts
    assert run(skyflow_copy).stats.extracted == 0


def _entry_lines(root: Path) -> dict[bytes, bytes]:
    """The stored entries' lines by the path that starts them."""
    body = cache.document_body((root / cache.CACHE_DIR_NAME / cache.FACTS_FILE).read_bytes())
    return {line.partition(b":")[0]: line for line in body.split(b"\n")[1:-1]}


def test_entries_of_unchanged_files_are_written_back_as_read(skyflow_copy: Path) -> None:
    cold = run(skyflow_copy)
    before = _entry_lines(skyflow_copy)
    append_comment(skyflow_copy / "dags/hotels/hotels_availability.py")
    assert run(skyflow_copy).stats.extracted == 1
    after = _entry_lines(skyflow_copy)
    touched = json.dumps("dags/hotels/hotels_availability.py").encode()
    assert after.keys() == before.keys()
    assert {name for name in before if before[name] != after[name]} == {touched}
    assert run(skyflow_copy).facts == cold.facts


def test_a_document_laid_out_otherwise_is_still_read_and_written_back_whole(skyflow_copy: Path) -> None:
    """Entries written back are encoded again when their lines cannot be told apart."""
    cold = run(skyflow_copy)
    document_path = skyflow_copy / cache.CACHE_DIR_NAME / cache.FACTS_FILE
    document = json.loads(cache.document_body(document_path.read_bytes()))
    document_path.write_bytes(cache.signed(json.dumps(document, indent=1).encode(), cache.machine_key()))
    append_comment(skyflow_copy / "dags/hotels/hotels_availability.py")
    assert run(skyflow_copy).stats.extracted == 1
    rewritten = json.loads(cache.document_body(document_path.read_bytes()))
    assert rewritten["files"].keys() == document["files"].keys()
    again = run(skyflow_copy)
    assert again.stats.extracted == 0
    assert again.facts == cold.facts


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["edited", "signed-elsewhere"])
def test_a_document_this_user_did_not_sign_is_not_trusted_at_all(skyflow_copy: Path, key: bytes | None) -> None:
    """Edited by hand or by another tool, or made on another machine (a CI cache restored,
    a folder copied): no entry is reused, whatever it holds."""
    cold = run(skyflow_copy)
    document_path = skyflow_copy / cache.CACHE_DIR_NAME / cache.FACTS_FILE
    data = document_path.read_bytes()
    body = cache.document_body(data)
    if key is None:
        document_path.write_bytes(data[: len(data) - len(body)] + body.replace(b'"', b' "', 1))
    else:
        document_path.write_bytes(cache.signed(body, key))
    again = run(skyflow_copy)
    assert again.stats.cached == 0
    assert again.facts == cold.facts


def test_the_key_is_private_and_outside_the_cache_folder(skyflow_copy: Path) -> None:
    run(skyflow_copy)
    key = cache.key_path()
    assert key.stat().st_mode & 0o777 == 0o600
    assert skyflow_copy not in key.parents
    assert cache.machine_key() == cache.machine_key()


def test_changed_rules_invalidate_every_entry(skyflow_copy: Path) -> None:
    cold = run(skyflow_copy)
    rules = dataclasses.replace(load_rule_pack(), fingerprint="another pack")
    again = run(skyflow_copy, rules=rules)
    assert again.stats.cached == 0 and again.stats.extracted == cold.stats.extracted


def test_changed_python_paths_invalidate_every_entry(tmp_path: Path) -> None:
    write_repo(tmp_path, {"dags/a.py": "from airflow import DAG\nDAG('a')\n"})
    config, rules = load_settings(tmp_path)
    files = discover(tmp_path).files
    extract(tmp_path, rules, ["dags"], files, ExtractOptions(jobs=1))
    assert extract(tmp_path, rules, ["dags"], files, ExtractOptions(jobs=1)).stats.cached == 1
    assert extract(tmp_path, rules, ["dags", "plugins"], files, ExtractOptions(jobs=1)).stats.cached == 0


def test_unwritable_cache_dir_still_analyzes(skyflow_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run(skyflow_copy, ExtractOptions(jobs=1, cache_dir=blocker / "cache"))
    assert result.facts == run(skyflow_copy, NO_CACHE).facts
    assert len(result.warnings) == 1 and "not written" in result.warnings[0]


def test_cache_folder_ignores_itself_and_is_never_discovered(skyflow_copy: Path) -> None:
    run(skyflow_copy)
    folder = skyflow_copy / cache.CACHE_DIR_NAME
    assert (folder / ".gitignore").read_text() == "*\n"
    assert cache.CACHE_DIR_NAME in ALWAYS_SKIPPED_DIRS
    assert not any(path.startswith(cache.CACHE_DIR_NAME) for path in discover(skyflow_copy).files)


def test_custom_cache_dir(skyflow_copy: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    run(skyflow_copy, ExtractOptions(jobs=1, cache_dir=elsewhere))
    assert (elsewhere / cache.FACTS_FILE).is_file()
    assert not (skyflow_copy / cache.CACHE_DIR_NAME).exists()
    assert run(skyflow_copy, ExtractOptions(jobs=1, cache_dir=elsewhere)).stats.extracted == 0


def test_no_cache_neither_reads_nor_writes(skyflow_copy: Path) -> None:
    run(skyflow_copy, NO_CACHE)
    assert not (skyflow_copy / cache.CACHE_DIR_NAME).exists()
    run(skyflow_copy)
    assert run(skyflow_copy, NO_CACHE).stats.cached == 0


# ---- facts to plain data and back --------------------------------------------------------

EVERY_FIELD = FileFacts(
    path="dags/a.py",
    dags=(DagFact("a", SourceSpan("dags/a.py", 3, 4), "with", ("team",), ("tag",), "@daily", ("t1", "t2")),),
    dependencies=(
        DependencyFact(
            kind="sensor",
            source="up",
            target="a",
            dag="a",
            task_id="wait",
            span=SourceSpan("dags/a.py", 9),
            operator="airflow.sensors.external_task.ExternalTaskSensor",
            source_tasks=("done",),
            task_group="group",
            dataset="s3://x",
            arguments=(("external_dag_id", "'up'"), ("mode", "'reschedule'")),
            via=SourceSpan("dags/common/sensors.py", 12, 8),
        ),
        DependencyFact("trigger", "a", "b", "a", None, SourceSpan("dags/a.py", 10)),
    ),
    datasets=(DatasetUse("s3://x", "producer", "a", None, SourceSpan("dags/a.py", 11)),),
    resources=(ResourceUse("pool", "p", None, SourceSpan("dags/a.py", 12)),),
    unresolved=(Unresolved("dag_id", "f()", "not static", SourceSpan("dags/a.py", 13)),),
    diagnostics=(Diagnostic("warning", "code", "message", SourceSpan("dags/a.py", 14)),),
    depends_on=("dags/common/sensors.py",),
)


def test_from_plain_inverts_to_plain() -> None:
    plain = json.loads(json.dumps(to_plain(EVERY_FIELD)))
    assert cache.from_plain(FileFacts, plain) == EVERY_FIELD
    row = json.loads(json.dumps(cache.to_row(EVERY_FIELD, EVERY_FIELD.path)))
    assert cache.from_row(FileFacts, row, EVERY_FIELD.path) == EVERY_FIELD


def _row_by_the_rule(value, path):
    """A row as the cache's documentation tells it, value by value: a dataclass the list of
    its fields in order, tuples as lists, a span in the entry's own file without its path."""
    if isinstance(value, SourceSpan):
        place = [value.line, value.column, *([value.end_line, value.end_column] if value.end_line else [])]
        return place if value.path == path else [value.path, *place]
    if dataclasses.is_dataclass(value):
        return [_row_by_the_rule(getattr(value, f.name), path) for f in dataclasses.fields(value)]
    if isinstance(value, (tuple, list)):
        return [_row_by_the_rule(item, path) for item in value]
    return value


def test_rows_and_their_text_are_written_by_the_rule(skyflow) -> None:
    spans = (SourceSpan("dags/a.py", 3, 4, 5, 6), SourceSpan("dags/b.py", 3, 4), SourceSpan("dags/b.py", 3, 4, 7, 1))
    facts = (*run(SKYFLOW, NO_CACHE).facts, EVERY_FIELD, dataclasses.replace(EVERY_FIELD, path="dags/é.py", resources=tuple(ResourceUse("connection", "ü", "a", s) for s in spans)))
    for item in facts:
        row = cache.to_row(item, item.path)
        assert row == _row_by_the_rule(item, item.path)
        encoded = cache.encode_facts(item)
        assert encoded.row == json.dumps(row, separators=(",", ":")).encode()
        assert encoded.digest == cache.content_hash(f"[{json.dumps(item.path)},{encoded.row.decode()}]".encode())


def test_from_plain_round_trips_every_skyflow_file(skyflow) -> None:
    facts = run(SKYFLOW, NO_CACHE).facts
    for item in facts:
        assert cache.from_plain(FileFacts, json.loads(json.dumps(to_plain(item)))) == item
        assert cache.from_row(FileFacts, json.loads(json.dumps(cache.to_row(item, item.path))), item.path) == item


@pytest.mark.parametrize(
    "plain",
    [
        {"path": "a", "line": "3", "column": 0},
        {"path": "a", "line": 3},
        {"path": "a", "line": 3, "column": 0, "extra": 1},
        ["a", 3, 0],
    ],
)
def test_from_plain_rejects_what_does_not_match(plain) -> None:
    with pytest.raises((TypeError, ValueError, KeyError)):
        cache.from_plain(SourceSpan, plain)


def _scalar_places(row, place=()):
    """The index path of every scalar in a row, nested lists included."""
    if type(row) is list:
        for number, item in enumerate(row):
            yield from _scalar_places(item, (*place, number))
    else:
        yield place


def _replaced(row, place, value):
    if not place:
        return value
    return [_replaced(item, place[1:], value) if number == place[0] else item for number, item in enumerate(row)]


def test_from_row_rejects_a_value_of_another_type_anywhere() -> None:
    row = json.loads(json.dumps(cache.to_row(EVERY_FIELD, EVERY_FIELD.path)))
    places = list(_scalar_places(row))
    assert len(places) > 40
    for place in places:
        original = row
        for index in place:
            original = original[index]
        for wrong in (1.5, True, {"a": 1}) if original is not None else (1.5, {"a": 1}):
            if type(wrong) is type(original):
                continue
            with pytest.raises((TypeError, ValueError, KeyError)):
                cache.from_row(FileFacts, _replaced(row, place, wrong), EVERY_FIELD.path)


# ---- the prefilter -------------------------------------------------------------------------

INERT = [
    b"",
    b"\n\n",
    b"# only a comment\n",
    b"  # indented comment\r\n\n",
    b'"""A package."""\n',
    b'\xef\xbb\xbf"""With a BOM."""',
    b"# header\n'''Docstring\nover lines with {braces} and 'quotes'.\n''' # trailing\n\n# more\n",
]
NOT_INERT = [
    b"x = 1\n",
    b"import os\n",
    b'"""Doc."""\nimport common\n',
    b'  """Indented: an IndentationError."""\n',
    b'"""Unclosed.\n',
    b'"""Bad escape \\N."""\n',
    b'"""Reads {{ var.value.env }}."""\n',
    b'"""One."""\n"""Two."""\n',
    b'r"""Prefixed."""\n',
    b"# caf\xe9 is not UTF-8\n",
    b"# a NUL \x00\n",
    b"# old Mac line end\r",
    b"\\\n",
    b"'''a''''\n",
    b'"""a""""\n',
]


@pytest.mark.parametrize("data", INERT)
def test_inert_files_have_no_facts(tmp_path: Path, data: bytes) -> None:
    assert inert(data)
    workspace = Workspace(tmp_path, load_rule_pack(), [])
    assert workspace.extract("dags/__init__.py", data) == FileFacts("dags/__init__.py")


@pytest.mark.parametrize("data", NOT_INERT)
def test_prefilter_parses_anything_else(data: bytes) -> None:
    assert not inert(data)


# Pieces that build files near the prefilter's edge: quotes, escapes, braces, odd bytes.
PIECES = ["\n", "\r\n", "\r", " ", "\t", "#", "x", '"', "'", '"""', "'''", "\\", "{", "{{", "}}", "N", "\0", "\xe9", "\ufeff"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.booleans())
def test_whatever_the_prefilter_skips_has_no_facts(tmp_path: Path, pieces: list[str], latin1: bool) -> None:
    data = "".join(pieces).encode("latin-1" if latin1 else "utf-8", "replace")
    if inert(data):
        workspace = Workspace(tmp_path, load_rule_pack(), [])
        assert workspace.extract("dags/x.py", data) == FileFacts("dags/x.py")


def test_prefilter_does_not_change_the_analysis(skyflow_copy: Path) -> None:
    write_repo(skyflow_copy, {"dags/finance/__init__.py": '"""Finance DAGs."""\n', "dags/rail/__init__.py": ""})
    filtered = run(skyflow_copy, NO_CACHE)
    assert filtered.stats.inert >= 2
    unfiltered = run(skyflow_copy, ExtractOptions(jobs=1, use_cache=False, prefilter=False))
    assert filtered.facts == unfiltered.facts
    with_filter = analyze(skyflow_copy, options=NO_CACHE).facts
    without = analyze(skyflow_copy, options=ExtractOptions(jobs=1, use_cache=False, prefilter=False)).facts
    assert with_filter == without


# ---- the command line ----------------------------------------------------------------------


def test_cli_with_jobs_and_cache_matches_a_plain_run(skyflow_copy: Path) -> None:
    runner = CliRunner()
    plain = runner.invoke(main, ["analyze", str(skyflow_copy), "--format", "json", "--jobs", "1", "--no-cache"])
    assert plain.exit_code == 0, plain.output
    assert not (skyflow_copy / cache.CACHE_DIR_NAME).exists()
    for _ in range(2):  # cold, then warm
        pooled = runner.invoke(main, ["analyze", str(skyflow_copy), "--format", "json", "--jobs", "2"])
        assert pooled.exit_code == 0, pooled.output
        assert json.loads(pooled.output) == json.loads(plain.output)
    assert (skyflow_copy / cache.CACHE_DIR_NAME / cache.FACTS_FILE).is_file()


def test_cli_text_summary_with_jobs(skyflow_copy: Path) -> None:
    result = CliRunner().invoke(main, ["-q", "analyze", str(skyflow_copy), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "DAGs in" in result.output


@pytest.mark.parametrize("files, processes", [(1, 2), (64, 2), (2000, 2), (5000, 2), (700, 8)])
def test_chunks_cover_the_work_in_order_and_shrink_towards_the_end(files: int, processes: int) -> None:
    work = [(index, f"dags/{index}.py", b"") for index in range(files)]
    chunks = list(runner._chunks(work, processes))
    assert [item for chunk in chunks for item in chunk] == work
    sizes = [len(chunk) for chunk in chunks]
    assert all(0 < size <= 256 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] <= 8  # no worker is left with a long chunk at the end


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-process", "pool"])
def test_each_extracted_file_is_received_once_as_it_arrives(skyflow_copy: Path, jobs: int) -> None:
    """What the caller does with each file's facts (ownership claims) runs while the rest
    is extracted; cached and inert files are not received."""
    config, rules = load_settings(skyflow_copy)
    files = discover(skyflow_copy, exclude=config.exclude, airflowignore_syntax=config.airflowignore_syntax).files
    paths = find_layout(skyflow_copy, config.dags_folders, config.python_paths).python_paths
    received: list[FileFacts] = []
    lazy = extract_lazily(skyflow_copy, rules, paths, files, ExtractOptions(jobs=jobs), received=received.append)
    assert len(received) == lazy.stats.extracted == len({f.path for f in received})
    by_path = {f.path: f for f in lazy.decoded().facts}
    assert all(by_path[f.path] is f for f in received)  # the very facts the analysis links
    again: list[FileFacts] = []
    warm = extract_lazily(skyflow_copy, rules, paths, files, ExtractOptions(jobs=jobs), received=again.append)
    assert again == [] and warm.stats.cached == lazy.stats.extracted


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs a file whose size fstat does not know")
def test_a_file_is_read_whole_even_when_its_size_is_not_what_fstat_says() -> None:
    """fstat gives /proc files a size of 0, as it would a file that grew since: the read goes on."""
    text = runner._read("/proc/self/status")
    assert text is not None and text.startswith(b"Name:") and b"\nPid:" in text
    assert runner._read("/proc/self") is None  # a directory: not a file to read
