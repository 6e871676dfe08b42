"""Phone numbers in complaint text -> E.164 (and the digit runs that must not become phones)."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from normalizers.extract.phone import (
    _CANDIDATE,
    _FIRST_SHAPE,
    find_phones,
    first_phone,
    normalize_phone,
)

M = "+6281234567890"

CASES: list[tuple[str, list[str]]] = [
    # mobile, every notation
    ("hubungi 081234567890", [M]),
    ("hp 0812-3456-7890", [M]),
    ("hp 0812 3456 7890", [M]),
    ("hp 0812.3456.7890", [M]),
    ("wa +6281234567890", [M]),
    ("wa +62 812 3456 7890", [M]),
    ("wa +62-812-3456-7890", [M]),
    ("wa 6281234567890", [M]),
    ("wa 62 812-3456-7890", [M]),
    ("wa +62 (0)812 3456 7890", [M]),
    ("wa +62 0812 3456 7890", [M]),
    ("no saya:081234567890.", [M]),
    ("(081234567890)", [M]),
    ("telp 0813 7777 8888 atau email", ["+6281377778888"]),
    ("0852-1234-567 tolong hubungi", ["+628521234567"]),
    ("nomor 0878 1234 5678", ["+6287812345678"]),
    ("0811-711-234", ["+62811711234"]),
    ("hp1: 081234567890, hp2: 085678901234", [M, "+6285678901234"]),
    ("081234567890 dan 081234567890 lagi", [M]),
    ("hp 0812 3456 7890 0813 7777 8888", [M, "+6281377778888"]),
    ("0812-3456-7890 / 0711-354321", [M, "+62711354321"]),
    ("Kontak: 0821-7700-1122 (Budi)", ["+6282177001122"]),
    ("0895-1234-56789", ["+62895123456789"]),
    # landlines
    ("kantor (0711) 123456", ["+62711123456"]),
    ("kantor (0711)123456", ["+62711123456"]),
    ("telp 0711-354321", ["+62711354321"]),
    ("telp 0711 354321", ["+62711354321"]),
    ("telp 021-5551234", ["+62215551234"]),
    ("telp (021) 555 1234", ["+62215551234"]),
    ("+62 21 5551234", ["+62215551234"]),
    ("+62711354321", ["+62711354321"]),
    ("0274 512345", ["+62274512345"]),
    ("(0361) 234567", ["+62361234567"]),
    ("telp. 021-5551234 atau 08123456789", ["+62215551234", "+628123456789"]),
    # negatives: NIKs, money, dates, tracking numbers, codes, short numbers
    ("NIK 1671054506900003", []),
    ("nik 0671054506900003", []),
    ("Rp 1.500.000", []),
    ("Rp1.500.000,00", []),
    ("IDR 62.500.000", []),
    ("biaya 0.500.000", []),
    ("harga 62.000", []),
    ("nomor aduan ADU-2611-000123-7", []),
    ("resi JNE-0812345678901", []),
    ("tanggal 03/11/2026", []),
    ("tgl 03-11-2026", []),
    ("pada 2026-11-03", []),
    ("jam 08.30", []),
    ("RT 03 RW 05", []),
    ("kode pos 30862", []),
    ("no rek 0123456789012345678", []),
    ("1500000", []),
    ("hubungi 112", []),
    ("0812", []),
    ("nomor 0812345", []),
    ("0800 1234567 bebas pulsa", []),
    ("3.14159", []),
    ("versi 0.812.345.678", []),
    ("order#081234567890", []),
    ("id_081234567890", []),
    ("tidak ada nomor", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] or "empty" for c in CASES])
def test_find_phones(text: str, expected: list[str]) -> None:
    assert find_phones(text) == expected


def test_enough_cases() -> None:
    assert len(CASES) >= 50
    assert sum(1 for _, e in CASES if not e) >= 20


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("0812-3456-7890", M),
        ("+62 812 3456 7890", M),
        ("62812 3456 7890", M),
        ("(0711) 123456", "+62711123456"),
        ("12345", None),
        ("+1 202 555 0100", None),
        ("0800-123-4567", None),
        ("", None),
    ],
)
def test_normalize_phone(written: str, e164: str | None) -> None:
    assert normalize_phone(written) == e164


def test_first_phone() -> None:
    assert first_phone("a 0711-354321 b 081234567890") == "+62711354321"
    assert first_phone("Rp 1.500.000") is None


def _valid_reporter_phone(candidate: str) -> bool:
    """The check normalize_phone used to make: is_valid_number *and* an acceptable type."""
    number = phonenumbers.parse(candidate, "ID")
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


@pytest.mark.parametrize(
    "candidate",
    [
        "081234567890",
        "0812345678",
        "08123456789012",
        "0211234567",
        "02112345",
        "0711123456",
        "0800123456",
        "08001234567",
        "0809123456",
        "08091234567",
        "0804123456",
        "1500123",
        "+6281234567890",
        "+622112345678",
        "+62800123456",
        "0999123456",
        "0123456789",
        "061123456",
        "06112345678",
        "0361123456",
        "0888123456789",
        "0899999999999",
    ],
)
def test_the_number_type_alone_decides_validity(candidate: str) -> None:
    expected = _valid_reporter_phone(candidate)
    assert (normalize_phone(candidate) is not None) == expected


def test_normalize_phone_is_cached_and_stable() -> None:
    first = normalize_phone("0812-3456-7890")
    assert normalize_phone("0812-3456-7890") == first == "+6281234567890"
    assert normalize_phone.cache_info().hits >= 1


def _shuffled_texts(count: int, seed: int) -> list[str]:
    """Phones, amounts, dates, ids and punctuation thrown together, plus every case above."""
    pieces = [c[0] for c in CASES] + [
        "0812-3456-7890", "+62 812 3456 7890", "(0711) 354321", "62", "0", "+", "(", ")",
        "Rp 1.500.000", "12/11/2026", "ADU-2611-000123-7", "1671054506900003", "x0812345678",
        "#0812345678", ".", ",", "-", "/", " ", "\n", "hp", "wa", "٠٨١٢٣٤٥٦٧٨٩٠",
    ]  # fmt: skip
    rng = random.Random(seed)
    return [
        "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(count)
    ] + [c[0] for c in CASES]


def test_the_scan_starts_where_the_first_phone_shape_does() -> None:
    # find_phones scans from the first phone-shaped run instead of from the text's start: no
    # candidate may start before it, and the look-behind must see the characters before it
    for text in _shuffled_texts(4000, 3):
        everywhere = [m.span("num") for m in _CANDIDATE.finditer(text)]
        first = _FIRST_SHAPE.search(text)
        if first is None:
            assert everywhere == [], text
        else:
            assert [m.span("num") for m in _CANDIDATE.finditer(text, first.start())] == everywhere
