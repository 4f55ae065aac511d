"""access/<team>.json: the roles a team's instance gives the teams that call it, as Airflow 2.10 takes them.

Each entry of `roles` is the body of `POST /api/v1/roles` (FAB auth manager), unchanged;
`users` says which service user gets which role. Passwords are never written: the loader
sets them and hands them to the calling team for its connection.
"""

from __future__ import annotations

import json
from typing import Any

from ..access import Grant, fab_permissions
from ..plan import SplitPlan

ACCESS_SCHEMA = "mesh-migrate/access@1"


def role_body(grant: Grant) -> dict[str, Any]:
    """The JSON body of `POST /api/v1/roles` that creates the grant's role."""
    actions = [{"action": {"name": action}, "resource": {"name": resource}} for action, resource in fab_permissions(grant)]
    return {"name": grant.role, "actions": actions}


def user_entry(grant: Grant) -> dict[str, Any]:
    """The user to create and why it holds its role (FAB cannot name dataset URIs: the role
    may post events for any dataset of the instance, the team needs only these)."""
    return {
        "username": grant.user,
        "role": grant.role,
        "team": grant.team,
        "polls": list(grant.reads),
        "triggers": list(grant.triggers),
        "dataset_events": list(grant.dataset_events),
    }


def access_document(plan: SplitPlan) -> dict[str, Any]:
    description = (
        f"Roles for the teams that call team {plan.team}'s Airflow instance (and the monolith while "
        f"{plan.team}'s DAGs still run there), one per calling team. Airflow 2.10, FAB auth manager, "
        "once the DAGs are parsed there: POST each entry of roles to /api/v1/roles as an admin, then create "
        "each user with its role and a password of your own (POST /api/v1/users), and give the password to "
        "the calling team for its connection. Airflow 3 with the FAB auth manager: the same bodies to "
        "/auth/fab/v1/roles, with resource Assets for Datasets and can_read on Assets too."
    )
    return {
        "schema": ACCESS_SCHEMA,
        "team": plan.team,
        "description": description,
        "roles": [role_body(grant) for grant in plan.grants],
        "users": [user_entry(grant) for grant in plan.grants],
    }


def access_json(plan: SplitPlan) -> str:
    return json.dumps(access_document(plan), indent=2) + "\n"
