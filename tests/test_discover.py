from __future__ import annotations

import dataclasses
import errno
import os
import time
from pathlib import Path

import pytest

from mesh_migrate import discover as discover_module
from mesh_migrate.discover import Discovery, Skipped, discover


def make_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def reasons(discovery: Discovery) -> dict[str, str]:
    return {item.path: item.reason for item in discovery.skipped}


def test_lists_every_python_file_whatever_its_content(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "dags/etl.py": "from airflow import DAG\n",
            "dags/helpers.py": "def add(a, b):\n    return a + b\n",
            "plugins/empty.py": "",
            "setup.py": "",
            "dags/README.md": "",
            "dags/config.yaml": "",
            "dags/.py": "",
        },
    )
    discovery = discover(tmp_path)
    assert discovery.files == ("dags/etl.py", "dags/helpers.py", "plugins/empty.py", "setup.py")
    assert discovery.skipped == ()


def test_root_is_absolute_and_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "repo", {"a.py": ""})
    (tmp_path / "link").symlink_to(tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    assert discover(Path("link")).root == (tmp_path / "repo").resolve()


def test_tool_directories_are_skipped_silently(tmp_path: Path) -> None:
    tool_dirs = [
        ".git",
        "__pycache__",
        ".venv",
        "venv",
        "node_modules",
        ".mesh-migrate-cache",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        "dags/__pycache__",
    ]
    make_tree(tmp_path, {f"{name}/x.py": "" for name in tool_dirs} | {"dags/a.py": ""})
    discovery = discover(tmp_path)
    assert discovery.files == ("dags/a.py",)
    assert discovery.skipped == ()


def test_nested_gitignore_with_negation_and_anchors(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": lines(
                "# scratch work", "scratch_*.py", "build/", "generated/**", "!generated/keep.py"
            ),
            "dags/.gitignore": lines("!scratch_keep.py", "/local.py", "out.py/"),
            "scratch_root.py": "",
            "dags/scratch_tmp.py": "",
            "dags/scratch_keep.py": "",
            "dags/local.py": "",
            "dags/team/local.py": "",
            "dags/out.py": "",
            "dags/build/x.py": "",
            "dags/build/y.py": "",
            "generated/keep.py": "",
            "generated/drop.py": "",
        },
    )
    discovery = discover(tmp_path)
    assert discovery.files == (
        "dags/out.py",  # a directory-only pattern never matches a file
        "dags/scratch_keep.py",  # the nested file's negation wins over the parent's rule
        "dags/team/local.py",  # "/local.py" is anchored to dags/
        "generated/keep.py",  # "generated/**" leaves the directory itself walkable, as in git
    )
    assert reasons(discovery) == {
        "dags/build": ".gitignore (.gitignore:3: build/)",
        "dags/local.py": ".gitignore (dags/.gitignore:2: /local.py)",
        "dags/scratch_tmp.py": ".gitignore (.gitignore:2: scratch_*.py)",
        "generated/drop.py": ".gitignore (.gitignore:4: generated/**)",
        "scratch_root.py": ".gitignore (.gitignore:2: scratch_*.py)",
    }


def test_directory_whose_contents_are_all_gitignored_is_reported_once(tmp_path: Path) -> None:
    make_tree(
        tmp_path, {".gitignore": "generated/**\n", "generated/a.py": "", "generated/b/c.py": ""}
    )
    discovery = discover(tmp_path)
    assert discovery.files == ()
    assert discovery.skipped == (Skipped("generated", ".gitignore (.gitignore:1: generated/**)"),)


def test_gitignored_directory_cannot_be_reincluded(tmp_path: Path) -> None:
    make_tree(tmp_path, {".gitignore": "build/\n!build/keep.py\n", "build/keep.py": ""})
    discovery = discover(tmp_path)
    assert discovery.files == ()
    assert discovery.skipped == (Skipped("build", ".gitignore (.gitignore:1: build/)"),)


def test_regexp_airflowignore_with_comments_blanks_and_nested_file(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "dags/.airflowignore": lines(
                "# Airflow 2 syntax", "", "sandbox/", "legacy_.*\\.py  # retired", "scratch"
            ),
            "dags/etl.py": "",
            "dags/legacy_sales.py": "",
            "dags/sandbox/try.py": "",
            "dags/sandbox/deep/more.py": "",
            "dags/scratch/a.py": "",
            "dags/my_scratch_dag.py": "",  # unanchored regexps match anywhere in the path
            "dags/team_a/.airflowignore": "wip_\n",
            "dags/team_a/wip_report.py": "",
            "dags/team_a/report.py": "",
            "dags/team_b/wip_other.py": "",  # team_a's rules stop at team_a
            "plugins/legacy_hook.py": "",  # dags/.airflowignore does not reach plugins/
        },
    )
    discovery = discover(tmp_path)
    assert discovery.files == (
        "dags/etl.py",
        "dags/team_a/report.py",
        "dags/team_b/wip_other.py",
        "plugins/legacy_hook.py",
    )
    assert reasons(discovery) == {
        "dags/legacy_sales.py": ".airflowignore (dags/.airflowignore:4: legacy_.*\\.py)",
        "dags/my_scratch_dag.py": ".airflowignore (dags/.airflowignore:5: scratch)",
        # "sandbox/" does not match the directory "sandbox" in Airflow, only everything
        # below it; the directory is still reported once.
        "dags/sandbox": ".airflowignore (dags/.airflowignore:3: sandbox/)",
        "dags/scratch": ".airflowignore (dags/.airflowignore:5: scratch)",
        "dags/team_a/wip_report.py": ".airflowignore (dags/team_a/.airflowignore:1: wip_)",
    }


def test_regexp_slash_rule_keeps_files_it_does_not_match(tmp_path: Path) -> None:
    # "sandbox/$" matches "sandbox/" but no path below it, so Airflow parses them all.
    make_tree(tmp_path, {".airflowignore": "sandbox/$\n", "sandbox/a.py": ""})
    assert discover(tmp_path).files == ("sandbox/a.py",)


def test_regexp_rules_of_nested_files_match_from_the_dag_folder(tmp_path: Path) -> None:
    # Airflow matches every regexp against the path relative to the DAG folder, so an
    # anchored rule in a nested file names the subfolder too.
    make_tree(
        tmp_path,
        {
            "dags/.airflowignore": "# the DAG folder\n",
            "dags/team_a/.airflowignore": "^team_a/old_\n^old_\n",
            "dags/team_a/old_x.py": "",
            "dags/team_a/team_a/old_y.py": "",
        },
    )
    discovery = discover(tmp_path)
    assert discovery.files == ("dags/team_a/team_a/old_y.py",)
    assert reasons(discovery) == {
        "dags/team_a/old_x.py": ".airflowignore (dags/team_a/.airflowignore:1: ^team_a/old_)"
    }


def test_invalid_regexp_is_dropped_like_airflow_does(tmp_path: Path) -> None:
    make_tree(tmp_path, {".airflowignore": "([unclosed\nold_\n", "old_a.py": "", "new.py": ""})
    discovery = discover(tmp_path)
    assert discovery.files == ("new.py",)
    assert reasons(discovery) == {"old_a.py": ".airflowignore (.airflowignore:2: old_)"}


def test_glob_airflowignore_with_negation_comments_and_nested_file(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "dags/.airflowignore": lines(
                "# Airflow 3 syntax", "", "sandbox/", "*_test.py  # tests", "!keep_test.py"
            ),
            "dags/etl.py": "",
            "dags/etl_test.py": "",
            "dags/keep_test.py": "",
            "dags/sandbox/try.py": "",
            "dags/team_a/.airflowignore": "/local_*.py\nold/**\n",
            "dags/team_a/local_x.py": "",
            "dags/team_a/sub/local_y.py": "",
            "dags/team_a/old/z.py": "",
            "dags/team_a/load_test.py": "",
        },
    )
    discovery = discover(tmp_path, airflowignore_syntax="glob")
    assert discovery.files == ("dags/etl.py", "dags/keep_test.py", "dags/team_a/sub/local_y.py")
    assert reasons(discovery) == {
        "dags/etl_test.py": ".airflowignore (dags/.airflowignore:4: *_test.py)",
        "dags/sandbox": ".airflowignore (dags/.airflowignore:3: sandbox/)",
        "dags/team_a/load_test.py": ".airflowignore (dags/.airflowignore:4: *_test.py)",
        "dags/team_a/local_x.py": ".airflowignore (dags/team_a/.airflowignore:1: /local_*.py)",
        # Airflow's glob syntax tests directories as "old/", so "old/**" prunes "old".
        "dags/team_a/old": ".airflowignore (dags/team_a/.airflowignore:2: old/**)",
    }


def test_syntax_decides_how_airflowignore_lines_read(tmp_path: Path) -> None:
    make_tree(tmp_path, {".airflowignore": "legacy_.*\n", "legacy_a.py": "", "legacy_.py": ""})
    assert discover(tmp_path).files == ()
    assert discover(tmp_path, airflowignore_syntax="glob").files == ("legacy_a.py",)


def test_exclude_globs(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "dags/etl.py": "",
            "dags/legacy_top.py": "",
            "dags/team/deep/legacy_x.py": "",
            "dags/team/legacy_ok.py": "",
            "dags/sandbox/a.py": "",
            "dags/old/a.py": "",
            "dags/old/deep/b.py": "",
            "tools/legacy_tool.py": "",
        },
    )
    discovery = discover(
        tmp_path,
        exclude=[
            "dags/**/legacy_*.py",
            "!dags/team/legacy_ok.py",
            "./dags/sandbox/",
            "dags/old/**",
        ],
    )
    assert discovery.files == ("dags/etl.py", "dags/team/legacy_ok.py", "tools/legacy_tool.py")
    assert reasons(discovery) == {
        "dags/legacy_top.py": "exclude glob dags/**/legacy_*.py",
        "dags/old": "exclude glob dags/old/**",  # everything below it, so reported once
        "dags/sandbox": "exclude glob ./dags/sandbox/",
        "dags/team/deep/legacy_x.py": "exclude glob dags/**/legacy_*.py",
    }


def test_symlink_loop_is_reported_once(tmp_path: Path) -> None:
    make_tree(tmp_path, {"dags/a.py": "", "dags/sub/b.py": ""})
    (tmp_path / "dags/sub/back").symlink_to(tmp_path / "dags")
    (tmp_path / "dags/self").symlink_to(".")
    discovery = discover(tmp_path)
    assert discovery.files == ("dags/a.py", "dags/sub/b.py")
    assert discovery.skipped == (
        Skipped("dags/self", "symlink loop"),
        Skipped("dags/sub/back", "symlink loop"),
    )


def test_symlinked_directory_is_walked_once(tmp_path: Path) -> None:
    make_tree(tmp_path, {"shared/util.py": "", "vendor/lib.py": "", ".gitignore": "/vendor/\n"})
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags/a_shared").symlink_to("../shared")
    (tmp_path / "dags/vendored").symlink_to("../vendor")
    discovery = discover(tmp_path)
    # The real path wins even though the link sorts first; a link into a directory the
    # walk left out is followed, as Airflow would.
    assert discovery.files == ("dags/vendored/lib.py", "shared/util.py")
    assert reasons(discovery) == {
        "dags/a_shared": "already walked as shared",
        "vendor": ".gitignore (.gitignore:1: /vendor/)",
    }


def test_symlinked_file_is_listed_under_its_link(tmp_path: Path) -> None:
    make_tree(tmp_path, {"common/dag_factory.py": ""})
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags/factory.py").symlink_to("../common/dag_factory.py")
    assert discover(tmp_path).files == ("common/dag_factory.py", "dags/factory.py")


def test_links_outside_the_repository(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"outside/dags/x.py": "", "outside/y.py": "", "outside/notes.txt": "", "repo/a.py": ""},
    )
    repo = tmp_path / "repo"
    (repo / "linked_dir").symlink_to(tmp_path / "outside/dags")
    (repo / "linked.py").symlink_to(tmp_path / "outside/y.py")
    (repo / "notes.txt").symlink_to(tmp_path / "outside/notes.txt")
    discovery = discover(repo)
    assert discovery.files == ("a.py",)
    assert discovery.skipped == (
        Skipped("linked.py", "outside the repository"),
        Skipped("linked_dir", "outside the repository"),
    )


def test_broken_and_self_referencing_links(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": ""})
    (tmp_path / "gone.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "gone_dir").symlink_to(tmp_path / "missing")
    (tmp_path / "itself.py").symlink_to("itself.py")
    discovery = discover(tmp_path)
    assert discovery.files == ("a.py",)
    assert discovery.skipped == (
        Skipped("gone.py", "broken symlink"),
        Skipped("gone_dir", "broken symlink"),
        Skipped("itself.py", "symlink loop"),
    )


def refuse_scandir(monkeypatch: pytest.MonkeyPatch, locked_name: str) -> None:
    real_scandir = os.scandir

    def scandir(path):
        if os.path.basename(path) == locked_name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_scandir(path)

    monkeypatch.setattr(discover_module.os, "scandir", scandir)


def test_unreadable_directory_is_reported_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, {"dags/a.py": "", "dags/locked/b.py": "", "dags/z/c.py": ""})
    refuse_scandir(monkeypatch, "locked")
    discovery = discover(tmp_path)
    assert discovery.files == ("dags/a.py", "dags/z/c.py")
    assert discovery.skipped == (Skipped("dags/locked", "unreadable: Permission denied"),)


def test_unreadable_root_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path / "repo", {"a.py": ""})
    refuse_scandir(monkeypatch, "repo")
    discovery = discover(tmp_path / "repo")
    assert discovery.files == ()
    assert discovery.skipped == (Skipped(".", "unreadable: Permission denied"),)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads directories whatever their mode",
)
def test_unreadable_directory_on_disk(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "", "locked/b.py": ""})
    (tmp_path / "locked").chmod(0)
    try:
        discovery = discover(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert discovery.files == ("a.py",)
    assert discovery.skipped == (Skipped("locked", "unreadable: Permission denied"),)


def test_unreadable_ignore_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, {".gitignore": "a.py\n", "a.py": ""})

    def refuse(path: str) -> str:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(discover_module, "_read_ignore_file", refuse)
    discovery = discover(tmp_path)
    assert discovery.files == ("a.py",)
    assert discovery.skipped == (Skipped(".gitignore", "unreadable: Permission denied"),)


def test_output_does_not_depend_on_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "b_ignored.py\n",
            "dags/.airflowignore": "skip\n",
            **{
                f"dags/{name}/{leaf}.py": ""
                for name in ("c", "a", "b", "skip")
                for leaf in ("z", "a", "m")
            },
            "dags/b_ignored.py": "",
            "a.py": "",
            "a/b.py": "",
        },
    )
    (tmp_path / "dags/z_link").symlink_to("a")
    (tmp_path / "dags/y_link").symlink_to("a")
    forward = discover(tmp_path)

    real_scandir = os.scandir

    class ReversedListing:
        def __init__(self, path):
            self.entries = list(real_scandir(path))[::-1]

        def __enter__(self):
            return iter(self.entries)

        def __exit__(self, *exc_info):
            return False

    monkeypatch.setattr(discover_module.os, "scandir", ReversedListing)
    assert discover(tmp_path) == forward
    assert list(forward.files) == sorted(forward.files)
    assert [item.path for item in forward.skipped] == sorted(item.path for item in forward.skipped)
    assert reasons(forward)["dags/y_link"] == "already walked as dags/a"
    assert reasons(forward)["dags/z_link"] == "already walked as dags/a"


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover(tmp_path / "missing")
    (tmp_path / "file.py").write_text("")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        discover(tmp_path / "file.py")


def test_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="syntax"):
        discover(tmp_path, airflowignore_syntax="regex")
    with pytest.raises(TypeError):
        discover(tmp_path, exclude="dags/sandbox/")


def test_results_are_immutable(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": ""})
    discovery = discover(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        discovery.files = ()  # type: ignore[misc]


def test_five_thousand_files_are_fast(tmp_path: Path) -> None:
    make_tree(
        tmp_path, {".gitignore": "*.pyc\nbuild/\n", "dags/.airflowignore": "sandbox\nlegacy_.*\n"}
    )
    for team in range(50):
        folder = tmp_path / "dags" / f"team_{team}"
        folder.mkdir(parents=True)
        (folder / ".gitignore").write_text("scratch_*.py\n")
        for number in range(100):
            (folder / f"dag_{number}.py").touch()
    best = min(_timed(lambda: discover(tmp_path)) for _ in range(3))
    assert len(discover(tmp_path).files) == 5000
    assert best < 0.3


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
