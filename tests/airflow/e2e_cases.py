"""End-to-end cases of the codemod's output against a real Airflow API server, run inside an Airflow venv.

    python e2e_cases.py SERVER_JSON

SERVER_JSON describes the upstream server (major, url, username, password: its admin) that
tests/airflow/e2e.py started, the repository `mesh-migrate codemod --team downstream --apply`
rewrote (repo), and the login the downstream instance's connection uses there (conn_login,
conn_password: on Airflow 2 the user of the generated access role). Each case arranges
upstream runs and task states over the REST API as the admin, then runs one task of the
rewritten downstream DAGs (dags/downstream) through poke(), execute() or the post_execute
hook, for the case's logical date, and checks the outcome. The helper module and its registry
are the ones the codemod wrote (lib/); the registry's connection id is set from the
environment, as on a real instance. Prints one JSON line per case.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import types
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

SERVER = json.loads(sys.argv[1])
MAJOR = SERVER["major"]
OTHER = 2 if MAJOR == 3 else 3
REPO = Path(SERVER["repo"])
DOWNSTREAM = REPO / "dags" / "downstream"
LIB = REPO / "lib"  # the import root the codemod wrote mesh_http.py and mesh_registry.json into
REGISTRY = json.loads((LIB / "mesh_registry.json").read_text(encoding="utf-8"))
CONN_ID = REGISTRY["instances"]["upstream"]["conn_id"]
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"


def _conn(url: str, login: str, password: str, **extra: Any) -> str:
    return json.dumps({"conn_type": "http", "host": url, "login": login, "password": password, "extra": extra})


# The registry says api_version 2 (mesh.yaml's); the connection of an Airflow 3 upstream says 3.
CONNECTION = _conn(SERVER["url"], SERVER["conn_login"], SERVER["conn_password"], **({"api_version": 3} if MAJOR == 3 else {}))
os.environ[CONN_ENV] = CONNECTION
sys.path.insert(0, str(LIB))

import requests  # noqa: E402
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSkipException, TaskDeferred  # noqa: E402

import mesh_http  # noqa: E402


# ---------------------------------------------------------------- the upstream server, as its admin


class Admin:
    def __init__(self) -> None:
        self.root = SERVER["url"] + ("/api/v1" if MAJOR == 2 else "/api/v2")
        self.session = requests.Session()
        if MAJOR == 2:
            self.session.auth = (SERVER["username"], SERVER["password"])
        else:
            token = requests.post(SERVER["url"] + "/auth/token", json={"username": SERVER["username"], "password": SERVER["password"]}, timeout=30)
            self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        answer = self.session.request(method, self.root + path, json=body, params=params or None, timeout=60)
        if answer.status_code >= 300:
            raise AssertionError(f"arrange: {method} {path} -> {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    def run(self, dag_id: str, date: datetime.datetime, state: str | None = None) -> str:
        run_id = f"e2e__{date.date().isoformat()}"
        self.call("POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": date.isoformat(), "conf": {}})
        if state:
            self.set_run(dag_id, run_id, state)
        return run_id

    def task(self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int | None = None) -> None:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}" + ("" if map_index is None else f"/{map_index}")
        self.call("PATCH", path, {"new_state": state, "dry_run": False} if MAJOR == 2 else {"new_state": state})

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def set_run(self, dag_id: str, run_id: str, state: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}", {"state": state})


ADMIN = Admin()


# ---------------------------------------------------------------- the downstream task and its context


def day(number: int) -> datetime.datetime:
    return datetime.datetime(2024, 3, number, tzinfo=datetime.timezone.utc)


@contextmanager
def connection(value: str) -> Iterator[None]:
    """The registry's connection set to VALUE for a while, as an operator might misconfigure it."""
    os.environ[CONN_ENV] = value
    try:
        yield
    finally:
        os.environ[CONN_ENV] = CONNECTION


def fresh_module(file: str = "down_dags.py") -> Any:
    """A fresh import of a rewritten downstream DAG file (rendering changes a task in place)."""
    spec = importlib.util.spec_from_file_location(f"downstream_{time.monotonic_ns()}", DOWNSTREAM / file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh_task(task_id: str) -> Any:
    return fresh_module().dag.get_task(task_id)


class RunningTaskInstance:
    """The task instance fields an operator reads from its context while it runs (ids, try, XCom)."""

    def __init__(self, task: Any, run_id: str, try_number: int) -> None:
        self.dag_id, self.task_id, self.map_index, self.try_number = task.dag_id, task.task_id, -1, try_number
        self.run_id = run_id
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any, **_: Any) -> None:
        self.xcoms[key] = value


def context_for(task: Any, date: datetime.datetime, try_number: int = 1) -> dict[str, Any]:
    """The template context of a scheduled run of the downstream DAG at `date`, templates rendered."""
    run_id = f"scheduled__{date.isoformat()}"
    ti = RunningTaskInstance(task, run_id, try_number)
    context = {
        "dag": task.dag, "task": task, "ti": ti, "task_instance": ti, "run_id": run_id,
        "logical_date": date, "ds": date.strftime("%Y-%m-%d"), "ds_nodash": date.strftime("%Y%m%d"), "ts": date.isoformat(),
        "dag_run": types.SimpleNamespace(dag_id=task.dag_id, run_id=run_id, logical_date=date, run_after=date),
        "params": dict(task.params) if MAJOR == 3 else task.params,
    }
    task.render_template_fields(context)
    return context


def raises(kind: type[BaseException], call: Callable[[], Any], *words: str) -> BaseException:
    started = time.monotonic()
    try:
        call()
    except kind as error:
        text = str(error)
        for word in words:
            assert word in text, f"{kind.__name__} without {word!r}: {text}"
        assert time.monotonic() - started < 20, "took too long to fail"
        return error
    raise AssertionError(f"expected {kind.__name__}")


def poke(task_id: str, date: datetime.datetime) -> bool:
    task = fresh_task(task_id)
    return task.poke(context_for(task, date))


# ---------------------------------------------------------------- cases

CASES: list[tuple[str, Callable[[], str]]] = []


def case(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def register(function: Callable[[], str]) -> Callable[[], str]:
        CASES.append((name, function))
        return function

    return register


@case("the rewritten DAGs folder parses (DagBag)")
def _parses() -> str:
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DOWNSTREAM), include_examples=False)
    assert not bag.import_errors, bag.import_errors
    assert set(bag.dag_ids) == {"down", "down_sink", "down_orders", "down_run"}, bag.dag_ids
    tasks = [task for dag_id in bag.dag_ids for task in bag.get_dag(dag_id).tasks]
    routed = [task for task in tasks if isinstance(task, (mesh_http.ExternalTaskSensor, mesh_http.TriggerDagRunOperator))]
    others = {type(task).__name__ for task in tasks if task not in routed}
    assert others == {"EmptyOperator"}, others  # every sensor and trigger is the helper module's
    return f"{len(bag.dag_ids)} DAGs, no import errors, {len(routed)} of {len(tasks)} tasks the helper module's classes; mesh_http.py in lib/, outside the DAGs folder"


@case("success -> done")
def _success() -> str:
    assert poke("wait_publish", day(1)) is False
    run_id = ADMIN.run("up_tasks", day(1))
    assert poke("wait_publish", day(1)) is False, "done before publish succeeded"
    ADMIN.task("up_tasks", run_id, "publish", "success")
    assert poke("wait_publish", day(1)) is True
    assert poke("wait_publish_yesterday", day(2)) is True, "execution_delta"
    assert poke("wait_publish_fn", day(2)) is False, "execution_date_fn: the day itself has no run yet"
    ADMIN.task("up_tasks", ADMIN.run("up_tasks", day(2)), "publish", "success")
    assert poke("wait_publish_fn", day(2)) is True, "execution_date_fn: both days done"
    task = fresh_task("wait_publish")
    assert task.execute(context_for(task, day(1))) is None, "the sensor's own poke loop"
    if MAJOR == 3:  # a run without a logical date: Airflow 3 falls back on dag_run.run_after
        task = fresh_task("wait_publish")
        context = context_for(task, day(1))
        context["logical_date"] = None
        assert task.poke(context) is True, "run_after"
    return "publish success seen by poke() and execute(); execution_delta and execution_date_fn (a list of dates); run_after on 3.x"


@case("trigger body and logical date (no server)")
def _pure() -> str:
    normal = mesh_http.normalise_logical_date
    assert normal("2024-03-01") == "2024-03-01T00:00:00+00:00"
    assert normal("2024-03-01T05:06:07Z") == "2024-03-01T05:06:07+00:00"
    assert normal("2024-03-01 05:06:07+02:00") == "2024-03-01T05:06:07+02:00"
    assert normal(datetime.datetime(2024, 3, 1, 5)) == "2024-03-01T05:00:00+00:00"
    assert normal(None) is None
    raises(AirflowFailException, lambda: normal("yesterday"), "yesterday")
    assert mesh_http.rendered_conf('{"n": 1}') == {"n": 1}
    raises(AirflowFailException, lambda: mesh_http.rendered_conf({"when": datetime.date(2024, 1, 1)}), "JSON")
    assert mesh_http.trigger_body(3, "r", None, None) == {"dag_run_id": "r", "conf": {}, "logical_date": None}
    assert mesh_http.trigger_body(2, "r", None, {"a": 1}) == {"dag_run_id": "r", "conf": {"a": 1}}
    return "dates normalised to ISO-8601 with a timezone; JSON conf decoded; Airflow 3 body always has logical_date"


@case("no run -> waits")
def _no_run() -> str:
    assert poke("wait_publish", day(20)) is False
    assert poke("wait_missing_dag", day(20)) is False, "a DAG not there yet is 'not yet' without check_existence"
    return "False for a date without a run and for a DAG not there yet"


@case("deferrable sensor frees the worker")
def _deferred() -> str:
    task = fresh_task("wait_deferred")
    context = context_for(task, day(3))
    deferred = raises(TaskDeferred, lambda: task.execute(context))
    trigger = deferred.trigger
    classpath, kwargs = trigger.serialize()
    assert classpath.endswith("temporal.DateTimeTrigger"), classpath
    wait = (kwargs["moment"] - mesh_http._now()).total_seconds()
    assert 5 < wait <= 7.5, f"deferred for {wait}s, poll_interval is 7"
    run_id = ADMIN.run("up_tasks", day(3))
    ADMIN.task("up_tasks", run_id, "publish", "success")
    assert task.resume_execution(deferred.method_name, {**deferred.kwargs, "event": None}, context) is None
    return f"deferred with {classpath.rsplit('.', 1)[1]} for {wait:.1f}s; resumed after success and finished"


@case("failed with failed_states -> fails at once")
def _failed() -> str:
    run_id = ADMIN.run("up_tasks", day(4))
    ADMIN.task("up_tasks", run_id, "publish", "failed")
    raises(AirflowFailException, lambda: poke("wait_or_fail", day(4)), "failed")
    raises(AirflowSkipException, lambda: poke("wait_soft", day(4)), "soft_fail")
    assert poke("wait_publish", day(4)) is False, "without failed_states a failed task is waited on, as Airflow does"
    run_id = ADMIN.run("up_tasks", day(5))
    ADMIN.task("up_tasks", run_id, "publish", "skipped")
    raises(AirflowSkipException, lambda: poke("wait_or_skip", day(5)))
    return "AirflowFailException on failed; skip on skipped_states; keeps waiting without failed_states"


@case("task group (prefix and prefix_group_id=False)")
def _group() -> str:
    run_id = ADMIN.run("up_tasks", day(6))
    assert poke("wait_load_group", day(6)) is False
    ADMIN.task("up_tasks", run_id, "load.rows", "success")
    assert poke("wait_load_group", day(6)) is False, "half the group done"
    ADMIN.task("up_tasks", run_id, "load.index", "success")
    assert poke("wait_load_group", day(6)) is True
    assert poke("wait_flat_group", day(6)) is False
    ADMIN.task("up_tasks", run_id, "flat_a", "success")
    ADMIN.task("up_tasks", run_id, "flat_b", "success")
    assert poke("wait_flat_group", day(6)) is True
    assert poke("wait_no_group", day(6)) is False, "a group the DAG does not have (yet) is waited on"
    run_id = ADMIN.run("up_tasks", day(7))
    ADMIN.task("up_tasks", run_id, "load.rows", "failed")
    raises(AirflowFailException, lambda: poke("wait_load_group", day(7)), "failed")
    return "group load by prefix, group flat by the registry's task ids, failed member fails"


@case("mapped task (every map index)")
def _mapped() -> str:
    run_id = ADMIN.run("up_tasks", day(8))
    ADMIN.task("up_tasks", run_id, "fan", "success", map_index=0)
    ADMIN.task("up_tasks", run_id, "fan", "success", map_index=1)
    assert poke("wait_mapped", day(8)) is False, "done with one map index still to run"
    ADMIN.task("up_tasks", run_id, "fan", "success", map_index=2)
    assert poke("wait_mapped", day(8)) is True
    ADMIN.task("up_tasks", run_id, "fan", "failed", map_index=1)
    raises(AirflowFailException, lambda: poke("wait_mapped", day(8)), "failed")
    return "3 map indexes: False at 2/3, True at 3/3, fails when one fails"


@case("whole DAG")
def _whole_dag() -> str:
    ADMIN.run("up_tasks", day(9), "success")
    assert poke("wait_dag", day(9)) is True
    ADMIN.run("up_tasks", day(10), "queued")
    assert poke("wait_dag", day(10)) is False
    ADMIN.run("up_tasks", day(11), "failed")
    raises(AirflowFailException, lambda: poke("wait_dag", day(11)), "failed")
    return "success -> True, queued -> False, failed -> fails"


@case(">100 task instances")
def _wide() -> str:
    ADMIN.run("up_wide", day(12), "success")
    assert poke("wait_wide_group", day(12)) is True
    assert poke("wait_wide_tasks", day(12)) is True
    run_id = ADMIN.run("up_wide", day(13))
    ADMIN.task("up_wide", run_id, "publish", "success")
    assert poke("wait_wide_tasks", day(13)) is False, "151 tasks, only publish done"
    assert poke("wait_wide_group", day(13)) is False
    ADMIN.task("up_wide", run_id, "parts.part_149", "failed")
    raises(AirflowFailException, lambda: poke("wait_wide_group", day(13)), "failed")
    return "150-task group and 151 task ids over pages of 100"


@case("check_existence")
def _existence() -> str:
    raises(AirflowFailException, lambda: poke("check_missing_dag", day(1)), "does not exist")
    raises(AirflowFailException, lambda: poke("check_missing_task", day(1)), "nope", "does not exist")
    return "missing DAG and missing task fail at once"


@case("trigger with conf and templated logical date")
def _trigger() -> str:
    task = fresh_task("trigger_ds")
    task.execute(context_for(task, day(14)))
    run = ADMIN.dag_run("up_target", "manual__2024-03-14T00:00:00+00:00")
    conf = run["conf"]
    assert conf == {"rows": 3, "ratio": 0.5, "flag": True, "note": 'say "hi"\nbye', "day": "2024-03-14", "nested": {"ids": [1, 2]}}, conf
    assert datetime.datetime.fromisoformat(run["logical_date"].replace("Z", "+00:00")) == day(14), run["logical_date"]
    task = fresh_task("trigger_logical_date")
    context = context_for(task, day(15))
    task.execute(context)
    run = ADMIN.dag_run("up_target", "manual__2024-03-15T00:00:00+00:00")
    assert run["conf"] == {"source": "down"}, run["conf"]
    assert context["ti"].xcoms["trigger_run_id"] == run["dag_run_id"]
    task = fresh_task("trigger_no_date")
    context = context_for(task, day(23))
    task.execute(context)
    run = ADMIN.dag_run("up_target", context["ti"].xcoms["trigger_run_id"])
    assert run["dag_run_id"] == mesh_http.run_id_for(context), run["dag_run_id"]
    if MAJOR == 3:
        assert run["logical_date"] is None, run["logical_date"]  # Airflow 3: a run without a logical date
    else:
        assert abs((datetime.datetime.fromisoformat(run["logical_date"]) - mesh_http._now()).total_seconds()) < 120  # Airflow 2: now
    return 'conf kept its types, quotes and newline; "{{ ds }}" and "{{ logical_date }}" became full timestamps; logical_date=None: null on 3.x, now on 2.x'


@case("loop over targets of two teams")
def _loop() -> str:
    remote = fresh_task("fan_out_up_target")
    remote.execute(context_for(remote, day(25)))
    run = ADMIN.dag_run("up_target", "manual__2024-03-25T00:00:00+00:00")
    assert run["conf"] == {"from": "down"}, run["conf"]
    own = fresh_task("fan_out_down_sink")
    assert type(own) is type(remote) and isinstance(own, mesh_http.TriggerDagRunOperator), type(own)
    assert mesh_http.remote_api(own.trigger_dag_id, None) is None, "a DAG of this team is triggered by Airflow itself"
    return "the loop's one class: up_target triggered over REST, down_sink left to Airflow's own trigger"


def later(seconds: float, action: Callable[[], Any]) -> threading.Thread:
    """Run `action` after `seconds` in the background, while the task runs in the main thread as it does in Airflow."""

    def act() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def wait_for_run(dag_id: str, run_id: str) -> None:
    for _ in range(40):
        try:
            ADMIN.dag_run(dag_id, run_id)
            return
        except AssertionError:
            time.sleep(0.25)


@case("waiting trigger (poke and deferrable)")
def _waiting_trigger() -> str:
    task = fresh_task("trigger_and_wait")
    context = context_for(task, day(16))
    run_id = "manual__2024-03-16T00:00:00+00:00"
    finisher = later(0, lambda: (wait_for_run("up_target", run_id), time.sleep(2.5), ADMIN.set_run("up_target", run_id, "success")))
    started = time.monotonic()
    task.execute(context)
    waited = time.monotonic() - started
    finisher.join(5)
    assert waited >= 2.5, f"returned after {waited:.1f}s, before the run finished"
    task = fresh_task("trigger_and_defer")
    context = context_for(task, day(17))
    deferred = raises(TaskDeferred, lambda: task.execute(context))
    assert deferred.kwargs["run_id"] == "manual__2024-03-17T00:00:00+00:00"
    ADMIN.set_run("up_target", deferred.kwargs["run_id"], "failed")
    raises(AirflowException, lambda: task.resume_execution(deferred.method_name, {**deferred.kwargs, "event": None}, context), "failed")
    return f"poke mode waited {waited:.1f}s until success; deferrable defers between checks and fails on a failed run"


@case("retry after 409 adopts; reset; skip")
def _retry() -> str:
    first = fresh_task("trigger_retried")
    first.wait_for_completion = False  # the first try stops right after the POST (worker lost, say)
    first.execute(context_for(first, day(18)))
    run_id = mesh_http.run_id_for(context_for(first, day(18)))
    retry = fresh_task("trigger_retried")
    context = context_for(retry, day(18), try_number=2)
    finisher = later(2.5, lambda: ADMIN.set_run("up_target", run_id, "success"))
    started = time.monotonic()
    retry.execute(context)
    waited = time.monotonic() - started
    finisher.join(5)
    assert waited >= 2.5, f"the retry returned after {waited:.1f}s without waiting on the adopted run"
    runs = ADMIN.call("GET", "/dags/up_target/dagRuns", limit=100)["dag_runs"]
    assert sum(run["dag_run_id"] == run_id for run in runs) == 1
    assert context["ti"].xcoms["trigger_run_id"] == run_id
    task = fresh_task("trigger_reset")
    task.execute(context_for(task, day(19)))
    ADMIN.set_run("up_target", "manual__2024-03-19T00:00:00+00:00", "success")
    task = fresh_task("trigger_reset")
    task.execute(context_for(task, day(19)))
    state = ADMIN.dag_run("up_target", "manual__2024-03-19T00:00:00+00:00")["state"]
    assert state != "success", f"reset_dag_run left the run {state}"
    task = fresh_task("trigger_skip_existing")
    raises(AirflowSkipException, lambda: task.execute(context_for(task, day(19))), "exists")
    return f"second try adopted {run_id} after 409 and waited on it; reset cleared (now {state}); skip_when_already_exists skipped"


@case("dataset event received by the consumer instance")
def _dataset() -> str:
    ADMIN.call("PATCH", "/dags/up_consumer", {"is_paused": False})  # paused DAGs get no queued events
    task = fresh_task("produce")
    context = context_for(task, day(21))
    if MAJOR == 2:
        task.post_execute(context, None)  # Airflow 2 calls the hook from BaseOperator.post_execute
        events = ADMIN.call("GET", "/datasets/events", limit=100, order_by="-timestamp")["dataset_events"]
        mine = [e for e in events if e["dataset_uri"] == "s3://lake/e2e_bookings" and e["extra"].get("from_team") == "downstream"]
        queued = ADMIN.call("GET", "/dags/up_consumer/datasets/queuedEvent")["queued_events"]
    else:
        task._post_execute_hook(context, None)  # how the Airflow 3 task runner calls post_execute=
        events = ADMIN.call("GET", "/assets/events", limit=100, order_by="-timestamp")["asset_events"]
        mine = [e for e in events if e["uri"] == "s3://lake/e2e_bookings" and e["extra"].get("from_team") == "downstream"]
        queued = ADMIN.call("GET", "/dags/up_consumer/assets/queuedEvents")["queued_events"]
    assert len(mine) == 1, events
    assert mine[0]["extra"]["source_run_id"] == context["run_id"], mine[0]["extra"]
    assert queued, "the consumer DAG has no queued event"
    return f"1 event with the producing run in extra; consumer DAG has {len(queued)} queued event(s)"


@case("wrong API version / bad credentials / wrong URL -> clear failure")
def _misconfigured() -> str:
    login, password = SERVER["conn_login"], SERVER["conn_password"]
    with connection(_conn(SERVER["url"], login, password, api_version=OTHER)):
        version = raises(AirflowFailException, lambda: poke("wait_publish", day(1)), CONN_ID, SERVER["url"], "api_version")
    with connection(_conn(SERVER["url"], login, "not-the-password", api_version=MAJOR)):
        refused = raises(AirflowFailException, lambda: poke("wait_publish", day(1)), CONN_ID, "login")
    if MAJOR == 2:
        assert "auth_backends" in str(refused), refused
    with connection(_conn(SERVER["url"] + "/not-airflow", login, password)):
        url = raises(AirflowFailException, lambda: poke("wait_publish", day(1)), CONN_ID, "/not-airflow has no /api/v", "host")
    return " | ".join(str(error)[:150] for error in (version, refused, url))


@case("downstream run by dag.test(): deferral through the triggerer, dataset event")
def _dag_test() -> str:
    date, target = day(22), "manual__2024-03-22T00:00:00+00:00"
    run_id = ADMIN.run("up_tasks", date)
    messages = Captured()
    logging.getLogger().addHandler(messages)

    def finish_upstream() -> None:
        # each upstream step only once the downstream task has found it unfinished and deferred
        messages.wait_for("running trigger in line", 1)
        ADMIN.task("up_tasks", run_id, "publish", "success")
        messages.wait_for("running trigger in line", 2)
        ADMIN.set_run("up_target", target, "success")

    helper = later(0, finish_upstream)
    started = time.monotonic()
    module = fresh_module("down_run.py")
    result = module.dag_run.test(**{"execution_date" if MAJOR == 2 else "logical_date": date})
    took = time.monotonic() - started
    helper.join(10)
    logging.getLogger().removeHandler(messages)
    states = {ti.task_id: ti.state for ti in result.get_task_instances()}
    assert states == {"wait_deferred": "success", "trigger_and_defer": "success", "produce": "success", "wait_own": "success"}, states
    inline = sum("running trigger in line" in line for line in messages.lines)
    assert inline >= 2, f"{inline} inline trigger runs: the tasks did not defer"
    run = ADMIN.dag_run("up_target", target)
    assert run["conf"] == {"day": "2024-03-22", "rows": 3}, run["conf"]
    events = ADMIN.call("GET", "/datasets/events" if MAJOR == 2 else "/assets/events", limit=100, order_by="-timestamp")
    sources = [e["extra"].get("source_run_id") for e in events["dataset_events" if MAJOR == 2 else "asset_events"]]
    assert result.run_id in sources, (result.run_id, sources)
    return f"all 4 tasks success (wait_own: Airflow's own sensor on this instance) in {took:.1f}s, {inline} deferrals run by the inline triggerer; event from run {result.run_id}"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def wait_for(self, text: str, count: int, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while sum(text in line for line in self.lines) < count and time.monotonic() < deadline:
            time.sleep(0.2)


if MAJOR == 2:

    @case("upstream Airflow 2 with its default API auth (sessions only) -> clear failure")
    def _session_only() -> str:
        assert SERVER.get("session_only_url"), "no session-only server was started"
        with connection(_conn(SERVER["session_only_url"], SERVER["username"], SERVER["password"])):
            error = raises(AirflowFailException, lambda: poke("wait_publish", day(1)), CONN_ID, "auth_backends", "basic_auth")
        return str(error)[:200]


if MAJOR == 3:

    @case("expired token is fetched again")
    def _token() -> str:
        ADMIN.task("up_tasks", ADMIN.run("up_tasks", day(24)), "publish", "success")
        assert poke("wait_publish", day(24)) is True
        for key in list(mesh_http._tokens):
            mesh_http._tokens[key] = "expired.token.value"
        assert poke("wait_publish", day(24)) is True
        assert "expired.token.value" not in mesh_http._tokens.values()
        return "a 401 with a cached token fetched a new one and went on"


def main() -> int:
    failed = 0
    only = os.environ.get("MESH_E2E_ONLY", "")
    for name, function in CASES:
        if only not in name:
            continue
        started = time.monotonic()
        try:
            detail, ok = function(), True
        except BaseException as error:  # noqa: BLE001 - every case is reported
            detail, ok = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=4)}", False
            failed += 1
        print(json.dumps({"major": MAJOR, "case": name, "ok": ok, "seconds": round(time.monotonic() - started, 2), "detail": detail}), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
