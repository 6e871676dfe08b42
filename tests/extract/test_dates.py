"""Incident time from Indonesian expressions, relative to received_at in the office's timezone."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from normalizers.extract.dates import _RULES, _may_match, find_occurred_at

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
# Monday 23 November 2026, 10:00 WIB
RECEIVED = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def wib(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


CASES: list[tuple[str, datetime | None]] = [
    ("kemarin jalan ambles", wib(11, 22)),
    ("Kemarin ada banjir", wib(11, 22)),
    ("kmrn lampu mati", wib(11, 22)),
    ("kemaren sore hujan deras", wib(11, 22, 16)),
    ("kemarin pagi", wib(11, 22, 7)),
    ("kemarin siang", wib(11, 22, 12)),
    ("kemarin malam ada balap liar", wib(11, 22, 20)),
    ("kemarin sore jam 4", wib(11, 22, 16)),
    ("kemarin jam 14.30", wib(11, 22, 14, 30)),
    ("kemarin pukul 09:15", wib(11, 22, 9, 15)),
    ("kemarin lusa", wib(11, 21)),
    ("tadi pagi ada kecelakaan", wib(11, 23, 7)),
    ("tadi subuh", wib(11, 23, 4, 30)),
    ("td pagi", wib(11, 23, 7)),
    ("tadi malam listrik padam", wib(11, 22, 20)),  # said at 10:00: last night
    ("semalam hujan", wib(11, 22, 20)),
    ("tadi siang", wib(11, 22, 12)),  # said at 10:00, noon is still to come: yesterday
    ("hari ini air mati", wib(11, 23)),
    ("pagi ini", wib(11, 23)),
    ("2 hari yang lalu", wib(11, 21)),
    ("2 hari lalu", wib(11, 21)),
    ("2 hr yg lalu", wib(11, 21)),
    ("dua hari yang lalu", wib(11, 21)),
    ("tiga hari lalu", wib(11, 20)),
    ("sehari yang lalu", wib(11, 22)),
    ("seminggu yang lalu", wib(11, 16)),
    ("2 minggu lalu", wib(11, 9)),
    ("sebulan lalu", wib(10, 23)),
    ("3 bulan lalu", wib(8, 23)),
    ("setahun lalu", wib(11, 23, year=2025)),
    ("minggu lalu", wib(11, 16)),
    ("bulan lalu", wib(10, 23)),
    ("Senin lalu", wib(11, 16)),  # received on a Monday: the Monday before
    ("selasa lalu", wib(11, 17)),
    ("Rabu kemarin", wib(11, 18)),
    ("kamis kemarin", wib(11, 19)),
    ("jumat lalu", wib(11, 20)),
    ("Jum'at kemarin", wib(11, 20)),
    ("sabtu kemarin malam", wib(11, 21, 20)),
    ("hari minggu lalu", wib(11, 22)),
    ("pada hari sabtu", wib(11, 21)),
    ("tgl 3 Nov", wib(11, 3)),
    ("tanggal 3 November 2026", wib(11, 3)),
    ("tgl. 3 nop", wib(11, 3)),
    ("3 Nov 2026 pagi", wib(11, 3, 7)),
    ("tgl 25 november", wib(11, 25, year=2025)),  # no year, would be future: last year
    ("15 agustus 2026", wib(8, 15)),
    ("1 Januari", wib(1, 1)),
    ("03/11/2026", wib(11, 3)),
    ("3/11/2026", wib(11, 3)),
    ("03-11-2026", wib(11, 3)),
    ("03.11.2026", wib(11, 3)),
    ("03/11/26", wib(11, 3)),
    ("2026-11-20", wib(11, 20)),
    ("tgl 5", wib(11, 5)),
    ("tgl 19/11 jam 8 malam", wib(11, 19, 20)),
    ("Kamis (19/11) pagi", wib(11, 19)),
    ("tanggal 28-11", wib(11, 28, year=2025)),
    ("RT 03/05 banjir", None),
    ("tanggal 30", wib(10, 30)),  # the 30th is still to come in November: October's
    # negatives
    ("jalan rusak parah", None),
    ("Rp 1.500.000", None),
    ("harga 03.500", None),
    ("jalan no 12", None),
    ("RT 03 RW 05", None),
    ("tgl 30/11/2026", None),  # explicit future date: not an incident time
    ("31/02/2026", None),  # no such date
    ("tgl 45", None),
    ("hp 0812-3456-7890", None),
    ("NIK 1671054506900003", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] or "empty" for c in CASES])
def test_occurred_at(text: str, expected: datetime | None) -> None:
    found = find_occurred_at(text, RECEIVED, WIB)
    assert found == expected
    if found is not None:
        assert found.tzinfo is not None
        assert found <= RECEIVED


def test_enough_cases() -> None:
    assert len(CASES) >= 50
    assert sum(1 for _, e in CASES if e is None) >= 10


def test_day_boundary_is_the_offices() -> None:
    # 23:30 UTC on the 22nd is already 06:30 on the 23rd in Makassar: "kemarin" is the 22nd there
    received = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert find_occurred_at("kemarin", received, WITA) == datetime(2026, 11, 22, tzinfo=WITA)
    assert find_occurred_at("kemarin", received, ZoneInfo("UTC")) == datetime(
        2026, 11, 21, tzinfo=ZoneInfo("UTC")
    )


def test_naive_received_at_gives_nothing() -> None:
    assert find_occurred_at("kemarin", datetime(2026, 11, 23, 10), WIB) is None


def test_first_expression_wins() -> None:
    assert find_occurred_at("kemarin, bukan tgl 3 Nov", RECEIVED, WIB) == wib(11, 22)
    assert find_occurred_at("tgl 3 Nov, lapor lagi kemarin", RECEIVED, WIB) == wib(11, 3)


# Each rule is skipped unless the text holds substrings its pattern needs and a relaxed pattern
# matches: these must still be found (spellings, spacing and digits the pre-checks must allow)…
PRECHECKED: list[tuple[str, datetime | None]] = [
    ("kemarn banjir", wib(11, 22)),
    ("kmarin ada pungli", wib(11, 22)),
    ("semalem mati lampu", wib(11, 22, 20)),
    ("td malam ada tawuran", wib(11, 22, 20)),
    ("barusan ada tabrakan", wib(11, 23)),
    ("siang ini air mati", wib(11, 23)),
    ("2\thari\nyang lalu", wib(11, 21)),
    ("2hr lalu", wib(11, 21)),
    ("lima hari lewat", wib(11, 18)),
    ("3 mgg yg lalu", wib(11, 2)),
    ("sepekan lalu", wib(11, 16)),
    ("setahun kemarin", wib(11, 23, year=2025)),
    ("jum'at lalu pagi", wib(11, 20, 7)),
    ("Jumaat kemarin", wib(11, 20)),
    ("ahad lalu", wib(11, 22)),
    ("pada hari kamis sore", wib(11, 19, 16)),
    ("bln lalu", wib(10, 23)),
    ("pekan kemarin", wib(11, 16)),
    ("3nov", wib(11, 3)),
    ("3-nov-2026", wib(11, 3)),
    ("3 - nop", wib(11, 3)),
    ("tgl.3 agt", wib(8, 3)),
    ("tg. 5 mei", wib(5, 5)),
    ("12 des", wib(12, 12, year=2025)),
    ("٠٣/١١/٢٦", wib(11, 3)),  # any Unicode decimal digits, as \d reads them
    ("tgl ٥", wib(11, 5)),
    ("3.11.26", wib(11, 3)),
    ("5/1/2026", wib(1, 5)),
    ("tgl 9-1", wib(1, 9)),
    ("2026-11-02", wib(11, 2)),
    ("tgl.19/11", wib(11, 19)),
    ("tanggal 19-11", wib(11, 19)),
    ("Kamis, ( 19/11 )", wib(11, 19)),
    ("sabtu(21/11)", wib(11, 21)),
    ("Lampu padam sejak 3 hari yang lalu, hubungi 0812-3456-7890.", wib(11, 20)),
    (
        "Selamat pagi Bapak/Ibu,\r\n\r\nSaya ingin melaporkan jalan berlubang di Desa Sakatiga "
        "sejak 12 hari yang lalu. Mohon segera ditindaklanjuti.\r\nHubungi saya di 0812-1234-5678.",
        wib(11, 11),
    ),
    # …and these hold the substrings but no expression
    ("tadinya normal, sekarang malah rusak", None),
    ("kemarau panjang", None),
    ("lusanya", None),
    ("hari raya", None),
    ("desa 12 rt 03/05", None),
    ("harimau lepas", None),
    ("ini sudah lama", None),
    ("2 jam lalu", None),
    ("sehari-hari macet", None),
    ("bulan puasa", None),
    ("(3/4)", None),
    ("v1.2.3", None),
    ("10-10-10-10", None),
    ("1999-1-1", None),
]


@pytest.mark.parametrize(("text", "expected"), PRECHECKED, ids=[c[0][:40] for c in PRECHECKED])
def test_prechecked(text: str, expected: datetime | None) -> None:
    assert find_occurred_at(text, RECEIVED, WIB) == expected


NOTHING_DATE_LIKE = [
    "Selamat pagi Bapak/Ibu, jalan berlubang di Desa Sakatiga. Hubungi 0812-1234-5678.",
    "Sampah menumpuk di Pasar Pangkalan Balai, warga sudah resah. Terima kasih.",
    "NIK 1671054506900003, Rp 1.500.000",
    "",
]


@pytest.mark.parametrize("text", NOTHING_DATE_LIKE)
def test_nothing_date_like_runs_no_pattern(text: str) -> None:
    assert [rule for rule in _RULES if _may_match(rule, text.lower())] == []
    assert find_occurred_at(text, RECEIVED, WIB) is None


_VOCABULARY = (
    "kemarin kemaren kmrn kmarin kemarn lusa semalam semalem tadi td barusan malam malem pagi "
    "siang sore petang subuh dini hari ini yang yg lalu lewat minggu mgg pekan bulan bln tahun "
    "thn hr se sehari seminggu sebulan setahun dua tiga sepuluh senin selasa rabu kamis jumat "
    "jum'at jumaat sabtu ahad pada tgl tgl. tanggal tg. jam pukul pkl nov nop november des agt "
    "sept mei jan desa rt rw no jalan ( ) / - . , : 3 12 03/11 19/11 2026 26 03/05 2026-11-20 "
    "30 45 14.30 0812-3456-7890 1.500.000 3nov 3-nov-2026 ٣ ١١/٢٦"
)
_WORDS = (
    *_VOCABULARY.split(),
    "hari ini",
    "sore ini",
    "kemarin lusa",
    "2 hari yang lalu",
    "hari senin",
    "(19/11)",
    "minggu lalu",
    "bln kemarin",
    "03/11/2026",
    "3.11.26",
    "sepekan lalu",
    "tgl 5",
    "5/1/26",
    "tgl 9-1",
    "Sabtu (7/11)",
)


def _generated(count: int) -> list[str]:
    rng = random.Random(20261123)
    texts = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 10))]
        texts.append(
            "".join(w + rng.choice(["", " ", " ", "  ", "\n", "\t", "-", "/"]) for w in words)
        )
    return texts


def test_prechecks_never_skip_a_match() -> None:
    # skipping a rule is only sound if its pattern cannot match: every text a pattern matches
    # must pass that rule's pre-checks (and the corpus must exercise every rule)
    corpus = [t for t, _ in CASES + PRECHECKED] + NOTHING_DATE_LIKE + _generated(3000)
    for index, rule in enumerate(_RULES):
        matched = [t.lower() for t in corpus if rule.pattern.search(t.lower())]
        assert len(matched) >= 20, f"rule {index} ({rule.handler.__name__}) barely exercised"
        skipped = [t for t in matched if not _may_match(rule, t)]
        assert skipped == [], f"rule {index} ({rule.handler.__name__}) skips a match"
