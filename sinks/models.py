"""The verification store's tables (sqlmodel). ``migrations/versions`` must match them exactly.

Queryable parts of the record are columns (what staff filter and sort on); the whole record is
kept as JSON too, so a later schema version never loses a field the columns did not foresee.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")

#: SQLAlchemy's default text form of a SQLite DATETIME (``sqlalchemy.dialects.sqlite.DATETIME``)
SQLITE_DATETIME_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)
#: the same format with positional fields (year, month, day, hour, minute, second, microsecond)
_SQLITE_DATETIME_FIELDS = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one step per aware ``datetime`` instead of two Python layers.

        SQLAlchemy composes ``process_bind_param`` (``astimezone(UTC)``, then the zone
        dropped) with SQLite's DATETIME processor, which fills ``SQLITE_DATETIME_FORMAT`` from
        the value's fields; the store binds seven such values a report, at about 10 µs each
        (3 µs this way). For a plain aware ``datetime`` this fills the same format,
        positionally, from the fields of the same ``astimezone(UTC)`` result (dropping the
        zone changes no field). Everything else (naive values, subclasses, other types) takes
        SQLAlchemy's own composition, as does every other dialect and any storage format but
        the default.
        """
        general = super().bind_processor(dialect)
        if (
            general is None
            or dialect.name != "sqlite"
            or getattr(self.impl_instance, "_storage_format", None) != SQLITE_DATETIME_FORMAT
        ):
            return general
        plain, text = datetime, _SQLITE_DATETIME_FIELDS

        def process(value: Any) -> Any:
            if value is None:  # both layers pass None through
                return None
            if type(value) is plain and value.tzinfo is not None:
                u = value.astimezone(UTC)
                return text % (u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond)
            return general(value)

        return process


def utcnow() -> datetime:
    return datetime.now(UTC)


class ReportStatus(StrEnum):
    """The SP4N-LAPOR! lifecycle of a stored report."""

    MENUNGGU_VERIFIKASI = "menunggu_verifikasi"
    TERVERIFIKASI = "terverifikasi"
    DITOLAK = "ditolak"
    DIDISPOSISIKAN = "didisposisikan"
    DITINDAKLANJUTI = "ditindaklanjuti"
    SELESAI = "selesai"
    DIARSIPKAN = "diarsipkan"


def _dt(nullable: bool = True, index: bool = False) -> Any:
    return sa.Column(UtcDateTime(), nullable=nullable, index=index)


class ReportRow(SQLModel, table=True):
    __tablename__ = "reports"

    id: str = Field(sa_column=sa.Column(sa.String(36), primary_key=True))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False, unique=True))
    tracking_no: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, unique=True))
    status: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, index=True))
    duplicate_of: str | None = Field(default=None, sa_column=sa.Column(sa.String(36)))
    verified_by: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    verified_at: datetime | None = Field(default=None, sa_column=_dt())
    stored_at: datetime = Field(sa_column=_dt(nullable=False))

    schema_version: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    channel_kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False, index=True))
    channel_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    external_id: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    received_at: datetime = Field(sa_column=_dt(nullable=False, index=True))
    ingested_at: datetime = Field(sa_column=_dt(nullable=False))
    reporter_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    reporter_email: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(320), index=True)
    )
    reporter_phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(32), index=True))
    reporter_handle: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(200), index=True)
    )
    reporter_address: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    reporter_nik_masked: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    subject: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    text: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    text_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    language: str | None = Field(default=None, sa_column=sa.Column(sa.String(8)))
    location_text: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    location_village: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    location_district: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(200), index=True)
    )
    location_regency: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    location_province: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    location_lat: float | None = Field(default=None, sa_column=sa.Column(sa.Float()))
    location_lon: float | None = Field(default=None, sa_column=sa.Column(sa.Float()))
    occurred_at: datetime | None = Field(default=None, sa_column=_dt())
    category: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), index=True))
    severity: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    due_at: datetime | None = Field(default=None, sa_column=_dt(index=True))
    in_reply_to: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    signature_present: bool | None = Field(default=None, sa_column=sa.Column(sa.Boolean()))
    confidence: float = Field(sa_column=sa.Column(sa.Float(), nullable=False))
    raw_uri: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    raw_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    record: dict[str, Any] = Field(sa_column=sa.Column(JSON_TYPE, nullable=False))


def _report_fk() -> sa.Column[str]:
    """The owning report of a child row (a fresh Column each time: a Column has one table)."""
    return sa.Column(
        sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False, index=True
    )


class AttachmentRow(SQLModel, table=True):
    __tablename__ = "attachments"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), primary_key=True))
    report_id: str = Field(sa_column=_report_fk())
    position: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    filename: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    content_type: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    size: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    uri: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class StatusHistoryRow(SQLModel, table=True):
    __tablename__ = "status_history"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), primary_key=True))
    report_id: str = Field(sa_column=_report_fk())
    status: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    at: datetime = Field(sa_column=_dt(nullable=False))
    by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoints"

    channel: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    state: dict[str, Any] = Field(sa_column=sa.Column(JSON_TYPE, nullable=False))
    updated_at: datetime = Field(sa_column=_dt(nullable=False))


class QuarantineRow(SQLModel, table=True):
    __tablename__ = "quarantine"

    id: int | None = Field(default=None, sa_column=sa.Column(sa.Integer(), primary_key=True))
    channel_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    channel_kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    external_id: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    raw_uri: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    raw_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    content_type: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    filename: str | None = Field(default=None, sa_column=sa.Column(sa.Text()))
    meta: dict[str, Any] = Field(sa_column=sa.Column(JSON_TYPE, nullable=False))
    received_at: datetime | None = Field(default=None, sa_column=_dt())
    created_at: datetime = Field(sa_column=_dt(nullable=False))
    replayed_at: datetime | None = Field(default=None, sa_column=_dt())
    replay_report_ids: list[str] | None = Field(
        default=None, sa_column=sa.Column(JSON_TYPE, nullable=True)
    )


class CounterRow(SQLModel, table=True):
    """Named counters; ``tracking`` numbers the reports (a row lock serializes issuers)."""

    __tablename__ = "counters"

    name: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    value: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))


STORE_TABLES = frozenset(
    {"reports", "attachments", "status_history", "checkpoints", "quarantine", "counters"}
)
