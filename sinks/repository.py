"""Reading stored reports and moving them through the SP4N-LAPOR! lifecycle.

Every status change is a conditional UPDATE (``WHERE status = <what we read>``) plus a history
row in one transaction, so two officers acting on the same report at once cannot both win, and
the history never disagrees with the current status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import Engine

from normalizers.record import Report, UtcDatetime
from sinks.db import write_connection
from sinks.models import ReportRow, ReportStatus, StatusHistoryRow, utcnow
from sinks.tracking import normalize_tracking_no

#: status -> statuses it may move to (the SOP of SP4N-LAPOR! offices)
TRANSITIONS: dict[ReportStatus, frozenset[ReportStatus]] = {
    ReportStatus.MENUNGGU_VERIFIKASI: frozenset({ReportStatus.TERVERIFIKASI, ReportStatus.DITOLAK}),
    ReportStatus.TERVERIFIKASI: frozenset({ReportStatus.DIDISPOSISIKAN}),
    ReportStatus.DITOLAK: frozenset({ReportStatus.DIARSIPKAN}),
    ReportStatus.DIDISPOSISIKAN: frozenset({ReportStatus.DITINDAKLANJUTI}),
    ReportStatus.DITINDAKLANJUTI: frozenset({ReportStatus.SELESAI}),
    ReportStatus.SELESAI: frozenset({ReportStatus.DIARSIPKAN}),
    ReportStatus.DIARSIPKAN: frozenset(),
}
_VERIFICATION = frozenset({ReportStatus.TERVERIFIKASI, ReportStatus.DITOLAK})

_REPORTS = ReportRow.__table__  # type: ignore[attr-defined]
_HISTORY = StatusHistoryRow.__table__  # type: ignore[attr-defined]


class ReportNotFound(LookupError):
    """No stored report has this tracking number."""


class IllegalTransition(ValueError):
    """The lifecycle does not allow this status change from the report's current status."""


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ReportStatus
    at: UtcDatetime
    by: str
    reason: str


class StoredReport(Report):
    """A report as the store keeps it: the record plus the store-side fields."""

    tracking_no: str
    status: ReportStatus
    duplicate_of: str | None = None
    verified_by: str | None = None
    verified_at: UtcDatetime | None = None
    stored_at: UtcDatetime | None = None
    status_history: list[StatusChange] = Field(default_factory=list)


def _load(conn: sa.Connection, rows: list[Any]) -> list[StoredReport]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    history: dict[str, list[StatusChange]] = {i: [] for i in ids}
    for h in conn.execute(
        sa.select(_HISTORY).where(_HISTORY.c.report_id.in_(ids)).order_by(_HISTORY.c.id)
    ):
        history[h.report_id].append(
            StatusChange(status=ReportStatus(h.status), at=h.at, by=h.by, reason=h.reason)
        )
    return [
        StoredReport.model_validate(
            {
                **r.record,
                "tracking_no": r.tracking_no,
                "status": r.status,
                "duplicate_of": r.duplicate_of,
                "verified_by": r.verified_by,
                "verified_at": r.verified_at,
                "stored_at": r.stored_at,
                "status_history": history[r.id],
            }
        )
        for r in rows
    ]


def list_reports(
    engine: Engine, *, status: str | None = None, channel: str | None = None, limit: int = 50
) -> list[StoredReport]:
    """Newest first (by arrival in the store)."""
    query = sa.select(_REPORTS).order_by(_REPORTS.c.seq.desc()).limit(limit)
    if status is not None:
        query = query.where(_REPORTS.c.status == ReportStatus(status).value)
    if channel is not None:
        query = query.where(_REPORTS.c.channel_name == channel)
    with engine.connect() as conn:
        return _load(conn, list(conn.execute(query)))


def get_report(engine: Engine, tracking_no: str) -> StoredReport | None:
    query = sa.select(_REPORTS).where(_REPORTS.c.tracking_no == normalize_tracking_no(tracking_no))
    with engine.connect() as conn:
        found = _load(conn, list(conn.execute(query)))
    return found[0] if found else None


def count_reports(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(_REPORTS)).scalar_one())


def verify(
    engine: Engine, tracking_no: str, *, approve: bool, reason: str, actor: str
) -> StoredReport:
    """The verification decision: approve (terverifikasi) or reject (ditolak)."""
    target = ReportStatus.TERVERIFIKASI if approve else ReportStatus.DITOLAK
    return set_status(engine, tracking_no, target, reason=reason, actor=actor)


def set_status(
    engine: Engine, tracking_no: str, status: str, *, reason: str, actor: str
) -> StoredReport:
    """Move a report to ``status`` if the lifecycle allows it, recording who, when and why."""
    try:
        target = ReportStatus(status)
    except ValueError:
        valid = ", ".join(s.value for s in ReportStatus)
        raise IllegalTransition(f"unknown status {status!r} (valid: {valid})") from None
    if not reason.strip():
        raise ValueError("a reason is required for every status change")
    if not actor.strip():
        raise ValueError("the actor (who made the change) is required")
    key = normalize_tracking_no(tracking_no)
    now: datetime = utcnow()
    with write_connection(engine) as conn, conn.begin():
        row = conn.execute(
            sa.select(_REPORTS.c.id, _REPORTS.c.status).where(_REPORTS.c.tracking_no == key)
        ).first()
        if row is None:
            raise ReportNotFound(f"no report with tracking number {key} (see `aduan reports list`)")
        current = ReportStatus(row.status)
        if target not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
            raise IllegalTransition(
                f"{key} is {current.value}; it cannot become {target.value} "
                f"(allowed next: {allowed})"
            )
        values: dict[str, Any] = {"status": target.value}
        if target in _VERIFICATION:
            values.update(verified_by=actor, verified_at=now)
        result = conn.execute(
            sa.update(_REPORTS)
            .where(_REPORTS.c.id == row.id, _REPORTS.c.status == current.value)
            .values(**values)
        )
        if result.rowcount != 1:
            raise IllegalTransition(f"{key} was changed by someone else meanwhile; try again")
        conn.execute(
            sa.insert(_HISTORY).values(
                report_id=row.id, status=target.value, at=now, by=actor, reason=reason
            )
        )
    found = get_report(engine, key)
    assert found is not None
    return found
