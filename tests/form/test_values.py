"""From a field's OCR'd value to the record's form of it (table-driven, no OCR)."""

from __future__ import annotations

import pytest

from normalizers.form import _email, _looks_turned, _nik, _phone
from normalizers.ocr.fields import Word


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1671015708900003", "1671********0003"),
        ("1671 0157 0890 0003", "1671********0003"),
        ("1671-0157-0890-0003 (KTP)", "1671********0003"),
        ("167lO157O89OOOO3", "1671********0003"),  # l/O misread for 1/0
        ("9999999999999999", "9999********9999"),  # under the NIK label: masked all the same
        ("167101570890", None),  # too short: nothing to mask, nothing invented
        ("belum punya KTP", None),
        (None, None),
    ],
)
def test_nik(value: str | None, expected: str | None) -> None:
    assert _nik(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0812-3456-7890", "+6281234567890"),
        ("+62 813-7788-9900", "+6281377889900"),
        ("O812-3456-789O", "+6281234567890"),
        ("0812 3456 7890 (WA)", "+6281234567890"),
        ("(0711) 580123", "+62711580123"),
        ("12345", None),
        ("", None),
    ],
)
def test_phone(value: str | None, expected: str | None) -> None:
    assert _phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("budi.santoso@example.id", "budi.santoso@example.id"),
        ("Budi @ Example.ID", "budi@example.id"),
        ("budi.santosoGexample.id", "budi.santoso@example.id"),  # "@" read as "G"
        ("siti.aminah©mail.example.id", "siti.aminah@mail.example.id"),
        ("siti(at)example.id", "siti@example.id"),
        ("tidak ada", None),
    ],
)
def test_email(value: str | None, expected: str | None) -> None:
    assert _email(value) == expected


def _words(n: int, conf: float, width: int, height: int) -> list[Word]:
    return [Word("kata", conf, 10 * i, 0, width, height) for i in range(n)]


@pytest.mark.parametrize(
    ("words", "turned"),
    [
        (_words(40, 0.92, 60, 20), False),  # a continuation page of plain text: no OSD pass
        (_words(40, 0.35, 60, 20), True),  # upside down: Tesseract is unsure of everything
        (_words(40, 0.90, 20, 60), True),  # sideways: lines read as vertical text
        (_words(3, 0.95, 60, 20), False),  # a short signature page
        ([], True),  # nothing readable at all
    ],
)
def test_when_orientation_detection_runs(words: list[Word], turned: bool) -> None:
    assert _looks_turned(words) is turned
