"""A throwaway PostgreSQL server on loopback, for the runtime tests; runs a command while it is up.

    python tests/airflow/postgres.py [--airflow PYTHON]... [--out build] -- COMMAND...

Starts a new cluster in a temporary folder (initdb, then pg_ctl on 127.0.0.1 and a free
port, trust authentication, no fsync), and for each Airflow PYTHON (a venv with
apache-airflow 2 or 3 and psycopg2) creates the database `airflow<major>` and loads the
runtime tests' data into it through that Airflow (tests/airflow/runtime_db.py with a
PostgreSQL URL: `airflow db migrate`, the DagBag, the models). Then runs COMMAND with
MESH_RUNTIME_POSTGRES set to the server's URL (`postgresql+psycopg://USER@127.0.0.1:PORT`;
the tests add `/airflow2` or `/airflow3`), stops the server by its PID and removes the folder.
Exits with COMMAND's code.

PostgreSQL refuses to run as root: as root, the server programs run as the `postgres` user
(runuser). Only the standard library is used, so any Python 3 runs it.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SUPERUSER = "mesh"
SERVER_USER = "postgres"  # the account the server runs as when we are root
HERE = Path(__file__).resolve().parent

sys.path.insert(0, str(HERE))
from servers import free_port  # noqa: E402


class PostgresUnavailable(Exception):
    """No PostgreSQL server programs, or a server that did not start; the message says why."""


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str
    bindir: Path

    def url(self, database: str = "", driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}".rstrip("/")

    def create_database(self, name: str) -> None:
        subprocess.run([str(self.bindir / "createdb"), "-h", self.host, "-p", str(self.port), "-U", self.user, name], check=True)


def server_programs() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    raise PostgresUnavailable("PostgreSQL server programs (initdb, pg_ctl) not found: install them, e.g. apt-get install postgresql")


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run_as_server_user(*command: object) -> None:
    subprocess.run(_as_server_user([str(c) for c in command]), check=True, stdout=subprocess.DEVNULL)


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A running server that is stopped (by its PID) and deleted on exit, whatever happens inside."""
    bindir = server_programs()
    with tempfile.TemporaryDirectory(prefix="mesh-postgres-") as scratch:
        folder = Path(scratch)
        if os.geteuid() == 0:  # the server's own account must own its files
            shutil.chown(folder, SERVER_USER)
        data, log = folder / "data", folder / "server.log"
        _run_as_server_user(bindir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
        port = None
        try:
            for _ in range(3):  # a port found free can be taken before the server binds it
                port = free_port()
                options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                started = subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]), stdout=subprocess.DEVNULL)
                if started.returncode == 0:
                    break
            else:
                raise PostgresUnavailable(f"the PostgreSQL server did not start:\n{log.read_text() if log.exists() else ''}")
            yield Cluster("127.0.0.1", port, SUPERUSER, bindir)
        finally:
            _stop(data)


def _stop(data: Path) -> None:
    pid = _postmaster_pid(data)
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)  # "fast" shutdown: ends the sessions, stops cleanly
    for _ in range(300):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def airflow_major(python: str) -> int:
    code = "from importlib.metadata import version; print(version('apache-airflow').split('.')[0])"
    return int(subprocess.run([python, "-c", code], check=True, stdout=subprocess.PIPE, text=True).stdout)


def load(cluster: Cluster, python: str, out: Path) -> None:
    """The runtime tests' data, loaded into database airflow<major> by the Airflow of PYTHON."""
    database = f"airflow{airflow_major(python)}"
    cluster.create_database(database)
    report = out / f"runtime-{database}-postgres.json"
    with report.open("w") as handle, tempfile.TemporaryFile("w+") as log:
        done = subprocess.run([python, str(HERE / "runtime_db.py"), "--url", cluster.url(database, driver="psycopg2")], stdout=handle, stderr=log)
        if done.returncode:  # Airflow's warnings are shown only when the load fails
            log.seek(0)
            sys.stderr.write(log.read())
            done.check_returncode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--airflow", action="append", default=[], metavar="PYTHON", help="a Python with apache-airflow; repeatable")
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "build", help="where each load's JSON report goes")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with throwaway_cluster() as cluster:
            started = time.monotonic()
            for python in args.airflow:
                load(cluster, python, args.out)
            print(f"PostgreSQL {cluster.url()}: loaded {len(args.airflow)} database(s) in {time.monotonic() - started:.0f} s", file=sys.stderr)
            return subprocess.run(command, env={**os.environ, "MESH_RUNTIME_POSTGRES": cluster.url()}).returncode
    except PostgresUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"error: {' '.join(map(str, error.cmd))} exited with {error.returncode}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
