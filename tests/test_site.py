"""The review site's writer, without a browser: pages, links, escaping, names."""

from __future__ import annotations

import html
import re

import pytest

from mesh_migrate.analysis import analyze
from mesh_migrate.codemod.runner import run_codemod
from mesh_migrate.render.site.html import Markup, el, join
from mesh_migrate.render.site.paths import anchor, site_paths, unique_slugs
from mesh_migrate.render.site import write_site

from .conftest import write_repo
from .sitecheck import broken_links


def test_every_team_has_a_page_and_the_front_pages_exist(skyflow, skyflow_site):
    paths = site_paths(skyflow.ownership.teams, skyflow.facts.files)
    for team in skyflow.ownership.teams:
        text = (skyflow_site / paths.teams[team]).read_text()
        assert f"<title>Team {team} · mesh-migrate</title>" in text
    for name in ("index.html", "search.html", "assets/site.css", "assets/site.js"):
        assert (skyflow_site / name).is_file()
    assert len(list((skyflow_site / "src").glob("*.html"))) == len(skyflow.facts.files)


def test_every_link_leads_to_a_file_and_an_anchor(skyflow_site):
    assert broken_links(skyflow_site) == []


def test_a_team_page_shows_the_codemods_own_diff(skyflow, skyflow_site):
    paths = site_paths(skyflow.ownership.teams, skyflow.facts.files)
    page = (skyflow_site / paths.teams["search"]).read_text()
    result = run_codemod(skyflow, "search")
    assert result.changes
    for change in result.changes:
        for line in change.diff().splitlines():
            assert html.escape(line) in page
    assert "HttpSensor" in page and 'class="add"' in page and 'class="del"' in page


def test_a_team_page_lists_its_connections_and_the_roles_it_grants(skyflow, skyflow_site):
    paths = site_paths(skyflow.ownership.teams, skyflow.facts.files)
    plans = {p.team: p for p in skyflow.plans}
    fraud = (skyflow_site / paths.teams["fraud"]).read_text()
    (conn,) = plans["fraud"].connections
    assert 'id="connections"' in fraud and html.escape(f"{conn.env_var}='{conn.env_value()}'", quote=True) in fraud
    assert "auth_backends" in fraud and f"<code>{conn.role}</code>" in fraud
    finance = (skyflow_site / paths.teams["finance"]).read_text()
    assert "access/finance.json" in finance
    for grant in plans["finance"].grants:
        assert f"<code>{grant.role}</code>" in finance and f"<code>{grant.user}</code>" in finance


def test_the_overview_has_waves_the_graph_cycles_and_findings(skyflow, skyflow_site):
    page = (skyflow_site / "index.html").read_text()
    assert page.count('<li id="wave-') == len(skyflow.graph.waves)
    assert page.count('class="node"') == len(skyflow.ownership.teams)  # every team is a link in the graph
    assert "search waits on pricing" in page
    for item in skyflow.facts.unresolved:
        assert html.escape(item.expression) in page
    assert len(re.findall(r'class="severity ', page)) == len(skyflow.facts.diagnostics)


def test_the_index_lists_every_dag_team_and_file(skyflow, skyflow_site):
    page = (skyflow_site / "search.html").read_text()
    assert page.count('data-type="team"') == len(skyflow.ownership.teams)
    assert page.count('data-type="dag"') == len(skyflow.facts.dags)
    assert page.count('data-type="file"') == len(skyflow.facts.files)


HOSTILE = {
    "mesh.yaml": """
        version: 1
        teams:
          "<script>alert(1)</script>":
            dag_ids: ["evil_*"]
          "a b":
            dag_ids: ["space_*"]
          "a-b":
            dag_ids: ["dash_*"]
          "A-B":
            dag_ids: ["upper_*"]
        """,
    "dags/x<y>.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("evil_<img src=x onerror=alert(2)>") as dag:
            ExternalTaskSensor(task_id="w", external_dag_id="space_one")
        """,
    "dags/space.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("space_one") as dag:
            ExternalTaskSensor(task_id="w", external_dag_id="dash_one")
        """,
    "dags/dash.py": """
        from airflow import DAG
        with DAG("dash_one") as dag:
            pass
        with DAG("upper_one") as dag2:
            pass
        """,
}


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = write_repo(tmp_path_factory.mktemp("hostile"), HOSTILE)
    analysis = analyze(root)
    site = root / "out" / "site"
    write_site(analysis, site)
    return analysis, site


def test_hostile_names_are_escaped_everywhere(hostile_site):
    analysis, site = hostile_site
    assert "<script>alert(1)</script>" in analysis.ownership.teams
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "<script>alert" not in text, page
        assert "<img src=x" not in text, page
        assert len(re.findall(r"<script\b", text)) == 1, page  # only the site's own script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (site / "index.html").read_text()
    assert broken_links(site) == []


def test_teams_whose_names_slug_alike_get_distinct_pages(hostile_site):
    analysis, site = hostile_site
    pages = site_paths(analysis.ownership.teams, analysis.facts.files).teams
    assert len(set(pages.values())) == len(pages)
    assert len({p.lower() for p in pages.values()}) == len(pages)  # also on case-insensitive disks
    for team, page in pages.items():
        assert re.fullmatch(r"teams/[A-Za-z0-9_.-]+\.html", page)
        assert f"<title>Team {html.escape(team)} · mesh-migrate</title>" in (site / page).read_text()


def test_unique_slugs():
    slugs = unique_slugs(["a b", "a-b", "A-B", "plain", "", "..", "x" * 200])
    assert slugs["plain"] == "plain"
    assert len(set(slugs.values())) == len(slugs)
    assert slugs["a b"].startswith("a-b-") and slugs["a-b"].startswith("a-b-")
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]{1,70}", s) and not s.startswith(".") for s in slugs.values())


def test_anchor_is_readable_when_it_can_be():
    assert anchor("dag", "flights_daily") == "dag-flights_daily"
    assert re.fullmatch(r"dag-a-b-[0-9a-f]{8}", anchor("dag", "a b"))


def test_el_escapes_text_and_attributes_but_not_markup():
    built = el("a", {"href": 'x"><script>', "class_": "c", "hidden": True, "title": None}, "<b>", Markup("<i>ok</i>"))
    assert built == '<a href="x&quot;&gt;&lt;script&gt;" class="c" hidden>&lt;b&gt;<i>ok</i></a>'
    assert join("a", None, ["<", 1]) == "a&lt;1"
