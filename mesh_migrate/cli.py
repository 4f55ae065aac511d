"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .analysis import analyze
from .extract.runner import ExtractOptions
from .render.console import make_console, print_summary
from .render.document import analysis_document
from .yamlio import ConfigError

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Context:
    def __init__(self, verbose: bool, quiet: bool):
        self.verbose = verbose
        self.quiet = quiet


def fail(message: str) -> None:
    make_console(stderr=True).print(f"error: {message}", markup=False)
    sys.exit(EXIT_ERROR)


def config_failure(error: ConfigError) -> None:
    console = make_console(stderr=True)
    console.print(f"error: {len(error.problems)} configuration problem(s):", markup=False)
    for problem in error.problems:
        console.print(f"  {problem}", markup=False)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mesh-migrate")
@click.option("-v", "--verbose", is_flag=True, help="List every unresolved item and diagnostic.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the one-line summary.")
@click.pass_context
def main(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """Split an Airflow monolith into one Airflow instance per team."""
    ctx.obj = Context(verbose, quiet)


def _repo_path(path: str) -> Path:
    root = Path(path)
    if not root.exists():
        fail(f"{path}: no such directory")
    if not root.is_dir():
        fail(f"{path}: not a directory")
    return root


def extraction_options(func):
    """--jobs, --cache-dir and --no-cache, shared by every command that analyzes a repository."""
    func = click.option("--no-cache", is_flag=True, help="Neither read nor write the fact cache.")(func)
    func = click.option("--cache-dir", type=click.Path(file_okay=False), help="Fact cache folder [default: PATH/.mesh-migrate-cache].")(func)
    func = click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: all cores; 1 runs in-process].")(func)
    return func


def _options(jobs: int | None, cache_dir: str | None, no_cache: bool) -> ExtractOptions:
    return ExtractOptions(jobs=jobs, cache_dir=Path(cache_dir) if cache_dir else None, use_cache=not no_cache)


@main.command(name="analyze")
@click.argument("path", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@extraction_options
@click.pass_obj
def analyze_command(obj: Context, path: str, fmt: str, jobs: int | None, cache_dir: str | None, no_cache: bool) -> None:
    """Find every DAG, cross-DAG dependency and shared resource under PATH, statically."""
    root = _repo_path(path)
    try:
        result = analyze(root, options=_options(jobs, cache_dir, no_cache))
    except ConfigError as error:
        config_failure(error)
        return
    facts = result.facts
    if fmt == "json":
        click.echo(json.dumps(analysis_document(facts), indent=2))
        return
    teams = [t.name for t in result.config.teams]
    print_summary(make_console(), facts, teams, verbose=obj.verbose, quiet=obj.quiet)


if __name__ == "__main__":  # pragma: no cover
    main()
