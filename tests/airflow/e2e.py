"""End-to-end: the generated cross-instance code against a real Airflow 2.10 and a real Airflow 3.1.

    python tests/airflow/e2e.py --airflow2 .venv-airflow2/bin/python --airflow3 .venv-airflow3/bin/python

Starts an Airflow 2.10 webserver and an Airflow 3.1 api-server side by side (tests/airflow/servers.py)
with the upstream DAGs of tests/airflow/e2e_dags/upstream, then runs tests/airflow/e2e_cases.py in
the Airflow venv of the same major version against each, prints a table of cases per version,
writes build/e2e-airflow.json and exits non-zero when a case fails or a server does not start.
The servers are stopped by process group when the run ends, however it ends.
MESH_E2E_ONLY=<part of a case name> runs only the matching cases.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from servers import Server, airflow_server  # noqa: E402

UPSTREAM = HERE / "e2e_dags" / "upstream"
DOWNSTREAM = HERE / "e2e_dags" / "downstream"


class Running(threading.Thread):
    """One server, up from start() until `release` is set."""

    def __init__(self, major: int, python: Path, settings: dict[str, str] | None = None) -> None:
        super().__init__(daemon=True)
        self.major, self.python, self.settings = major, python, settings
        self.ready, self.release = threading.Event(), threading.Event()
        self.server: Server | None = None
        self.error: str | None = None
        self.startup = 0.0

    def run(self) -> None:
        started = time.monotonic()
        try:
            with airflow_server(self.major, self.python, UPSTREAM, settings=self.settings) as server:
                self.server, self.startup = server, time.monotonic() - started
                self.ready.set()
                self.release.wait()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.ready.set()


def client_env(major: int) -> dict[str, str]:
    """The downstream instance's own home and sqlite database, for dag.test()."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"mesh-e2e-client{major}-")
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(DOWNSTREAM)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{env['AIRFLOW_HOME']}/client.db"
    return env


def run_cases(
    server: Server, python: Path, env: dict[str, str], migrated: subprocess.Popen[bytes], results: list[dict[str, Any]], timeout: float, session_only: Server | None
) -> None:
    described = json.dumps(
        {"major": server.major, "url": server.url, "username": server.username, "password": server.password, "session_only_url": session_only.url if session_only else None}
    )
    if migrated.wait() != 0:
        results.append({"major": server.major, "case": "downstream database", "ok": False, "seconds": 0, "detail": "airflow db migrate failed"})
        return
    try:
        done = subprocess.run([str(python), str(HERE / "e2e_cases.py"), described], env=env, capture_output=True, text=True, timeout=timeout)
        output, errors, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        output, errors, code = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or ""), "timed out", -1
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    results.extend(lines)
    if code != 0 and all(line["ok"] for line in lines):
        results.append({"major": server.major, "case": "case runner", "ok": False, "seconds": 0, "detail": f"exit {code}: {errors[-3000:]}"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow2", type=Path, required=True, help="python of the Airflow 2.10 venv")
    parser.add_argument("--airflow3", type=Path, required=True, help="python of the Airflow 3.1 venv")
    parser.add_argument("--report", type=Path, default=Path("build/e2e-airflow.json"))
    parser.add_argument("--timeout", type=float, default=300, help="seconds for each version's cases")
    args = parser.parse_args()
    # a CI timeout's SIGTERM unwinds through the finally below, which stops both servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    servers = {2: Running(2, args.airflow2), 3: Running(3, args.airflow3)}
    # Airflow 2 as it comes: its REST API takes browser sessions only
    session_only = Running(2, args.airflow2, {"AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.session"})
    pythons = {2: args.airflow2, 3: args.airflow3}
    results: dict[int, list[dict[str, Any]]] = {2: [], 3: []}
    envs = {major: client_env(major) for major in servers}
    migrations = {
        major: subprocess.Popen([str(pythons[major]), "-m", "airflow", "db", "migrate"], env=envs[major], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for major in servers
    }
    try:
        for running in [*servers.values(), session_only]:
            running.start()
        for running in [*servers.values(), session_only]:
            running.ready.wait()
        if session_only.server is None:
            results[2].append({"major": 2, "case": "session-only server start", "ok": False, "seconds": 0, "detail": session_only.error or "not started"})
        workers = []
        for major, running in servers.items():
            if running.server is None:
                results[major].append({"major": major, "case": "server start", "ok": False, "seconds": 0, "detail": running.error or "not started"})
                continue
            worker = threading.Thread(
                target=run_cases,
                args=(running.server, pythons[major], envs[major], migrations[major], results[major], args.timeout, session_only.server if major == 2 else None),
            )
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join()
    finally:
        for running in [*servers.values(), session_only]:
            running.release.set()
        for running in [*servers.values(), session_only]:
            running.join(60)
        for migration in migrations.values():
            if migration.poll() is None:
                migration.kill()
        for env in envs.values():
            shutil.rmtree(env["AIRFLOW_HOME"], ignore_errors=True)
    total = time.monotonic() - started
    return report(results, {major: running.startup for major, running in servers.items()}, total, args.report)


def report(results: dict[int, list[dict[str, Any]]], startup: dict[int, float], total: float, path: Path) -> int:
    names = list(dict.fromkeys(row["case"] for rows in results.values() for row in rows))
    by = {(row["major"], row["case"]): row for rows in results.values() for row in rows}
    width = max(len(name) for name in names) if names else 10
    print(f"\n{'case':<{width}}  Airflow 2.10     Airflow 3.1")
    for name in names:
        cells = []
        for major in (2, 3):
            row = by.get((major, name))
            cells.append("-" if row is None else f"{'pass' if row['ok'] else 'FAIL'} {row['seconds']:6.2f}s")
        print(f"{name:<{width}}  {cells[0]:<15}  {cells[1]}")
    failures = [row for rows in results.values() for row in rows if not row["ok"]]
    for row in failures:
        print(f"\nFAIL [Airflow {row['major']}] {row['case']}:\n{row['detail']}")
    print(f"\nserver start: 2.10 {startup[2]:.1f}s, 3.1 {startup[3]:.1f}s; total {total:.1f}s; {len(failures)} failure(s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"startup_seconds": startup, "total_seconds": round(total, 1), "results": results}, indent=1), encoding="utf-8")
    return 1 if failures or not names else 0


if __name__ == "__main__":
    sys.exit(main())
