"""enrich(): fills only what the normalizer left empty, masks NIKs, never raises."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.classifier import default_classifier
from normalizers.base import NormalizeContext, Normalized, build_report
from normalizers.enrich import enrich
from normalizers.office import DEFAULT_OFFICE, Category, OfficeProfile, Region, SlaPolicy

NIK = "1671054506900003"
RECEIVED = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 WIB
TEXT = (
    "Selamat siang pak, saya mau lapor jalan di desa Lorok kec. Indralaya Utara rusak parah "
    f"sejak kemarin sore. NIK saya {NIK}, hp 0812-3456-7890, email Budi@Mail.com. Mohon ditindak."
)


def ctx(office: OfficeProfile | None = None, classifier: Any = "default") -> NormalizeContext:
    return NormalizeContext(
        channel_name="web",
        channel_kind="web",
        ingested_at=RECEIVED,
        raw_uri="file:///raw/x",
        raw_sha256="0" * 64,
        office=office or DEFAULT_OFFICE,
        classifier=default_classifier() if classifier == "default" else classifier,
    )


def test_fills_everything_from_text() -> None:
    out = enrich({"external_id": "1", "received_at": RECEIVED, "text": TEXT}, ctx())
    assert NIK not in out["text"] and "1671********0003" in out["text"]
    assert out["reporter"] == {
        "nik_masked": "1671********0003",
        "phone": "+6281234567890",
        "email": "budi@mail.com",
    }
    assert out["location"] == {
        "text": "desa Lorok kec. Indralaya Utara",
        "village": "Lorok",
        "district": "Indralaya Utara",
        "regency": "Kabupaten Ogan Ilir",
        "province": "Sumatera Selatan",
    }
    assert out["occurred_at"] == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert out["language"] == "id"
    assert (out["category"], out["severity"]) == ("infrastruktur", "sedang")
    assert out["due_at"] == datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)


def test_keeps_what_the_normalizer_set() -> None:
    draft = {
        "external_id": "1",
        "received_at": RECEIVED,
        "text": TEXT,
        "reporter": {"phone": "+6285200000000", "email": "x@y.id", "name": "Budi"},
        "location": {"district": "Pemulutan", "lat": -3.2},
        "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
        "language": "jv",
        "category": "lingkungan",
        "severity": "berat",
        "due_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    out = enrich(draft, ctx())
    assert out["reporter"]["phone"] == "+6285200000000"
    assert out["reporter"]["email"] == "x@y.id"
    assert out["reporter"]["name"] == "Budi"
    assert out["reporter"]["nik_masked"] == "1671********0003"
    assert out["location"] == {"district": "Pemulutan", "lat": -3.2}
    for key in ("occurred_at", "language", "category", "severity", "due_at"):
        assert out[key] == draft[key]
    assert draft["reporter"] == {"phone": "+6285200000000", "email": "x@y.id", "name": "Budi"}


def test_without_received_at_skips_dates() -> None:
    out = enrich({"text": "kemarin jalan rusak di kec. Pemulutan"}, ctx())
    assert "occurred_at" not in out and "due_at" not in out
    assert out["location"]["district"] == "Pemulutan"


@pytest.mark.parametrize("received", [datetime(2026, 11, 23, 10), "bukan tanggal", 12345, None])
def test_odd_received_at(received: Any) -> None:
    out = enrich({"text": "kemarin jalan rusak", "received_at": received}, ctx())
    assert "occurred_at" not in out and "due_at" not in out


def test_received_at_as_string() -> None:
    out = enrich({"text": "kemarin jalan rusak", "received_at": "2026-11-23T03:00:00Z"}, ctx())
    assert out["occurred_at"] == datetime(2026, 11, 22, tzinfo=ZoneInfo("Asia/Jakarta"))


@pytest.mark.parametrize(
    "draft",
    [
        {},
        {"text": ""},
        {"text": None},
        {"text": 42},
        {"text": "ok", "reporter": "not a dict", "location": ["x"]},
        {"text": "NIK 1671054506900003", "reporter": None, "location": None},
        {"text": "jalan rusak", "received_at": RECEIVED, "severity": 7},
    ],
)
def test_never_raises(draft: dict[str, Any]) -> None:
    out = enrich(draft, ctx())
    assert isinstance(out, dict)
    if isinstance(draft.get("text"), str) and NIK in draft["text"]:
        assert NIK not in out["text"]


def test_raw_nik_in_nik_masked_is_masked() -> None:
    out = enrich({"text": "x", "reporter": {"nik_masked": NIK}}, ctx())
    assert out["reporter"]["nik_masked"] == "1671********0003"


def test_office_rules_first_then_model() -> None:
    office = OfficeProfile(
        name="Diskominfo OI",
        region=Region(province="Sumatera Selatan", regency="Ogan Ilir"),
        categories=[
            Category(name="jalan", keywords=["jalan rusak"]),
            Category(name="korupsi", keywords=["pungli"], severity="berat"),
        ],
        sla=SlaPolicy(by_severity={"berat": 30}),
    )
    rule = enrich({"text": "jalan rusak parah", "received_at": RECEIVED}, ctx(office))
    assert (rule["category"], rule["severity"]) == ("jalan", "sedang")
    fixed = enrich({"text": "ada pungli", "received_at": RECEIVED}, ctx(office))
    assert (fixed["category"], fixed["severity"]) == ("korupsi", "berat")
    # 30 working days: Christmas, New Year and Isra Mi'raj (5 Jan 2027) skipped
    assert fixed["due_at"] == datetime(2027, 1, 7, 16, 59, 59, tzinfo=UTC)
    # the model's guess is not one of this office's categories: no category, severity kept
    other = enrich({"text": "sampah menumpuk di tps", "received_at": RECEIVED}, ctx(office))
    assert "category" not in other and other["severity"] == "sedang"


def test_without_classifier_only_rules() -> None:
    out = enrich({"text": "sampah menumpuk", "received_at": RECEIVED}, ctx(classifier=None))
    assert "category" not in out and "severity" not in out
    assert out["due_at"] == datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)  # default 5 days


def test_other_office_region() -> None:
    office = OfficeProfile(
        name="Diskominfo Bandung",
        region=Region(province="Jawa Barat", regency="Kota Bandung"),
        timezone="Asia/Jakarta",
    )
    out = enrich({"text": "banjir di kec. Coblong, desa Lorok"}, ctx(office))
    assert out["location"]["district"] == "Coblong"
    assert out["location"]["regency"] == "Kota Bandung"


class Exploding:
    def classify(self, text: str) -> tuple[str | None, str | None]:
        raise RuntimeError(f"model failed on NIK {NIK}")


def test_a_failing_step_is_logged_masked(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="normalizers.enrich"):
        out = enrich(
            {"text": f"NIK {NIK} jalan rusak", "received_at": RECEIVED}, ctx(classifier=Exploding())
        )
    assert "category" not in out and out["due_at"] is not None
    assert "model failed" in caplog.text
    assert NIK not in caplog.text and "1671********0003" in caplog.text


def test_build_report_end_to_end() -> None:
    outcome = build_report({"external_id": "m1", "received_at": RECEIVED, "text": TEXT}, ctx())
    assert isinstance(outcome, Normalized)
    report = outcome.report
    assert report.reporter.phone == "+6281234567890"
    assert report.location.village == "Lorok"
    assert report.severity is not None and report.severity.value == "sedang"
    assert NIK not in report.to_json()


def test_the_sources_place_phrase_comes_first() -> None:
    draft = {
        "text": "jalan rusak di kec. Pemulutan",
        "location": {"text": "Desa Tanjung Raja"},
    }
    out = enrich(draft, ctx())
    assert out["location"]["text"] == "Desa Tanjung Raja"  # kept as the source wrote it
    assert out["location"]["village"] == "Tanjung Raja"
    assert out["location"]["district"] == "Tanjung Raja"
    plain = enrich({"text": "jalan rusak di kec. Pemulutan", "location": {"text": "?"}}, ctx())
    assert plain["location"] == {
        "text": "?",
        "district": "Pemulutan",
        "regency": "Kabupaten Ogan Ilir",
        "province": "Sumatera Selatan",
    }
