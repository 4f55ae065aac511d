"""The corpus harness: mesh-migrate on real public Airflow repositories, against what a
reader of each one finds (tests/corpus/<owner>_<name>.yaml).

usage: python tests/corpus_run.py CORPUS [NAME ...] [--json FILE]
  CORPUS  a folder of plain trees named <owner>_<name>, each at the commit its expectation names

One row per repository:
  DAGs     ids found that a reader expects / ids a reader expects (and ids found that a reader does not)
  sites    sensor, trigger and marker calls accounted for (a dependency, or an unresolved item
           with its reason, at that place) / calls a reader lists
  silent   DAG files that mention a DAG yet yield neither a DAG nor an unresolved item
  analyze  cold `mesh-migrate analyze --format json --no-cache`, wall seconds
  floor    read + ast.parse, in one process, of the files that analysis reads (the DAG files and
           the repository modules they import)
Then the unresolved items of each repository by reason, most frequent first.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

EXPECTATIONS = Path(__file__).parent / "corpus"
_MENTIONS_DAG = re.compile(rb"\bDAG\s*\(|@dag\b")


def analyze(tree: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mesh_migrate.cli", "analyze", str(tree), "--format", "json", "--no-cache"],
        capture_output=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{tree.name}: analyze exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout), seconds


def parser_floor(tree: Path, paths: list[str]) -> float:
    started = time.perf_counter()
    for path in paths:
        try:
            ast.parse((tree / path).read_bytes())
        except (SyntaxError, ValueError, OSError):
            pass
    return time.perf_counter() - started


def site_places(document: dict) -> set[tuple[str, int]]:
    places = set()
    for dep in document["dependencies"]:
        places.add((dep["file"], dep["line"]))
        if dep.get("via"):
            places.add((dep["via"]["file"], dep["via"]["line"]))
    for item in document["unresolved"]:
        places.add((item["file"], item["line"]))
    return places


def reason_kind(reason: str) -> str:
    """Reasons with their names and values taken out, so like causes count together."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`|: .*", "…", reason)[:90]


def measure(tree: Path, expected: dict) -> dict:
    document, seconds = analyze(tree)
    dag_files = sorted({d["file"] for d in document["dags"]} | set(_dag_files(tree, document)))
    floor = parser_floor(tree, _read_files(tree, document))
    found = {d["dag_id"] for d in document["dags"]}
    wanted = set(expected.get("dag_ids") or [])
    places = site_places(document)
    sites = expected.get("sites") or []
    missed_sites = [s for s in sites if (s["path"], s["line"]) not in places]
    yielding = {d["file"] for d in document["dags"]} | {u["file"] for u in document["unresolved"]} | {
        d["file"] for d in document["diagnostics"] if d["severity"] == "error"
    }
    silent = [path for path in dag_files if path not in yielding]
    past_end = _places_past_the_end(tree, document)
    return {
        "repo": expected.get("repo", tree.name),
        "dag_files": document["summary"]["files"],
        "modules": document["summary"].get("modules", 0),
        "dags_expected": len(wanted),
        "dags_found": len(found & wanted),
        "dags_extra": sorted(found - wanted),
        "dags_missed": sorted(wanted - found),
        "sites_expected": len(sites),
        "sites_accounted": len(sites) - len(missed_sites),
        "sites_missed": missed_sites,
        "silent_files": silent,
        "past_end": past_end,
        "unresolved": len(document["unresolved"]),
        "unresolved_by_reason": Counter(reason_kind(u["reason"]) for u in document["unresolved"]).most_common(),
        "seconds": seconds,
        "floor": floor,
        "layout": document.get("layout", {}),
    }


def _places_past_the_end(tree: Path, document: dict) -> list[str]:
    """Places reported beyond the last line of their file: there must be none."""
    lengths: dict[str, int] = {}
    bad = []
    items = [*document["dags"], *document["dependencies"], *document["resources"], *document["unresolved"], *document["diagnostics"]]
    for item in items:
        path, line = item.get("file"), item.get("line")
        if not path or not line:
            continue
        if path not in lengths:
            try:
                lengths[path] = (tree / path).read_bytes().count(b"\n") + 1
            except OSError:
                lengths[path] = 0
        if line > lengths[path]:
            bad.append(f"{path}:{line}")
    return bad


def _read_files(tree: Path, document: dict) -> list[str]:
    layout = document["layout"]
    return sorted(set(layout["dag_files"]) | set(layout["modules"]))


def _dag_files(tree: Path, document: dict) -> list[str]:
    """The analyzed files that mention a DAG."""
    out = []
    for path in document["layout"]["dag_files"]:
        try:
            data = (tree / path).read_bytes()
        except OSError:
            continue
        if _MENTIONS_DAG.search(data) and b"import" in data:
            out.append(path)
    return out


def print_table(rows: list[dict]) -> None:
    header = f"{'repository':<46} {'files':>5} {'DAGs found/expected':>20} {'extra':>5} {'sites':>7} {'silent':>6} {'unres.':>6} {'analyze s':>9} {'floor s':>7} {'x floor':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        share = f"{r['dags_found']}/{r['dags_expected']} ({100 * r['dags_found'] / r['dags_expected']:.0f}%)" if r["dags_expected"] else "0/0"
        sites = f"{r['sites_accounted']}/{r['sites_expected']}"
        ratio = r["seconds"] / r["floor"] if r["floor"] else float("nan")
        print(
            f"{r['repo']:<46} {r['dag_files']:>5} {share:>20} {len(r['dags_extra']):>5} {sites:>7} {len(r['silent_files']):>6} "
            f"{r['unresolved']:>6} {r['seconds']:>9.2f} {r['floor']:>7.2f} {ratio:>7.1f}"
        )
    for r in rows:
        print(f"\n{r['repo']}: DAGs folders {', '.join(f['path'] for f in r['layout'].get('dags_folders', []))}; "
              f"import roots {', '.join(f['path'] for f in r['layout'].get('import_roots', []))}")
        for reason, count in r["unresolved_by_reason"][:6]:
            print(f"  {count:>5}  {reason}")
        if r["dags_missed"]:
            print(f"  missed DAGs ({len(r['dags_missed'])}): {', '.join(r['dags_missed'][:12])}{' …' if len(r['dags_missed']) > 12 else ''}")
        if r["dags_extra"]:
            print(f"  extra DAGs ({len(r['dags_extra'])}): {', '.join(r['dags_extra'][:12])}{' …' if len(r['dags_extra']) > 12 else ''}")
        for site in r["sites_missed"][:8]:
            print(f"  site not accounted for: {site['path']}:{site['line']} {site.get('kind', '')} {site.get('target') or site.get('targets') or ''}")
        for path in r["silent_files"][:8]:
            print(f"  silent DAG file: {path}")
        for place in r["past_end"][:8]:
            print(f"  place past the end of its file: {place}")


def print_markdown(rows: list[dict]) -> None:
    print("| repository | DAG files | DAG ids found / expected | extra | sites accounted | silent files | unresolved | analyze s | floor s | x floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        share = f"{r['dags_found']}/{r['dags_expected']} ({100 * r['dags_found'] / r['dags_expected']:.0f}%)" if r["dags_expected"] else "0/0"
        print(f"| {r['repo']} | {r['dag_files']} | {share} | {len(r['dags_extra'])} | {r['sites_accounted']}/{r['sites_expected']} | "
              f"{len(r['silent_files'])} | {r['unresolved']} | {r['seconds']:.2f} | {r['floor']:.2f} | {r['seconds'] / r['floor']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("names", nargs="*", help="only these <owner>_<name> trees")
    parser.add_argument("--json", type=Path, help="also write every measure to this file")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    args = parser.parse_args()
    rows = []
    for spec in sorted(EXPECTATIONS.glob("*.yaml")):
        tree = args.corpus / spec.stem
        if args.names and spec.stem not in args.names:
            continue
        if not tree.is_dir():
            print(f"missing: {tree} (check out {spec.stem.replace('_', '/', 1)} there)", file=sys.stderr)
            continue
        rows.append(measure(tree, yaml.safe_load(spec.read_text())))
    if not rows:
        raise SystemExit(f"no corpus trees found in {args.corpus}")
    print_markdown(rows) if args.markdown else print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=list))


if __name__ == "__main__":
    main()
