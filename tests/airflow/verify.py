#!/usr/bin/env python3
"""Agreement with Airflow itself: the DAG dependencies Airflow records against mesh-migrate's.

    python tests/airflow/verify.py --airflow .venv-airflow2/bin/python --airflow .venv-airflow3/bin/python
        [--repo fixtures/skyflow ...] [--generated 500] [--json build/verify-airflow.json]

Runs under mesh-migrate's Python (the project's .venv) and never imports Airflow. For each
repository (fixtures/skyflow, and a monolith of --generated DAG files from
fixtures/generate.py --seed 1) and each Airflow interpreter:

- mesh-migrate: ``mesh-migrate analyze REPO --format json --no-cache``;
- Airflow: tests/airflow/dagbag_inventory.py in that interpreter, in a scratch AIRFLOW_HOME,
  with REPO/dags as the DAG folder, REPO/plugins as the plugins folder, examples off and
  ``[core] dag_ignore_file_syntax`` set to mesh.yaml's ``airflowignore_syntax`` (regexp when
  unset), so both tools read the same .airflowignore the same way. Airflow's own DagBag
  loads the files and ``SerializedDAG.serialize_dag`` computes ``dag_dependencies``, the
  data behind ``airflow dags show-dependencies``.

Edges are compared as (kind, source, target, task id, file) for sensors and triggers, where
file is the file of the DAG holding the task; for datasets and assets Airflow records
producer -> dataset and dataset -> consumer, which are joined on the URI into
(dataset, producer, consumer, URI, consumer's file), mesh-migrate's own shape.

The run fails (exit 1) on any of:

- an edge Airflow records that mesh-migrate does not, unless it lies in a file mesh-migrate
  leaves out on purpose (.gitignore, mesh.yaml ``exclude``) or mesh-migrate reports its
  value as unresolved (a templated id, a value read at parse time);
- an edge mesh-migrate reports that Airflow does not, unless Airflow is known to miss it:
  an ExternalTaskMarker, a custom sensor kind of a rule pack, a providers-standard class on
  Airflow 2 (apache/airflow#52720), a mapped task, a file Airflow cannot import or that its
  safe mode skips. Each reason is checked against what Airflow loaded (the task's class
  hierarchy, the file's import error), never taken from mesh-migrate's side alone;
- an import error (DagBag or serialization) that is not one of the deliberate ones below.

Prints a report and writes the same figures, with every edge, as JSON. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
INVENTORY = Path(__file__).resolve().parent / "dagbag_inventory.py"
GENERATOR = REPO_ROOT / "fixtures" / "generate.py"
SKYFLOW = REPO_ROOT / "fixtures" / "skyflow"

COMPARED = ("sensor", "trigger", "dataset")
CORE_SENSOR = "airflow.sensors.external_task.ExternalTaskSensor"
CORE_TRIGGER = "airflow.operators.trigger_dagrun.TriggerDagRunOperator"
STD_SENSOR = "airflow.providers.standard.sensors.external_task.ExternalTaskSensor"
STD_TRIGGER = "airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator"
MARKER_CLASSES = (
    "airflow.sensors.external_task.ExternalTaskMarker",
    "airflow.providers.standard.sensors.external_task.ExternalTaskMarker",
)


@dataclass(frozen=True)
class Deliberate:
    """An import error the repository has on purpose."""

    files: tuple[str, ...]  # any one of these files (Airflow keeps whichever duplicate it parses first)
    error: str  # a substring of Airflow's message
    why: str
    majors: tuple[str, ...] = ("2", "3")  # the Airflow major versions that report it


# The fixture's traps, as Airflow sees them. A repository not listed here must have none.
DELIBERATE_IMPORT_ERRORS: dict[str, tuple[Deliberate, ...]] = {
    "skyflow": (
        Deliberate(("dags/experiments/broken_syntax.py",), "SyntaxError", "the fixture's syntax error"),
        Deliberate(
            ("dags/analytics/analytics_dashboards.py", "dags/analytics/analytics_dashboards_v2.py"),
            "AirflowDagDuplicatedIdException",
            "duplicate dag id analytics_dashboards_refresh: Airflow keeps the file it parses first",
        ),
        Deliberate(
            ("dags/analytics/kpi_rollup.py",),
            "Failed to serialize DAG 'analytics_kpi_rollup'",
            "external_dag_id is Variable.get('kpi_gate_gross_bookings', default_var=None), None on an "
            "instance without that Variable, so Airflow cannot serialize the DAG",
        ),
        Deliberate(
            ("dags/cars/legacy_rental_sync.py",),
            "airflow.sensors.external_task_sensor",
            "pre-2022 DAG file (1.10 import path, schedule_interval) that mesh.yaml excludes from the split",
            majors=("3",),
        ),
    ),
}

Key = tuple[str, str, str, str, str]  # (kind, source, target, task id or dataset URI, file)


@dataclass
class Comparison:
    repo: str
    airflow: str
    seconds: float
    dags: int
    files_listed: int
    airflow_edges: set[Key] = field(default_factory=set)
    ours: set[Key] = field(default_factory=set)
    common: set[Key] = field(default_factory=set)
    airflow_excluded: dict[Key, str] = field(default_factory=dict)  # in files mesh-migrate leaves out
    airflow_unresolved: dict[Key, str] = field(default_factory=dict)  # values mesh-migrate reports unresolved
    airflow_only: dict[Key, str] = field(default_factory=dict)  # failures
    ours_known: dict[Key, tuple[str, str]] = field(default_factory=dict)  # key -> (category, detail)
    ours_unexplained: dict[Key, str] = field(default_factory=dict)  # failures
    import_errors: list[dict] = field(default_factory=list)
    missing_deliberate: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        bad_imports = sum(1 for e in self.import_errors if not e["deliberate"])
        return len(self.airflow_only) + len(self.ours_unexplained) + bad_imports

    def to_json(self) -> dict:
        def rows(keys):
            return [dict(zip(("kind", "source", "target", "id", "file"), k)) for k in sorted(keys)]

        def explained(items):
            return [{**dict(zip(("kind", "source", "target", "id", "file"), k)), "reason": v} for k, v in sorted(items.items())]

        return {
            "repo": self.repo,
            "airflow": self.airflow,
            "airflow_seconds": round(self.seconds, 1),
            "airflow_dags": self.dags,
            "airflow_files_listed": self.files_listed,
            "figures": {
                "airflow_edges": len(self.airflow_edges),
                "ours": len(self.ours),
                "common": len(self.common),
                "airflow_only": len(self.airflow_only),
                "airflow_in_excluded_files": len(self.airflow_excluded),
                "airflow_reported_unresolved_by_us": len(self.airflow_unresolved),
                "ours_only_known": len(self.ours_known),
                "ours_only_known_by_reason": dict(Counter(c for c, _ in self.ours_known.values()).most_common()),
                "ours_only_unexplained": len(self.ours_unexplained),
                "import_errors": len(self.import_errors),
                "import_errors_not_deliberate": sum(1 for e in self.import_errors if not e["deliberate"]),
            },
            "ok": self.failures == 0,
            "import_errors": self.import_errors,
            "deliberate_import_errors_not_seen": self.missing_deliberate,
            "airflow_only": explained(self.airflow_only),
            "airflow_in_excluded_files": explained(self.airflow_excluded),
            "airflow_reported_unresolved_by_us": explained(self.airflow_unresolved),
            "ours_only_known": [
                {**dict(zip(("kind", "source", "target", "id", "file"), k)), "reason": c, "detail": d}
                for k, (c, d) in sorted(self.ours_known.items())
            ],
            "ours_only_unexplained": explained(self.ours_unexplained),
            "common": rows(self.common),
        }


# ----------------------------------------------------------------------------------------
# The two sides
# ----------------------------------------------------------------------------------------
def run_ours(repo: Path, mesh_migrate: str) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [mesh_migrate, "analyze", str(repo), "--format", "json", "--no-cache"],
        capture_output=True, text=True, check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"mesh-migrate analyze {repo} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout), seconds


def ignore_syntax(repo: Path) -> str:
    mesh = repo / "mesh.yaml"
    if mesh.is_file():
        data = yaml.safe_load(mesh.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("airflowignore_syntax") in ("regexp", "glob"):
            return data["airflowignore_syntax"]
    return "regexp"  # mesh-migrate's default, and Airflow 2's


def run_airflow(repo: Path, python: str, scratch: Path, uris: list[str]) -> tuple[dict, float]:
    home = Path(tempfile.mkdtemp(prefix="airflow-home-", dir=scratch))
    out = home / "inventory.json"
    uris_file = home / "uris.json"
    uris_file.write_text(json.dumps(sorted(set(uris))), encoding="utf-8")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX": ignore_syntax(repo),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("PYTHONPATH", None)
    started = time.perf_counter()
    done = subprocess.run(
        [python, str(INVENTORY), str(repo), str(out), str(uris_file)],
        capture_output=True, text=True, env=env, cwd=home, check=False, timeout=1800,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not out.is_file():
        tail = (done.stderr or done.stdout)[-4000:]
        raise SystemExit(f"{python} {INVENTORY.name} {repo} failed ({done.returncode}):\n{tail}")
    return json.loads(out.read_text(encoding="utf-8")), seconds


# ----------------------------------------------------------------------------------------
# Edges
# ----------------------------------------------------------------------------------------
def _asset_uri(dependency_id: str | None) -> str:
    """Airflow 2: the dataset URI. Airflow 3: json.dumps({"name", "uri"}) of the asset key."""
    if dependency_id and dependency_id.startswith("{"):
        try:
            key = json.loads(dependency_id)
        except ValueError:
            return dependency_id
        return key.get("uri") or key.get("name") or dependency_id
    return dependency_id or ""


def airflow_edges(inventory: dict) -> tuple[set[Key], dict[Key, str]]:
    """Sensor and trigger edges, dataset/asset records joined into producer -> consumer pairs.

    The join is on ``dependency_id`` as Airflow writes it: the URI on 2.x, the asset's key
    (name and URI) on 3.x, where two assets with one URI and different names are two assets.
    Each pair is keyed by the URI. Also returns, for each pair, the file of the producer's DAG.
    """
    edges: set[Key] = set()
    producer_file: dict[Key, str] = {}
    producers: dict[str, set[tuple[str, str]]] = defaultdict(set)
    consumers: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for dep in inventory["dag_dependencies"]:
        kind = dep["dependency_type"]
        if kind in ("sensor", "trigger"):
            edges.add((kind, str(dep["source"]), str(dep["target"]), dep["dependency_id"] or "", dep["file"]))
        elif kind in ("dataset", "asset") and dep["target"] in ("dataset", "asset"):
            producers[dep["dependency_id"] or ""].add((dep["source"], dep["file"]))
        elif kind in ("dataset", "asset") and dep["source"] in ("dataset", "asset"):
            consumers[dep["dependency_id"] or ""].add((dep["target"], dep["file"]))
        else:  # aliases, references: none in these repositories; compared as they are, never dropped
            edges.add((kind, str(dep["source"]), str(dep["target"]), dep["dependency_id"] or "", dep["file"]))
    for dataset, made_by in producers.items():
        for consumer, file in consumers.get(dataset, ()):
            for producer, made_in in made_by:
                key = ("dataset", producer, consumer, _asset_uri(dataset), file)
                edges.add(key)
                producer_file[key] = made_in
    return edges, producer_file


def our_edges(doc: dict, normalized: dict[str, str | None]) -> dict[Key, dict]:
    """mesh-migrate's dependencies, keyed like Airflow's; dataset URIs as Airflow stores them."""
    edges: dict[Key, dict] = {}
    for dep in doc["dependencies"]:
        if dep["kind"] == "dataset":
            ident = normalized.get(dep["dataset"]) or dep["dataset"]
        else:
            ident = dep["task_id"] or ""
        edges.setdefault((dep["kind"], dep["source"], dep["target"], ident or "", dep["file"]), dep)
    return edges


# ----------------------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------------------
def _deliberate(repo_name: str, file: str, error: str, major: str) -> str | None:
    for item in DELIBERATE_IMPORT_ERRORS.get(repo_name, ()):
        if file in item.files and item.error in error and major in item.majors:
            return item.why
    return None


def unresolved_match(key: Key, unresolved: dict[str, list[dict]], our_dag_ids: set[str],
                     producer_file: str | None) -> dict | None:
    """mesh-migrate's unresolved item that stands for this edge, if any.

    A sensor's external_dag_id or a trigger's trigger_dag_id it could not compute (the item
    names the task), the DAG holding the task (``DAG of <operator> '<task>'``), or the dag id
    of a DAG it cannot name at all (``dag_id``, for a DAG Airflow knows and it does not).
    """
    kind, source, target, ident, file = key
    value = {"sensor": "external_dag_id", "trigger": "trigger_dag_id"}.get(kind)
    for item in unresolved.get(file, ()):
        what = item["what"]
        if f"'{ident}'" in what and ((value and what.startswith(value)) or what.startswith("DAG of")):
            return item
    holders = {"sensor": [(target, file)], "trigger": [(source, file)]}.get(kind, [(target, file), (source, producer_file)])
    for dag_id, path in holders:
        if dag_id not in our_dag_ids and path:
            for item in unresolved.get(path, ()):
                if item["what"] == "dag_id":
                    return item
    return None


def compare(repo: Path, repo_name: str, doc: dict, inventory: dict, seconds: float) -> Comparison:
    version = inventory["airflow"]
    major = version.split(".")[0]
    result = Comparison(
        repo=repo_name, airflow=version, seconds=seconds, dags=len(inventory["dags"]),
        files_listed=len(inventory["files"]),
    )

    # Import errors: the DagBag's, plus DAGs Airflow cannot serialize (its DAG processor
    # records those as import errors of the file too).
    errors: dict[str, str] = dict(inventory["import_errors"])
    dag_file = {d["dag_id"]: d["file"] for d in inventory["dags"]}
    for dag_id, message in inventory["serialization_errors"].items():
        errors.setdefault(dag_file.get(dag_id, dag_id), message)
    for file, message in sorted(errors.items()):
        result.import_errors.append({"file": file, "error": message, "deliberate": _deliberate(repo_name, file, message, major)})
    for item in DELIBERATE_IMPORT_ERRORS.get(repo_name, ()):
        if major in item.majors and not any(e["deliberate"] == item.why for e in result.import_errors):
            result.missing_deliberate.append(f"{' or '.join(item.files)}: {item.why}")

    theirs, producer_file = airflow_edges(inventory)
    ours = our_edges(doc, inventory.get("normalized_uris", {}))
    result.ours = set(ours)
    result.common = theirs & result.ours

    # What mesh-migrate leaves out on purpose, and the values it reports unresolved.
    skipped = {s["file"]: s["reason"] for s in doc["skipped"]}
    our_dag_ids = {d["dag_id"] for d in doc["dags"]}
    unresolved = defaultdict(list)
    for item in doc["unresolved"]:
        unresolved[item["file"]].append(item)

    def skipped_reason(file: str) -> str | None:
        for path, reason in skipped.items():
            if file == path or file.startswith(path.rstrip("/") + "/"):
                return reason
        return None

    for key in sorted(theirs - result.ours):
        kind, source, target, ident, file = key
        for path in (file, producer_file.get(key)):
            reason = skipped_reason(path) if path else None
            if reason:
                result.airflow_excluded[key] = f"mesh-migrate does not analyze {path}: {reason}"
                break
        if key in result.airflow_excluded:
            continue
        match = unresolved_match(key, unresolved, our_dag_ids, producer_file.get(key))
        if match:
            value = {"sensor": source, "trigger": target}.get(kind, "") if match["what"] != "dag_id" else ""
            shown = "the unrendered template" if "{{" in value else "the value of this parse"
            result.airflow_unresolved[key] = (
                f"{match['what']} at {file}:{match['line']} is unresolved in mesh-migrate ({match['reason']}); "
                f"Airflow records {shown}"
            )
            continue
        result.airflow_only[key] = "recorded by Airflow, not by mesh-migrate"
    result.airflow_edges = theirs - set(result.airflow_excluded)

    # mesh-migrate's edges that Airflow does not record: explained by what Airflow loaded.
    files = {f["file"]: f for f in inventory["files"]}
    tasks = {(t["dag_id"], t["task_id"], t["file"]): t for t in inventory["tasks"]}
    loaded = {(d["dag_id"], d["file"]) for d in inventory["dags"]}
    our_dag_file = defaultdict(set)
    for dag in doc["dags"]:
        our_dag_file[dag["dag_id"]].add(dag["file"])
    by_task = defaultdict(list)
    for key in theirs:
        if key[0] in ("sensor", "trigger"):
            holder = key[2] if key[0] == "sensor" else key[1]
            by_task[(holder, key[3], key[4])].append(key)

    def not_loaded(file: str) -> tuple[str, str] | None:
        if file in errors:
            return "file Airflow cannot import", f"{file}: {errors[file]}"
        listed = files.get(file)
        if listed is not None and not listed["safe_mode_parses"]:
            return "file skipped by Airflow's safe mode", f"{file} does not contain both 'airflow' and 'dag'"
        return None

    for key in sorted(result.ours - theirs):
        dep = ours[key]
        kind, source, target, ident, file = key
        explained = not_loaded(file)
        if explained is None and kind == "dataset":
            for producer_file in sorted(our_dag_file.get(source, ())):
                explained = not_loaded(producer_file)
                if explained:
                    explained = (explained[0], f"producer {source}: {explained[1]}")
                    break
        if explained:
            result.ours_known[key] = explained
            continue
        if kind == "dataset":
            result.ours_unexplained[key] = "both DAGs loaded, Airflow joins no such producer/consumer pair"
            continue
        task = tasks.get((dep["dag"], dep["task_id"], file))
        if task is None:
            if (dep["dag"], file) not in loaded:
                result.ours_unexplained[key] = f"Airflow has no DAG {dep['dag']} in {file}"
            else:
                result.ours_unexplained[key] = f"Airflow's DAG {dep['dag']} has no task {dep['task_id']}"
            continue
        classes = task["classes"]
        cls = classes[0]
        if kind == "marker" and any(c in classes for c in MARKER_CLASSES):
            result.ours_known[key] = ("ExternalTaskMarker (Airflow records no edge)", cls)
        elif kind not in COMPARED and kind != "marker" and not any(
            c in classes for c in (CORE_SENSOR, CORE_TRIGGER, STD_SENSOR, STD_TRIGGER)
        ):
            result.ours_known[key] = (f"custom kind {kind} (no edge in Airflow)", cls)
        elif task["mapped"] and major == "2":
            result.ours_known[key] = ("mapped task on Airflow 2", cls)
        elif major == "2" and kind in ("sensor", "trigger") and (
            (kind == "sensor" and STD_SENSOR in classes and CORE_SENSOR not in classes)
            or (kind == "trigger" and STD_TRIGGER in classes and CORE_TRIGGER not in classes)
        ):
            result.ours_known[key] = ("providers-standard class on Airflow 2 (#52720)", cls)
        else:
            recorded = by_task.get((dep["dag"], dep["task_id"], file))
            detail = f"Airflow records {recorded}" if recorded else f"Airflow records nothing for {cls}"
            result.ours_unexplained[key] = detail
    return result


# ----------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------
def _edge(key: Key) -> str:
    kind, source, target, ident, file = key
    return f"{kind} {source} -> {target} [{ident}] ({file})"


def report(repo_name: str, doc: dict, our_seconds: float, results: list[Comparison]) -> None:
    summary = doc["summary"]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(summary["dependencies"].items()))
    print(f"\n== {repo_name}: mesh-migrate finds {summary['dags']} DAGs, "
          f"{sum(summary['dependencies'].values())} dependencies ({kinds}) in {our_seconds:.1f} s")
    width = 50
    header = f"{'':<{width}}" + "".join(f"{'Airflow ' + r.airflow:>16}" for r in results)
    print(header)

    def row(label: str, values: list) -> None:
        print(f"{label:<{width}}" + "".join(f"{v:>16}" for v in values))

    row("DAGs loaded by Airflow", [r.dags for r in results])
    row("Airflow process, s (import, DagBag, serialize)", [f"{r.seconds:.1f}" for r in results])
    row("import errors (all must be deliberate)", [
        f"{len(r.import_errors)}" + ("" if all(e["deliberate"] for e in r.import_errors) else " !") for r in results
    ])
    row("Airflow edges (sensor, trigger, dataset)", [len(r.airflow_edges) for r in results])
    row("ours (every kind)", [len(r.ours) for r in results])
    row("common", [len(r.common) for r in results])
    row("Airflow-only (must be 0)", [len(r.airflow_only) for r in results])
    row("Airflow-only, value unresolved in ours", [len(r.airflow_unresolved) for r in results])
    row("Airflow, in files we leave out (not compared)", [len(r.airflow_excluded) for r in results])
    row("ours-only, known Airflow misses", [len(r.ours_known) for r in results])
    reasons = sorted({c for r in results for c, _ in r.ours_known.values()})
    for reason in reasons:
        counts = [sum(1 for c, _ in r.ours_known.values() if c == reason) for r in results]
        row(f"  {reason[:width - 2]}", counts)
    row("ours-only, unexplained (must be 0)", [len(r.ours_unexplained) for r in results])

    for r in results:
        print(f"\n  Airflow {r.airflow}:")
        for e in r.import_errors:
            verdict = f"deliberate: {e['deliberate']}" if e["deliberate"] else "NOT DELIBERATE"
            print(f"    import error {e['file']}: {e['error'][:160]}\n      -> {verdict}")
        for note in r.missing_deliberate:
            print(f"    note: deliberate import error not seen: {note}")
        for key, why in sorted(r.airflow_unresolved.items()):
            print(f"    Airflow-only, unresolved in ours: {_edge(key)}\n      -> {why}")
        for key, why in sorted(r.airflow_excluded.items()):
            print(f"    Airflow-only, not compared: {_edge(key)}\n      -> {why}")
        for key, why in sorted(r.airflow_only.items()):
            print(f"    FAIL Airflow-only: {_edge(key)}")
        for key, why in sorted(r.ours_unexplained.items()):
            print(f"    FAIL ours-only, unexplained: {_edge(key)}\n      -> {why}")
        verdict = "agree" if r.failures == 0 else f"{r.failures} failure(s)"
        print(f"    => {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--airflow", action="append", required=True, metavar="PYTHON",
                        help="python of a virtual environment with apache-airflow (repeat for each version)")
    parser.add_argument("--repo", action="append", type=Path, default=None,
                        help=f"repository to compare (repeatable; default {SKYFLOW.relative_to(REPO_ROOT)})")
    parser.add_argument("--generated", type=int, default=500,
                        help="also a monolith of this many DAG files from fixtures/generate.py --seed 1 (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "build" / "verify-airflow.json")
    parser.add_argument("--mesh-migrate", default=str(Path(sys.executable).parent / "mesh-migrate"))
    args = parser.parse_args(argv)
    # Absolute, but not resolved: a venv's bin/python is a symlink out of the venv.
    args.airflow = [os.path.abspath(python) for python in args.airflow]

    scratch = Path(tempfile.mkdtemp(prefix="verify-airflow-"))
    repos = [(p.resolve(), p.resolve().name) for p in (args.repo or [SKYFLOW])]
    documents = []
    failures = 0
    checks = Counter()  # one check per repository and Airflow version
    try:
        if args.generated:
            generated = scratch / f"generated-{args.generated}"
            command = [sys.executable, str(GENERATOR), "--out", str(generated), "--dags", str(args.generated)]
            subprocess.run(command + ["--seed", str(args.seed)], check=True, stdout=subprocess.DEVNULL)
            repos.append((generated, f"generated {args.generated} DAGs (seed {args.seed})"))
        for repo, name in repos:
            doc, our_seconds = run_ours(repo, args.mesh_migrate)
            results = []
            for python in args.airflow:
                uris = [d["dataset"] for d in doc["dependencies"] if d["kind"] == "dataset" and d["dataset"]]
                inventory, seconds = run_airflow(repo, python, scratch, uris)
                results.append(compare(repo, name, doc, inventory, seconds))
            report(name, doc, our_seconds, results)
            failures += sum(r.failures for r in results)
            checks.update("passed" if r.failures == 0 else "failed" for r in results)
            documents.append({
                "repo": name,
                "mesh_migrate_seconds": round(our_seconds, 1),
                "mesh_migrate_summary": doc["summary"],
                "airflow": [r.to_json() for r in results],
            })
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"schema": "mesh-migrate/verify-airflow@1", "ok": failures == 0,
                                     "repositories": documents}, indent=1), encoding="utf-8")
    print(f"\n{'agreement with Airflow: OK' if failures == 0 else f'agreement with Airflow: {failures} failure(s)'}"
          f" (details in {args.json})")
    print(f"verify-airflow: {checks['passed']} passed, {checks['failed']} failed")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
