"""DAG definitions: each pattern as a small source snippet and the facts it must yield."""

from __future__ import annotations


def dag_ids(facts):
    return sorted(d.dag_id for d in facts.dags)


def only_dag(facts):
    assert len(facts.dags) == 1, facts.dags
    return facts.dags[0]


def test_with_dag_context_manager(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        with DAG("orders_daily", schedule="@daily", tags=["sales"], default_args={"owner": "sales-data"}) as dag:
            BashOperator(task_id="extract", bash_command="echo")
            BashOperator(task_id="load", bash_command="echo", owner="bob")
    """})
    dag = only_dag(facts)
    assert dag.dag_id == "orders_daily"
    assert dag.defined_by == "with"
    assert dag.schedule == "@daily"
    assert dag.tags == ("sales",)
    assert dag.owners == ("sales-data", "bob")
    assert dag.tasks == ("extract", "load")
    assert (dag.span.path, dag.span.line) == ("dags/a.py", 3)


def test_assignment_with_dag_kwarg_on_tasks(repo):
    facts = repo({"dags/a.py": """
        from airflow.models import DAG
        from airflow.operators.empty import EmptyOperator
        dag = DAG(dag_id="billing", schedule_interval="0 3 * * *")
        start = EmptyOperator(task_id="start", dag=dag)
        end = EmptyOperator(task_id="end", dag=dag)
        start >> end
    """})
    dag = only_dag(facts)
    assert (dag.dag_id, dag.defined_by, dag.schedule, dag.tasks) == ("billing", "assignment", "0 3 * * *", ("start", "end"))


def test_dag_decorator_ids(repo):
    facts = repo({"dags/a.py": """
        from airflow.decorators import dag, task
        from airflow.sdk import dag as sdk_dag

        @dag(schedule=None)
        def plain_name():
            @task
            def work():
                pass
            work()

        @dag(dag_id="explicit_id")
        def ignored_name():
            pass

        @sdk_dag("positional_id")
        def also_ignored():
            pass

        @dag
        def bare_decorator():
            pass

        @dag()
        def never_called():
            pass

        plain_name()
        ignored_name()
        also_ignored()
        bare_decorator()
    """})
    assert dag_ids(facts) == ["bare_decorator", "explicit_id", "plain_name", "positional_id"]
    plain = next(d for d in facts.dags if d.dag_id == "plain_name")
    assert plain.defined_by == "decorator"
    assert plain.tasks == ("work",)


def test_ids_from_constants_fstrings_concat_and_format(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/constants.py": """
            TEAM = "fraud"
            SHARED_ID = TEAM + "_scores"
        """,
        "dags/a.py": """
            from airflow import DAG
            from common.constants import SHARED_ID, TEAM
            from common import constants as c
            PREFIX = "risk"
            DAG(f"{PREFIX}_{TEAM}_hourly")
            DAG(PREFIX + "_" + "rules")
            DAG("{}_{}".format(PREFIX, "cases"))
            DAG("%s_alerts" % PREFIX)
            DAG(SHARED_ID)
            DAG(c.TEAM.upper())
        """,
    })
    assert dag_ids(facts) == ["FRAUD", "fraud_scores", "risk_alerts", "risk_cases", "risk_fraud_hourly", "risk_rules"]


def test_loops_and_comprehensions_make_one_dag_per_item(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        for market in ["uk", "de"]:
            with DAG(f"pricing_{market}") as dag:
                pass
        for name, cron in {"hourly": "@hourly", "nightly": "0 2 * * *"}.items():
            DAG(f"report_{name}", schedule=cron)
        dags = [DAG(f"export_{t}") for t in ("a", "b")]
        by_id = {k: DAG(k) for k in ["x_sync"]}
    """})
    assert dag_ids(facts) == ["export_a", "export_b", "pricing_de", "pricing_uk", "report_hourly", "report_nightly", "x_sync"]
    nightly = next(d for d in facts.dags if d.dag_id == "report_nightly")
    assert nightly.schedule == "0 2 * * *"


def test_wrapper_function_and_factory_class_bind_call_site_arguments(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/factories.py": """
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator

            def make_export_dag(team, dataset, schedule="@daily"):
                dag = DAG(f"{team}__export_{dataset}", schedule=schedule, default_args={"owner": team})
                EmptyOperator(task_id="export", dag=dag)
                return dag

            class DagFactory:
                def __init__(self, team, name):
                    self.team = team
                    self.name = name

                def build(self):
                    with DAG(f"{self.team}_{self.name}", tags=[self.team]) as dag:
                        EmptyOperator(task_id="noop")
                    return dag
        """,
        "dags/hotels/exports.py": """
            from common.factories import DagFactory, make_export_dag
            bookings = make_export_dag("hotels", "bookings", schedule="@hourly")
            rooms = DagFactory("hotels", "rooms").build()
        """,
    })
    assert dag_ids(facts) == ["hotels__export_bookings", "hotels_rooms"]
    export = next(d for d in facts.dags if d.dag_id == "hotels__export_bookings")
    assert export.span.path == "dags/hotels/exports.py"
    assert export.span.line == 2
    assert export.defined_by == "factory"
    assert export.owners == ("hotels",)
    assert export.tasks == ("export",)
    rooms = next(d for d in facts.dags if d.dag_id == "hotels_rooms")
    assert rooms.tags == ("hotels",)


def test_owners_from_shared_default_args_and_team_registry(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/defaults.py": """
            BASE = {"retries": 2}
            FINANCE_DEFAULTS = {**BASE, "owner": "finance-data"}
        """,
        "dags/common/teams.py": """
            from dataclasses import dataclass

            @dataclass
            class Team:
                name: str
                owner: str

            class Registry:
                fraud = Team("fraud", "fraud-data")

            TEAMS = Registry()
            OWNERS = {"crm": "crm-data"}
        """,
        "dags/a.py": """
            from airflow import DAG
            from common.defaults import FINANCE_DEFAULTS
            from common.teams import OWNERS, TEAMS
            DAG("ledger", default_args=FINANCE_DEFAULTS)
            DAG("scores", default_args={"owner": TEAMS.fraud.owner})
            DAG("contacts", default_args={"owner": OWNERS["crm"]})
        """,
    })
    owners = {d.dag_id: d.owners for d in facts.dags}
    assert owners == {"ledger": ("finance-data",), "scores": ("fraud-data",), "contacts": ("crm-data",)}


def test_unresolvable_dag_ids_are_reported_with_reasons(repo):
    facts = repo({"dags/a.py": """
        import os
        import yaml
        from airflow import DAG

        def get_dag_id():
            return os.environ["DAG_ID"]

        DAG(get_dag_id())
        DAG("ledger_prod" if os.environ.get("ENV") == "prod" else "ledger_dev")
        for cfg in yaml.safe_load(open("campaigns.yaml")):
            DAG(cfg["id"])
        DAG(some_function_from_nowhere())
        DAG("static_one")
    """})
    assert dag_ids(facts) == ["static_one"]
    reasons = sorted(u.reason for u in facts.unresolved if u.what == "dag_id")
    assert reasons == [
        "depends on a condition that is not static: os.environ.get('ENV') == 'prod'",
        "name 'some_function_from_nowhere' is not defined statically",
        "read from environment variable DAG_ID at parse time (pin it under environment.variables in mesh.yaml)",
        "reads 'campaigns.yaml', a relative path: it depends on the folder Airflow runs in",
    ]
    assert all(u.span.path == "dags/a.py" and u.span.line > 0 for u in facts.unresolved)


def test_files_without_airflow_or_dag_words_are_still_analyzed(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/build.py": """
            from airflow import DAG
            def make(name):
                return DAG(name)
        """,
        "dags/x/nightly.py": """
            from common.build import make as create
            create("quiet_job")
        """,
    })
    assert dag_ids(facts) == ["quiet_job"]
    assert facts.dags[0].span.path == "dags/x/nightly.py"


def test_syntax_error_is_a_diagnostic_and_the_run_goes_on(repo):
    facts = repo({
        "dags/bad.py": "from airflow import DAG\nDAG('x'\n",
        "dags/good.py": "from airflow import DAG\nDAG('good')\n",
    })
    assert dag_ids(facts) == ["good"]
    [diag] = [d for d in facts.diagnostics if d.severity == "error"]
    assert (diag.code, diag.span.path) == ("parse-error", "dags/bad.py")
    assert diag.span.line >= 2


def test_bom_and_invalid_utf8(tmp_path):
    from mesh_migrate.analysis import analyze

    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbffrom airflow import DAG\r\nDAG('with_bom')\r\n")
    (tmp_path / "latin.py").write_bytes(b"from airflow import DAG\n# caf\xe9\nDAG('latin')\n")
    facts = analyze(tmp_path).facts
    assert [d.dag_id for d in facts.dags] == ["with_bom"]
    [diag] = [d for d in facts.diagnostics if d.severity == "error"]
    assert diag.span == diag.span.__class__("latin.py", 2, 0)


def test_duplicate_dag_ids_are_reported_in_both_files(repo):
    facts = repo({
        "dags/a.py": "from airflow import DAG\nDAG('same')\n",
        "dags/b.py": "from airflow import DAG\nDAG('same')\n",
    })
    dupes = [d for d in facts.diagnostics if d.code == "duplicate-dag-id"]
    assert sorted(d.span.path for d in dupes) == ["dags/a.py", "dags/b.py"]
