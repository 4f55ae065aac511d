"""Real Airflow API servers on loopback for end-to-end tests.

`airflow_server(2, python, dags)` starts an Airflow 2.10 webserver (FAB, the basic_auth and
session API auth backends, an admin user); `airflow_server(3, python, dags)` starts an Airflow
3.1 api-server (simple auth manager, a user with a known password, JWT from `POST /auth/token`).
Each gets an AIRFLOW_HOME of its own in a temporary folder, a sqlite database, the given DAGs
folder parsed into the database (`airflow dags reserialize`), and a free port on 127.0.0.1.
No scheduler runs: runs and task states are made over the REST API.

The server runs in a process group of its own and is stopped by that group's id when the
context ends, whatever happened inside it.

    with airflow_server(3, Path(".venv-airflow3/bin/python"), Path("dags")) as server:
        server.api("POST", "/dags/d/dagRuns", {"logical_date": None})
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

USERNAME = "admin"
PASSWORD = "admin-e2e-password"


class ServerError(RuntimeError):
    """The server did not start, or a setup command failed; the message carries its log."""


@dataclass
class Server:
    major: int
    url: str  # e.g. http://127.0.0.1:41234
    home: Path
    env: dict[str, str]
    python: Path
    username: str = USERNAME
    password: str = PASSWORD
    _token: str | None = field(default=None, repr=False)

    @property
    def api_root(self) -> str:
        return f"{self.url}/api/v1" if self.major == 2 else f"{self.url}/api/v2"

    def auth_header(self) -> str:
        if self.major == 2:
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode()
        if self._token is None:
            status, body = request_json("POST", f"{self.url}/auth/token", {"username": self.username, "password": self.password}, {})
            if status not in (200, 201):
                raise ServerError(f"POST /auth/token -> {status}: {body}")
            self._token = body["access_token"]
        return f"Bearer {self._token}"

    def api(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200, 201, 204)) -> Any:
        """One REST call under the API root, as the admin user; raises unless the status is expected."""
        status, answer = request_json(method, self.api_root + path, body, {"Authorization": self.auth_header()})
        if status not in expect:
            raise ServerError(f"{method} {path} -> {status}: {answer}")
        return answer

    def cli(self, *args: str, timeout: float = 300) -> str:
        """An `airflow` command against this server's home and database."""
        return _run([str(self.python), "-m", "airflow", *args], self.env, timeout)


def request_json(method: str, url: str, body: Any, headers: dict[str, str], timeout: float = 30) -> tuple[int, Any]:
    """One JSON request: the status and the decoded answer (its text when it is not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def _run(command: list[str], env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise ServerError(f"{' '.join(command[2:])} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(major: int, home: Path, dags_folder: Path, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    if major == 2:
        env.update(
            AIRFLOW__API__AUTH_BACKENDS="airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session",
            AIRFLOW__WEBSERVER__WORKERS="1",
            AIRFLOW__WEBSERVER__SECRET_KEY="e2e-secret",
            AIRFLOW__WEBSERVER__WEB_SERVER_WORKER_TIMEOUT="300",
            AIRFLOW__WEBSERVER__WEB_SERVER_MASTER_TIMEOUT="300",
            AIRFLOW__CORE__EXECUTOR="SequentialExecutor",
        )
    else:
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({USERNAME: PASSWORD}), encoding="utf-8")
        env.update(
            AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USERNAME}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
            AIRFLOW__API_AUTH__JWT_SECRET="e2e-jwt-secret-of-enough-length-for-hs512-signing",
            AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
            AIRFLOW__API__SECRET_KEY="e2e-secret",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        )
    return env


def _health_path(major: int) -> str:
    return "/health" if major == 2 else "/api/v2/monitor/health"


def _log_tail(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-4000:]
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL after a grace period."""
    try:
        group = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            # gunicorn workers may outlive the master for a moment: reap the group too
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


@contextmanager
def airflow_server(
    major: int, python: Path, dags_folder: Path, *, startup_timeout: float = 240, keep_home: bool = False, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """An Airflow `major` (2 or 3) API server with `dags_folder` parsed into its database.

    `settings` overrides environment settings, e.g. {"AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.session"}.
    """
    if major not in (2, 3):
        raise ValueError(f"Airflow major version 2 or 3, not {major}")
    home = Path(tempfile.mkdtemp(prefix=f"mesh-airflow{major}-"))
    port = free_port()
    env = {**_environment(major, home, dags_folder.resolve(), port), **(settings or {})}
    server = Server(major, f"http://127.0.0.1:{port}", home, env, python)
    process: subprocess.Popen[bytes] | None = None
    log = home / "server.log"
    try:
        server.cli("db", "migrate")
        if major == 2:
            server.cli("users", "create", "--username", USERNAME, "--password", PASSWORD, "--role", "Admin",
                       "--firstname", "E2E", "--lastname", "Admin", "--email", "admin@example.invalid")
        server.cli("dags", "reserialize")
        command = ["webserver", "-p", str(port), "-H", "127.0.0.1"] if major == 2 else ["api-server", "-p", str(port), "-H", "127.0.0.1", "-w", "1"]
        with log.open("wb") as sink:
            process = subprocess.Popen([str(python), "-m", "airflow", *command], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise ServerError(f"Airflow {major} server exited with {process.returncode}:\n{_log_tail(log)}")
            try:
                status, _ = request_json("GET", server.url + _health_path(major), None, {})
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ServerError(f"Airflow {major} server not healthy after {startup_timeout:.0f}s:\n{_log_tail(log)}")
            time.sleep(0.5)
        yield server
    finally:
        if process is not None:
            _stop(process)
        if not keep_home:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":  # a smoke run: python tests/airflow/servers.py 3 .venv-airflow3/bin/python DAGS
    import sys

    started = time.monotonic()
    with airflow_server(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])) as running:
        print(f"healthy at {running.url} after {time.monotonic() - started:.1f}s")
        print(json.dumps(running.api("GET", "/dags"), indent=1, default=str)[:1500])
