"""The bundled monolith: analysis must find exactly the DAGs and dependencies it was built with."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter

import yaml

from .conftest import FIXTURES

EXPECTED = FIXTURES.parent / "tests" / "expected" / "handwritten.yaml"


def _generator():
    spec = importlib.util.spec_from_file_location("fixture_generator", FIXTURES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def expected_truth():
    generated = _generator().expected_facts(seed=7, dags=130)
    handwritten = yaml.safe_load(EXPECTED.read_text())
    return {
        "dags": generated["dags"] + handwritten["dags"],
        "dependencies": generated["dependencies"] + handwritten["dependencies"],
        "unresolved": handwritten["unresolved"],
    }


def test_exact_dag_ids_and_files(skyflow):
    truth = expected_truth()
    found = Counter((d.dag_id, d.span.path) for d in skyflow.facts.dags)
    assert found == Counter((d["dag_id"], d["file"]) for d in truth["dags"])


def test_exact_dependencies(skyflow):
    truth = expected_truth()
    found = Counter((d.kind, d.source, d.target, d.task_id, d.span.path) for d in skyflow.facts.dependencies)
    expected = Counter((d["kind"], d["source"], d["target"], d["task_id"], d["file"]) for d in truth["dependencies"])
    assert found - expected == Counter(), "reported but not in the fixture"
    assert expected - found == Counter(), "in the fixture but not reported"


def test_unresolved_items_are_the_deliberate_ones(skyflow):
    truth = expected_truth()["unresolved"]
    found = [(u.span.path, u.what) for u in skyflow.facts.unresolved]
    assert len(found) == len(truth)
    for item in truth:
        assert any(path == item["file"] and what.startswith(item["what"]) for path, what in found), item


def test_ignored_files_are_not_analyzed(skyflow):
    files = set(skyflow.facts.files)
    for ignored in (
        "dags/sandbox/try_new_operator.py",
        "dags/hotels/hotels_inventory_deprecated.py",
        "dags/partners/scratch_fare_debug.py",
        "dags/cars/legacy_rental_sync.py",
    ):
        assert ignored not in files
    skipped = dict(skyflow.facts.skipped)
    assert "exclude" in skipped["dags/cars/legacy_rental_sync.py"]
    assert ".gitignore" in skipped["dags/partners/scratch_fare_debug.py"]


def test_expected_diagnostics(skyflow):
    codes = {(d.code, d.span.path) for d in skyflow.facts.diagnostics}
    assert ("parse-error", "dags/experiments/broken_syntax.py") in codes
    assert ("duplicate-dag-id", "dags/analytics/analytics_dashboards.py") in codes
    assert ("duplicate-dag-id", "dags/analytics/analytics_dashboards_v2.py") in codes
    dangling = [d for d in skyflow.facts.diagnostics if d.code == "unknown-dag"]
    assert ["pricing_competitor_scrape" in d.message for d in dangling] == [True]


def test_resources_cover_every_kind(skyflow):
    kinds = {r.kind: {x.name for x in skyflow.facts.resources if x.kind == r.kind} for r in skyflow.facts.resources}
    assert {"dwh", "aws_default", "partner_api", "bookings_db"} <= kinds["connection"]
    assert {"pricing_markets", "env_name", "loyalty_config"} <= kinds["variable"]
    assert "dwh_pool" in kinds["pool"]
    assert "common.sensors" in kinds["module"]


def test_generator_reproduces_the_committed_files(tmp_path):
    import shutil

    copy = tmp_path / "skyflow"
    shutil.copytree(FIXTURES / "skyflow", copy)
    _generator().main(["--into", str(copy), "--dags", "130", "--seed", "7"])
    for generated in sorted((FIXTURES / "skyflow").rglob("gen_*.py")):
        relative = generated.relative_to(FIXTURES / "skyflow")
        assert (copy / relative).read_bytes() == generated.read_bytes(), relative
