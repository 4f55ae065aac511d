"""Cloud resources as facts, and the identity plan of each team (iam/<team>.yaml and .tf)."""

from __future__ import annotations

import textwrap

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from mesh_migrate.analysis import analyze
from mesh_migrate.check.findings import collect
from mesh_migrate.cli import main
from mesh_migrate.config import load_config
from mesh_migrate.rulepack import load_rule_pack
from mesh_migrate.yamlio import ConfigError

from .conftest import SKYFLOW, write_repo

MONOLITH = {
    "mesh.yaml": """
        version: 1
        identity: {service_account: "af-{team}@{project}.iam.gserviceaccount.com", project: mesh-prod}
        teams:
          ml: {paths: ["dags/ml/**"]}
          ads: {paths: ["dags/ads/**"]}
    """,
    "dags/ml/export.py": """
        from airflow import DAG
        from airflow.operators.python import PythonOperator
        from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
        from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator

        SA = ["platform@p.iam.gserviceaccount.com", "ml@p.iam.gserviceaccount.com"]

        def publish(ds):
            from airflow.providers.google.cloud.hooks.gcs import GCSHook
            GCSHook().upload(bucket_name="features", object_name=ds, filename="/tmp/x")

        with DAG("ml_export") as dag:
            GCSToBigQueryOperator(
                task_id="load",
                bucket="landing",
                source_objects=["x/*.csv"],
                destination_project_dataset_table="proj:ml.features",
                impersonation_chain=SA,
            )
            PythonOperator(task_id="publish", python_callable=publish)
    """,
    "dags/ads/audiences.py": """
        from airflow import DAG
        from airflow.operators.bash import BashOperator
        from airflow.providers.google.cloud.hooks.gcs import GCSHook
        from airflow.operators.python import PythonOperator

        def fetch():
            GCSHook(gcp_conn_id="g").download(bucket_name="features", object_name="a")

        with DAG("ads_audiences") as dag:
            PythonOperator(task_id="fetch", python_callable=fetch)
            BashOperator(task_id="sync", bash_command="aws s3 cp s3://ads-out/a.csv gs://{{ var.value.b }}/a.csv")
    """,
}


@pytest.fixture
def monolith(tmp_path):
    write_repo(tmp_path, MONOLITH)
    return analyze(tmp_path)


def terraform(text: str):
    """The parsed HCL, with the quotes python-hcl2 keeps around names and strings taken off."""

    def plain(value):
        if isinstance(value, dict):
            return {plain(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value[1:-1] if isinstance(value, str) and len(value) > 1 and value[0] == value[-1] == '"' else value

    return plain(hcl2.loads(text))


def cloud(facts):
    return sorted((r.kind, r.name, r.dag, r.access, r.identity) for r in facts.resources if r.kind not in ("connection", "variable", "pool", "module"))


def test_cloud_resources_are_facts_with_access_and_identity(monolith):
    assert cloud(monolith.facts) == [
        ("bigquery_table", "proj.ml.features", "ml_export", "write", "ml@p.iam.gserviceaccount.com"),
        ("gcp_service_account", "ml@p.iam.gserviceaccount.com", "ml_export", "delegate", None),
        ("gcp_service_account", "platform@p.iam.gserviceaccount.com", "ml_export", "impersonate", None),
        ("gcs_bucket", "features", "ads_audiences", "read", None),
        ("gcs_bucket", "features", "ml_export", "write", None),
        ("gcs_bucket", "landing", "ml_export", "read", "ml@p.iam.gserviceaccount.com"),
        ("s3_bucket", "ads-out", "ads_audiences", None, None),
    ]
    jinja = [u for u in monolith.facts.unresolved if u.what.startswith("gcs_bucket")]
    assert [(u.expression, u.reason) for u in jinja] == [("gs://{{ var.value.b }}", "Jinja template, rendered only at run time")]


def test_check_reports_a_resource_another_team_writes(monolith):
    found = [f for f in collect(monolith) if f.code == "MM106"]
    assert [(f.file, f.team) for f in found] == [("dags/ads/audiences.py", "ads")]
    assert "owned by ml" in found[0].message and "gcs_bucket 'features'" in found[0].message


def test_analyze_out_writes_iam_yaml_and_terraform_that_parses(monolith, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["analyze", str(monolith.root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    ml = yaml.safe_load((out / "iam" / "ml.yaml").read_text())
    ads = yaml.safe_load((out / "iam" / "ads.yaml").read_text())
    assert ml["service_account"] == "af-ml@mesh-prod.iam.gserviceaccount.com"
    assert [n["name"] for n in ml["impersonate"]] == ["platform@p.iam.gserviceaccount.com"]
    # The shared bucket is on both teams' plans, with who owns it.
    assert {s["name"]: s["owners"] for s in ml["shared"]} == {"features": ["ml"]}
    assert {s["name"]: s["owners"] for s in ads["shared"]} == {"features": ["ml"]}
    for team in ("ml", "ads"):
        tf = terraform((out / "iam" / f"{team}.tf").read_text())
        assert tf["locals"]
    resources = terraform((out / "iam" / "ml.tf").read_text())["resource"]
    kinds: dict[str, list] = {}
    for entry in resources:
        for kind, named in entry.items():
            kinds.setdefault(kind, []).extend(named.values())
    (token,) = kinds["google_service_account_iam_member"]
    assert token["role"] == "roles/iam.serviceAccountTokenCreator"
    (bucket,) = kinds["google_storage_bucket_iam_member"]
    assert (bucket["bucket"], bucket["role"]) == ("features", "roles/storage.objectAdmin")
    plan = (out / "plans" / "ads.md").read_text()
    assert "`features` (read)" in plan and "iam/ads.yaml" in plan
    assert "Cloud resources shared by several teams (ownership to settle): 1" in (out / "summary.md").read_text()


def test_a_company_adds_cloud_keywords_and_writers_without_code(tmp_path):
    write_repo(tmp_path, {
        "mesh.yaml": "version: 1\nrules: [rules.yaml]\n",
        "rules.yaml": """
            version: 1
            cloud_resources:
              keywords:
                - {kind: lakehouse_table, keywords: [lake_table], callables: ["acme.*"]}
              access:
                - {access: write, callables: ["acme.ops.Publish"]}
        """,
        "dags/a.py": """
            from airflow import DAG
            from acme.ops import Publish, Other
            with DAG("a") as dag:
                Publish(task_id="p", lake_table="sales.orders")
                Other(task_id="o", lake_table="sales.returns")
        """,
    })
    facts = analyze(tmp_path).facts
    assert [(r.name, r.access) for r in facts.resources if r.kind == "lakehouse_table"] == [("sales.orders", "write"), ("sales.returns", None)]


def test_rule_file_problems_are_reported_together_with_lines(tmp_path):
    rules = tmp_path / "bad.yaml"
    rules.write_text(textwrap.dedent("""
        version: 1
        cloud_resources:
          keywords:
            - {keywords: [x]}
            - {kind: k, keywords: oops}
          uris: {"S3!": s3_bucket}
          access:
            - {access: sometimes, keywords: [y]}
            - {access: read}
          extra: 1
    """))
    with pytest.raises(ConfigError) as error:
        load_rule_pack([("bad.yaml", rules)])
    lines = sorted((p.line, p.message.split(" ")[0]) for p in error.value.problems)
    assert [line for line, _ in lines] == [5, 6, 7, 9, 10, 11]


def test_identity_in_mesh_yaml_is_validated_with_lines(tmp_path):
    (tmp_path / "mesh.yaml").write_text("version: 1\nidentity:\n  service_account: \"airflow@{proj}.example\"\n  project: 3\n  region: eu\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert sorted(p.line for p in error.value.problems) == [3, 4, 5]


def test_skyflow_cloud_resources_identities_and_findings(skyflow):
    found = {(r.kind, r.name, r.dag, r.span.path, r.span.line) for r in skyflow.facts.resources}
    for expected in (
        ("gcp_service_account", "data-platform@skyflow-platform.iam.gserviceaccount.com", "ml_platform_feature_export", "dags/ml_platform/feature_export_gcp.py", 28),
        ("bigquery_dataset", "skyflow-ml.features", "ml_platform_feature_export", "dags/ml_platform/feature_export_gcp.py", 29),
        ("bigquery_table", "skyflow-ml.features.daily", "ml_platform_feature_export", "dags/ml_platform/feature_export_gcp.py", 30),
        ("gcs_bucket", "skyflow-ml-features", "ml_platform_feature_export", "dags/ml_platform/feature_export_gcp.py", 44),
        ("bigquery_dataset", "skyflow-ml.features", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 26),
        ("gcs_bucket", "skyflow-ml-features", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 27),
        ("cloudsql_instance", "crm-replica", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 28),
        ("gcp_secret", "ads-api-key", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 29),
        ("snowflake_warehouse", "MARKETING_WH", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 34),
        ("snowflake_role", "MARKETING_RW", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 34),
        ("s3_bucket", "skyflow-marketing", "marketing_audience_sync", "dags/marketing/marketing_audience_sync.py", 51),
        ("s3_bucket", "skyflow-lake", "flights_bookings_daily", "dags/flights/flights_bookings_daily.py", 32),
        ("s3_bucket", "skyflow-content", "ancillaries_seat_maps", "dags/ancillaries/seat_maps.py", 21),
        ("s3_bucket", "skyflow-artifacts", "data_platform_lake_compaction", "dags/data_platform/lake_compaction.py", 43),
    ):
        assert expected in found, expected
    identities = {p.team: p for p in skyflow.identities}
    assert identities["marketing"].service_account == "airflow-marketing@skyflow-mesh.iam.gserviceaccount.com"
    shared = {n.name for n in identities["marketing"].shared} & {n.name for n in identities["ml_platform"].shared}
    assert {"skyflow-ml-features", "skyflow-ml.features"} <= shared
    mm106 = {(f.file, f.line) for f in collect(skyflow) if f.code == "MM106"}
    assert ("dags/marketing/marketing_audience_sync.py", 26) in mm106
