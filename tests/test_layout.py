"""Where DAG files are and where imports resolve, found as Airflow and Python would."""

from __future__ import annotations

from pathlib import Path

from mesh_migrate.analysis import analyze
from mesh_migrate.extract.modules import ModuleFinder
from mesh_migrate.layout import find_layout

from .conftest import write_repo

SENSOR_DAG = """
from airflow import DAG
from airflow.sensors.external_task import ExternalTaskSensor
from {lib} import make_dag_id

with DAG(make_dag_id("orders")):
    ExternalTaskSensor(task_id="wait", external_dag_id="payments")
"""
LIB = "def make_dag_id(name):\n    return f'shop_{name}'\n"


def paths(folders) -> list[str]:
    return [f.path for f in folders]


def test_a_src_layout_with_a_company_library(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "src/dags/shop/orders.py": SENSOR_DAG.format(lib="acme.ids"),
        "src/acme/__init__.py": "",
        "src/acme/ids.py": LIB,
        "src/acme/dag_like.py": "from airflow import DAG\nDAG('library_dag_never_counted')\n",
        "tests/test_orders.py": "from airflow import DAG\nDAG('test_dag_never_counted')\n",
    })
    result = analyze(tmp_path)
    assert [d.dag_id for d in result.facts.dags] == ["shop_orders"]
    assert [(d.source, d.target) for d in result.facts.dependencies] == [("payments", "shop_orders")]
    assert paths(result.layout.dags_folders) == ["src/dags"]
    assert "src" in paths(result.layout.import_roots)
    assert result.facts.modules == ("src/acme/__init__.py", "src/acme/ids.py")


def test_the_dags_folder_declared_in_airflow_settings_wins(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "deploy/airflow.cfg": "[core]\ndags_folder = /opt/airflow/pipelines\n",
        "pipelines/a.py": "from airflow import DAG\nDAG('a')\n",
        "dags/old.py": "from airflow import DAG\nDAG('not_deployed')\n",
    })
    layout = find_layout(tmp_path)
    assert paths(layout.dags_folders) == ["pipelines"]
    assert "dags_folder = /opt/airflow/pipelines in deploy/airflow.cfg" in layout.dags_folders[0].reason


def test_compose_dags_folder_pythonpath_and_commented_settings(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "docker-compose.yml": "services:\n  s:\n    environment:\n      AIRFLOW__CORE__DAGS_FOLDER: /usr/local/airflow/analytics/flows/\n      PYTHONPATH: /app/shared:$PYTHONPATH\n",
        "Dockerfile": "# ENV PYTHONPATH=/opt/ignored\n",
        "flows/a.py": "",
        "shared/x.py": "",
        "ignored/y.py": "",
    })
    layout = find_layout(tmp_path)
    assert paths(layout.dags_folders) == ["flows"]
    assert paths(layout.import_roots)[:2] == ["shared", "flows"]
    assert "ignored" not in paths(layout.import_roots)


def test_plugins_and_config_beside_the_dags_folder_and_an_airflowignore_folder(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "airflow/.airflowignore": "helpers/\n",
        "airflow/a.py": "",
        "airflow/plugins/p.py": "",
        "config/settings.py": "",
    })
    layout = find_layout(tmp_path)
    assert paths(layout.dags_folders) == ["airflow"]


def test_sys_path_edits_with_file_relative_paths(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "dags/team/a.py": "import os, sys\nrepo = os.path.abspath(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))\nsys.path.insert(0, repo)\nsys.path.append(os.path.join(os.path.dirname(__file__), '..', '..', 'vendor'))\n",
        "vendor/v.py": "",
    })
    roots = find_layout(tmp_path).import_roots
    assert {"", "vendor"} <= set(paths(roots))
    assert any("sys.path edited in dags/team/a.py" in r.reason for r in roots if r.path == "vendor")


def test_pytest_pythonpath_and_packaging_metadata(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "pytest.ini": "[pytest]\npythonpath = libs\n",
        "setup.cfg": "[options]\npackage_dir =\n    =pkgs\n",
        "libs/l.py": "",
        "pkgs/p/__init__.py": "",
        "dags/a.py": "",
    })
    assert {"libs", "pkgs"} <= set(paths(find_layout(tmp_path).import_roots))


def test_an_imported_package_found_nowhere_else_is_searched_for(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "dags/orders.py": SENSOR_DAG.format(lib="shoplib.ids"),
        "platform/python/shoplib/__init__.py": "",
        "platform/python/shoplib/ids.py": LIB,
        "platform/python/shoplib/nested/tensorflow/__init__.py": "",
    })
    result = analyze(tmp_path)
    assert [d.dag_id for d in result.facts.dags] == ["shop_orders"]
    searched = [r for r in result.layout.import_roots if r.path == "platform/python"]
    assert searched and "holds package 'shoplib'" in searched[0].reason
    # A package nested in another is no top-level name: never a root of its own.
    assert "platform/python/shoplib/nested" not in paths(result.layout.import_roots)


def test_a_package_wins_over_a_module_and_airflow_is_never_shadowed(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "dags/a.py": "import airflow\nfrom common import PREFIX\nwith airflow.DAG(PREFIX + 'a'):\n    pass\n",
        "dags/common.py": "PREFIX = 'module_'\n",
        "dags/common/__init__.py": "PREFIX = 'package_'\n",
        "airflow/deploy.sh": "",  # a deployment folder named like the library
    })
    assert [d.dag_id for d in analyze(tmp_path).facts.dags] == ["package_a"]


def test_mesh_yaml_overrides_what_is_found(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "mesh.yaml": "version: 1\ndags_folders: [jobs]\npython_paths: [lib]\n",
        "jobs/a.py": "from airflow import DAG\nfrom names import NAME\nDAG(NAME)\n",
        "lib/names.py": "NAME = 'from_lib'\n",
        "dags/b.py": "from airflow import DAG\nDAG('not_a_dags_folder')\n",
    })
    result = analyze(tmp_path)
    assert [d.dag_id for d in result.facts.dags] == ["from_lib"]
    assert [(f.path, f.reason) for f in result.layout.dags_folders] == [("jobs", "mesh.yaml dags_folders")]


def test_without_a_dags_folder_the_whole_repository_counts_but_its_tests(tmp_path: Path) -> None:
    write_repo(tmp_path, {
        "team_a/a.py": "from airflow import DAG\nDAG('a')\n",
        "tests/t.py": "from airflow import DAG\nDAG('t')\n",
    })
    result = analyze(tmp_path)
    assert [d.dag_id for d in result.facts.dags] == ["a"]
    assert result.layout.whole_repository


def test_a_file_is_named_from_the_first_import_root_that_holds_it() -> None:
    finder = ModuleFinder(Path("/repo"), ["dags", "dags/team", "/repo/plugins", "/elsewhere", "../outside", "."])
    names = {
        "dags/team/etl.py": "team.etl",  # dags/ comes first among the roots
        "dags/team/__init__.py": "team",
        "dags/__init__.py": "",
        "plugins/hooks/s3.py": "hooks.s3",  # an absolute root inside the repository
        "tools/run.py": "tools.run",  # the repository itself is the last root
        "dagsx/jobs.py": "dagsx.jobs",  # a folder named like a root's start is not inside it
        "dags/daily.v2.py": "daily.v2",  # only the last suffix is dropped
        "dags/.hidden.py": ".hidden",
        "dags/.py": ".py",  # a name that is all suffix keeps it, as pathlib reads it
        "dags/notes": "notes",
    }
    assert {path: finder.module_name(path) for path in names} == names
