"""A read-only connection to an Airflow metadata database, by SQLAlchemy URL."""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError


# Run first in every session, so that each transaction of it is read-only: the server refuses
# any write. sqlite is opened read-only instead (below).
READ_ONLY_SESSION = {
    "postgresql": ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET default_transaction_read_only = on"),
    "mysql": ("SET SESSION TRANSACTION READ ONLY",),
}


# A server that does not answer fails the run in seconds, not at the TCP timeout, unless the
# URL sets its own (?connect_timeout=60).
CONNECT_ARGS: dict[str, dict[str, object]] = {"postgresql": {"connect_timeout": 15}, "mysql": {"connect_timeout": 15}}


class RuntimeDbError(Exception):
    """A database that cannot be read as Airflow's; the message is one line naming it."""


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _readonly_url(text: str) -> URL:
    try:
        url = make_url(text)
    except ArgumentError:
        raise RuntimeDbError(f"--airflow-db {text!r} is not a database URL (e.g. sqlite:////path/airflow.db, postgresql+psycopg://user@host/airflow)") from None
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise RuntimeDbError(f"{safe_url(url)}: give the path of the Airflow sqlite file")
        path = Path(database)
        if not path.is_file():
            raise RuntimeDbError(f"{safe_url(url)}: no such file {database}")
        # sqlite opens the file itself read-only: a write is refused by the library, not by us.
        options = "mode=ro"
        if _quiet_wal(path):
            # In WAL mode (Airflow 3 leaves its file so) a read-only reader would still create
            # the -wal and -shm files beside it; with no writer at work (no -wal file), reading
            # it as immutable creates nothing at all.
            options += "&immutable=1"
        return url.set(database=f"file:{quote(str(path.resolve()))}?{options}", query={"uri": "true"})
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg2" and not _importable("psycopg2") and _importable("psycopg"):
        # Airflow's own setting names psycopg2 (given or by default); mesh-migrate[postgres]
        # brings psycopg 3, which reads the same URL.
        return url.set(drivername="postgresql+psycopg")
    return url


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _quiet_wal(path: Path) -> bool:
    """A sqlite file in WAL mode (header bytes 18 and 19 are 2) that no writer has open."""
    try:
        with path.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    in_wal = header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"
    return in_wal and not Path(f"{path}-wal").exists()


@contextmanager
def connect_readonly(text: str) -> Iterator[tuple[Connection, str]]:
    """A connection that cannot write, and the URL to show (password hidden)."""
    url = _readonly_url(text)
    try:
        defaults = CONNECT_ARGS.get(url.get_backend_name(), {})
        engine = create_engine(url, connect_args={k: v for k, v in defaults.items() if k not in url.query})
    except (NoSuchModuleError, ImportError, ArgumentError) as error:
        raise RuntimeDbError(f"{safe_url(url)}: cannot open ({error}); for PostgreSQL install mesh-migrate[postgres]") from None
    statements = READ_ONLY_SESSION.get(url.get_backend_name(), ())
    if statements:

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection, record) -> None:  # every session of the pool is read-only
            cursor = dbapi_connection.cursor()
            for statement in statements:
                cursor.execute(statement)
            cursor.close()
            dbapi_connection.commit()

    try:
        with engine.connect() as connection:
            yield connection, safe_url(make_url(text))
    except SQLAlchemyError as error:
        raise RuntimeDbError(f"{safe_url(make_url(text))}: {_first_line(error)}") from None
    finally:
        engine.dispose()


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
