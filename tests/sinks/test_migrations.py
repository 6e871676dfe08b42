"""The alembic migrations create exactly what the sqlmodel tables describe."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import sinks.models
from sinks.db import SCHEMA_HEAD, alembic_config, at_head, default_store_url, make_engine, migrate
from sinks.models import STORE_TABLES


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name not in STORE_TABLES)


def test_migration_matches_models(engine: Engine) -> None:
    assert sinks.models.ReportRow.__tablename__ == "reports"
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _ours}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_migrate_is_idempotent_and_records_head(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [("0001",)]
        assert set(sa.inspect(conn).get_table_names()) >= STORE_TABLES


def test_schema_head_is_alembic_head() -> None:
    # a new migration must move SCHEMA_HEAD too, or stores would never be upgraded to it
    config: Config = alembic_config()
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_a_store_not_at_head_goes_through_alembic(engine: Engine) -> None:
    assert at_head(engine)
    with engine.begin() as conn:  # a store stamped by a revision this code does not know
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000unknown'"))
    assert not at_head(engine)
    with pytest.raises(CommandError, match="0000unknown"):
        migrate(engine)  # not waved through by the quick check: alembic refuses it


def test_two_concurrent_migrations_do_not_collide(engine: Engine) -> None:
    # a second engine = a second process starting at the same time on a fresh database
    url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        for table in (
            "attachments",
            "status_history",
            "reports",
            "checkpoints",
            "quarantine",
            "counters",
            "alembic_version",
        ):
            conn.execute(sa.text(f"DROP TABLE {table}"))
    errors: list[BaseException] = []

    def run() -> None:
        eng = make_engine(url)
        try:
            migrate(eng)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            eng.dispose()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [("0001",)]


def test_engine_urls_and_default_store_url(tmp_path: Path) -> None:
    assert make_engine("postgresql://u@127.0.0.1/db").dialect.driver == "psycopg"
    assert make_engine("postgresql+psycopg://u@127.0.0.1/db").dialect.driver == "psycopg"
    url = default_store_url(tmp_path / "var")
    assert url == f"sqlite:///{tmp_path / 'var' / 'aduan.db'}"
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()
