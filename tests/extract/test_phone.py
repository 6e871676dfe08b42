"""Phone numbers in complaint text -> E.164 (and the digit runs that must not become phones)."""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers
import pytest

from normalizers.extract.phone import (
    _CANDIDATE,
    _FIRST_SHAPE,
    _candidate,
    _fast_e164,
    _normalize_phone_full,
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


# Prefixes of the national number longer than three digits that ID's metadata spells out (the
# grid below already holds every three-digit one: mobile 81x..89x, every area code, 800, 804,
# 809, 150, 177, 001, 007, ...).
_LONG_PREFIXES = (
    ["2114", "21500", "2150", "2200", "619", "611", "8071", "8070", "1500", "001803", "007803"]
    + ["177" + d for d in "0123456789"]
    + ["8" + d + "0" for d in "0123456789"]
)
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _grouped(digits: str, rng: random.Random) -> str:
    """``digits`` cut into runs of 1..5 joined by one separator, the way people write them."""
    separator = rng.choice([" ", "-", ".", " - ", "  "])
    runs: list[str] = []
    rest = digits
    while rest:
        cut = rng.randint(1, 5)
        runs.append(rest[:cut])
        rest = rest[cut:]
    return separator.join(runs)


def _renderings(national: str, rng: random.Random) -> list[str]:
    """``national`` as "0N", "+62N" and one of the other ways normalize_phone has to cope with."""
    ways: list[Callable[[], str]] = [
        lambda: "62" + national,
        lambda: "+62 " + _grouped(national, rng),
        lambda: "62 " + _grouped(national, rng),
        lambda: "+62 (0)" + _grouped(national, rng),
        lambda: "+62(0)" + national,
        lambda: "+620" + national,
        lambda: "+62 0" + _grouped(national, rng),
        lambda: "620" + national,
        lambda: "0" + _grouped(national, rng),
        lambda: "(0" + national[:3] + ") " + _grouped(national[3:], rng),
        lambda: " 0" + national + " ",
        lambda: national,
        lambda: "+" + national,
        lambda: "00" + national,
        lambda: "0062" + national,
        lambda: "+62 62" + national,
        lambda: "+6262" + national,
        lambda: "0" + national.translate(_ARABIC_INDIC),
        lambda: "+62" + national.translate(_FULLWIDTH),
        lambda: ("0" + national).translate(_ARABIC_INDIC),
        lambda: "+62" + national + "#",
        lambda: "0" + national + " ext 12",
    ]
    return ["0" + national, "+62" + national, rng.choice(ways)()]


@pytest.fixture(scope="module")
def generated_numbers() -> list[str]:
    """Every 3-digit prefix (and the longer ones above), lengths 3..15, many notations; noise."""
    rng = random.Random(62)
    nationals: list[str] = []
    for prefix in [f"{p:03d}" for p in range(1000)] + _LONG_PREFIXES:
        for length in range(3, 16):
            fill = max(0, length - len(prefix))
            nationals.append((prefix + "".join(rng.choices("0123456789", k=fill)))[:length])
    written = [w for n in nationals for w in _renderings(n, rng)]
    written += ["".join(rng.choices("0123456789", k=rng.randint(0, 20))) for _ in range(3000)]
    noise = "0123456789" * 4 + "+62() .-/x#,;٠٨١" + "０８"
    written += ["".join(rng.choices(noise, k=rng.randint(0, 24))) for _ in range(3000)]
    return written


def test_the_fast_path_gives_what_parsing_gives(generated_numbers: list[str]) -> None:
    # _fast_e164 answers +62N / 0N without phonenumbers.parse; the general path must agree on
    # every input (including None), whichever of the two paths answers
    uncached = normalize_phone.__wrapped__
    assert len(generated_numbers) > 40_000
    answered = fast_answers = 0
    for value in generated_numbers:
        expected = _normalize_phone_full(value)
        assert uncached(value) == expected, value
        answered += expected is not None
        candidate = _candidate(value)
        fast_answers += candidate is not None and _fast_e164(candidate) is not None
    # not vacuous: thousands of valid numbers, most of them taken by the fast path, and far more
    # refused ones (wrong length, wrong prefix, not a reporter's kind of number, other scripts)
    assert answered > 4_000
    assert fast_answers > 4_000
    assert len(generated_numbers) - answered > 30_000


def test_the_generated_numbers_reach_every_kind_of_id_number(generated_numbers: list[str]) -> None:
    # the grid must hold numbers of every type ID's metadata knows, so both the fast path's
    # answers and its refusals (toll-free, premium, shared-cost, UAN, invalid) are compared
    kinds = {
        phonenumbers.number_type(phonenumbers.PhoneNumber(62, int(n[3:])))
        for n in generated_numbers
        if n.startswith("+62") and n[3:].isascii() and n[3:].isdigit() and n[3] != "0"
    }
    t = phonenumbers.PhoneNumberType
    every_kind = {t.MOBILE, t.FIXED_LINE, t.TOLL_FREE, t.PREMIUM_RATE, t.SHARED_COST, t.UAN}
    assert every_kind | {t.UNKNOWN} <= kinds
