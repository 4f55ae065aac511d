"""Inline `# mesh: ignore` comments: read with tokenize, used or reported as MM900."""

from __future__ import annotations

import pytest

from mesh_migrate.check.findings import Finding
from mesh_migrate.check.suppress import apply_suppressions, suppressions_in

from .checkrepo import HEADER, check_repo, make_repo, sensor_dag


def parse(source: str):
    return [(s.line, s.codes) for s in suppressions_in("f.py", source.encode())]


@pytest.mark.parametrize(
    "comment, codes",
    [
        ("# mesh: ignore[MM101]", ("MM101",)),
        ("# mesh: ignore[MM101,MM102]", ("MM101", "MM102")),
        ("#mesh:ignore[ mm101 , MM102 ]", ("MM101", "MM102")),
        ("# mesh: ignore", ()),
        ("# MESH: IGNORE[]", ()),
        ("# noqa: E501  # mesh: ignore[MM104] the producer moves in wave 2", ("MM104",)),
    ],
)
def test_directive_spellings(comment, codes):
    assert parse(f"x = 1  {comment}\n") == [(1, codes)]


@pytest.mark.parametrize("text", ["# mesh: ignored", "# mesh: ignore-me", "# mesh ignore", "# nomesh"])
def test_near_misses_are_not_directives(text):
    assert parse(f"x = 1  {text}\n") == []


def test_strings_that_look_like_comments_are_not_directives():
    source = 'a = "# mesh: ignore[MM101]"\nb = """\n# mesh: ignore\n"""\nc = 1  # mesh: ignore[MM102]\n'
    assert parse(source) == [(5, ("MM102",))]


def test_an_untokenizable_file_keeps_the_directives_before_the_error():
    assert parse("a = 1  # mesh: ignore\nb = (\n") == [(1, ())]


def test_unused_codes_are_reported_one_finding_per_comment():
    finding = Finding("MM101", "f.py", 1, "m", "alpha", "fp")
    sups = suppressions_in("f.py", b"x = 1  # mesh: ignore[MM101,MM102,MM999]\ny = 2  # mesh: ignore\n")
    out = apply_suppressions([finding], sups)
    assert out[0].suppressed
    unused = [(f.code, f.line) for f in out[1:]]
    assert unused == [("MM900", 1), ("MM900", 2)]
    assert "no MM102 finding on this line" in out[1].message and "MM999 is not a mesh-migrate code" in out[1].message
    assert "suppresses nothing" in out[2].message


def test_suppressed_findings_are_marked_not_dropped(tmp_path):
    make_repo(tmp_path, {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices", comment="  # mesh: ignore[MM101]")})
    result = check_repo(tmp_path)
    [finding] = result.findings
    assert finding.suppressed and not finding.failing
    assert result.clean


def test_a_bare_comment_suppresses_every_code_of_its_line(tmp_path):
    make_repo(tmp_path, {
        "dags/beta/back.py": sensor_dag("beta_back", "alpha_orders", comment="  # mesh: ignore"),
        "dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices", comment="  # mesh: ignore"),
    })
    result = check_repo(tmp_path)
    assert sorted(f.code for f in result.findings) == ["MM101", "MM101", "MM301"]
    assert result.clean


def test_the_wrong_code_suppresses_nothing_and_is_reported(tmp_path):
    make_repo(tmp_path, {"dags/alpha/wait.py": sensor_dag("alpha_wait", "beta_prices", comment="  # mesh: ignore[MM102]")})
    result = check_repo(tmp_path)
    assert [(f.code, f.line) for f in result.failing] == [("MM101", 4), ("MM900", 4)]


def test_an_unused_suppression_anywhere_is_reported(tmp_path):
    make_repo(tmp_path, {"dags/gamma/tidy.py": HEADER + "# mesh: ignore[MM101]\nwith DAG('gamma_tidy') as dag:\n    pass\n"})
    [finding] = check_repo(tmp_path).failing
    assert (finding.code, finding.line, finding.severity) == ("MM900", 3, "warning")


def test_multi_line_call_takes_the_comment_on_its_first_line(tmp_path):
    first_line = HEADER + """with DAG("alpha_wait") as dag:
    ExternalTaskSensor(  # mesh: ignore[MM101]
        task_id="wait",
        external_dag_id="beta_prices",
    )
"""
    make_repo(tmp_path, {"dags/alpha/wait.py": first_line})
    assert check_repo(tmp_path).clean

    last_line = first_line.replace("(  # mesh: ignore[MM101]", "(").replace('    )\n', '    )  # mesh: ignore[MM101]\n')
    make_repo(tmp_path, {"dags/alpha/wait.py": last_line})
    assert [(f.code, f.line) for f in check_repo(tmp_path).failing] == [("MM101", 4), ("MM900", 7)]


def test_suppressions_in_excluded_files_are_not_read(tmp_path):
    make_repo(tmp_path, {"dags/alpha/legacy_old.py": "x = 1  # mesh: ignore[MM101]\n"})
    assert check_repo(tmp_path).findings == ()
