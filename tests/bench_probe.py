"""One measurement of tests/bench.py, run in a fresh interpreter; prints one JSON line.

    python tests/bench_probe.py floor ROOT
    python tests/bench_probe.py cli analyze ROOT --format json [...]

It imports nothing before the code it measures that the mesh-migrate script would not:
what an import costs here counts as the script's. `cli` runs the script's own entry
(`mesh_migrate.cli.run`, where the code measured has it) and prints its report as the
script exits.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402  (the command line imports it too)
import os  # noqa: E402
import sys  # noqa: E402


def probe_floor(root: str) -> dict:
    import ast
    import resource
    from pathlib import Path

    from mesh_migrate.discover import discover

    base = Path(root)
    files = discover(base).files
    start, cpu = time.perf_counter(), time.process_time()
    for path in files:
        ast.parse((base / path).read_bytes(), filename=path)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu": time.process_time() - cpu, "files": len(files), "rss_self": _rss(resource.RUSAGE_SELF)}


def probe_cli(arguments: list[str]) -> dict:
    """The report of older code, which returns from `main`; the script's is printed as it exits."""
    import resource

    from mesh_migrate import analysis, cli
    from mesh_migrate.extract import runner

    imported = time.perf_counter()
    timing: dict = {}

    name = "extract_lazily" if hasattr(analysis, "extract_lazily") else "extract"  # older code measured too
    extract = getattr(runner, name)

    def timed_extract(*args, **kwargs):
        begin = time.perf_counter()
        result = extract(*args, **kwargs)
        timing["extract"] = time.perf_counter() - begin
        timing["stats"] = result.stats.__dict__
        timing["warnings"] = list(result.warnings)
        return result

    setattr(analysis, name, timed_extract)

    def report() -> dict:
        return {
            "imports": imported - STARTED,
            "main": time.perf_counter() - imported,
            **timing,
            "cpu": _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN),
            "rss_self": _rss(resource.RUSAGE_SELF),
            "rss_workers": _rss(resource.RUSAGE_CHILDREN),
        }

    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")
    if not hasattr(cli, "run"):  # older code: main, then the usual exit
        try:
            cli.main(arguments, standalone_mode=False)
        finally:
            sys.stdout = stdout
        return report()

    # The script itself, whose exit prints the report first.
    exit_now = cli.exit_now

    def reporting_exit(code):
        print(json.dumps(report()), file=stdout, flush=True)
        exit_now(code)

    cli.exit_now = reporting_exit
    sys.argv = ["mesh-migrate", *arguments]
    cli.run()


def _cpu(who: int) -> float:
    """User and system seconds since the process started (of its ended workers for CHILDREN)."""
    import resource

    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _rss(who: int) -> float:
    import resource

    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    kind, *arguments = sys.argv[1:]
    if kind == "floor":
        print(json.dumps(probe_floor(arguments[0])))
        return
    print(json.dumps(probe_cli(arguments)))


if __name__ == "__main__":
    main()
