"""Patterns met in real monorepos, written here in our own words: each must give its DAGs and
dependencies, or an unresolved item with the reason, never nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mesh_migrate.analysis import analyze

from .conftest import write_repo

HEADER = """
import enum, functools, os, pathlib
from collections import namedtuple
from dataclasses import dataclass
from airflow import DAG
from airflow.models.baseoperator import chain
from airflow.operators.empty import EmptyOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sensors.external_task import ExternalTaskSensor
"""


def run(tmp_path: Path, files: dict[str, str]):
    files = {path: (HEADER + textwrap.dedent(text) if path.endswith(".py") and path.startswith("dags/") else text) for path, text in files.items()}
    return analyze(write_repo(tmp_path, files)).facts


def ids(facts) -> list[str]:
    return sorted(d.dag_id for d in facts.dags)


def edges(facts) -> list[tuple[str, str, str | None]]:
    return sorted((d.source, d.target, d.task_id) for d in facts.dependencies)


def reasons(facts) -> list[str]:
    return [u.reason for u in facts.unresolved]


def test_pools_and_connections_read_through_properties(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        class Settings:
            def __init__(self, team):
                self._team = team
            @property
            def pool(self):
                return f"{self._team}_pool"
            @property
            def owner(self):
                return self._owner
            @owner.setter
            def owner(self, value):
                self._owner = value.lower()
            @classmethod
            def for_team(cls, team):
                return cls(team)
            @staticmethod
            def dag_id(name):
                return "sales_" + name
        s = Settings.for_team("sales")
        s.owner = "SALES-DATA"
        with DAG(Settings.dag_id("daily"), default_args={"owner": s.owner}):
            EmptyOperator(task_id="t", pool=s.pool)
    """})
    assert ids(facts) == ["sales_daily"]
    assert facts.dags[0].owners == ("sales-data",)
    assert [(r.kind, r.name) for r in facts.resources if r.kind == "pool"] == [("pool", "sales_pool")]
    assert facts.unresolved == ()


def test_owners_and_ids_from_enum_members(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        class Team(enum.Enum):
            ML = "ml-platform"
            DATA = "data-eng"
        class Chip(str, enum.Enum):
            V4 = "v4"
            V5 = "v5"
        OWNERS = {Team.ML: "alice", Team.DATA: "bob"}
        for chip in Chip:
            with DAG(f"train_{chip.value}_{chip.name.lower()}", default_args={"owner": Team.ML.value}):
                pass
        with DAG(f"serve_{Chip.V4}", default_args={"owner": OWNERS[Team("data-eng")]}):
            pass
    """})
    assert ids(facts) == ["serve_v4", "train_v4_v4", "train_v5_v5"]
    assert {d.dag_id: d.owners for d in facts.dags}["serve_v4"] == ("bob",)


def test_task_id_from_a_kwargs_pop_default(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        def wait_for(dag_id, **kwargs):
            task_id = kwargs.pop("sensor_task_id", None) or f"wait_for_{dag_id}"
            return ExternalTaskSensor(task_id=task_id, external_dag_id=dag_id, **kwargs)
        with DAG("consumer"):
            wait_for("producer", timeout=60)
            wait_for("other", sensor_task_id="custom")
    """})
    assert edges(facts) == [("other", "consumer", "custom"), ("producer", "consumer", "wait_for_producer")]


def test_records_generators_reduce_map_filter_and_sorted_keys(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        Job = namedtuple("Job", "name upstream")
        @dataclass
        class Feed:
            name: str
            enabled: bool = True
        def jobs():
            yield Job("a", None)
            yield from [Job("b", "a"), Job("c", "b")]
        feeds = [Feed("x"), Feed("y", enabled=False), Feed("zz")]
        for feed in sorted(filter(lambda f: f.enabled, feeds), key=lambda f: -len(f.name)):
            DAG(functools.reduce(lambda a, b: a + "_" + b, ["feed", feed.name]))
        for job in jobs():
            with DAG(job.name):
                if job.upstream:
                    ExternalTaskSensor(task_id="wait", external_dag_id=job.upstream)
        names = list(map(str.upper, ["p"]))
        DAG(names[0])
    """})
    assert ids(facts) == ["P", "a", "b", "c", "feed_x", "feed_zz"]
    assert edges(facts) == [("a", "b", "wait"), ("b", "c", "wait")]


def test_match_and_while(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        KIND = "batch"
        match KIND:
            case "stream":
                suffix = "live"
            case "batch" | "bulk":
                suffix = "daily"
        n = 0
        while n < 2:
            DAG(f"job_{suffix}_{n}")
            n += 1
    """})
    assert ids(facts) == ["job_daily_0", "job_daily_1"]


def test_ids_from_the_file_name(tmp_path):
    facts = run(tmp_path, {
        "dags/sales/load_orders.py": """
            DAG(os.path.splitext(os.path.basename(__file__))[0])
            DAG(pathlib.Path(__file__).stem + "_v2")
            DAG(f"{pathlib.Path(__file__).parent.name}_{pathlib.Path(__file__).stem}")
        """,
    })
    assert ids(facts) == ["load_orders", "load_orders_v2", "sales_load_orders"]


def test_dag_families_from_data_files_beside_the_code(tmp_path):
    facts = run(tmp_path, {
        "dags/feeds.py": """
            import configparser, csv, json, yaml
            here = os.path.dirname(os.path.abspath(__file__))
            with open(os.path.join(here, "feeds.yaml")) as f:
                for name, spec in yaml.safe_load(f)["feeds"].items():
                    with DAG(f"feed_{name}"):
                        for upstream in spec.get("after", []):
                            ExternalTaskSensor(task_id=f"wait_{upstream}", external_dag_id=f"feed_{upstream}")
            for item in json.load(open(pathlib.Path(here) / "extra.json")):
                DAG(item["id"])
            ini = configparser.ConfigParser()
            ini.read(os.path.join(here, "conf", "streams.ini"))
            for section in ini.sections():
                DAG(ini.get(section, "dag"))
            for row in csv.DictReader(open(here + "/list.csv")):
                DAG(row["dag"])
            for folder in sorted(pathlib.Path(here, "conf").iterdir()):
                if folder.is_dir():
                    DAG("dir_" + folder.name)
        """,
        "dags/feeds.yaml": "feeds:\n  orders: {}\n  invoices: {after: [orders]}\n",
        "dags/extra.json": '[{"id": "from_json"}]',
        "dags/conf/streams.ini": "[one]\ndag = from_ini\n",
        "dags/conf/sub/keep.txt": "",
        "dags/list.csv": "dag,owner\nfrom_csv,x\n",
    })
    assert ids(facts) == ["dir_sub", "feed_invoices", "feed_orders", "from_csv", "from_ini", "from_json"]
    assert edges(facts) == [("feed_orders", "feed_invoices", "wait_orders")]


def test_a_family_from_a_file_that_is_not_there_is_reported(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        import yaml
        for spec in yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "missing.yaml"))):
            DAG(spec["id"])
    """})
    assert ids(facts) == []
    assert any("missing.yaml, which is not a file of the repository" in r for r in reasons(facts))


def test_containers_filled_under_unknown_keys_are_never_silently_empty(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        from collections import defaultdict
        groups = defaultdict(list)
        for name in os.listdir("/somewhere/else"):
            groups[name.split("-")[0]].append(name)
        for group, members in groups.items():
            DAG(f"group_{group}")
        known = defaultdict(list)
        for name in ["a-1", "a-2", "b-1"]:
            known[name.split("-")[0]].append(name)
        for group in known:
            DAG(f"known_{group}")
    """})
    assert ids(facts) == ["known_a", "known_b"]
    assert [u.what for u in facts.unresolved] == ["dag_id"]
    assert "is not a static collection" in facts.unresolved[0].reason or "not static" in facts.unresolved[0].reason


def test_a_costly_statement_is_given_up_and_the_module_goes_on(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        def walk(node, depth):
            if depth == 0:
                return 1
            return sum(walk(node, depth - 1) for _ in range(8))
        total = walk({}, 12)
        with DAG("literal_after_the_walker"):
            pass
    """})
    assert ids(facts) == ["literal_after_the_walker"]
    assert any(d.code == "analysis-budget" for d in facts.diagnostics)


def test_recursion_on_unknown_arguments_is_unknown(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        def flatten(tree):
            if isinstance(tree, dict):
                return [x for v in tree.values() for x in flatten(v)]
            return [tree]
        for name in flatten(os.environ.get("TREE")):
            DAG(name)
        DAG("static")
    """})
    assert ids(facts) == ["static"]
    assert facts.unresolved


def test_tasks_join_the_dag_they_are_linked_to(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        class Step:
            def __init__(self, op):
                self.op = op
            def __rshift__(self, other):
                self.op >> other.op
                return other
        dag = DAG("linked")
        start = EmptyOperator(task_id="start", dag=dag)
        wait = ExternalTaskSensor(task_id="wait", external_dag_id="up")
        start >> wait
        chained = TriggerDagRunOperator(task_id="trigger", trigger_dag_id="down")
        chain(start, [chained])
        late = ExternalTaskSensor(task_id="late", external_dag_id="later_up")
        late.dag = dag
        first = Step(EmptyOperator(task_id="first", dag=dag))
        first >> Step(ExternalTaskSensor(task_id="wrapped", external_dag_id="wrapped_up"))
        ExternalTaskSensor(task_id="orphan", external_dag_id="nobody")
    """})
    assert edges(facts) == [("later_up", "linked", "late"), ("linked", "down", "trigger"), ("up", "linked", "wait"), ("wrapped_up", "linked", "wrapped")]
    assert [u.reason for u in facts.unresolved] == ["the task is not attached to a DAG statically"]


def test_a_dag_wrapper_named_like_airflow_in_a_plugins_package(tmp_path):
    facts = analyze(write_repo(tmp_path, {
        "airflow/dags/a.py": "from company import DAG\nwith DAG('wrapped', owner='x'):\n    pass\n",
        "airflow/plugins/company/__init__.py": "import airflow\ndef DAG(dag_id, owner=None, **kwargs):\n    return airflow.DAG(dag_id, default_args={'owner': owner}, **kwargs)\n",
    })).facts
    assert ids(facts) == ["wrapped"]


def test_a_dag_call_that_gives_no_dag_is_reported(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        from company_lib import create_dag
        create_dag("x")
    """})
    assert ids(facts) == []
    assert [u.what for u in facts.unresolved] == ["DAG"]


def test_gusty_and_dag_factory_files(tmp_path):
    facts = run(tmp_path, {
        "dags/gusty_dags.py": """
            from gusty import create_dag
            here = pathlib.Path(__file__).parent
            for child in here.iterdir():
                if child.is_dir() and not child.name.startswith("__"):
                    globals()[child.name] = create_dag(str(child))
        """,
        "dags/sales_load/METADATA.yml": "description: loads sales\n",
        "dags/finance_close/METADATA.yml": "dag_id: finance_month_close\n",
        "dags/factory.py": """
            import dagfactory
            dagfactory.load_yaml_dags(globals_dict=globals(), suffix=["dag.yml"])
        """,
        "dags/__configs__/ops.dag.yml": "default: {default_args: {owner: ops}}\nops_cleanup: {schedule: '@daily'}\nops_backup: {}\n",
    })
    assert ids(facts) == ["finance_month_close", "ops_backup", "ops_cleanup", "sales_load"]
    assert {d.dag_id: d.owners for d in facts.dags}["ops_backup"] == ("ops",)


def test_environment_pins_choose_the_production_ids(tmp_path):
    files = {"dags/a.py": """
        from airflow.models import Variable
        env = os.environ.get("DEPLOYMENT", "DEV")
        for name, where in {"ptc": ["PROD"], "dev_only": ["DEV"]}.items():
            if env in where:
                DAG(f"pull_{name}")
        DAG("cfg_" + Variable.get("env"))
    """}
    unpinned = run(tmp_path, files)
    assert ids(unpinned) == ["pull_dev_only", "pull_ptc"]  # each exists in some deployment
    assert [d.code for d in unpinned.diagnostics if d.code == "conditional-dag"] == ["conditional-dag", "conditional-dag"]
    assert any("environment variable DEPLOYMENT" in d.message for d in unpinned.diagnostics)
    assert any("Airflow Variable env" in r for r in reasons(unpinned))
    (tmp_path / "mesh.yaml").write_text("version: 1\nenvironment:\n  variables: {DEPLOYMENT: PROD}\n  airflow_variables: {env: prod}\n")
    assert ids(analyze(tmp_path).facts) == ["cfg_prod", "pull_ptc"]


def test_an_operator_subclass_reexported_under_airflows_name_and_mapped(tmp_path):
    facts = analyze(write_repo(tmp_path, {
        "dags/lib/trigger.py": "from airflow.operators.trigger_dagrun import TriggerDagRunOperator as Base\nclass TriggerDagRunOperator(Base):\n    def __init__(self, skip=False, **kwargs):\n        super().__init__(**kwargs)\n        self.skip = skip\n",
        "dags/etl.py": "from airflow import DAG\nfrom lib.trigger import TriggerDagRunOperator\nwith DAG('etl'):\n    TriggerDagRunOperator.partial(task_id='ingest', trigger_dag_id='ingest').expand(conf=[{}, {}])\n    TriggerDagRunOperator(task_id='qc', trigger_dag_id='qc', skip=bool(1))\n",
    })).facts
    assert sorted((d.target, d.span.line) for d in facts.dependencies) == [("ingest", 4), ("qc", 5)]


def test_dag_ids_airflow_refuses_are_errors(tmp_path):
    facts = run(tmp_path, {"dags/a.py": "DAG('homework 2')\nDAG('fine.id-2')\n"})
    assert ids(facts) == ["fine.id-2"]
    assert [d.code for d in facts.diagnostics if d.severity == "error"] == ["invalid-dag-id"]


def test_the_same_dag_in_both_branches_of_a_switch_is_no_duplicate(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        if os.environ.get("ENV") == "prod":
            DAG("ledger", schedule="@daily")
        else:
            DAG("ledger", schedule=None)
    """})
    assert ids(facts) == ["ledger"]
    assert not [d for d in facts.diagnostics if d.code == "duplicate-dag-id"]


def test_a_list_filtered_by_the_environment_keeps_its_possible_items(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        PULLERS = {"ptc": {"deployments": ["PROD"]}, "sirius": {"deployments": ["DEV", "PROD"]}, "bigdata": {"deployments": ["DEV"]}}
        deployment = os.environ.get("DEPLOYMENT", "PROD")
        for name in [key for key, spec in PULLERS.items() if deployment in spec["deployments"]]:
            globals()[f"pull_{name}"] = DAG(f"pull_{name}")
    """})
    assert ids(facts) == ["pull_bigdata", "pull_ptc", "pull_sirius"]
    conditional = [d.message for d in facts.diagnostics if d.code == "conditional-dag"]
    assert len(conditional) == 3 and all("DEPLOYMENT" in m for m in conditional)


def test_default_args_merged_with_dict_union(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        BASE = {"owner": "platform", "retries": 1}
        with DAG("merged", default_args=BASE | {"owner": "sales"}):
            pass
    """})
    assert facts.dags[0].owners == ("sales",)


def test_a_cause_inside_a_library_function_is_reported_at_its_origin(tmp_path):
    facts = run(tmp_path, {
        "plugins/ids.py": "import os\n\ndef dag_id(name):\n    return os.environ['PREFIX'] + name\n",
        "dags/a.py": "from ids import dag_id\nDAG(dag_id('a'))\nDAG(dag_id('b'))\n",
    })
    assert {(u.origin.path, u.origin.line) for u in facts.unresolved} == {("plugins/ids.py", 4)}
    assert len({u.span.line for u in facts.unresolved}) == 2  # each call site in the DAG file


def test_python_312_fstrings_are_read_on_311(tmp_path):
    facts = run(tmp_path, {"dags/a.py": """
        CONF = {"name": "orders", "sep": "_"}
        with DAG(f"{CONF["name"]}{CONF["sep"]}daily"):
            print(f"tables:{"\\n".join(["a", "b"])}")
        with DAG(f"{CONF['name']}_hourly"):
            pass
    """})
    assert ids(facts) == ["orders_daily", "orders_hourly"]
    assert not [d for d in facts.diagnostics if d.code == "parse-error"]


def test_paths_built_with_os_constants(tmp_path):
    facts = run(tmp_path, {
        "dags/a.py": """
            from os import pardir
            conf = os.path.normpath(os.path.join(os.path.dirname(__file__), pardir, "conf"))
            for name in sorted(os.listdir(conf)):
                if os.path.isdir(os.path.join(conf, name)):
                    DAG(f"stream_{name}")
        """,
        "conf/alpha/x.ini": "",
        "conf/beta/x.ini": "",
        "conf/readme.txt": "",
    })
    assert ids(facts) == ["stream_alpha", "stream_beta"]


def test_a_dict_filtered_by_a_run_time_condition_is_unknown_not_an_error(tmp_path):
    """A config merged from a file read at run time, keeping only the keys a dataclass
    knows: which keys stay is known only then."""
    facts = run(tmp_path, {"dags/a.py": """
        import dataclasses
        @dataclass
        class Job:
            machine: str = "small"
            zone: str = "us"
        def build(**overrides):
            known = {f.name for f in dataclasses.fields(Job)}
            return Job(**{k: v for k, v in overrides.items() if k in known})
        job = build(zone="eu", extra=1)
        with DAG(f"job_{job.zone}"):
            EmptyOperator(task_id="run")
    """})
    assert [d.code for d in facts.diagnostics if d.severity == "error"] == []
    assert ids(facts) == []
    assert any("which keys it holds is kept by a filter that is not static" in reason for reason in reasons(facts)), reasons(facts)
