"""Runtime state kept beside the reports: channel checkpoints and quarantined raw payloads.

Channels are opaque names here: sinks know nothing of what a checkpoint means to an adapter.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from sinks.db import write_connection
from sinks.models import CheckpointRow, QuarantineRow, utcnow


def _upsert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


class CheckpointStore:
    """Where each channel's adapter resumes; saved only after the queue confirmed the batch."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, channel: str) -> dict[str, Any] | None:
        with Session(self._engine) as session:
            row = session.get(CheckpointRow, channel)
            return dict(row.state) if row is not None else None

    def save(self, channel: str, state: Mapping[str, Any]) -> None:
        table = CheckpointRow.__table__  # type: ignore[attr-defined]
        values = {"channel": channel, "state": dict(state), "updated_at": utcnow()}
        with write_connection(self._engine) as conn, conn.begin():
            stmt = _upsert(conn.dialect.name)(table).values(**values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["channel"],
                    set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
                )
            )


@dataclass(frozen=True)
class QuarantineItem:
    """A raw payload a normalizer could not turn into a report, kept for a later replay."""

    id: int
    channel_name: str
    channel_kind: str
    reason: str
    external_id: str | None
    raw_uri: str
    raw_sha256: str
    content_type: str
    filename: str | None
    meta: dict[str, Any]
    received_at: datetime | None
    created_at: datetime
    replayed_at: datetime | None = None
    replay_report_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: QuarantineRow) -> QuarantineItem:
        assert row.id is not None
        return cls(
            id=row.id,
            channel_name=row.channel_name,
            channel_kind=row.channel_kind,
            reason=row.reason,
            external_id=row.external_id,
            raw_uri=row.raw_uri,
            raw_sha256=row.raw_sha256,
            content_type=row.content_type,
            filename=row.filename,
            meta=dict(row.meta or {}),
            received_at=row.received_at,
            created_at=row.created_at,
            replayed_at=row.replayed_at,
            replay_report_ids=list(row.replay_report_ids or []),
        )


class QuarantineStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(
        self,
        *,
        channel_name: str,
        channel_kind: str,
        reason: str,
        external_id: str | None,
        raw_uri: str,
        raw_sha256: str,
        content_type: str,
        filename: str | None,
        meta: Mapping[str, Any],
        received_at: datetime | None,
    ) -> int:
        row = QuarantineRow(
            channel_name=channel_name,
            channel_kind=channel_kind,
            reason=reason,
            external_id=external_id,
            raw_uri=raw_uri,
            raw_sha256=raw_sha256,
            content_type=content_type,
            filename=filename,
            # meta comes from adapters (dates, ids...): keep it JSON, never fail a quarantine on it
            meta=json.loads(json.dumps(dict(meta), default=str)),
            received_at=received_at,
            created_at=utcnow(),
        )
        with Session(self._engine) as session:  # a lone INSERT: the lock is taken at once
            session.add(row)
            session.commit()
            assert row.id is not None
            return row.id

    def list(
        self, channel: str | None = None, include_replayed: bool = False
    ) -> builtins.list[QuarantineItem]:
        query = sa.select(QuarantineRow).order_by(QuarantineRow.id)  # type: ignore[arg-type]
        if channel is not None:
            query = query.where(QuarantineRow.channel_name == channel)  # type: ignore[arg-type]
        if not include_replayed:
            query = query.where(QuarantineRow.replayed_at.is_(None))  # type: ignore[union-attr]
        with Session(self._engine) as session:
            return [QuarantineItem.from_row(r) for r in session.scalars(query)]

    def get(self, item_id: int) -> QuarantineItem | None:
        with Session(self._engine) as session:
            row = session.get(QuarantineRow, item_id)
            return QuarantineItem.from_row(row) if row is not None else None

    def mark_replayed(self, item_id: int, report_ids: builtins.list[str]) -> None:
        with write_connection(self._engine) as conn, conn.begin():
            table = QuarantineRow.__table__  # type: ignore[attr-defined]
            result = conn.execute(
                sa.update(table)
                .where(table.c.id == item_id)
                .values(replayed_at=utcnow(), replay_report_ids=list(report_ids))
            )
            if result.rowcount == 0:
                raise KeyError(f"no quarantine item {item_id} (see `aduan quarantine list`)")
