"""Cross-instance ExternalTaskSensor and TriggerDagRunOperator, and dataset events to other instances.

Written into the repository by `mesh-migrate codemod` beside `mesh_registry.json`. One copy
per repository: edit it here, not in the DAG files.

`ExternalTaskSensor` and `TriggerDagRunOperator` are Airflow's own classes with one more
keyword, `http_conn_id`. After the task's templates are rendered, the target DAG id is looked
up in the registry: a DAG that another Airflow instance runs is reached over that instance's
REST API; any other DAG gets exactly Airflow's own behaviour. So one class serves both, and a
shared helper that builds sensors for many DAGs needs rewriting only once.

The REST API version (Airflow 2: /api/v1 with basic auth; Airflow 3: /api/v2 with a JWT from
POST /auth/token) comes from the connection's extra `api_version`, else the registry, else a
probe of the server. Refused credentials, missing permissions and a missing API fail the task
at once with a message that says what to change; they never turn into a silent wait.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import requests
from airflow import __version__ as AIRFLOW_VERSION
from airflow.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout, AirflowSkipException

AIRFLOW_3 = int(AIRFLOW_VERSION.split(".")[0]) >= 3

if AIRFLOW_3:
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator as _AirflowTriggerDagRunOperator
    from airflow.providers.standard.sensors.external_task import ExternalTaskSensor as _AirflowExternalTaskSensor
    from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
    from airflow.sdk import BaseHook
else:
    from airflow.hooks.base import BaseHook
    from airflow.operators.trigger_dagrun import TriggerDagRunOperator as _AirflowTriggerDagRunOperator
    from airflow.sensors.external_task import ExternalTaskSensor as _AirflowExternalTaskSensor
    from airflow.triggers.temporal import TimeDeltaTrigger

log = logging.getLogger(__name__)

PAGE = 100  # Airflow 3.1 caps `limit` at 100; Airflow 2's default maximum is 100 too
REQUEST_TIMEOUT = 30


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Registry:
    team: str = ""
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    dags: dict[str, str] = field(default_factory=dict)  # DAG id -> instance that runs it
    task_groups: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    datasets: dict[str, list[str]] = field(default_factory=dict)  # URI -> consuming instances


_registries: dict[str, Registry] = {}


def registry() -> Registry:
    """`mesh_registry.json` beside this file, or at $MESH_REGISTRY; none means every DAG is local."""
    path = os.environ.get("MESH_REGISTRY") or str(Path(__file__).with_name("mesh_registry.json"))
    if path not in _registries:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            log.warning("mesh_http: no registry at %s; every DAG is treated as local", path)
            raw = {}
        except ValueError as error:
            raise AirflowFailException(f"mesh_http: {path} is not valid JSON: {error}") from error
        _registries[path] = Registry(
            team=raw.get("team", ""),
            instances=raw.get("instances", {}),
            dags=raw.get("dags", {}),
            task_groups=raw.get("task_groups", {}),
            datasets=raw.get("datasets", {}),
        )
    return _registries[path]


# ---------------------------------------------------------------- pure helpers


def normalise_logical_date(value: Any) -> str | None:
    """A rendered logical date ("2024-01-01", "2024-01-01T00:00:00+00:00", a datetime) as full ISO-8601 with a timezone."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            moment = datetime.datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 else text)
        except ValueError as error:
            raise AirflowFailException(f"logical_date {text!r} is not an ISO-8601 date or timestamp") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.isoformat()


def rendered_conf(conf: Any) -> dict[str, Any] | None:
    """The rendered `conf` as a dict: a JSON string (a rendered template) is decoded, others kept as they are."""
    if isinstance(conf, str):
        try:
            conf = json.loads(conf)
        except ValueError as error:
            raise AirflowFailException(f"conf rendered to a string that is not JSON: {conf!r}") from error
    try:
        json.dumps(conf)
    except (TypeError, ValueError) as error:
        raise AirflowFailException(f"conf is not JSON serializable: {error}") from error
    return conf


def trigger_body(api_version: int, run_id: str, logical_date: str | None, conf: dict[str, Any] | None) -> dict[str, Any]:
    """The POST dagRuns body; Airflow 3 requires the `logical_date` key even when it is null."""
    body: dict[str, Any] = {"dag_run_id": run_id, "conf": conf or {}}
    if api_version >= 3 or logical_date is not None:
        body["logical_date"] = logical_date
    return body


def run_id_for(context: Any) -> str:
    """A run id that is the same on every try of one task instance, so a retry finds the run it made."""
    ti = context["ti"]
    parts = ["mesh", ti.dag_id, ti.task_id, context["run_id"]]
    if getattr(ti, "map_index", -1) not in (None, -1):
        parts.append(str(ti.map_index))
    return re.sub(r"[^A-Za-z0-9_.~:+-]", "_", "__".join(parts))


def state_verdict(states: list[str], allowed: Iterable[str], failed: Iterable[str], skipped: Iterable[str], what: str, soft_fail: bool) -> bool:
    """Airflow's order: any failed state fails, then any skipped state skips, then all must be allowed."""
    hit = sorted(set(states) & set(failed))
    if hit:
        if soft_fail:
            raise AirflowSkipException(f"{what} is in {hit}; skipping because of soft_fail")
        raise AirflowFailException(f"{what} is in a failed state: {hit}")
    hit = sorted(set(states) & set(skipped))
    if hit:
        raise AirflowSkipException(f"{what} is in a state to skip on: {hit}")
    return bool(states) and all(state in set(allowed) for state in states)


# ---------------------------------------------------------------- the REST client


_tokens: dict[tuple[str, str, int], str] = {}  # (base URL, login, password hash) -> JWT, shared within a process


class RemoteApi:
    """The REST API of one Airflow instance, reached through one connection."""

    def __init__(self, conn_id: str, api_version: Any = "auto", fallback_url: str | None = None, instance: str | None = None):
        connection = BaseHook.get_connection(conn_id)
        self.conn_id = conn_id
        self.instance = instance or conn_id
        self.base_url = _base_url(connection, fallback_url, conn_id)
        self.login = connection.login or ""
        self.password = connection.password or ""
        extra = connection.extra_dejson or {}
        self.version = self._resolve_version(extra.get("api_version", api_version))
        self.root = f"{self.base_url}/api/v{1 if self.version == 2 else 2}"

    # -- version and auth

    def _resolve_version(self, wanted: Any) -> int:
        if str(wanted) in ("2", "3"):
            return int(wanted)
        for version in (3, 2):
            try:
                if _healthy(self.base_url, version):
                    return version
            except requests.RequestException as error:
                raise AirflowException(f"connection {self.conn_id!r}: cannot reach {self.base_url}: {error}") from error
        raise AirflowFailException(
            f"connection {self.conn_id!r}: no Airflow REST API at {self.base_url} (neither /api/v2 nor /api/v1 answers "
            "its health check). Check the connection's host, or set its extra to {\"api_version\": 2} or {\"api_version\": 3}."
        )

    def _auth(self, renew: bool = False) -> dict[str, str]:
        if self.version == 2:
            return {}
        key = (self.base_url, self.login, hash(self.password))
        if renew or key not in _tokens:
            _tokens[key] = self._fetch_token()
        return {"Authorization": f"Bearer {_tokens[key]}"}

    def _fetch_token(self) -> str:
        url = f"{self.base_url}/auth/token"
        try:
            answer = requests.post(url, json={"username": self.login, "password": self.password}, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            raise AirflowException(f"connection {self.conn_id!r}: cannot reach {url}: {error}") from error
        if answer.status_code in (200, 201):
            return answer.json()["access_token"]
        if answer.status_code in (401, 403):
            raise AirflowFailException(
                f"connection {self.conn_id!r}: {url} refused the login {self.login!r} ({answer.status_code}). "
                "Set the connection's login and password to a user of that Airflow 3 instance's auth manager."
            )
        raise AirflowFailException(
            f"connection {self.conn_id!r}: {url} answered {answer.status_code}, so {self.base_url} is not an Airflow 3 "
            "API server with token login. If it runs Airflow 2, set the connection's extra to {\"api_version\": 2} "
            "(or api_version 2 for this instance in mesh_registry.json); otherwise check the connection's host."
        )

    def _api_present(self) -> bool:
        try:
            return _healthy(self.base_url, self.version)
        except requests.RequestException:
            return False

    # -- calls

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None, accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        """One call; 2xx and the statuses in `accept` are returned, the rest raise with a message that says what to change."""
        url = self.root + path
        auth = (self.login, self.password) if self.version == 2 else None
        answer = None
        for renew in (False, True):
            try:
                answer = requests.request(method, url, params=params, json=body, auth=auth, headers=self._auth(renew), timeout=REQUEST_TIMEOUT)
            except requests.RequestException as error:
                raise AirflowException(f"connection {self.conn_id!r}: {method} {url} failed: {error}") from error
            if answer.status_code not in (401, 403) or self.version == 2:
                break  # Airflow 3 answers an expired token with 401 or 403: fetch a new one once
        assert answer is not None
        status = answer.status_code
        if 200 <= status < 300 and isinstance(_json(answer), str):
            # Airflow 3's UI answers any path with 200 HTML: the host is not that instance's root
            raise AirflowFailException(self._no_api(url, f"{status} with no JSON"))
        no_api = status == 404 and not self._api_present()  # probed once: a 404 is the API's only when it is there
        if 200 <= status < 300 or (status in accept and not no_api):
            return status, _json(answer)
        if status == 401:
            raise AirflowFailException(self._unauthorized(url))
        if status == 403:
            raise AirflowFailException(
                f"connection {self.conn_id!r}: the user {self.login!r} may not {method} {url} (403). Give it the role "
                f"that instance's team made for this team (mesh-migrate writes it to access/<team>.json)."
            )
        if no_api:
            raise AirflowFailException(self._no_api(url, "404"))
        if 400 <= status < 500 and status not in (404, 408, 429):
            raise AirflowFailException(f"connection {self.conn_id!r}: {method} {url} -> {status}: {answer.text[:500]}")
        raise AirflowException(f"connection {self.conn_id!r}: {method} {url} -> {status}: {answer.text[:500]}")

    def _no_api(self, url: str, answered: str) -> str:
        other = 2 if self.version == 3 else 3
        return (
            f"connection {self.conn_id!r}: {self.base_url} has no /api/v{1 if self.version == 2 else 2} ({answered} on {url}). "
            f"It may run Airflow {other}: set the connection's extra to {{\"api_version\": {other}}} "
            "(or the instance's api_version in mesh_registry.json), or fix the connection's host."
        )

    def _unauthorized(self, url: str) -> str:
        if self.version == 2:
            return (
                f"connection {self.conn_id!r}: {url} refused basic auth for {self.login!r} (401). Check the connection's "
                "login and password, and that the upstream Airflow 2 has "
                "[api] auth_backends = airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session "
                "(its default accepts browser sessions only)."
            )
        return f"connection {self.conn_id!r}: {url} refused a fresh token for {self.login!r} (401). Check the instance's [api_auth] jwt_secret and the user."

    def get(self, path: str, params: dict[str, Any] | None = None, accept: tuple[int, ...] = ()) -> tuple[int, Any]:
        return self.call("GET", path, params=params, accept=accept)

    # -- what the sensor and the operator ask

    def dag_exists(self, dag_id: str) -> bool:
        return self.get(f"/dags/{dag_id}", accept=(404,))[0] != 404

    def task_ids(self, dag_id: str) -> list[str]:
        return [task["task_id"] for task in self.get(f"/dags/{dag_id}/tasks")[1]["tasks"]]

    def run_at(self, dag_id: str, logical_date: datetime.datetime) -> dict[str, Any] | None:
        """The DAG's run for one logical date; None when there is none yet or the DAG is not there yet."""
        stamp = logical_date.isoformat()
        key = "execution_date" if self.version == 2 else "logical_date"
        status, page = self.get(f"/dags/{dag_id}/dagRuns", {f"{key}_gte": stamp, f"{key}_lte": stamp}, accept=(404,))
        runs = [] if status == 404 else page["dag_runs"]
        return runs[0] if runs else None

    def run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        status, run = self.get(f"/dags/{dag_id}/dagRuns/{run_id}", accept=(404,))
        return None if status == 404 else run

    def task_instances(self, dag_id: str, run_id: str, task_ids: list[str] | None = None, group_id: str | None = None) -> list[dict[str, Any]] | None:
        """Every task instance (each map index) of the run, of `task_ids` or the group when given, all pages.

        None when the pages did not add up (rows moved between pages): the caller waits rather
        than judge on part of the run.
        """
        queries: list[dict[str, Any]]
        if task_ids and self.version == 3 and len(task_ids) <= 10:  # a few tasks: one query each
            queries = [{"task_id": task_id} for task_id in task_ids]
        elif group_id and self.version == 3:
            queries = [{"task_group_id": group_id}]
        else:
            queries = [{}]
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for query in queries:
            total, offset = 0, 0
            seen_here = 0
            while True:
                # Airflow 2 filters this list by nothing useful, and its batch endpoint (dag id `~`)
                # needs read access to every DAG's runs: list the run's instances, keep the wanted
                params = {**query, "limit": PAGE, "offset": offset}
                if self.version == 3:
                    params["order_by"] = "id"  # a unique column keeps the pages apart
                status, page = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params, accept=(404,))
                if status == 404:  # the run went away, or (Airflow 3) the DAG has no such group yet
                    return None
                total = page["total_entries"]
                rows = page["task_instances"]
                for row in rows:
                    if found.setdefault((row["task_id"], row.get("map_index", -1)), row) is row:
                        seen_here += 1
                offset += PAGE
                if not rows or offset >= total:
                    break
            if seen_here < total:
                return None
        rows = list(found.values())
        return [row for row in rows if row["task_id"] in task_ids] if task_ids else rows

    def dataset_event(self, uri: str, extra: dict[str, Any]) -> None:
        if self.version == 2:
            status, _ = self.call("POST", "/datasets/events", body={"dataset_uri": uri, "extra": extra}, accept=(404,))
        else:
            assets = self.get("/assets", {"uri_pattern": uri, "limit": PAGE})[1]["assets"]
            exact = [asset for asset in assets if asset["uri"] == uri]
            status = 404
            if exact:
                status, _ = self.call("POST", "/assets/events", body={"asset_id": exact[0]["id"], "extra": extra}, accept=(404,))
        if status == 404:
            raise AirflowFailException(
                f"instance {self.instance!r} ({self.base_url}) does not know the dataset {uri}: the DAG there that is "
                "scheduled on it must be parsed first."
            )


def _healthy(base_url: str, version: int) -> bool:
    """Whether the API of that version answers its health check (JSON; Airflow 3's UI answers any path with 200 HTML)."""
    path = "/api/v2/monitor/health" if version == 3 else "/api/v1/health"
    answer = requests.get(base_url + path, timeout=REQUEST_TIMEOUT)
    body = _json(answer) if answer.status_code == 200 else None
    return isinstance(body, dict) and "metadatabase" in body


def _json(answer: requests.Response) -> Any:
    try:
        return answer.json() if answer.content else None
    except ValueError:
        return answer.text


def _base_url(connection: Any, fallback: str | None, conn_id: str) -> str:
    host = (connection.host or fallback or "").rstrip("/")
    if not host:
        raise AirflowFailException(f"connection {conn_id!r} has no host: set it to the other instance's URL")
    if "://" not in host:
        scheme = connection.schema or ("https" if connection.conn_type == "https" else "http")
        host = f"{scheme}://{host}"
    if connection.port and not re.search(r":\d+$", host):
        host = f"{host}:{connection.port}"
    return host


def remote_api(dag_id: str, http_conn_id: str | None) -> RemoteApi | None:
    """The API of the instance that runs `dag_id`, or None when the DAG is this instance's (or unknown)."""
    if http_conn_id:
        return RemoteApi(http_conn_id)
    instance = registry().dags.get(dag_id)
    return None if instance is None else instance_api(instance, f"DAG {dag_id!r}")


def instance_api(instance: str, named_for: str) -> RemoteApi:
    """The API of an instance the registry describes; `named_for` says what named it, for the error."""
    spec = registry().instances.get(instance)
    if not spec:
        raise AirflowFailException(f"mesh_registry.json names instance {instance!r} for {named_for} but does not describe it")
    return RemoteApi(spec["conn_id"], spec.get("api_version", "auto"), spec.get("url"), instance)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _defer_for(task: Any, seconds: float, method_name: str, kwargs: dict[str, Any]) -> None:
    """Give the worker slot back; Airflow calls `method_name` with `kwargs` after `seconds`."""
    task.defer(trigger=TimeDeltaTrigger(datetime.timedelta(seconds=seconds)), method_name=method_name, kwargs=kwargs)


# ---------------------------------------------------------------- the sensor


class ExternalTaskSensor(_AirflowExternalTaskSensor):
    """Airflow's ExternalTaskSensor; a DAG of another instance is watched over that instance's REST API."""

    def __init__(self, *, http_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http_conn_id = http_conn_id
        self._mesh_api: RemoteApi | None = None  # per task run: the version probe and the token once
        self._mesh_api_for: str | None = None

    def _remote(self) -> RemoteApi | None:
        if self._mesh_api is None or self._mesh_api_for != self.external_dag_id:
            self._mesh_api = remote_api(self.external_dag_id, self.http_conn_id)
            self._mesh_api_for = self.external_dag_id
        return self._mesh_api

    def _wait_interval(self) -> float:
        # Airflow 3 maps poll_interval onto poke_interval; Airflow 2 uses poll_interval when deferred
        return float(self.poke_interval if AIRFLOW_3 or not self.deferrable else self.poll_interval)

    def execute(self, context: Any) -> None:
        if self._remote() is None or not self.deferrable:
            return super().execute(context)  # the poke loop (poke or reschedule mode) calls poke() below
        self.execute_remote_poke(context, started_at=_now().isoformat())

    def execute_remote_poke(self, context: Any, event: Any = None, started_at: str | None = None) -> None:
        """Poke once; until done, give the worker slot back and come back after the interval."""
        # dag.test() resumes with the trigger's event only, without these kwargs: fall back on the
        # task instance's start date, which a resumed task keeps
        ti_start = getattr(context.get("ti"), "start_date", None) if hasattr(context, "get") else None
        started = datetime.datetime.fromisoformat(started_at) if started_at else ti_start or _now()
        if self.poke(context):
            return
        waited = (_now() - started).total_seconds()
        if waited >= self.timeout:
            message = f"{self.external_dag_id} not done after {waited:.0f}s (timeout {self.timeout}s)"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        self.log.info("Not done yet; deferring for %ss", self._wait_interval())
        _defer_for(self, self._wait_interval(), "execute_remote_poke", {"started_at": started.isoformat()})

    def poke(self, context: Any, **kwargs: Any) -> bool:
        api = self._remote()
        if api is None:
            return super().poke(context, **kwargs)
        if self.external_task_ids and len(self.external_task_ids) > len(set(self.external_task_ids)):
            raise ValueError("Duplicate task_ids passed in external_task_ids parameter")
        dates = self._get_dttm_filter(context)
        what = self._what()
        self.log.info("Poking for %s on %s at %s (API v%s)", what, ", ".join(d.isoformat() for d in dates), api.base_url, api.version)
        if self.check_existence and not self._has_checked_existence:
            self._check_remote_existence(api)
        states: list[str] = []
        complete = True
        for date in dates:
            run = api.run_at(self.external_dag_id, date)
            if run is None:
                complete = False
                continue
            if not self.external_task_ids and not self.external_task_group_id:
                states.append(run["state"])
                continue
            found = self._task_states(api, run["dag_run_id"])
            complete = complete and found is not None
            states.extend(found or [])
        return state_verdict(states, self.allowed_states, self.failed_states, self.skipped_states, what, self.soft_fail) and complete

    def _what(self) -> str:
        if self.external_task_ids:
            return f"tasks {list(self.external_task_ids)} of DAG {self.external_dag_id!r}"
        if self.external_task_group_id:
            return f"task group {self.external_task_group_id!r} of DAG {self.external_dag_id!r}"
        return f"DAG {self.external_dag_id!r}"

    def _wanted_task_ids(self) -> list[str]:
        """external_task_ids, else the group's task ids when the registry lists them (prefix_group_id=False)."""
        if self.external_task_ids:
            return list(self.external_task_ids)
        if not self.external_task_group_id:
            return []
        return list(registry().task_groups.get(self.external_dag_id, {}).get(self.external_task_group_id) or [])

    def _task_states(self, api: RemoteApi, run_id: str) -> list[str] | None:
        """States of every wanted task instance of the run; None while a wanted task has none yet."""
        wanted = self._wanted_task_ids()
        if wanted:
            rows = api.task_instances(self.external_dag_id, run_id, task_ids=wanted)
            if rows is None or {row["task_id"] for row in rows} < set(wanted):
                return None
        else:
            group = self.external_task_group_id
            rows = api.task_instances(self.external_dag_id, run_id, group_id=group)
            if rows is None:
                return None
            if api.version == 2:
                rows = [row for row in rows if row["task_id"].startswith(f"{group}.")]
            if not rows:
                return None
        return [row["state"] or "none" for row in rows if row["state"] != "removed"]

    def _check_remote_existence(self, api: RemoteApi) -> None:
        if not api.dag_exists(self.external_dag_id):
            raise AirflowFailException(f"The external DAG {self.external_dag_id} does not exist on {api.instance} ({api.base_url}).")
        wanted = self._wanted_task_ids()
        if wanted or self.external_task_group_id:
            present = set(api.task_ids(self.external_dag_id))
            for task_id in wanted:
                if task_id not in present:
                    raise AirflowFailException(f"The external task {task_id} in DAG {self.external_dag_id} does not exist on {api.instance}.")
            if not wanted and not any(task_id.startswith(f"{self.external_task_group_id}.") for task_id in present):
                raise AirflowFailException(
                    f"The external task group {self.external_task_group_id!r} in DAG {self.external_dag_id} does not exist "
                    f"on {api.instance} (a group made with prefix_group_id=False needs its task ids in mesh_registry.json)."
                )
        self._has_checked_existence = True


# ---------------------------------------------------------------- the trigger


class TriggerDagRunOperator(_AirflowTriggerDagRunOperator):
    """Airflow's TriggerDagRunOperator; a DAG of another instance is triggered over that instance's REST API."""

    def __init__(self, *, http_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.http_conn_id = http_conn_id

    def _deferrable(self) -> bool:
        return bool(getattr(self, "_defer", getattr(self, "deferrable", False)))

    def execute(self, context: Any) -> Any:
        api = remote_api(self.trigger_dag_id, self.http_conn_id)
        if api is None:
            return super().execute(context)
        run_id = self._trigger_remote(api, context)
        if not self.wait_for_completion:
            return None
        if self._deferrable():
            return self._remote_wait(api, run_id)
        while not self._remote_run_done(api, run_id):
            time.sleep(self.poke_interval)
        return None

    def _logical_date(self) -> str | None:
        value = self.logical_date
        if value is None and AIRFLOW_3:
            return None  # Airflow 3: a run without a logical date
        if value is None or not isinstance(value, (str, datetime.date)):
            return _now().isoformat()  # not given: now, as Airflow does
        return normalise_logical_date(value)

    def _run_id(self, context: Any, logical_date: str | None) -> str:
        """trigger_run_id, else Airflow's manual__<logical date> when one is given, else one fixed per task instance."""
        if self.trigger_run_id:
            return str(self.trigger_run_id)
        if isinstance(self.logical_date, (str, datetime.date)):
            return f"manual__{logical_date}"
        return run_id_for(context)

    def _trigger_remote(self, api: RemoteApi, context: Any) -> str:
        logical_date = self._logical_date()
        run_id = self._run_id(context, logical_date)
        body = trigger_body(api.version, run_id, logical_date, rendered_conf(self.conf))
        self.log.info("Triggering %s on %s (%s): %s", self.trigger_dag_id, api.instance, api.base_url, json.dumps(body))
        status, run = api.call("POST", f"/dags/{self.trigger_dag_id}/dagRuns", body=body, accept=(404, 409))
        if status == 404:
            raise AirflowFailException(f"DAG {self.trigger_dag_id} does not exist on {api.instance} ({api.base_url})")
        if status == 409:
            run = self._existing_run(api, run_id, logical_date, context)
        run_id = run["dag_run_id"]
        self.trigger_run_id = run_id
        ti = context.get("ti") if hasattr(context, "get") else None
        if ti is not None:
            ti.xcom_push(key="trigger_run_id", value=run_id)
        return run_id

    def _existing_run(self, api: RemoteApi, run_id: str, logical_date: str | None, context: Any) -> dict[str, Any]:
        """409: the run is there already (often made by an earlier try of this task). Reset, skip or adopt it."""
        run = api.run(self.trigger_dag_id, run_id)
        if run is None and logical_date is not None:
            run = api.run_at(self.trigger_dag_id, datetime.datetime.fromisoformat(logical_date))
        if run is None:
            raise AirflowFailException(f"{api.instance} refused the run {run_id} of {self.trigger_dag_id} (409) but has no such run")
        if self.reset_dag_run:
            self.log.info("Clearing the existing run %s of %s", run["dag_run_id"], self.trigger_dag_id)
            api.call("POST", f"/dags/{self.trigger_dag_id}/dagRuns/{run['dag_run_id']}/clear", body={"dry_run": False})
            return run
        ti = context.get("ti") if hasattr(context, "get") else None
        if self.skip_when_already_exists and getattr(ti, "try_number", 1) <= 1:
            raise AirflowSkipException(f"The run {run['dag_run_id']} of {self.trigger_dag_id} exists already (skip_when_already_exists)")
        self.log.info("Adopting the existing run %s of %s", run["dag_run_id"], self.trigger_dag_id)
        return run

    def _remote_run_done(self, api: RemoteApi, run_id: str) -> bool:
        run = api.run(self.trigger_dag_id, run_id)
        state = run["state"] if run else None
        if state in {str(s) for s in self.failed_states} | {getattr(s, "value", s) for s in self.failed_states}:
            raise AirflowException(f"{self.trigger_dag_id} run {run_id} ended in the failed state {state}")
        if state in {getattr(s, "value", s) for s in self.allowed_states}:
            self.log.info("%s run %s finished in the allowed state %s", self.trigger_dag_id, run_id, state)
            return True
        self.log.info("Waiting for %s run %s (now %s) to reach %s", self.trigger_dag_id, run_id, state, self.allowed_states)
        return False

    def execute_remote_wait(self, context: Any, event: Any = None, run_id: str = "") -> None:
        """Resumed after a deferral: find the API again, then check once more."""
        api = remote_api(self.trigger_dag_id, self.http_conn_id)
        assert api is not None
        # dag.test() resumes with the trigger's event only: the run id is derived again, the same way
        run_id = run_id or self._run_id(context, normalise_logical_date(self.logical_date) if isinstance(self.logical_date, (str, datetime.date)) else None)
        self._remote_wait(api, run_id)

    def _remote_wait(self, api: RemoteApi, run_id: str) -> None:
        """Check once; until done, give the worker slot back and come back after poke_interval."""
        if not self._remote_run_done(api, run_id):
            _defer_for(self, self.poke_interval, "execute_remote_wait", {"run_id": run_id})


# ---------------------------------------------------------------- dataset events


def publish_dataset_events(uris: list[str] | None = None) -> Callable[..., None]:
    """A `post_execute=` hook: after the task succeeds, post an event for each URI to every instance that consumes it.

    Default URIs: the task's outlets that the registry lists with consuming instances.
    """

    def post_execute(context: Any, result: Any = None) -> None:
        known = registry()
        task = context["task"]
        outlets = [getattr(outlet, "uri", None) for outlet in getattr(task, "outlets", None) or []]
        wanted = list(uris) if uris else [uri for uri in outlets if uri in known.datasets]
        ti = context.get("ti")
        extra = {"from_team": known.team, "source_dag_id": getattr(ti, "dag_id", None), "source_task_id": getattr(ti, "task_id", None), "source_run_id": context.get("run_id")}
        for uri in wanted:
            consumers = known.datasets.get(uri)
            if not consumers:
                raise AirflowFailException(f"mesh_registry.json lists no consuming instance for the dataset {uri}")
            for instance in consumers:
                api = instance_api(instance, f"dataset {uri}")
                api.dataset_event(uri, extra)
                log.info("Posted a dataset event for %s to %s (%s)", uri, instance, api.base_url)

    return post_execute
