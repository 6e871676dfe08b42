"""due_at from the office's SLA: working days (weekends, public holidays, cuti bersama) or hours."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from normalizers.extract.sla import due_at, is_working_day, public_holidays
from normalizers.office import SlaPolicy

WIB = ZoneInfo("Asia/Jakarta")
ROOT = Path(__file__).resolve().parents[2]


def wib(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=WIB)


def eod(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time(23, 59, 59), tzinfo=WIB)


WD = "working_days"
BY_SEVERITY = {"ringan": 7, "sedang": 14, "berat": 30}

CASES: list[tuple[str, datetime, SlaPolicy, str | None, datetime]] = [
    ("5 wd from a Monday", wib(2026, 11, 23), SlaPolicy(default=5), None, eod(2026, 11, 30)),
    ("2 wd over a weekend", wib(2026, 11, 20), SlaPolicy(default=2), None, eod(2026, 11, 24)),
    ("3 wd over a weekend", wib(2026, 11, 20), SlaPolicy(default=3), None, eod(2026, 11, 25)),
    ("received Saturday", wib(2026, 11, 21), SlaPolicy(default=1), None, eod(2026, 11, 23)),
    ("received Sunday", wib(2026, 11, 22), SlaPolicy(default=1), None, eod(2026, 11, 23)),
    ("Christmas skipped", wib(2026, 12, 24), SlaPolicy(default=1), None, eod(2026, 12, 28)),
    (
        "cuti bersama skipped",
        wib(2026, 12, 24),
        SlaPolicy(default=1, extra_holidays=[date(2026, 12, 28)]),
        None,
        eod(2026, 12, 29),
    ),
    ("17 Agustus skipped", wib(2026, 8, 14), SlaPolicy(default=1), None, eod(2026, 8, 18)),
    ("1 Mei skipped", wib(2026, 4, 30), SlaPolicy(default=1), None, eod(2026, 5, 4)),
    ("new year", wib(2026, 12, 31), SlaPolicy(default=1), None, eod(2027, 1, 4)),
    ("3x24 jam", wib(2026, 11, 20), SlaPolicy(unit="hours", default=72), None, wib(2026, 11, 23)),
    (
        "3x24 jam ignores holidays",
        wib(2026, 12, 24, 8, 15),
        SlaPolicy(unit="hours", default=72),
        None,
        wib(2026, 12, 27, 8, 15),
    ),
    ("24 jam", wib(2026, 11, 23), SlaPolicy(unit="hours", default=24), None, wib(2026, 11, 24)),
    (
        "ringan 7 wd",
        wib(2026, 11, 2, 9),
        SlaPolicy(default=5, by_severity=BY_SEVERITY),
        "ringan",
        eod(2026, 11, 11),
    ),
    (
        "sedang 14 wd",
        wib(2026, 11, 2, 9),
        SlaPolicy(default=5, by_severity=BY_SEVERITY),
        "sedang",
        eod(2026, 11, 20),
    ),
    (
        "berat 30 wd",
        wib(2026, 11, 2, 9),
        SlaPolicy(default=5, by_severity=BY_SEVERITY),
        "berat",
        eod(2026, 12, 14),
    ),
    (
        "unweighed report: default",
        wib(2026, 11, 2, 9),
        SlaPolicy(default=5, by_severity=BY_SEVERITY),
        None,
        eod(2026, 11, 9),
    ),
    (
        "severity without an override: default",
        wib(2026, 11, 2, 9),
        SlaPolicy(default=3, by_severity={"berat": 30}),
        "ringan",
        eod(2026, 11, 5),
    ),
    (
        "office day, not UTC day: 00:30 WIB Monday is Sunday in UTC",
        datetime(2026, 11, 22, 17, 30, tzinfo=UTC),
        SlaPolicy(default=1),
        None,
        eod(2026, 11, 24),
    ),
    (
        "late Friday evening WIB",
        datetime(2026, 11, 20, 16, 30, tzinfo=UTC),
        SlaPolicy(default=1),
        None,
        eod(2026, 11, 23),
    ),
]


@pytest.mark.parametrize(
    ("received", "policy", "severity", "expected"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_due_at(
    received: datetime, policy: SlaPolicy, severity: str | None, expected: datetime
) -> None:
    found = due_at(received, policy, WIB, severity)
    assert found == expected
    assert found is not None and found.tzinfo is not None


# A reference count over November-December 2026 with the holidays written out by hand.
HOLIDAYS_NOV_DEC_2026 = {date(2026, 12, 25)}


def reference(received: date, days: int) -> date:
    day, counted = received, 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in HOLIDAYS_NOV_DEC_2026:
            counted += 1
    return day


REFERENCE_DATES = [date(2026, 11, 1) + timedelta(days=i) for i in range(0, 50)]


@pytest.mark.parametrize("received", REFERENCE_DATES, ids=str)
@pytest.mark.parametrize("days", [2, 3, 5])
def test_against_reference(received: date, days: int) -> None:
    found = due_at(wib(received.year, received.month, received.day), SlaPolicy(default=days), WIB)
    expected = reference(received, days)
    assert found == datetime.combine(expected, time(23, 59, 59), tzinfo=WIB)


def test_enough_cases() -> None:
    assert len(CASES) + len(REFERENCE_DATES) >= 50


def test_naive_received_at() -> None:
    assert due_at(datetime(2026, 11, 23, 10), SlaPolicy(), WIB) is None


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 23), True),
        (date(2026, 11, 21), False),
        (date(2026, 11, 22), False),
        (date(2026, 8, 17), False),
        (date(2026, 12, 25), False),
        (date(2026, 1, 1), False),
        (date(2026, 12, 28), True),
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_extra_holidays_make_a_day_off() -> None:
    assert not is_working_day(date(2026, 12, 28), [date(2026, 12, 28)])


def test_public_holidays_are_the_registrys() -> None:
    # the Indonesia module loaded alone gives what holidays.country_holidays("ID") gives
    for year in range(1990, 2061):
        expected = frozenset(holidays.country_holidays("ID", years=year).keys())
        assert public_holidays(year) == expected, year


def test_a_fresh_process_imports_indonesia_alone() -> None:
    # the point of loading it alone: not all ~280 countries on a worker's first report
    code = (
        "import sys; from normalizers.extract.sla import public_holidays; "
        "assert public_holidays(2026); print(sorted(m for m in sys.modules "
        "if m.startswith('holidays.countries')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_cached_walk_matches_an_uncached_one() -> None:
    # due_at caches the working-day walk per (received day, amount, extra holidays)
    extra = [date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 4)]

    def walk(received: date, amount: int, off: list[date]) -> date:
        day, counted = received, 0
        while counted < amount:
            day += timedelta(days=1)
            if is_working_day(day, off):
                counted += 1
        return day

    start = datetime(2026, 12, 1, tzinfo=UTC)
    for hours in range(0, 24 * 70, 5):
        received = start + timedelta(hours=hours)
        for off in ([], extra):
            for amount in (1, 3, 7):
                found = due_at(received, SlaPolicy(default=amount, extra_holidays=off), WIB)
                local = received.astimezone(WIB).date()
                assert found == datetime.combine(walk(local, amount, off), time(23, 59, 59), WIB)
