"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, NoReturn, TextIO

import click

from . import __version__
from .analysis import Analysis, AnalysisRun, start_analysis, with_runtime
from .extract.runner import ExtractOptions
from .fsutil import write_atomic
from .yamlio import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from .runtime import RuntimeFacts

# Modules that take long to import (rich, networkx, graphviz, libcst) are imported by the
# commands that use them: `analyze --format json` answered from the cache needs none.

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
PROGRESS_FROM_FILES = 200
PROGRESS_REDRAW_SECONDS = 0.1


class Context:
    def __init__(self, verbose: bool, quiet: bool):
        self.verbose = verbose
        self.quiet = quiet


def make_console(stream: TextIO | None = None, *, stderr: bool = False) -> Console:
    from .render.console import make_console

    return make_console(stream, stderr=stderr)


def fail(message: str) -> NoReturn:
    make_console(stderr=True).print(f"error: {message}", markup=False)
    sys.exit(EXIT_ERROR)


@contextmanager
def output_errors() -> Iterator[None]:
    """An output that cannot be written ends the run with one line naming it, exit 2."""
    try:
        yield
    except OSError as error:
        fail(f"cannot write {error.filename or 'the output'}: {error.strerror or error}")


def config_failure(error: ConfigError) -> None:
    console = make_console(stderr=True)
    console.print(f"error: {len(error.problems)} configuration problem(s):", markup=False)
    for problem in error.problems:
        console.print(f"  {problem}", markup=False)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mesh-migrate")
@click.option("-v", "--verbose", is_flag=True, help="List every unresolved item, diagnostic and edge.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the one-line summary.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Split an Airflow monolith into one Airflow instance per team."""
    ctx.obj = Context(verbose, quiet)


def extraction_options(func):
    """--jobs, --cache-dir and --no-cache, shared by every command that analyzes a repository."""
    func = click.option("--no-cache", is_flag=True, help="Neither read nor write the fact cache.")(func)
    func = click.option("--cache-dir", type=click.Path(file_okay=False), help="Fact cache folder [default: PATH/.mesh-migrate-cache].")(func)
    func = click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: all cores; 1 runs in-process].")(func)
    return func


def _repo_path(path: str) -> Path:
    root = Path(path)
    if not root.exists():
        fail(f"{path}: no such directory")
    if not root.is_dir():
        fail(f"{path}: not a directory")
    return root


@contextmanager
def _progress(enabled: bool) -> Iterator:
    """A progress bar on long runs, drawn only on a terminal (stderr)."""
    if not enabled:
        yield None
        return
    console = make_console(stderr=True)
    if console.no_color or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # Redrawn here as files are done, not by rich's refresh thread: extraction forks its
    # workers only from a process that runs no other thread (else it spawns them, which
    # costs each worker a fresh interpreter and every import).
    columns = (TextColumn("analyzing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as bar:
        task = bar.add_task("files", total=None)
        drawn = 0.0

        def update(done: int, total: int) -> None:
            nonlocal drawn
            if total >= PROGRESS_FROM_FILES:
                bar.update(task, completed=done, total=total)
                if done == total or time.monotonic() - drawn >= PROGRESS_REDRAW_SECONDS:
                    bar.refresh()
                    drawn = time.monotonic()

        yield update


def start_run(root: Path, jobs: int | None, cache_dir: str | None, no_cache: bool, *, progress: bool = False) -> AnalysisRun:
    """Settings, discovery and extraction; the analysis itself when asked for."""
    options = ExtractOptions(jobs=jobs, cache_dir=Path(cache_dir) if cache_dir else None, use_cache=not no_cache)
    try:
        with _progress(progress) as update:
            run = start_analysis(root, options=options, progress=update)
    except ConfigError as error:
        config_failure(error)
        raise  # unreachable: config_failure exits
    if _kept_until_exit is not None:
        _kept_until_exit.append(run)
    warn(run)
    return run


def run_analysis(root: Path, jobs: int | None, cache_dir: str | None, no_cache: bool, *, progress: bool = False) -> Analysis:
    run = start_run(root, jobs, cache_dir, no_cache, progress=progress)
    result = run.analysis
    warn(run)
    return result


def warn(run: AnalysisRun) -> None:
    """The warnings about the run not shown yet, on stderr."""
    for warning in run.unreported_warnings():
        make_console(stderr=True).print(f"warning: {warning}", markup=False)


def print_document(data: bytes) -> None:
    """A JSON document (ASCII) on standard output, as `click.echo` would print it, without
    searching megabytes of it for terminal colour codes (escaped in JSON, never there)."""
    sys.stdout.flush()  # what was written as text goes first
    sys.stdout.buffer.write(data)  # not data + newline: a copy of megabytes
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()


def json_document(result: Analysis) -> bytes:
    from .jsontext import dumps_indented
    from .render.document import analysis_document

    return dumps_indented(analysis_document(result))


# What the terminal summary depends on besides the analysis, when it is not drawn on a
# terminal: the options, the output's encoding and what rich reads from the environment.
_RENDERING_ENVIRONMENT = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERM", "COLORTERM", "COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES")


def print_summary(run: AnalysisRun, verbose: bool, quiet: bool) -> None:
    """The summary; when piped, the same text as the last time for the same analysis."""
    if sys.stdout.isatty():  # drawn for this terminal, its width and its colours
        from .render.console import print_analysis

        print_analysis(make_console(), run.analysis, verbose=verbose, quiet=quiet)
        return
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"

    def render(result: Analysis) -> bytes:
        from .render.console import print_analysis

        written = io.BytesIO()
        text = io.TextIOWrapper(written, encoding=encoding, errors="replace", newline="")
        print_analysis(make_console(text), result, verbose=verbose, quiet=quiet)
        text.flush()
        return written.getvalue()

    variant = json.dumps([verbose, quiet, encoding, [os.environ.get(name) for name in _RENDERING_ENVIRONMENT]])
    summary = run.output("text-" + hashlib.sha256(variant.encode()).hexdigest()[:16], render)
    click.echo(summary.decode(encoding, errors="replace"), nl=False)


def read_airflow_db(url: str, since: str) -> RuntimeFacts:
    """The metadata database read before the analysis, so a bad URL fails at once (one line, exit 2)."""
    from .runtime import parse_since
    from .runtime.connect import RuntimeDbError
    from .runtime.reader import read_runtime

    try:
        return read_runtime(url, parse_since(since))
    except (RuntimeDbError, ValueError) as error:
        fail(str(error))


@main.command(name="analyze")
@click.argument("path", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), help="Write plans/<team>.md|yaml, access/<team>.json, iam/<team>.yaml|tf, summary.md, graph.json|dot|svg and the review site (site/index.html) here.")
@click.option("--airflow-db", metavar="URL", help="The monolith's Airflow metadata database (SQLAlchemy URL), read-only: reconcile with what runs.")
@click.option("--since", default="30d", show_default=True, help="With --airflow-db: the run history window (12h, 30d, 2w).")
@extraction_options
@click.pass_obj
def analyze_command(
    obj: Context, path: str, fmt: str, out: str | None, airflow_db: str | None, since: str, jobs: int | None, cache_dir: str | None, no_cache: bool,
) -> None:
    """Find every DAG, cross-DAG dependency, team and split plan under PATH, statically."""
    root = _repo_path(path)
    runtime = read_airflow_db(airflow_db, since) if airflow_db else None
    run = start_run(root, jobs, cache_dir, no_cache, progress=fmt == "text" and not obj.quiet)
    if runtime is not None:  # reconciled with the database: never an answer cached from the facts alone
        result = with_runtime(run.analysis, runtime)
        if fmt == "json":
            print_document(json_document(result))
        else:
            from .render.console import print_analysis

            print_analysis(make_console(), result, verbose=obj.verbose, quiet=obj.quiet)
    elif fmt == "json":
        print_document(run.output("json", json_document))
    else:
        print_summary(run, obj.verbose, obj.quiet)
    warn(run)
    if out:
        from .render.report import write_report

        result = with_runtime(run.analysis, runtime) if runtime is not None else run.analysis
        warn(run)
        with output_errors():
            report = write_report(result, Path(out))
        console = make_console(stderr=fmt == "json")
        if not obj.quiet:
            console.print(f"wrote {len(report.written)} files to {out} ({len(result.plans)} team plans)", markup=False)
            console.print(f"review site: {report.site}", markup=False)
        if report.hint:
            console.print(f"hint: {report.hint}", markup=False)


@main.command(name="graph")
@click.argument("path", type=click.Path())
@click.option("--team", help="Draw this team's DAGs and their neighbours; without it, the team graph.")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "png", "json", "graphml"]), default="dot", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file instead of standard output.")
@extraction_options
@click.pass_obj
def graph_command(obj: Context, path: str, team: str | None, fmt: str, output: str | None, jobs: int | None, cache_dir: str | None, no_cache: bool) -> None:
    """Draw one team's neighbourhood, or the team graph."""
    root = _repo_path(path)
    if fmt == "png" and not output:
        fail("PNG is binary: give --output FILE")
    from .render.graphs import RenderUnavailable, dag_dot, graphml, neighbourhood, node_link_json, render, team_dot

    result = run_analysis(root, jobs, cache_dir, no_cache)
    graph = result.graph
    if team is not None and team not in result.ownership.teams:
        fail(f"unknown team {team!r}; teams: {', '.join(result.ownership.teams)}")
    if team is None:
        nodes = graph.teams if fmt in ("json", "graphml") else None
        drawing = team_dot(graph, result.rules)
    else:
        nodes = neighbourhood(graph, team)
        drawing = dag_dot(nodes, f"{team}: its DAGs and the DAGs they depend on or that depend on them", result.rules)
    if fmt == "dot":
        data: bytes = drawing.source.encode()
    elif fmt == "json":
        data = node_link_json(nodes).encode()
    elif fmt == "graphml":
        data = graphml(nodes)
    else:
        try:
            data = render(drawing, fmt)
        except RenderUnavailable as missing:
            fail(f"cannot render {fmt}: {missing}; use --format dot")
            return
    if output:
        with output_errors():
            write_atomic(Path(output), data)
    else:
        click.echo(data.decode(), nl=False)


@main.command(name="explain")
@click.argument("dag_id")
@click.argument("path", type=click.Path())
@extraction_options
@click.pass_obj
def explain_command(obj: Context, dag_id: str, path: str, jobs: int | None, cache_dir: str | None, no_cache: bool) -> None:
    """Show a DAG's team (and why), what it waits on and who waits on it, with places."""
    root = _repo_path(path)
    from .render.explain import explain_lines

    result = run_analysis(root, jobs, cache_dir, no_cache)
    lines = explain_lines(result, dag_id)
    if lines is None:
        fail(f"no DAG {dag_id!r} under {path}")
    console = make_console()
    for line in lines:
        console.print(line, markup=False)


@main.command(name="codemod")
@click.argument("path", type=click.Path())
@click.option("--team", "teams", multiple=True, help="The team whose code is rewritten (repeatable).")
@click.option("--all-teams", is_flag=True, help="Every team (with --branch: one branch per team).")
@click.option("--diff", "action", flag_value="diff", default=True, help="Print the unified diff; write nothing [default].")
@click.option("--check", "action", flag_value="check", help="Exit 1 if anything would change; write nothing.")
@click.option("--apply", "action", flag_value="apply", help="Write the rewritten files in place.")
@click.option("--branch", "action", flag_value="branch", help="Commit each team's rewrites on a new branch mesh/<team> made from HEAD.")
@click.option("--allow-dirty", is_flag=True, help="With --apply or --branch, do not refuse a work tree with uncommitted changes.")
@click.option("--remove-markers", is_flag=True, help="Replace cross-team ExternalTaskMarkers by EmptyOperator instead of commenting them.")
@extraction_options
@click.pass_obj
def codemod_command(obj: Context, path: str, teams: tuple[str, ...], all_teams: bool, action: str, allow_dirty: bool, remove_markers: bool, jobs: int | None, cache_dir: str | None, no_cache: bool) -> None:
    """Point a team's cross-team sensors and triggers at mesh_http's drop-in classes, which reach
    the other team's Airflow over its REST API; producers of cross-team datasets post the events.

    \b
    Each file is rewritten, refused with a reason (left as manual work), or failed with a
    message; the run goes on. Exit status:
      0  done (with --check: nothing would change)
      1  --check only: something would change
      2  an error stopped the run: bad configuration, unknown team, dirty work tree,
         git error (nothing written), a refused write (the message says what was)
      3  the run finished, but some files failed (see the messages; the others were processed)
    """
    from .codemod.cli import run_codemod_command

    root = _repo_path(path)
    if bool(teams) == all_teams:
        fail("give --team T (repeatable) or --all-teams")
    out, err = make_console(), make_console(stderr=True)
    sys.exit(run_codemod_command(root, teams, all_teams, action, allow_dirty, remove_markers, lambda r: run_analysis(r, jobs, cache_dir, no_cache), obj.quiet, out, err))


@main.command(name="check")
@click.argument("path", type=click.Path())
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), help="Fail only on findings this baseline does not accept; report its stale entries.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), help="Record every current finding as accepted in this file, then exit 0.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to this file instead of standard output.")
@click.option("--airflow-db", metavar="URL", help="The monolith's Airflow metadata database (SQLAlchemy URL), read-only: also report where the code and what runs disagree.")
@click.option("--since", default="30d", show_default=True, help="With --airflow-db: the run history window (12h, 30d, 2w).")
@extraction_options
@click.pass_obj
def check_command(
    obj: Context, path: str, files: tuple[str, ...], fmt: str, baseline_file: str | None, write_baseline: str | None,
    output: str | None, airflow_db: str | None, since: str, jobs: int | None, cache_dir: str | None, no_cache: bool,
) -> None:
    """Fail on cross-team dependencies not yet migrated, unowned DAGs and team cycles.

    FILES (as pre-commit passes them) limit the report to findings in those files; the
    analysis still reads the whole repository under PATH. With --airflow-db, static
    dependencies Airflow did not record (MM501) and edges it recorded that the code does
    not show (MM502) are findings too. Exit 0 clean, 1 findings, 2 errors.
    """
    from .check import EVERYTHING, BaselineError, baseline_text, read_baseline, render, run_check, scope_of

    root = _repo_path(path)
    if write_baseline and files:
        fail("--write-baseline records the whole repository: give no FILES")
    baseline = None
    if baseline_file:
        try:
            baseline = read_baseline(Path(baseline_file))
        except BaselineError as error:
            fail(str(error))
    runtime = read_airflow_db(airflow_db, since) if airflow_db else None
    try:
        result = run_analysis(root, jobs, cache_dir, no_cache, progress=fmt == "text" and not obj.quiet and not output)
        if runtime is not None:
            result = with_runtime(result, runtime)
        scope = scope_of(root, files) if files else EVERYTHING
        checked = run_check(result, scope=scope, baseline=None if write_baseline else baseline, repo=path)
        if write_baseline:
            with output_errors():
                write_atomic(Path(write_baseline), baseline_text(checked.findings))
            accepted = sum(not f.suppressed for f in checked.findings)
            make_console(stderr=True).print(f"wrote {accepted} accepted findings to {write_baseline}", markup=False)
            return
        report = render(checked, fmt, path, verbose=obj.verbose, quiet=obj.quiet)
        if output:
            with output_errors():
                write_atomic(Path(output), report)
        else:
            click.echo(report, nl=False)
    except Exception as error:  # a crash must not pass for findings (exit 1) in a CI gate
        import traceback

        traceback.print_exc()
        fail(f"internal error: {error!r}")
        raise  # unreachable: fail exits
    sys.exit(EXIT_OK if checked.clean else EXIT_FINDINGS)


# The script (`run`) ends the process without freeing its objects, so the analysis of a
# command is left to that exit: freed one object at a time when the command returns, it
# would cost 0.02 s at 2,000 files and 0.06 s at 5,000. Only the script keeps it; a caller
# of `main` that goes on running (the tests, another program) sees it freed as usual.
_kept_until_exit: list[AnalysisRun] | None = None


def run() -> NoReturn:
    """The mesh-migrate script: `main`, then `exit_now`."""
    global _kept_until_exit
    _kept_until_exit = []
    try:
        main()
    except SystemExit as stop:
        exit_now(stop.code)
    exit_now(0)  # unreachable: click exits in standalone mode


def exit_now(code: int | str | None) -> NoReturn:
    """Flush the output and end the process without freeing its objects one by one, which
    takes 0.03 s after analyzing 2,000 files and changes nothing outside the process. Every
    file this tool writes is complete before it returns; what its standard streams hold is
    flushed here. CODE as `sys.exit` takes it."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the exit status Python gives
            status = status or 120
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
