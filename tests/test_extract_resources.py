"""Connections, variables, pools and shared modules used by each DAG."""

from __future__ import annotations


def uses(facts, kind):
    return sorted((r.name, r.dag) for r in facts.resources if r.kind == kind)


def test_connections_from_kwargs_getters_hooks_and_templates(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.hooks.base import BaseHook
        from airflow.operators.bash import BashOperator
        from airflow.operators.python import PythonOperator
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator

        DWH = "dwh"

        def load():
            hook = PostgresHook(postgres_conn_id="bookings_db")
            partner = BaseHook.get_connection("partner_api")

        with DAG("orders") as dag:
            SQLExecuteQueryOperator(task_id="q", conn_id=DWH, sql="select 1", pool="dwh_pool")
            S3ToRedshiftOperator(task_id="copy", aws_conn_id="aws_default", redshift_conn_id="redshift")
            PythonOperator(task_id="load", python_callable=load)
            BashOperator(task_id="ping", bash_command="curl {{ conn.partner_api.host }}")
    """})
    assert uses(facts, "connection") == [
        ("aws_default", "orders"),
        ("bookings_db", "orders"),
        ("dwh", "orders"),
        ("partner_api", "orders"),  # once per DAG, though read in a callable and a template
        ("redshift", "orders"),
    ]
    assert uses(facts, "pool") == [("dwh_pool", "orders")]


def test_variables_from_getters_and_templates(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.bash import BashOperator
        MARKETS = Variable.get("pricing_markets", deserialize_json=True)
        with DAG("pricing") as dag:
            BashOperator(task_id="a", bash_command="run --env {{ var.value.env_name }} --tier {{ var.json.loyalty_config.tier }}")
    """})
    assert uses(facts, "variable") == [
        ("env_name", "pricing"),
        ("loyalty_config", "pricing"),
        ("pricing_markets", "pricing"),
    ]


def test_resources_attributed_to_the_enclosing_dag(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        with DAG("first") as one:
            BashOperator(task_id="a", bash_command="{{ var.value.only_first }}")
        with DAG("second") as two:
            BashOperator(task_id="b", bash_command="echo", pool="second_pool")
    """})
    assert uses(facts, "variable") == [("only_first", "first")]
    assert uses(facts, "pool") == [("second_pool", "second")]


def test_shared_modules_each_dag_file_imports(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/sensors.py": "X = 1\n",
        "dags/common/defaults.py": "D = {}\n",
        "dags/a.py": """
            from airflow import DAG
            from common.sensors import X
            from common import defaults
            import json
            DAG("orders")
        """,
    })
    assert uses(facts, "module") == [("common.defaults", "orders"), ("common.sensors", "orders")]


def test_runtime_connection_ids_are_unresolved(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        def load(conn):
            PostgresHook(postgres_conn_id=conn)
        DAG("orders")
    """})
    [item] = facts.unresolved
    assert item.what == "connection" and item.expression == "conn"
