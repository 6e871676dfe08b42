"""The SMS normalizer, table-driven: envelope -> record (or rejection with a reason)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.office import Category, OfficeProfile, Region
from normalizers.sms import normalize, parse_keyword, sender_phone

OFFICE = OfficeProfile(
    name="Diskominfo Uji",
    region=Region(province="Sumatera Selatan", regency="Ogan Ilir"),
    categories=[Category(name="Infrastruktur"), Category(name="Kesehatan")],
)
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def ctx(**settings: Any) -> NormalizeContext:
    return NormalizeContext(
        channel_name="sms",
        channel_kind="sms",
        ingested_at=NOW,
        raw_uri="file:///tmp/raw",
        raw_sha256="0" * 64,
        office=OFFICE,
        settings={"keywords": ["LAPOR"], "codes": {"JLN": "Infrastruktur"}, **settings},
    )


def run(text: str, sender: str = "081234567890", **settings: Any) -> Normalized | Rejection:
    env = {
        "id": "gw-1",
        "from": sender,
        "to": "1708",
        "text": text,
        "received_at": "2026-11-23T09:00:00+07:00",
    }
    out = normalize(RawMessage(json.dumps(env).encode(), "application/json"), ctx(**settings))
    assert len(out) == 1
    return out[0]


# text -> (keyword, code, remaining text)
KEYWORDS = [
    ("LAPOR jalan rusak di desa", ("LAPOR", None, "jalan rusak di desa")),
    ("lapor jalan rusak", ("LAPOR", None, "jalan rusak")),
    ("Lapor: jalan rusak", ("LAPOR", None, "jalan rusak")),
    ("  LAPOR   jalan rusak", ("LAPOR", None, "jalan rusak")),
    ("LAPOR#JLN jalan rusak", ("LAPOR", "JLN", "jalan rusak")),
    ("lapor#jln#jalan rusak", ("LAPOR", "JLN", "jalan rusak")),
    ("LAPOR # XYZ # jalan rusak", ("LAPOR", "XYZ", "jalan rusak")),
    ("LAPORJLN jalan rusak", ("LAPOR", "JLN", "jalan rusak")),
    ("laporkesehatan puskesmas tutup", ("LAPOR", "KESEHATAN", "puskesmas tutup")),
    ("Laporan saya soal jalan", (None, None, "Laporan saya soal jalan")),
    ("LAPORXYZ jalan", (None, None, "LAPORXYZ jalan")),
    ("jalan rusak tanpa kata kunci", (None, None, "jalan rusak tanpa kata kunci")),
    ("LAPOR", ("LAPOR", None, "")),
    ("lapor#JLN", ("LAPOR", "JLN", "")),
]


@pytest.mark.parametrize(("text", "expected"), KEYWORDS)
def test_keyword_formats(text: str, expected: tuple[str | None, str | None, str]) -> None:
    m = parse_keyword(text, ["LAPOR"], ["JLN", "Kesehatan", "Infrastruktur"])
    assert (m.keyword, m.code, m.text) == expected


@pytest.mark.parametrize(
    ("text", "want_text", "want_category"),
    [
        ("LAPOR lampu jalan mati", "lampu jalan mati", None),
        ("LAPOR#JLN lampu jalan mati", "lampu jalan mati", "Infrastruktur"),
        ("laporjln lampu jalan mati", "lampu jalan mati", "Infrastruktur"),
        ("LAPOR#kesehatan antrean panjang", "antrean panjang", "Kesehatan"),
        ("lampu jalan mati", "lampu jalan mati", None),
    ],
)
def test_keyword_stripped_and_code_mapped(
    text: str, want_text: str, want_category: str | None
) -> None:
    out = run(text)
    assert isinstance(out, Normalized), out
    r = out.report
    assert r.text == want_text
    if want_category is not None:
        assert r.category == want_category
    assert r.external_id == "gw-1"
    assert r.reporter.phone == "+6281234567890"
    assert r.received_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty SMS"),
        ("   ", "empty SMS"),
        ("LAPOR", "keyword only"),
        ("lapor#JLN  ", "keyword only"),
    ],
)
def test_empty_or_keyword_only_rejected(text: str, reason: str) -> None:
    out = run(text)
    assert isinstance(out, Rejection)
    assert reason in out.reason
    assert out.external_id == "gw-1"


def test_require_keyword() -> None:
    out = run("jalan rusak", require_keyword=True)
    assert isinstance(out, Rejection) and "keyword" in out.reason
    assert isinstance(run("LAPOR jalan rusak", require_keyword=True), Normalized)


@pytest.mark.parametrize(
    ("sender", "phone"),
    [
        ("081234567890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("+14155552671", "+14155552671"),
        ("TELKOMSEL", None),
        ("12345", None),
    ],
)
def test_sender_to_e164(sender: str, phone: str | None) -> None:
    assert sender_phone(sender) == phone


def test_partial_multipart_has_lower_confidence() -> None:
    env = {
        "id": "p1",
        "from": "081234567890",
        "text": "LAPOR jalan […] rusak",
        "total": 3,
        "missing": [2],
    }
    out = normalize(RawMessage(json.dumps(env).encode(), "application/json"), ctx())
    assert isinstance(out[0], Normalized)
    assert out[0].report.confidence == pytest.approx(2 / 3)
    assert out[0].report.received_at == NOW  # no time in the envelope: ingestion time


def test_not_json_rejected() -> None:
    out = normalize(RawMessage(b"\xff\x00", "application/json"), ctx())
    assert isinstance(out[0], Rejection) and "not JSON" in out[0].reason
