"""The report record: the contract in shared/contracts/report-record.md."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from normalizers.record import REPORT_NAMESPACE, Report, json_schema_text, mask_nik, report_id

ROOT = Path(__file__).resolve().parents[2]
WIB = timezone(timedelta(hours=7))


def draft(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "channel": {"kind": "email", "name": "inbox-utama"},
        "external_id": "CAF1234@mail.example.id",
        "received_at": datetime(2026, 11, 3, 8, 15, tzinfo=WIB),
        "ingested_at": datetime(2026, 11, 3, 1, 16, tzinfo=UTC),
        "text": "Jalan rusak di depan SD 12",
        "raw": {"uri": "file:///var/raw/ab/cd/x", "sha256": "a" * 64},
    }
    base.update(over)
    return base


def test_committed_json_schema_matches_the_model() -> None:
    committed = (ROOT / "schema" / "report.v1.json").read_text(encoding="utf-8")
    assert committed == json_schema_text(), (
        "schema/report.v1.json is stale: run `aduan schema > schema/report.v1.json`"
    )


def test_id_is_uuid5_of_channel_name_and_external_id() -> None:
    report = Report.model_validate(draft())
    assert report.id == uuid.uuid5(REPORT_NAMESPACE, "inbox-utama:CAF1234@mail.example.id")
    assert report.id == report_id("inbox-utama", "CAF1234@mail.example.id")
    # same source message, same id; another channel name, another id
    assert Report.model_validate(draft()).id == report.id
    other = Report.model_validate(draft(channel={"kind": "email", "name": "inbox-2"}))
    assert other.id != report.id


def test_wrong_id_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not match"):
        Report.model_validate(draft(id=str(uuid.uuid4())))


def test_json_round_trip_and_utc_rfc3339() -> None:
    report = Report.model_validate(draft())
    doc = json.loads(report.to_json())
    assert doc["received_at"] == "2026-11-03T01:15:00Z"
    assert doc["schema_version"] == "1"
    assert set(doc) >= {"id", "channel", "reporter", "location", "attachments", "raw", "confidence"}
    assert Report.from_json(report.to_json()) == report


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("received_at", datetime(2026, 11, 3, 8, 15), "timezone"),
        ("text", "   \n  ", "empty"),
        ("reporter", {"phone": "0812-3456-7890"}, "E.164"),
        ("reporter", {"nik_masked": "1610021203850004"}, "nik_masked"),
        ("channel", {"kind": "telegram", "name": "x"}, "channel.kind"),
        ("severity", "parah", "severity"),
        ("confidence", 1.5, "confidence"),
        ("language", "Indonesian", "language"),
        ("unknown_field", 1, "unknown_field"),
    ],
)
def test_contract_violations_are_refused(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Report.model_validate(draft(**{field: value}))
    assert message in str(info.value)


def test_nik_is_masked_in_text_and_by_rule() -> None:
    assert mask_nik("1610021203850004") == "1610********0004"
    report = Report.model_validate(
        draft(text="NIK saya 1610021203850004 dan 1610-0212-0385-0004, HP 081234567890")
    )
    assert "1610021203850004" not in report.text
    assert report.text == "NIK saya 1610********0004 dan 1610********0004, HP 081234567890"
    with pytest.raises(ValueError, match="16 digits"):
        mask_nik("12345")


def test_text_is_nfc_and_whitespace_normalized() -> None:
    report = Report.model_validate(draft(text="  Jalan  rusak\u00a0parah\n\n\n\nCafe\u0301  "))
    assert report.text == "Jalan rusak parah\n\nCafé"


def test_email_lowercased_and_phone_e164_accepted() -> None:
    report = Report.model_validate(
        draft(reporter={"email": "Siti@Mail.ID", "phone": "+6281234567890"})
    )
    assert report.reporter.email == "siti@mail.id"
    assert report.reporter.phone == "+6281234567890"
