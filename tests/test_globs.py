"""Git-style globs: the literal prefix that lets a caller skip a pattern's regex."""

import pytest

from mesh_migrate.globs import literal_prefix, path_matcher

PATHS = [
    "dags/crm/load.py", "dags/crm", "dags/crmx/load.py", "dags/finance/a/b.py", "dags/fin.py", "other/dags/crm/load.py",
    "crm/load.py", "a/crm/x.py", "dags/x /y.py", "dags/x", "dags/[x]/y.py", "dags/x/y.py", "load.py", "dags/*/y.py",
]
PATTERNS = [
    "dags/crm/**", "/dags/crm", "dags/crm/", "dags/fin*", "dags/*/a/**", "crm/", "crm", "**/crm/**", "*.py",
    "dags/x ", "dags/x\\ ", "dags/[x]/y.py", "dags/\\*/y.py", "dags/?rm/**", "!dags/crm/**", "/load.py",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_path_a_pattern_matches_starts_with_its_literal_prefix(pattern):
    matches = path_matcher([pattern])
    prefix = literal_prefix(pattern)
    for path in PATHS:
        if matches(path):
            assert path.startswith(prefix), (pattern, prefix, path)


def test_the_prefix_is_the_folder_text_of_an_anchored_pattern():
    assert literal_prefix("dags/crm/**") == "dags/crm/"
    assert literal_prefix("/dags/crm") == "dags/crm"
    assert literal_prefix("dags/fin*") == "dags/fin"
    assert literal_prefix("dags/crm  ") == "dags/crm"


@pytest.mark.parametrize("pattern", ["crm/", "crm", "*.py", "**/crm/**", "!dags/crm/**"])
def test_a_pattern_that_matches_in_any_folder_has_no_prefix(pattern):
    assert literal_prefix(pattern) == ""


def test_ownership_by_path_is_unchanged_by_the_prefix_test():
    from mesh_migrate.config import MeshConfig, Team
    from mesh_migrate.facts import DagFact, RepoFacts, SourceSpan
    from mesh_migrate.ownership import assign_teams

    teams = (Team("crm", paths=("dags/crm/**",), line=1), Team("finance", paths=("/dags/fin*",), line=2), Team("shared", paths=("**/shared/*.py",), line=3))
    config = MeshConfig(path="mesh.yaml", teams=teams)
    files = ["dags/crm/a.py", "dags/finance/b.py", "dags/fin.py", "x/shared/c.py", "dags/other/d.py"]
    dags = tuple(DagFact(f"d{n}", SourceSpan(path, 1), "with") for n, path in enumerate(files))
    result = assign_teams(RepoFacts(root=".", files=tuple(files), dags=dags), config, None)
    assert [result.of(dag).team for dag in dags] == ["crm", "finance", "finance", "shared", None]
