"""Load one `access/<team>.json` into a running Airflow 2.10 webserver and prove each role's reach.

    python tests/airflow/access_check.py URL ADMIN PASSWORD build/demo/access/finance.json

As the admin (basic auth): every role of the file is created with `POST /api/v1/roles`,
read back with its permissions, and given to a new user. Then, as each of those users:
the DAGs the role polls answer 200 (the DAG, its runs, its task instances), a DAG of the
team it was not granted answers 403; the DAGs it may trigger accept a run (200) and the
others refuse one (403); a role that may post dataset events posts one (200), the others
get 403, and no user may list connections or variables. The DAGs named must exist on the
server (parsed and serialized) when the roles load, and so must the datasets.

Prints one line per check and a JSON summary; exit status 0 when every check held.
Standard library only, so it runs with Airflow's own interpreter or any other.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from servers import request_json  # noqa: E402

DAG_PREFIX = "DAG:"


@dataclass(frozen=True)
class Check:
    user: str
    what: str
    expected: int
    got: int

    @property
    def held(self) -> bool:
        return self.expected == self.got


class Api:
    def __init__(self, url: str, username: str, password: str):
        self.root = url.rstrip("/") + "/api/v1"
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return request_json(method, self.root + path, body, {"Authorization": self.auth}, timeout=60)

    def must(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        if status not in (200, 201):
            raise SystemExit(f"{method} {path} -> {status}: {answer}")
        return answer


def quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def permissions(role: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["action"]["name"], a["resource"]["name"]) for a in role["actions"]}


def load_role(admin: Api, role: dict[str, Any]) -> None:
    """Create the role as the file has it, and check that the server kept every permission."""
    admin.must("POST", "/roles", role)
    stored = admin.must("GET", f"/roles/{quoted(role['name'])}")
    missing = permissions(role) - permissions(stored)
    if missing:
        raise SystemExit(f"role {role['name']} lost permissions on the server: {sorted(missing)}")


def create_user(admin: Api, username: str, role: str) -> str:
    password = secrets.token_urlsafe(16)
    admin.must("POST", "/users", {
        "username": username, "password": password, "first_name": "Mesh", "last_name": username,
        "email": f"{username}@example.invalid", "roles": [{"name": role}],
    })
    return password


@dataclass(frozen=True)
class Reach:
    reads: set[str]  # DAGs whose runs it may read
    triggers: set[str]  # DAGs it may trigger
    task_instances: bool  # may read the task instances of the DAGs it reads (those it polls)
    dataset_events: bool  # may post dataset events


def role_reach(role: dict[str, Any]) -> Reach:
    pairs = permissions(role)
    return Reach(
        reads={r[len(DAG_PREFIX):] for a, r in pairs if a == "can_read" and r.startswith(DAG_PREFIX)},
        triggers={r[len(DAG_PREFIX):] for a, r in pairs if a == "can_edit" and r.startswith(DAG_PREFIX)},
        task_instances=("can_read", "Task Instances") in pairs,
        dataset_events=("can_create", "Datasets") in pairs,
    )


def check_role(url: str, role: dict[str, Any], user: dict[str, Any], password: str, dags: list[str], datasets: list[str]) -> list[Check]:
    """What the role's user may and may not do; DAGS are the DAG ids the server has, DATASETS the URIs."""
    api = Api(url, user["username"], password)
    reach = role_reach(role)
    # a DAG the server no longer has answers 404 to anyone: its grant cannot be seen
    reads, triggers = reach.reads & set(dags), reach.triggers & set(dags)
    others = [d for d in dags if d not in reads]
    checks: list[Check] = []

    def expect(what: str, status: int, method: str, path: str, body: Any = None) -> None:
        got, _ = api.call(method, path, body)
        checks.append(Check(user["username"], what, status, got))

    for dag_id in sorted(reads):
        expect(f"GET DAG {dag_id}", 200, "GET", f"/dags/{quoted(dag_id)}")
        expect(f"GET runs of {dag_id}", 200, "GET", f"/dags/{quoted(dag_id)}/dagRuns")
        granted = "" if reach.task_instances else " (not granted: it only triggers)"
        expect(f"GET task instances of {dag_id}{granted}", 200 if reach.task_instances else 403, "GET", f"/dags/{quoted(dag_id)}/dagRuns/~/taskInstances")
    for dag_id in others[:1]:
        expect(f"GET DAG {dag_id} (not granted)", 403, "GET", f"/dags/{quoted(dag_id)}")
        expect(f"GET runs of {dag_id} (not granted)", 403, "GET", f"/dags/{quoted(dag_id)}/dagRuns")
        expect(f"GET task instances of {dag_id} (not granted)", 403, "GET", f"/dags/{quoted(dag_id)}/dagRuns/~/taskInstances")
    for dag_id in sorted(triggers):
        expect(f"trigger {dag_id}", 200, "POST", f"/dags/{quoted(dag_id)}/dagRuns", {"conf": {"by": user["username"]}})
    for dag_id in sorted(reads - triggers)[:1] + others[:1]:
        expect(f"trigger {dag_id} (not granted)", 403, "POST", f"/dags/{quoted(dag_id)}/dagRuns", {})
    expect("list connections (not granted)", 403, "GET", "/connections")
    expect("list variables (not granted)", 403, "GET", "/variables")
    for uri in user["dataset_events"] if reach.dataset_events else datasets[:1]:
        expect(f"dataset event {uri}" + ("" if reach.dataset_events else " (not granted)"), 200 if reach.dataset_events else 403,
               "POST", "/datasets/events", {"dataset_uri": uri, "extra": {"from": user["username"]}})
    return checks


def load_access(url: str, admin_user: str, admin_password: str, document: dict[str, Any]) -> dict[str, str]:
    """Every role of an access file, and a user with each; returns each user's new password."""
    admin = Api(url, admin_user, admin_password)
    for role in document["roles"]:
        load_role(admin, role)
    return {user["username"]: create_user(admin, user["username"], user["role"]) for user in document["users"]}


def check_access(url: str, admin_user: str, admin_password: str, document: dict[str, Any], passwords: dict[str, str]) -> list[Check]:
    """Each loaded user's reach (load_access made them), against the DAGs and datasets the server has now."""
    admin = Api(url, admin_user, admin_password)
    dags = sorted(d["dag_id"] for d in admin.must("GET", "/dags?limit=1000")["dags"])
    datasets = sorted(d["uri"] for d in admin.must("GET", "/datasets?limit=1000")["datasets"])
    roles = {role["name"]: role for role in document["roles"]}
    checks: list[Check] = []
    for user in document["users"]:
        checks += check_role(url, roles[user["role"]], user, passwords[user["username"]], dags, datasets)
    return checks


def run(url: str, admin_user: str, admin_password: str, access_file: Path) -> list[Check]:
    document = json.loads(access_file.read_text(encoding="utf-8"))
    passwords = load_access(url, admin_user, admin_password, document)
    return check_access(url, admin_user, admin_password, document, passwords)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the webserver's base URL, e.g. http://127.0.0.1:8793")
    parser.add_argument("admin", help="an admin user's name (basic auth must be enabled)")
    parser.add_argument("password", help="that user's password")
    parser.add_argument("access_file", type=Path, help="an access/<team>.json written by mesh-migrate analyze --out")
    args = parser.parse_args(argv)
    checks = run(args.url, args.admin, args.password, args.access_file)
    for check in checks:
        print(f"{'ok  ' if check.held else 'FAIL'} {check.user}: {check.what}: {check.got} (expected {check.expected})")
    failed = [c for c in checks if not c.held]
    print(json.dumps({"checks": len(checks), "failed": len(failed)}))
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
