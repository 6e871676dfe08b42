"""Alembic environment: runs on the connection ``sinks.db.migrate`` hands over (no alembic.ini)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import sinks.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from sinks.db import make_engine
from sinks.models import STORE_TABLES

target_metadata = SQLModel.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table":
        return name in STORE_TABLES or name == "alembic_version"
    return True


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("run migrations through sinks.db.migrate(engine)")
        with make_engine(url).begin() as conn:
            _configure(conn)
        return
    _configure(connection)


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
