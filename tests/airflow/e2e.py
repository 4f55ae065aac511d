"""End-to-end: mesh-migrate's output against a real Airflow 2.10 and a real Airflow 3.1.

    python tests/airflow/e2e.py --airflow2 .venv-airflow2/bin/python --airflow3 .venv-airflow3/bin/python

Starts an Airflow 2.10 webserver and an Airflow 3.1 api-server side by side (tests/airflow/servers.py)
with team upstream's DAGs of the before-repository tests/airflow/e2e_repo. Meanwhile
(tests/airflow/e2e_codemod.py) a copy of that repository goes through `mesh-migrate analyze --out`
and `mesh-migrate codemod --team downstream --apply`, and the rewrite is checked. On the 2.10
server the generated access/upstream.json is loaded and its downstream user is the login of the
cases' connection (least privilege); the 3.1 server's simple auth manager has no roles, so its
cases log in as the admin. tests/airflow/e2e_cases.py runs the rewritten DAGs in the Airflow venv
of the same major version against each server; afterwards each generated role's reach is checked
on 2.10 (tests/airflow/access_check.py: 200 where granted, 403 elsewhere). Prints a table of cases
per version, writes build/e2e-airflow.json and exits non-zero when a case fails or a server does
not start. The servers are stopped by process group when the run ends, however it ends.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from access_check import check_access, load_access  # noqa: E402
from e2e_codemod import REPO, TEAM, UPSTREAM_TEAM, Prepared, prepare, rewrite_problems  # noqa: E402
from servers import Server, ServerError, airflow_server  # noqa: E402

UPSTREAM = REPO / "dags" / UPSTREAM_TEAM
GONE = "up_missing"  # deleted once the server is up: the code names it, the instance no longer has it


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


def client_env(major: int, repo: Path) -> dict[str, str]:
    """The downstream instance's own home and sqlite database, for dag.test(); its DAGs folder and
    import root are those of the rewritten repository."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix=f"mesh-e2e-client{major}-")
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(repo / "dags" / TEAM)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{env['AIRFLOW_HOME']}/client.db"
    env["PYTHONPATH"] = str(repo / "lib")
    return env


def row(major: int, case: str, ok: bool, seconds: float, detail: str) -> dict[str, Any]:
    return {"major": major, "case": case, "ok": ok, "seconds": round(seconds, 2), "detail": detail}


@dataclass(frozen=True)
class Access:
    """access/<upstream>.json loaded into a server: its document, each user's password, the time it took."""

    document: dict[str, Any]
    passwords: dict[str, str]
    seconds: float

    @property
    def login(self) -> tuple[str, str]:
        """The downstream team's user, the login of its connection to the upstream instance."""
        name = next(user["username"] for user in self.document["users"] if user["team"] == TEAM)
        return name, self.passwords[name]


def load_roles(server: Server, prepared: Prepared) -> Access:
    started = time.monotonic()
    document = json.loads((prepared.report / "access" / f"{UPSTREAM_TEAM}.json").read_text(encoding="utf-8"))
    passwords = load_access(server.url, server.username, server.password, document)
    return Access(document, passwords, time.monotonic() - started)


def access_row(server: Server, access: Access) -> dict[str, Any]:
    """Each generated role's reach after the cases: 200 where granted, 403 elsewhere."""
    started = time.monotonic()
    checks = check_access(server.url, server.username, server.password, access.document, access.passwords)
    failed = [f"{c.user}: {c.what}: {c.got} (expected {c.expected})" for c in checks if not c.held]
    users = ", ".join(sorted(access.passwords))
    detail = "\n".join(failed) if failed else f"{len(checks)} checks held for {users} (roles loaded in {access.seconds:.1f}s)"
    return row(server.major, f"access/{UPSTREAM_TEAM}.json roles: 200 where granted, 403 elsewhere", bool(checks) and not failed, time.monotonic() - started, detail)


def run_cases(
    server: Server, python: Path, env: dict[str, str], migrated: subprocess.Popen[bytes], results: list[dict[str, Any]], timeout: float,
    session_only: Server | None, repo: Path, login: tuple[str, str],
) -> None:
    described = json.dumps({
        "major": server.major, "url": server.url, "username": server.username, "password": server.password,
        "session_only_url": session_only.url if session_only else None, "repo": str(repo), "conn_login": login[0], "conn_password": login[1],
    })
    try:
        server.cli("dags", "delete", GONE, "--yes")
    except ServerError as error:
        results.append(row(server.major, f"delete {GONE} from the server", False, 0, str(error)))
        return
    if migrated.wait() != 0:
        results.append(row(server.major, "downstream database", False, 0, "airflow db migrate failed"))
        return
    try:
        done = subprocess.run([str(python), str(HERE / "e2e_cases.py"), described], env=env, capture_output=True, text=True, timeout=timeout)
        output, errors, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as expired:
        output, errors, code = (expired.stdout or b"").decode() if isinstance(expired.stdout, bytes) else (expired.stdout or ""), "timed out", -1
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    results.extend(lines)
    if code != 0 and all(line["ok"] for line in lines):
        results.append(row(server.major, "case runner", False, 0, f"exit {code}: {errors[-3000:]}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow2", type=Path, required=True, help="python of the Airflow 2.10 venv")
    parser.add_argument("--airflow3", type=Path, required=True, help="python of the Airflow 3.1 venv")
    parser.add_argument("--mesh-migrate", type=Path, default=Path(sys.executable).with_name("mesh-migrate"), help="the mesh-migrate command")
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
    work = Path(tempfile.mkdtemp(prefix="mesh-e2e-repo-"))
    envs: dict[int, dict[str, str]] = {}
    migrations: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for running in [*servers.values(), session_only]:
            running.start()
        # while the servers start: the before-repository through analyze and codemod
        try:
            prepared = prepare(args.mesh_migrate, work)
        except RuntimeError as error:
            for major in servers:
                results[major].append(row(major, "codemod of the before-repository", False, 0, str(error)))
            return finish(results, servers, started, args.report)
        problems = rewrite_problems(prepared)
        summary = prepared.codemod_output.splitlines()[0] if prepared.codemod_output else ""
        for major in servers:
            results[major].append(row(major, "codemod of the before-repository", not problems, prepared.seconds, "\n".join(problems) or summary))
        envs = {major: client_env(major, prepared.repo) for major in servers}
        migrations = {
            major: subprocess.Popen([str(pythons[major]), "-m", "airflow", "db", "migrate"], env=envs[major], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for major in servers
        }
        for running in [*servers.values(), session_only]:
            running.ready.wait()
        if session_only.server is None:
            results[2].append(row(2, "session-only server start", False, 0, session_only.error or "not started"))
        workers, access = [], None
        for major, running in servers.items():
            server = running.server
            if server is None:
                results[major].append(row(major, "server start", False, 0, running.error or "not started"))
                continue
            login = (server.username, server.password)
            if major == 2:  # FAB: the generated roles; the 3.1 simple auth manager has none
                try:
                    access = load_roles(server, prepared)
                    login = access.login
                except (SystemExit, ServerError, OSError, StopIteration, KeyError) as error:  # access_check stops with SystemExit
                    results[2].append(row(2, f"load access/{UPSTREAM_TEAM}.json", False, 0, f"{type(error).__name__}: {error}"))
                    continue
            worker = threading.Thread(
                target=run_cases,
                args=(server, pythons[major], envs[major], migrations[major], results[major], args.timeout, session_only.server if major == 2 else None, prepared.repo, login),
            )
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join()
        if access is not None and servers[2].server is not None:
            results[2].append(access_row(servers[2].server, access))
    finally:
        for running in [*servers.values(), session_only]:
            running.release.set()
        for running in [*servers.values(), session_only]:
            if running.is_alive():
                running.join(60)
        for migration in migrations.values():
            if migration.poll() is None:
                migration.kill()
        for env in envs.values():
            shutil.rmtree(env["AIRFLOW_HOME"], ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return finish(results, servers, started, args.report)


def finish(results: dict[int, list[dict[str, Any]]], servers: dict[int, Running], started: float, path: Path) -> int:
    return report(results, {major: running.startup for major, running in servers.items()}, time.monotonic() - started, path)


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
