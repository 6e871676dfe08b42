"""Fixtures for the sinks: each store/queue test runs on the embedded default and on the real
servers (RabbitMQ + PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from normalizers.record import Report
from sinks.db import default_store_url, make_engine, migrate


@dataclass
class Backend:
    name: str
    queue_url: str
    store_url: str
    data_dir: Path
    engine: Engine


@pytest.fixture(params=["embedded", "rabbitmq+postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "embedded":
        queue_url, store_url = "embedded", default_store_url(tmp_path)
    else:
        queue_url = request.getfixturevalue("amqp_url")
        store_url = request.getfixturevalue("pg_url")
    engine = make_engine(store_url)
    migrate(engine)
    try:
        yield Backend(request.param, queue_url, store_url, tmp_path, engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated store without a queue (the repository and state tests)."""
    url = (
        default_store_url(tmp_path)
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    eng = make_engine(url)
    migrate(eng)
    try:
        yield eng
    finally:
        eng.dispose()


BASE_TIME = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def make_report(n: int, **overrides: Any) -> Report:
    """A valid record; ``n`` makes the external id (and so the report id) distinct."""
    fields: dict[str, Any] = {
        "channel": {"kind": "email", "name": "inbox-diskominfo"},
        "external_id": f"msg-{n}@example.go.id",
        "received_at": BASE_TIME + timedelta(minutes=n),
        "ingested_at": BASE_TIME + timedelta(minutes=n, seconds=5),
        "reporter": {"name": f"Warga {n}", "email": f"warga{n}@example.com"},
        "subject": "Jalan rusak",
        "text": f"Jalan di depan Pasar Pangkalan Balai rusak parah, laporan nomor {n}.",
        "language": "id",
        "location": {"text": "depan Pasar Pangkalan Balai", "district": "Banyuasin III"},
        "category": "infrastruktur",
        "severity": "sedang",
        "raw": {"uri": f"file:///var/lib/aduan/raw/{n}.eml", "sha256": "ab" * 32},
    }
    fields.update(overrides)
    return Report.model_validate(fields)
