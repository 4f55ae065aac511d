#!/usr/bin/env python3
"""mesh-migrate against Airflow itself: time to the DAG dependency graph, and whether it agrees.

    python tests/bench_airflow.py --airflow-python .venv-airflow/bin/python [--dags 2000]

Generates a monolith with fixtures/generate.py into a temporary folder, then:

- mesh-migrate: `mesh-migrate analyze DIR --format json` in a subprocess, with an empty
  fact cache (cold) and again (warm);
- Airflow: tests/airflow/dagbag_edges.py under the Airflow venv, which fills a DagBag from
  DIR/dags and serializes every DAG for its `dag_dependencies`, as the UI does.

Edges are compared as (type, source, target): sensor and trigger edges directly; for
datasets Airflow records producer → dataset and dataset → consumer, so those are joined
on the URI into producer → consumer pairs, which is what mesh-migrate reports.
Not collected by pytest.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "fixtures" / "generate.py"
DAGBAG_EDGES = REPO / "tests" / "airflow" / "dagbag_edges.py"
KINDS = ("sensor", "trigger", "dataset")

# Why Airflow 2 misses an edge mesh-migrate finds, by the operator that creates it.
KNOWN_MISSES = {
    "airflow.providers.standard.sensors.external_task.ExternalTaskSensor": "providers-standard class: Airflow 2's detector checks the core class only (apache/airflow#52720)",
    "airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator": "providers-standard class: Airflow 2's detector checks the core class only (apache/airflow#52720)",
}

Edge = tuple[str, str, str, str]  # (type, source, target, dataset URI or "")


def ours(root: Path) -> tuple[float, float, float, dict[Edge, str]]:
    """Cold and warm wall seconds, the extraction step of a cold run (timed by the probe of
    tests/bench.py), and every edge with the operator that creates it."""
    command = [str(Path(sys.executable).parent / "mesh-migrate"), "analyze", str(root), "--format", "json"]
    shutil.rmtree(root / ".mesh-migrate-cache", ignore_errors=True)
    cold, output = _timed(command)
    warm, _ = _timed(command)
    shutil.rmtree(root / ".mesh-migrate-cache", ignore_errors=True)
    _, probe = _timed([sys.executable, str(REPO / "tests" / "bench.py"), "--probe-cli", "--", "-q", "analyze", str(root)])
    extract = json.loads(probe.strip().splitlines()[-1])["extract"]
    edges: dict[Edge, str] = {}
    for dep in json.loads(output)["dependencies"]:
        if dep["kind"] in KINDS:
            edges[(dep["kind"], dep["source"], dep["target"], dep["dataset"] or "")] = dep["operator"]
    return cold, warm, extract, edges


def airflows(root: Path, python: str, home: Path) -> tuple[float, dict, set[Edge]]:
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    wall, output = _timed([python, str(DAGBAG_EDGES), str(root)], env=env)
    report = json.loads(output.strip().splitlines()[-1])  # Airflow logs to stdout first
    producers: dict[str, set[str]] = defaultdict(set)
    consumers: dict[str, set[str]] = defaultdict(set)
    edges: set[Edge] = set()
    for edge in report["edges"]:
        if edge["type"] == "dataset" and edge["target"] == "dataset":
            producers[edge["id"]].add(edge["source"])
        elif edge["type"] == "dataset":
            consumers[edge["id"]].add(edge["target"])
        elif edge["type"] in KINDS:
            edges.add((edge["type"], edge["source"], edge["target"], ""))
    for uri, made_by in producers.items():
        edges.update(("dataset", p, c, uri) for p in made_by for c in consumers.get(uri, ()))
    return wall, report, edges


def _timed(command: list[str], env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if completed.returncode != 0 or not completed.stdout.strip():
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    return wall, completed.stdout


def compare(mine: dict[Edge, str], theirs: set[Edge]) -> None:
    print(f"\n{'edges':<10} {'both':>6} {'only mesh-migrate':>18} {'only Airflow':>13}")
    for kind in KINDS:
        a = {e for e in mine if e[0] == kind}
        b = {e for e in theirs if e[0] == kind}
        print(f"{kind:<10} {len(a & b):>6} {len(a - b):>18} {len(b - a):>13}")
    both = set(mine) & theirs
    print(f"{'all':<10} {len(both):>6} {len(set(mine) - theirs):>18} {len(theirs - set(mine)):>13}")
    missed = Counter(mine[e] for e in set(mine) - theirs)
    if missed:
        print("\nonly mesh-migrate, by operator:")
        for operator, count in missed.most_common():
            print(f"  {count:>5}  {operator}: {KNOWN_MISSES.get(operator, 'unexplained')}")
    for edge in sorted(theirs - set(mine))[:10]:
        print(f"  only Airflow: {edge}")
    explained = sum(n for op, n in missed.items() if op in KNOWN_MISSES)
    agree = len(both) + explained
    print(f"\nagreement: {len(both)} of {len(set(mine) | theirs)} edges identical; "
          f"with the documented Airflow 2 misses counted, {agree} of {len(set(mine) | theirs)} explained")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--airflow-python", required=True, help="python of the venv with apache-airflow")
    parser.add_argument("--dags", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the generated monolith")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="mesh-bench-airflow-"))
    root = workdir / "monolith"
    try:
        subprocess.run(
            [sys.executable, str(GENERATOR), "--out", str(root), "--dags", str(args.dags), "--seed", "1"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        cold, warm, extract, mine = ours(root)
        wall, report, theirs = airflows(root, args.airflow_python, workdir / "airflow-home")
    finally:
        if args.keep:
            print(f"monolith kept in {root}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"monolith: {args.dags} DAG files (fixtures/generate.py --seed 1); both tools run as subprocesses\n")
    print(f"{'':<34} {'seconds':>8} {'x ours cold':>11} {'x extraction':>12}")
    rows = [
        ("mesh-migrate analyze, cold", cold),
        ("  its extraction step", extract),
        ("mesh-migrate analyze, warm", warm),
        (f"Airflow {report['airflow']} total (process wall)", wall),
        ("  import airflow", report["import_seconds"]),
        ("  DagBag fill", report["dagbag_seconds"]),
        ("  serialize for dag_dependencies", report["serialize_seconds"]),
    ]
    for label, seconds in rows:
        print(f"{label:<34} {seconds:>8.2f} {seconds / cold:>11.1f} {seconds / extract:>12.1f}")
    print(f"\nAirflow: {report['dags']} DAGs from {report['files']} files, {len(report['import_errors'])} import errors, peak RSS {report['rss_mb']:.0f} MB")
    for path, message in sorted(report["import_errors"].items())[:10]:
        print(f"  {path}: {message}")
    compare(mine, theirs)


if __name__ == "__main__":
    main()
