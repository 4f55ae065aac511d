"""Least privilege between instances: the grants, the Airflow 2.10 roles in access/<team>.json,
and the outbound connections the plans list. The roles against a real webserver: make e2e-airflow."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from mesh_migrate.access import Grant, fab_permissions
from mesh_migrate.cli import main
from mesh_migrate.names import team_slug
from mesh_migrate.render.access import access_document, access_json
from mesh_migrate.render.markdown import plan_markdown, summary_markdown
from mesh_migrate.render.plan_yaml import plan_document, plan_yaml

from .conftest import write_repo
from .test_graph_plan import build, dep


def grants_of(analysis, team):
    return {g.team: g for g in next(p for p in analysis.plans if p.team == team).grants}


def plan_of(analysis, team):
    return next(p for p in analysis.plans if p.team == team)


def test_a_sensor_is_granted_read_on_exactly_the_dag_it_polls_by_the_polled_team():
    analysis = build([
        dep("sensor", "a_1", "b_1"),  # b_1 waits on a_1: a's instance lets b read a_1
        dep("sensor", "a_1", "a_2"),  # inside team a: no API access
    ])
    assert grants_of(analysis, "a") == {"b": Grant("a", "b", reads=("a_1",))}
    assert grants_of(analysis, "b") == {}
    permissions = fab_permissions(grants_of(analysis, "a")["b"])
    assert set(permissions) == {("can_read", "DAG:a_1"), ("can_read", "DAG Run:a_1"), ("can_read", "Task Instances")}


def test_a_trigger_may_create_runs_of_its_target_and_read_them_but_not_its_task_instances():
    analysis = build([dep("trigger", "b_1", "a_2")])  # b_1 triggers a_2
    grant = grants_of(analysis, "a")["b"]
    assert grant == Grant("a", "b", triggers=("a_2",))
    assert set(fab_permissions(grant)) == {
        ("can_read", "DAG:a_2"), ("can_edit", "DAG:a_2"), ("can_read", "DAG Run:a_2"), ("can_create", "DAG Run:a_2"),
        ("can_edit", "DAG Run:a_2"),  # reset_dag_run clears the run it finds
    }


def test_a_dataset_is_granted_by_the_consumer_to_the_producer_which_posts_the_events():
    analysis = build([dep("dataset", "a_1", "b_1", task="publish", dataset="s3://lake/x")])  # b_1 consumes a_1's dataset
    assert grants_of(analysis, "a") == {}
    grant = grants_of(analysis, "b")["a"]
    assert grant == Grant("b", "a", dataset_events=("s3://lake/x",))
    assert fab_permissions(grant) == (("can_create", "Datasets"),)


def test_a_migrated_dataset_keeps_the_grant_its_producer_posts_the_events_through():
    """Once the producer posts its events (the codemod's output, kind http_dataset), the
    consumer's instance still lets it post them, and the consumer reads nothing of the producer."""
    analysis = build([dep("http_dataset", "a_1", "b_1", holder="b_1", task="publish", dataset="s3://lake/x")])
    assert grants_of(analysis, "a") == {}
    assert grants_of(analysis, "b") == {"a": Grant("b", "a", dataset_events=("s3://lake/x",))}


def test_markers_and_dags_no_file_defines_get_no_grant():
    analysis = build([
        dep("marker", "a_1", "b_1"),  # clearing across instances is manual work, not an API call
        dep("sensor", "a_9", "b_1"),  # a_9 is defined nowhere: no instance has a resource for it
    ])
    assert all(not plan.grants and not plan.connections for plan in analysis.plans)


def test_one_role_per_calling_team_gathers_everything_it_does_there():
    analysis = build([
        dep("sensor", "a_1", "b_1"),
        dep("sensor", "a_2", "b_1", task="t2"),
        dep("trigger", "b_1", "a_2", task="t3"),
        dep("sensor", "a_1", "c_1"),
    ])
    grants = grants_of(analysis, "a")
    assert grants["b"] == Grant("a", "b", reads=("a_1", "a_2"), triggers=("a_2",))
    assert grants["c"] == Grant("a", "c", reads=("a_1",))
    assert (grants["b"].role, grants["b"].user) == ("mesh_a_for_b", "mesh_b")
    assert "- API access between instances: 2 roles on 1 instances for 2 calling teams" in "\n".join(summary_markdown(analysis))


def test_role_and_user_names_fit_fab_whatever_the_teams_are_called():
    long_a, long_b = "a" * 60, "b" * 60
    role = Grant(long_a, long_b).role
    assert len(role) == 64 and role.startswith("mesh_aaa") and role != Grant(long_a, "b" * 61).role
    assert Grant("Data Platform", "ml").role == f"mesh_{team_slug('Data Platform')}_for_ml"
    assert " " not in Grant("Data Platform", "ml").role and Grant("x", "Data Platform").user == f"mesh_{team_slug('Data Platform')}"


def test_access_json_is_the_roles_endpoint_body_and_the_users_to_create():
    analysis = build([dep("sensor", "a_1", "b_1"), dep("trigger", "c_1", "a_2")])
    document = access_document(plan_of(analysis, "a"))
    assert document["schema"] == "mesh-migrate/access@1" and document["team"] == "a"
    assert "/api/v1/roles" in document["description"]
    for role in document["roles"]:
        assert set(role) == {"name", "actions"}  # POST /api/v1/roles takes it unchanged
        for action in role["actions"]:
            assert set(action) == {"action", "resource"} and set(action["action"]) == {"name"} and set(action["resource"]) == {"name"}
    assert [u["role"] for u in document["users"]] == [r["name"] for r in document["roles"]] == ["mesh_a_for_b", "mesh_a_for_c"]
    assert document["users"][0] == {"username": "mesh_b", "role": "mesh_a_for_b", "team": "b", "polls": ["a_1"], "triggers": [], "dataset_events": []}
    json.dumps(document)


def test_plans_list_the_connection_to_each_instance_called_with_its_env_form_and_upstream_setting():
    analysis = build([dep("sensor", "a_1", "c_1"), dep("sensor", "b_1", "c_1")])  # c polls a (Airflow 2) and b (Airflow 3)
    plan = plan_of(analysis, "c")
    assert [(c.conn_id, c.team, c.url, c.login, c.role) for c in plan.connections] == [
        ("airflow_a", "a", "https://a.example", "mesh_c", "mesh_a_for_c"),
        ("airflow_b", "b", "https://b.example", "mesh_c", "mesh_b_for_c"),
    ]
    document = plan_document(plan)
    to_a, to_b = document["connections"]
    value = json.loads(to_a["env"]["AIRFLOW_CONN_AIRFLOW_A"])
    assert value == {"conn_type": "http", "host": "https://a.example", "login": "mesh_c", "password": "<password of mesh_c on the a instance>"}
    assert to_a["provider"] == "apache-airflow-providers-http" and to_a["polls"] == ["a_1"]
    assert "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth" in to_a["upstream_api"]["setting"]
    assert to_b["upstream_api"]["setting"] is None and "/auth/token" in to_b["upstream_api"]["why"]
    text = "\n".join(plan_markdown(plan))
    assert "## Connections to create" in text and "AIRFLOW_CONN_AIRFLOW_A='" in text and "`mesh_b_for_c`" in text
    assert "auth_backends" in text and "/auth/token" in text
    granting = "\n".join(plan_markdown(plan_of(analysis, "a")))
    assert "## API access to grant" in granting and "access/a.json" in granting and "| c | `mesh_c` | `mesh_a_for_c` | polls `a_1` |" in granting


def test_a_team_without_an_instance_in_mesh_yaml_gets_a_placeholder_connection_and_url():
    analysis = build([dep("sensor", "d_1", "c_1")])  # d has no instance configured
    (conn,) = plan_of(analysis, "c").connections
    assert (conn.conn_id, conn.url, conn.placeholder) == ("airflow_d", None, True)
    assert json.loads(conn.env_value())["host"] == "<URL of the d instance>"


@pytest.fixture(scope="module")
def skyflow_report(skyflow, tmp_path_factory):
    """The files of `analyze --out` this feature writes, for fixtures/skyflow (the site is left out: it takes seconds)."""
    out = tmp_path_factory.mktemp("report")
    (out / "access").mkdir()
    (out / "plans").mkdir()
    for plan in skyflow.plans:
        (out / "access" / f"{plan.team}.json").write_text(access_json(plan))
        (out / "plans" / f"{plan.team}.yaml").write_text(plan_yaml(plan))
        (out / "plans" / f"{plan.team}.md").write_text("\n".join(plan_markdown(plan)))
    return out


def test_analyze_out_writes_an_access_file_for_every_team(tmp_path):
    root = write_repo(tmp_path / "repo", {
        "mesh.yaml": """
            version: 1
            teams:
              up: {paths: ["dags/up/**"], instance: {url: "https://up.example", http_conn_id: airflow_up}}
              down: {paths: ["dags/down/**"]}
              alone: {paths: ["dags/alone/**"]}
        """,
        "dags/up/load.py": """
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            with DAG("up_load") as dag:
                EmptyOperator(task_id="publish")
        """,
        "dags/down/report.py": """
            from airflow import DAG
            from airflow.sensors.external_task import ExternalTaskSensor
            with DAG("down_report") as dag:
                ExternalTaskSensor(task_id="wait", external_dag_id="up_load", external_task_id="publish")
        """,
        "dags/alone/solo.py": """
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            with DAG("alone_solo") as dag:
                EmptyOperator(task_id="x")
        """,
    })
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["analyze", str(root), "--no-cache", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (out / "access").iterdir()) == ["alone.json", "down.json", "up.json"]
    up = json.loads((out / "access" / "up.json").read_text())
    assert [(r["name"], len(r["actions"])) for r in up["roles"]] == [("mesh_up_for_down", 3)]
    assert json.loads((out / "access" / "alone.json").read_text())["roles"] == []
    down = yaml.safe_load((out / "plans" / "down.yaml").read_text())
    assert [(c["conn_id"], c["url"], c["polls"]) for c in down["connections"]] == [("airflow_up", "https://up.example", ["up_load"])]


def test_skyflow_access_files_for_every_team_name_the_dags_each_caller_polls_or_triggers(skyflow, skyflow_report):
    teams = {p.team for p in skyflow.plans}
    assert {p.stem for p in (skyflow_report / "access").iterdir()} == teams
    finance = json.loads((skyflow_report / "access" / "finance.json").read_text())
    roles = {r["name"]: {(a["action"]["name"], a["resource"]["name"]) for a in r["actions"]} for r in finance["roles"]}
    # marketing's wait_for("finance_cost_centres_rollup") (dags/marketing/gen_audiences_ingest.py), through a helper
    assert roles["mesh_finance_for_marketing"] == {
        ("can_read", "DAG:finance_cost_centres_rollup"), ("can_read", "DAG Run:finance_cost_centres_rollup"), ("can_read", "Task Instances"),
    }
    # rail triggers finance_fx_exposure_quality_checks (dags/rail/gen_station_codes_quality_checks.py) and reads nothing else
    assert {r for a, r in roles["mesh_finance_for_rail"]} == {"DAG:finance_fx_exposure_quality_checks", "DAG Run:finance_fx_exposure_quality_checks"}
    # fraud's sensor on payments_settlements (dags/fraud/fraud_chargeback_scoring.py)
    payments = json.loads((skyflow_report / "access" / "payments.json").read_text())
    (fraud,) = [u for u in payments["users"] if u["team"] == "fraud"]
    assert fraud["polls"] == ["payments_settlements"] and not fraud["triggers"]
    owned = {p.team: {d.dag_id for d in p.dags} for p in skyflow.plans}
    for team in teams:
        document = json.loads((skyflow_report / "access" / f"{team}.json").read_text())
        for role in document["roles"]:
            dags = {a["resource"]["name"].split(":", 1)[1] for a in role["actions"] if ":" in a["resource"]["name"]}
            assert dags <= owned[team], f"{role['name']} names DAGs {team} does not run"


def test_skyflow_plans_list_outbound_connections(skyflow_report):
    fraud = yaml.safe_load((skyflow_report / "plans" / "fraud.yaml").read_text())
    assert [(c["conn_id"], c["login"], c["role"]) for c in fraud["connections"]] == [("airflow_payments", "mesh_fraud", "mesh_payments_for_fraud")]
    inventory = yaml.safe_load((skyflow_report / "plans" / "inventory.yaml").read_text())
    to_marketing = next(c for c in inventory["connections"] if c["team"] == "marketing")  # marketing runs Airflow 3
    assert to_marketing["api_version"] == 3 and to_marketing["upstream_api"]["setting"] is None
    text = (skyflow_report / "plans" / "fraud.md").read_text()
    assert "AIRFLOW_CONN_AIRFLOW_PAYMENTS='" in text and "apache-airflow-providers-http" in text
