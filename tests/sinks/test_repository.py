"""Verification and the status lifecycle, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from sinks import repository
from sinks.repository import IllegalTransition, ReportNotFound
from sinks.store import store_reports
from tests.sinks.conftest import make_report


def stored_one(engine: Engine, n: int = 1) -> str:
    store_reports(engine, [make_report(n)])
    found = repository.list_reports(engine, limit=1)
    return found[0].tracking_no


def test_approve_records_who_when_and_history(engine: Engine) -> None:
    tracking = stored_one(engine)
    before = datetime.now(UTC)
    report = repository.verify(
        engine, tracking.lower(), approve=True, reason="identitas lengkap", actor="siti"
    )
    assert report.status == "terverifikasi"
    assert report.verified_by == "siti"
    assert report.verified_at is not None and report.verified_at >= before
    assert [(h.status, h.by, h.reason) for h in report.status_history] == [
        ("menunggu_verifikasi", "aduan-store", "received"),
        ("terverifikasi", "siti", "identitas lengkap"),
    ]
    again = repository.get_report(engine, tracking)
    assert again == report


def test_reject_records_who_when_and_can_only_be_archived(engine: Engine) -> None:
    tracking = stored_one(engine)
    report = repository.verify(engine, tracking, approve=False, reason="spam", actor="budi")
    assert (report.status, report.verified_by) == ("ditolak", "budi")
    with pytest.raises(IllegalTransition, match="allowed next: diarsipkan"):
        repository.set_status(engine, tracking, "didisposisikan", reason="x", actor="budi")
    archived = repository.set_status(engine, tracking, "diarsipkan", reason="arsip", actor="budi")
    assert archived.status == "diarsipkan"


def test_full_lifecycle_in_order(engine: Engine) -> None:
    tracking = stored_one(engine)
    repository.verify(engine, tracking, approve=True, reason="ok", actor="a")
    for status in ("didisposisikan", "ditindaklanjuti", "selesai", "diarsipkan"):
        report = repository.set_status(engine, tracking, status, reason=status, actor="a")
    assert [h.status for h in report.status_history] == [
        "menunggu_verifikasi",
        "terverifikasi",
        "didisposisikan",
        "ditindaklanjuti",
        "selesai",
        "diarsipkan",
    ]


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], "didisposisikan"),  # dispatch before verification
        ([], "selesai"),
        (["terverifikasi"], "ditolak"),  # cannot reject after approving
        (["terverifikasi"], "terverifikasi"),
        (["terverifikasi", "didisposisikan"], "selesai"),  # skip ditindaklanjuti
        (["ditolak", "diarsipkan"], "menunggu_verifikasi"),
    ],
)
def test_illegal_transitions_are_refused(engine: Engine, path: list[str], illegal: str) -> None:
    tracking = stored_one(engine)
    for status in path:
        repository.set_status(engine, tracking, status, reason="r", actor="a")
    before = repository.get_report(engine, tracking)
    with pytest.raises(IllegalTransition):
        repository.set_status(engine, tracking, illegal, reason="r", actor="a")
    assert repository.get_report(engine, tracking) == before  # nothing changed


def test_verify_twice_is_refused(engine: Engine) -> None:
    tracking = stored_one(engine)
    repository.verify(engine, tracking, approve=True, reason="ok", actor="a")
    with pytest.raises(IllegalTransition, match="terverifikasi"):
        repository.verify(engine, tracking, approve=False, reason="berubah pikiran", actor="b")


def test_unknown_status_and_unknown_tracking_number(engine: Engine) -> None:
    tracking = stored_one(engine)
    with pytest.raises(IllegalTransition, match="unknown status"):
        repository.set_status(engine, tracking, "beres", reason="r", actor="a")
    with pytest.raises(ReportNotFound, match="ADU-2611-999999"):
        repository.set_status(engine, "ADU-2611-999999-0", "terverifikasi", reason="r", actor="a")
    assert repository.get_report(engine, "ADU-2611-999999-0") is None


def test_reason_is_required(engine: Engine) -> None:
    tracking = stored_one(engine)
    with pytest.raises(ValueError, match="reason"):
        repository.verify(engine, tracking, approve=True, reason="  ", actor="a")


def test_list_filters(engine: Engine) -> None:
    store_reports(
        engine,
        [make_report(1), make_report(2, channel={"kind": "sms", "name": "sms-gw"}), make_report(3)],
    )
    assert len(repository.list_reports(engine)) == 3
    assert [r.channel.name for r in repository.list_reports(engine, channel="sms-gw")] == ["sms-gw"]
    first = repository.list_reports(engine, limit=1)[0]
    repository.verify(engine, first.tracking_no, approve=True, reason="ok", actor="a")
    assert [r.id for r in repository.list_reports(engine, status="terverifikasi")] == [first.id]
    assert repository.count_reports(engine) == 3
