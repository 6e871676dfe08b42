"""Engines and migrations for the verification store (SQLite by default, PostgreSQL in production).

SQLite is set up for several processes on one file (WAL, busy timeout) and with transactions
that SQLAlchemy really controls, so DDL in a migration is atomic and a writer can take the lock up
front (``immediate=True``) instead of failing when it upgrades a read to a write.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: pg_advisory_xact_lock key serializing concurrent migrations ("aduan" in ASCII)
MIGRATION_LOCK_KEY = 0x616475616E
BUSY_TIMEOUT_MS = 30_000
#: the newest migration's revision; a test holds it equal to alembic's head. A store already at
#: it is recognised with one SELECT, so most starts never import alembic (~0.16 s a process).
SCHEMA_HEAD = "0001"


class JsonText(str):
    """A JSON document serialized already (a record as pydantic writes it): stored as it is,
    instead of being turned into Python objects and dumped again (about 50 µs per report)."""


def _json_serializer(value: Any) -> str:
    return value if isinstance(value, JsonText) else json.dumps(value)


def default_store_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / 'aduan.db'}"


def make_engine(url: str) -> Engine:
    """An engine for ``store.url``; ``postgresql://`` is taken to mean psycopg 3."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            json_serializer=_json_serializer,
        )
        _sqlite_setup(engine)
        return engine
    # plain executemany: psycopg 3 pipelines it; "insertmanyvalues" builds one huge statement per
    # batch that psycopg re-parses every time (measured 3x slower for 100-row batches)
    return sa.create_engine(
        url, pool_pre_ping=True, use_insertmanyvalues=False, json_serializer=_json_serializer
    )


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_connection(engine: Engine) -> sa.Connection:
    """A connection whose transactions take the write lock at BEGIN on SQLite."""
    return engine.connect().execution_options(sqlite_immediate=True)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def at_head(engine: Engine) -> bool:
    """True when the store's recorded revision is ``SCHEMA_HEAD`` (False on a new database)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:  # no alembic_version table yet
        return False
    return rows == [(SCHEMA_HEAD,)]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run from several processes at once."""
    if at_head(engine):
        log.debug("store schema is at head")
        return
    from alembic import command

    cfg = alembic_config()
    with write_connection(engine) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.debug("store schema is at head")
