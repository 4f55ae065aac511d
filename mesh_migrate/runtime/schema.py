"""Which Airflow wrote the database: its alembic revision, against the releases understood here."""

from __future__ import annotations

# The head revision of each Airflow release that changed the schema (airflow.utils.db's
# _REVISION_HEADS_MAP in 2.10.5 and 3.1.8); a release in between keeps the previous head.
REVISIONS = {
    "405de8318b3a": "2.7.0",
    "10b52ebd31f7": "2.8.0",
    "88344c1d9134": "2.8.1",
    "1949afb29106": "2.9.0",
    "686269002441": "2.9.2",
    "22ed7efa9da2": "2.10.0",
    "5f2621c13b39": "2.10.3",
    "29ce7909c52b": "3.0.0",
    "fe199e1abd77": "3.0.3",
    "cc92b33c6709": "3.1.0",
    "509b94a1042d": "3.1.8",
}


def airflow_release(revision: str) -> str | None:
    """'2.10.3' for a known head revision, None for anything else."""
    return REVISIONS.get(revision)


def major(release: str) -> int:
    return int(release.split(".", 1)[0])


def known() -> str:
    return f"Airflow {min(REVISIONS.values(), key=_key)} to {max(REVISIONS.values(), key=_key)}"


def _key(release: str) -> tuple[int, ...]:
    return tuple(int(p) for p in release.split("."))
