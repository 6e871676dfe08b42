"""Incident time from Indonesian expressions, relative to received_at in the office's timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from normalizers.extract.dates import find_occurred_at

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
