#!/usr/bin/env python3
"""Benchmark: `mesh-migrate analyze --format json` cold and warm against the stdlib parser floor.

    python tests/bench.py [--sizes 500,2000,5000] [--repeat N] [--jobs N] [--keep] [--baseline DIR]

For each size, fixtures/generate.py writes a monolith of that many DAG files into a
temporary folder (deleted afterwards), and each of these runs REPEAT times; the table
shows the median of each figure:

  floor          read + ast.parse of every discovered .py file, one process: what any
                 parser-based tool pays at least
  cold           analyze with an empty cache (the caches are written)
  cold no cache  analyze --no-cache (nothing read or written)
  warm           analyze again, nothing changed
  touched        analyze after appending a comment line to one DAG file (its facts are
                 the same: the result cache still answers)
  touched facts  analyze after inserting a line at the top of one DAG file (its facts
                 move: everything after extraction is recomputed)
  cold -j1       analyze in one process without the cache, for the pool's speed-up

Each row gives wall seconds and CPU seconds (user + system, the analyze process and its
workers), each against the floor's: on a shared machine the load moves CPU time least.

With --baseline DIR (another checkout of this project, e.g. a git worktree of main), the
code of DIR is measured too, in the same run on a copy of the same monolith: each repeat
runs both, in alternating order, so a shared machine's load falls on both alike.

analyze runs the mesh-migrate script's own entry (mesh_migrate.cli.run) in a fresh
subprocess (tests/bench_probe.py), so interpreter start,
imports, pool start-up and the exit count; the probe around it also times the
extraction step and reads peak RSS of the process (RUSAGE_SELF) and of its largest
worker (RUSAGE_CHILDREN). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "fixtures" / "generate.py"
PROBE = Path(__file__).with_name("bench_probe.py")  # what runs in each measured interpreter


def _probe(*arguments: str, code: Path | None = None) -> tuple[dict, float]:
    code = code or CODE
    env = {**os.environ, "PYTHONPATH": str(code)} if code else None
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(PROBE), *arguments], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"probe {arguments} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1]), wall


# ---- the benchmark -------------------------------------------------------------------------

CODE: Path | None = None  # the snapshot of the package that the probes import


def snapshot_code(workdir: Path, tree: Path = REPO, name: str = "code") -> Path:
    """A copy of the package, compiled: edits to the work tree during the benchmark neither
    change the code measured nor, through the cache's code fingerprint, empty the cache."""
    code = workdir / name
    shutil.copytree(tree / "mesh_migrate", code / "mesh_migrate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(tree / "rules", code / "mesh_migrate" / "rules")
    compileall.compile_dir(code, quiet=1)  # as an installed package has bytecode
    return code



def generate(out: Path, dags: int) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out), "--dags", str(dags), "--seed", "1"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def touch_one_dag_file(root: Path, *, move_facts: bool = False) -> str:
    """A comment appended (the file's facts stay), or a line inserted at the top (every
    place in the file moves one line down)."""
    target = sorted((root / "dags").glob("*/gen_*.py"))[0]
    text = target.read_text(encoding="utf-8")
    line = "# touched by the benchmark\n"
    target.write_text(line + text if move_facts else text + line, encoding="utf-8")
    return target.relative_to(root).as_posix()


def bench_size(workdir: Path, dags: int, jobs: list[str], repeat: int, codes: dict[str, Path]) -> list[dict]:
    """Every figure for each code (label -> snapshot), on copies of one generated monolith."""
    generated = workdir / f"monolith-{dags}"
    generate(generated, dags)
    roots = {label: generated if len(codes) == 1 else workdir / f"monolith-{dags}-{label}" for label in codes}
    for root in roots.values():
        if root != generated:
            shutil.copytree(generated, root)
    runs: dict[tuple[str, str], list[dict]] = {}

    def analyze(label: str, run: str, *extra: str) -> None:
        report, wall = _probe("cli", "analyze", str(roots[label]), "--format", "json", *jobs, *extra, code=codes[label])
        runs.setdefault((run, label), []).append({"run": run, "code": label, "wall": wall, **report})

    for number in range(repeat):
        floor, _wall = _probe("floor", str(generated))
        runs.setdefault(("parser floor", ""), []).append({"run": "parser floor", "code": "", "wall": floor["seconds"], "cpu": floor["cpu"], "files": floor["files"], "rss_self": floor["rss_self"]})
        labels = list(codes) if number % 2 == 0 else list(reversed(codes))
        for label in labels:
            root = roots[label]
            analyze(label, "cold no cache", "--no-cache")
            shutil.rmtree(root / ".mesh-migrate-cache", ignore_errors=True)
            analyze(label, "cold")
            analyze(label, "warm")
            touch_one_dag_file(root)
            analyze(label, "touched")
            touch_one_dag_file(root, move_facts=True)
            analyze(label, "touched facts")
            analyze(label, "cold -j1 no cache", "--jobs", "1", "--no-cache")
    order = ["parser floor", "cold no cache", "cold", "warm", "touched", "touched facts", "cold -j1 no cache"]
    rows = [median_row(runs[key]) for key in sorted(runs, key=lambda k: (order.index(k[0]), list(codes).index(k[1]) if k[1] else -1))]
    floor_seconds, floor_cpu = rows[0]["wall"], rows[0]["cpu"]
    for row in rows:
        row["size"] = dags
        row["floor"] = floor_seconds
        row["ratio"] = row["wall"] / floor_seconds
        row["cpu_ratio"] = row["cpu"] / floor_cpu
    return rows


def median_row(runs: list[dict]) -> dict:
    """Each number the median of its runs (the machine may be shared and noisy)."""
    row = dict(runs[0], runs=len(runs))
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values = [run[key] for run in runs]
            row[key] = statistics.median_low(values) if isinstance(value, int) else statistics.median(values)
    return row


def print_table(rows: list[dict]) -> None:
    header = (
        f"{'DAG files':>9}  {'run':<17} {'code':<8} {'runs':>4} {'wall s':>7} {'x floor':>7} {'cpu s':>6} {'x floor':>7}  {'imports':>7} {'extract':>7} {'x floor':>7} {'other':>6}"
        f"  {'parsed':>6} {'cached':>6} {'procs':>5}  {'RSS MB':>6} {'worker MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        stats = row.get("stats") or {}
        extract = row.get("extract")
        other = row["main"] - extract if extract is not None else None
        print(
            f"{row['size']:>9}  {row['run']:<17} {row['code']:<8} {row['runs']:>4} {row['wall']:>7.2f} {row['ratio']:>7.2f} {row['cpu']:>6.2f} {row['cpu_ratio']:>7.2f}  "
            f"{_num(row.get('imports')):>7} {_num(extract):>7} {_num(extract and extract / row['floor']):>7} {_num(other):>6}  "
            f"{stats.get('extracted', row.get('files', '')):>6} {stats.get('cached', ''):>6} {stats.get('processes', ''):>5}  "
            f"{row['rss_self']:>6.0f} {_num(row.get('rss_workers'), 0):>9}"
        )


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,5000", help="comma-separated numbers of DAG files")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the table shows medians [default: 1]")
    parser.add_argument("--jobs", type=int, help="worker processes for analyze [default: all cores]")
    parser.add_argument("--keep", action="store_true", help="keep the generated monoliths")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another checkout whose code is measured beside this one, in the same run")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    workdir = Path(tempfile.mkdtemp(prefix="mesh-bench-"))
    global CODE
    CODE = snapshot_code(workdir)
    codes = {"this": CODE}
    if args.baseline:
        codes = {"baseline": snapshot_code(workdir, args.baseline.resolve(), "baseline-code"), "this": CODE}
    print(
        f"mesh-migrate bench: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}.\n"
        f"Each figure is the median of {args.repeat} run(s).\n"
        "analyze = the CLI (mesh_migrate.cli.main ... --format json) in a fresh subprocess; wall includes interpreter start,\n"
        "imports and pool start-up. extract = the extraction step inside it (read, hash, cache, parse and\n"
        "interpret, write the cache); other = the rest of the command (settings, discovery, link, ownership,\n"
        "graph, plans, output). floor = read + ast.parse of the same files in one process. cpu = user and\n"
        "system seconds of the analyze process and its workers, of the floor its parsing: on a shared machine\n"
        "the figure the load moves least (wall approaches it when the cores are free). RSS = peak of the\n"
        "analyze process; worker = peak of its largest worker process. The code measured is a compiled\n"
        "copy of the work tree taken at the start"
        + (f"; baseline = a compiled copy of {args.baseline}, run alternately with it on a copy of the same monolith.\n" if args.baseline else ".\n")
    )
    rows: list[dict] = []
    try:
        for size in sizes:
            rows += bench_size(workdir, size, jobs, args.repeat, codes)
    finally:
        if args.keep:
            print(f"monoliths kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)


if __name__ == "__main__":
    main()
