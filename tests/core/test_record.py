"""The report record: the contract in shared/contracts/report-record.md."""

from __future__ import annotations

import json
import random
import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from normalizers import record
from normalizers.record import (
    REPORT_NAMESPACE,
    Report,
    json_schema_text,
    mask_nik,
    mask_niks_in_text,
    may_hold_digits,
    report_id,
)

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


def test_timestamps_are_written_in_utc_as_isoformat_with_z() -> None:
    """pydantic-core writes the record's datetimes; held to what ``isoformat`` gives in UTC with
    "Z" for "+00:00" (what a Python serializer wrote before) over random instants, zones and
    microseconds, the edges of the calendar included."""
    rng = random.Random(3339)
    lo = datetime(1, 1, 2, tzinfo=UTC).timestamp()
    hi = datetime(9999, 12, 30, tzinfo=UTC).timestamp()
    instants = [datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, 23, 59, 59, 999999, UTC)]
    for _ in range(3000):
        at = datetime.fromtimestamp(rng.uniform(lo, hi), UTC)
        instants.append(at.replace(microsecond=rng.choice([0, rng.randrange(1_000_000)])))
    for at in instants:
        zone = timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1, 15)))
        local = at.astimezone(zone)
        report = Report.model_validate(draft(received_at=local, occurred_at=local, due_at=at))
        doc = json.loads(report.to_json())
        expected = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        assert doc["received_at"] == doc["occurred_at"] == doc["due_at"] == expected
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


# The shortcuts in the validators (a digit count before the NIK scan, substitutions run only
# when they can change something, a cached id) must give what the plain steps give.
_PIECES = (
    "Jalan", " ", "  ", "\t", "\u00a0", "\n", " \n", "\n ", "\n\n\n", "e\u0301", "1610",
    "0212", "0385", "0004", "-", ".", "٣", "\uff11", "\ud800", "*", "x", "NIK ",
)  # fmt: skip


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 30))))
        # every spelling of a NIK the contract masks, in a random neighbourhood
        sep = rng.choice(("", " ", ".", "-"))
        digits = "".join(rng.choice("0123456789٣") for _ in range(16))
        nik = sep.join(digits[k : k + 4] for k in range(0, 16, 4))
        out.append(rng.choice(_PIECES) + nik + rng.choice(_PIECES))
    return out


def _plain_clean_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    value = record._BLANKS.sub(" ", value)
    value = record._LINE_EDGES.sub("\n", value)
    value = record._BLANK_LINES.sub("\n\n", value).strip()
    if not value:
        raise ValueError("empty")
    return record._NIK_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(5)}", value)


def test_digit_count_never_rules_out_a_match() -> None:
    for text in _texts(3000, 1):
        digits = len(re.findall(r"\d", text))
        for wanted in (1, 8, 16):
            if digits >= wanted:
                assert may_hold_digits(text, wanted), (text, wanted)
        if text.isascii():  # exact there
            assert may_hold_digits(text, 16) == (digits >= 16)


def test_shortcuts_give_what_the_plain_steps_give() -> None:
    masked = 0
    for text in _texts(3000, 2):
        plain = record._NIK_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(5)}", text)
        assert mask_niks_in_text(text) == plain
        masked += plain != text
        try:
            expected = _plain_clean_text(text)
        except ValueError:
            with pytest.raises(ValueError, match="empty"):
                record._clean_text(text)
        else:
            assert record._clean_text(text) == expected
    assert masked > 1000


def test_cached_id_is_uuid5_and_a_str_subclass_is_not_cached() -> None:
    for k in range(600):  # more than the cache holds
        ext = f"<{k}@mail.example.id>"
        expected = uuid.uuid5(REPORT_NAMESPACE, f"inbox:{ext}")
        assert report_id("inbox", ext) == expected
        assert report_id("inbox", ext) == expected

    class Odd(str):
        def __format__(self, spec: str) -> str:
            return "odd"

    report_id("inbox", "x")
    assert report_id("inbox", Odd("x")) == uuid.uuid5(REPORT_NAMESPACE, "inbox:odd")


def test_the_id_check_computes_what_uuid5_computes() -> None:
    """``_check_id`` compares integers instead of building a UUID: the same SHA-1 and bits."""
    rng = random.Random(5)
    alphabet = "abcXYZ09:@<>.- \u00e9\u4e2d\U0001f600\ud800"
    for _ in range(20_000):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        ext = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        try:
            expected = uuid.uuid5(REPORT_NAMESPACE, f"{name}:{ext}").int
        except UnicodeEncodeError:  # a lone surrogate: uuid5 refuses it, so must this
            with pytest.raises(UnicodeEncodeError):
                record._report_id_int(name, ext)
            continue
        assert record._report_id_int(name, ext) == expected
    # a report read back with a near miss (one bit off) is still refused
    report = Report.model_validate(draft())
    doc = json.loads(report.to_json())
    doc["id"] = str(uuid.UUID(int=report.id.int ^ 1))
    with pytest.raises(ValidationError, match="does not match"):
        Report.from_json(json.dumps(doc))
    assert Report.from_json(report.to_json()) == report
