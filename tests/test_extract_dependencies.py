"""Cross-DAG dependencies: each pattern as a snippet and the dependency facts it must yield."""

from __future__ import annotations

import pytest


def edges(facts):
    return sorted((d.kind, d.source, d.target, d.task_id) for d in facts.dependencies)


HEADER = "from airflow import DAG\n"


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from airflow.sensors.external_task import ExternalTaskSensor", "ExternalTaskSensor"),
        ("from airflow.sensors.external_task_sensor import ExternalTaskSensor", "ExternalTaskSensor"),
        ("from airflow.operators.sensors import ExternalTaskSensor", "ExternalTaskSensor"),
        ("from airflow.providers.standard.sensors.external_task import ExternalTaskSensor", "ExternalTaskSensor"),
        ("from airflow.sensors.external_task import ExternalTaskSensor as ETS", "ETS"),
        ("from airflow.sensors import external_task as et", "et.ExternalTaskSensor"),
        ("import airflow.sensors.external_task", "airflow.sensors.external_task.ExternalTaskSensor"),
        ("import airflow.sensors.external_task as et", "et.ExternalTaskSensor"),
        (
            "try:\n    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor\n"
            "except ImportError:\n    from airflow.sensors.external_task import ExternalTaskSensor",
            "ExternalTaskSensor",
        ),
    ],
)
def test_external_task_sensor_under_every_import_path(repo, imports, call):
    facts = repo({"dags/a.py": f"""
{HEADER}{imports}
with DAG("reports") as dag:
    {call}(task_id="wait", external_dag_id="bookings", external_task_id="load")
"""})
    [dep] = facts.dependencies
    assert (dep.kind, dep.source, dep.target, dep.task_id, dep.source_tasks) == ("sensor", "bookings", "reports", "wait", ("load",))
    assert dep.span.path == "dags/a.py"


def test_sensor_arguments_are_kept(repo):
    facts = repo({"dags/a.py": """
        from datetime import timedelta
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("reports") as dag:
            ExternalTaskSensor(
                task_id="wait_many",
                external_dag_id="bookings",
                external_task_ids=["load", "check"],
                execution_delta=timedelta(hours=1),
                allowed_states=["success"],
                failed_states=["failed", "upstream_failed"],
                skipped_states=["skipped"],
                mode="reschedule",
                timeout=3600,
                poke_interval=120,
            )
            ExternalTaskSensor(task_id="wait_group", external_dag_id="bookings", external_task_group_id="publish",
                               execution_date_fn=lambda dt: dt - timedelta(days=1))
            ExternalTaskSensor(task_id="wait_dag", external_dag_id="bookings")
    """})
    many, group, whole = facts.dependencies
    assert many.source_tasks == ("load", "check")
    assert many.argument("execution_delta") == "timedelta(hours=1)"
    assert many.argument("failed_states") == "['failed', 'upstream_failed']"
    assert many.argument("mode") == "'reschedule'"
    assert many.argument("timeout") == "3600"
    assert many.argument("poke_interval") == "120"
    assert many.argument("skipped_states") == "['skipped']"
    assert group.task_group == "publish" and group.source_tasks is None
    assert group.argument("execution_date_fn") == "lambda dt: dt - timedelta(days=1)"
    assert whole.source_tasks is None and whole.task_group is None


def test_marker_and_trigger_directions(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskMarker
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator
        from airflow.operators.dagrun_operator import TriggerDagRunOperator as OldTrigger
        with DAG("bookings") as dag:
            ExternalTaskMarker(task_id="clear_reports", external_dag_id="reports", external_task_id="wait")
            TriggerDagRunOperator(task_id="kick", trigger_dag_id="refunds", conf={"full": True}, wait_for_completion=True)
            OldTrigger(task_id="legacy", trigger_dag_id="audit")
    """})
    assert edges(facts) == [
        ("marker", "bookings", "reports", "clear_reports"),
        ("trigger", "bookings", "audit", "legacy"),
        ("trigger", "bookings", "refunds", "kick"),
    ]
    kick = next(d for d in facts.dependencies if d.task_id == "kick")
    assert kick.argument("conf") == "{'full': True}"
    assert kick.argument("wait_for_completion") == "True"


def test_partial_subclasses_and_helpers(repo):
    facts = repo({
        "dags/common/__init__.py": "",
        "dags/common/sensors.py": """
            from airflow.sensors.external_task import ExternalTaskSensor

            def wait_for(dag_id, task_id=None, **kwargs):
                return ExternalTaskSensor(task_id=f"wait_for_{dag_id}", external_dag_id=dag_id,
                                          external_task_id=task_id, mode="reschedule", **kwargs)

            class WaitForSearchIndex(ExternalTaskSensor):
                def __init__(self, **kwargs):
                    super().__init__(external_dag_id="search_index_build", external_task_id="publish", **kwargs)
        """,
        "dags/a.py": """
            import functools
            from airflow import DAG
            from airflow.sensors.external_task import ExternalTaskSensor
            from common.sensors import WaitForSearchIndex, wait_for

            class FlightsSensor(ExternalTaskSensor):
                pass

            Quick = functools.partial(ExternalTaskSensor, mode="reschedule", timeout=3600)
            with DAG("reports") as dag:
                Quick(task_id="p", external_dag_id="partial_up")
                FlightsSensor(task_id="s", external_dag_id="subclass_up")
                WaitForSearchIndex(task_id="idx")
                wait_for("helper_up", "done", timeout=60)
        """,
    })
    assert edges(facts) == [
        ("sensor", "helper_up", "reports", "wait_for_helper_up"),
        ("sensor", "partial_up", "reports", "p"),
        ("sensor", "search_index_build", "reports", "idx"),
        ("sensor", "subclass_up", "reports", "s"),
    ]
    helper = next(d for d in facts.dependencies if d.source == "helper_up")
    assert helper.span.path == "dags/a.py" and helper.span.line == 14
    assert helper.via.path == "dags/common/sensors.py"
    assert helper.argument("timeout") == "60"
    assert helper.source_tasks == ("done",)
    partial = next(d for d in facts.dependencies if d.source == "partial_up")
    assert partial.argument("mode") == "'reschedule'"


def test_sensors_in_loops_and_comprehensions(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        UPSTREAMS = ["flights_load", "hotels_load"]
        with DAG("finance_close") as dag:
            for upstream in UPSTREAMS:
                ExternalTaskSensor(task_id=f"wait_{upstream}", external_dag_id=upstream)
            waits = [ExternalTaskSensor(task_id=f"c_{u}", external_dag_id=u) for u in ("cars_load",)]
    """})
    assert edges(facts) == [
        ("sensor", "cars_load", "finance_close", "c_cars_load"),
        ("sensor", "flights_load", "finance_close", "wait_flights_load"),
        ("sensor", "hotels_load", "finance_close", "wait_hotels_load"),
    ]


def test_task_groups_prefix_task_ids(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.utils.task_group import TaskGroup
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("reports") as dag:
            with TaskGroup("upstreams"):
                ExternalTaskSensor(task_id="wait", external_dag_id="bookings")
    """})
    assert edges(facts) == [("sensor", "bookings", "reports", "upstreams.wait")]


def test_factory_class_and_self_attributes(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor

        class SensorDag:
            def __init__(self, name, upstream):
                self.name = name
                self.upstream = upstream

            def build(self):
                with DAG(self.name) as dag:
                    ExternalTaskSensor(task_id="wait", external_dag_id=self.upstream)
                    ExternalTaskSensor(task_id="wait_later", external_dag_id=self.not_set_anywhere)
                return dag

        SensorDag("loyalty_points", "bookings").build()
    """})
    assert edges(facts) == [("sensor", "bookings", "loyalty_points", "wait")]
    [unresolved] = facts.unresolved
    assert unresolved.what == "external_dag_id of ExternalTaskSensor 'wait_later'"
    assert unresolved.expression == "self.not_set_anywhere"
    assert "not set statically" in unresolved.reason


def test_templated_and_runtime_targets_are_unresolved(repo):
    facts = repo({"dags/a.py": """
        import os
        from airflow import DAG
        from airflow.models import Variable
        from airflow.sensors.external_task import ExternalTaskSensor
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator
        with DAG("reports") as dag:
            ExternalTaskSensor(task_id="t1", external_dag_id="{{ var.value.upstream_dag }}")
            ExternalTaskSensor(task_id="t2", external_dag_id=os.getenv("UPSTREAM"))
            TriggerDagRunOperator(task_id="t3", trigger_dag_id=Variable.get("next_dag"))
    """})
    assert facts.dependencies == ()
    reasons = {u.what: u.reason for u in facts.unresolved}
    assert reasons == {
        "external_dag_id of ExternalTaskSensor 't1'": "Jinja template, rendered only at run time",
        "external_dag_id of ExternalTaskSensor 't2'": "read from environment variable UPSTREAM at parse time (pin it under environment.variables in mesh.yaml)",
        "trigger_dag_id of TriggerDagRunOperator 't3'": "read from Airflow Variable next_dag at parse time (pin it under environment.airflow_variables in mesh.yaml)",
    }
    names = {(r.kind, r.name) for r in facts.resources}
    assert ("variable", "upstream_dag") in names and ("variable", "next_dag") in names


def test_datasets_pair_producers_and_consumers(repo):
    facts = repo({
        "dags/producer.py": """
            from airflow import DAG, Dataset
            from airflow.operators.bash import BashOperator
            BOOKINGS = Dataset("s3://lake/bookings")
            with DAG("bookings_load") as dag:
                BashOperator(task_id="publish", bash_command="echo", outlets=[BOOKINGS])
        """,
        "dags/producer3.py": """
            from airflow.sdk import DAG, Asset
            from airflow.providers.standard.operators.bash import BashOperator
            with DAG("bookings_backfill") as dag:
                BashOperator(task_id="publish", bash_command="echo", outlets=[Asset("s3://lake/bookings")])
        """,
        "dags/consumer.py": """
            from airflow import DAG
            from airflow.datasets import Dataset
            with DAG("revenue", schedule=[Dataset("s3://lake/bookings"), Dataset("s3://lake/fx")]) as dag:
                pass
            with DAG("margin", schedule=(Dataset("s3://lake/bookings") & Dataset("s3://lake/fx"))) as dag2:
                pass
        """,
    })
    assert edges(facts) == [
        ("dataset", "bookings_backfill", "margin", "publish"),
        ("dataset", "bookings_backfill", "revenue", "publish"),
        ("dataset", "bookings_load", "margin", "publish"),
        ("dataset", "bookings_load", "revenue", "publish"),
    ]
    assert {d.dataset for d in facts.dependencies} == {"s3://lake/bookings"}
    orphan = [d for d in facts.diagnostics if d.code == "dataset-without-producer"]
    assert len(orphan) == 2 and all("s3://lake/fx" in d.message for d in orphan)


def test_custom_operator_declared_in_a_rule_file(repo):
    facts = repo({
        "mesh.yaml": """
            version: 1
            rules: [mesh-rules/company.yaml]
        """,
        "mesh-rules/company.yaml": """
            version: 1
            kinds:
              skyflow_sensor: {}
            dependencies:
              - name: SkyflowDagSensor
                kind: skyflow_sensor
                callables: [skyflow.sensors.SkyflowDagSensor]
                dag_argument: {keyword: upstream_dag}
                task_arguments: [upstream_task]
                direction: upstream
        """,
        "plugins/skyflow/__init__.py": "",
        "plugins/skyflow/sensors.py": """
            from airflow.sensors.base import BaseSensorOperator
            class SkyflowDagSensor(BaseSensorOperator):
                def __init__(self, upstream_dag, upstream_task=None, **kwargs):
                    super().__init__(**kwargs)
                    self.upstream_dag = upstream_dag
        """,
        "dags/a.py": """
            from airflow import DAG
            from skyflow.sensors import SkyflowDagSensor
            with DAG("reports") as dag:
                SkyflowDagSensor(task_id="wait", upstream_dag="bookings", upstream_task="load")
        """,
    })
    [dep] = facts.dependencies
    assert (dep.kind, dep.source, dep.target, dep.source_tasks) == ("skyflow_sensor", "bookings", "reports", ("load",))


def test_dangling_target_is_a_diagnostic(repo):
    facts = repo({"dags/a.py": """
        from airflow import DAG
        from airflow.sensors.external_task import ExternalTaskSensor
        with DAG("reports") as dag:
            ExternalTaskSensor(task_id="wait", external_dag_id="ghost")
            ExternalTaskSensor(task_id="self", external_dag_id="reports")
    """})
    unknown = [d for d in facts.diagnostics if d.code == "unknown-dag"]
    assert len(unknown) == 1 and "'ghost'" in unknown[0].message
    assert ("sensor", "reports", "reports", "self") in edges(facts)


def test_assets_pair_on_name_and_uri_and_uris_are_normalised(repo):
    facts = repo({
        "dags/producer.py": """
            from airflow.sdk import DAG, Asset
            from airflow.datasets import Dataset
            from airflow.providers.standard.operators.bash import BashOperator
            with DAG("ledger_load") as dag:
                BashOperator(task_id="named", bash_command="x", outlets=[Asset(name="ledger", uri="s3://x")])
                BashOperator(task_id="table", bash_command="x", outlets=[Dataset("postgres://DWH/db/s/t")])
        """,
        "dags/consumer.py": """
            from airflow.sdk import DAG, Asset
            from airflow.datasets import Dataset
            DAG("by_uri_only", schedule=[Asset("s3://x")])
            DAG("by_name_and_uri", schedule=[Asset(name="ledger", uri="s3://x")])
            DAG("same_table", schedule=[Dataset("postgres://dwh:5432/db/s/t")])
        """,
    })
    assert edges(facts) == [
        ("dataset", "ledger_load", "by_name_and_uri", "named"),
        ("dataset", "ledger_load", "same_table", "table"),
    ]
    assert {d.dataset for d in facts.dependencies} == {"s3://x (asset ledger)", "postgres://dwh:5432/db/s/t"}


def test_task_group_decorator_prefixes_and_mapped_operators(repo):
    facts = repo({"dags/a.py": """
        from airflow.decorators import dag, task_group
        from airflow.sensors.external_task import ExternalTaskSensor
        from airflow.operators.trigger_dagrun import TriggerDagRunOperator

        @dag(schedule=None)
        def reports():
            @task_group(group_id="checks")
            def checks():
                ExternalTaskSensor(task_id="wait_in_group", external_dag_id="bookings")

            @task_group
            def more():
                ExternalTaskSensor(task_id="w", external_dag_id="refunds")

            checks()
            more()
            ExternalTaskSensor.partial(task_id="mapped", external_dag_id="ledger").expand(external_task_id=["a", "b"])
            TriggerDagRunOperator.partial(task_id="fan_out").expand(trigger_dag_id=["x_1", "x_2"])
            ExternalTaskSensor.partial(task_id="dynamic").expand_kwargs(upstreams())

        reports()
    """})
    assert edges(facts) == [
        ("sensor", "bookings", "reports", "checks.wait_in_group"),
        ("sensor", "ledger", "reports", "mapped"),
        ("sensor", "refunds", "reports", "more.w"),
        ("trigger", "reports", "x_1", "fan_out"),
        ("trigger", "reports", "x_2", "fan_out"),
    ]
    [dynamic] = facts.unresolved
    assert dynamic.what == "external_dag_id of ExternalTaskSensor 'dynamic'"
    assert dynamic.reason == "mapped over arguments known only at run time"
