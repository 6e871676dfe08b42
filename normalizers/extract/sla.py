"""The response deadline (``due_at``) from the office's SLA policy.

SP4N-LAPOR! SOPs count in working days ("5 hari kerja"), sometimes per severity (7/14/30), and
some offices promise "3 x 24 jam". Working days are counted in the office's timezone: a report
received on Friday evening in Palembang is a Friday report even though it is still Friday in UTC
only until 17:00. The day of receipt itself is not counted; the deadline is the end (23:59:59
local) of the N-th working day after it, skipping Saturdays, Sundays, Indonesian public holidays
(``holidays`` package, country ID) and the office's ``extra_holidays`` (cuti bersama, local days).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from holidays.holiday_base import HolidayBase

from normalizers.office import SlaPolicy

__all__ = ["due_at", "is_working_day", "public_holidays"]

_END_OF_DAY = time(23, 59, 59)


@cache
def _indonesia() -> Callable[[int], HolidayBase]:
    """How this process builds a year of Indonesian holidays: ``holidays``' own ``ID`` class.

    ``holidays.country_holidays("ID")`` first imports the ``holidays.countries`` package, whose
    ``__init__`` imports all ~280 countries: ~100 ms that every fresh worker process paid on its
    first report. The Indonesia module, loaded from its file alone, imports only the calendars
    it uses (~5 ms). It is the same class called the same way, so the dates are the same
    (tests/extract/test_sla.py compares the two over a century); should a release of the
    package move the module, the registry's way is taken instead.
    """
    country = _indonesia_alone()
    if country is None:
        return lambda year: holidays.country_holidays("ID", years=year)
    return lambda year: country(years=year)


def _indonesia_alone() -> type[HolidayBase] | None:
    """``holidays.countries.indonesia.ID`` without its package's ``__init__``; None if it fails."""
    path = Path(holidays.__file__).parent / "countries" / "indonesia.py"
    spec = importlib.util.spec_from_file_location("holidays.countries.indonesia", path)
    if spec is None or spec.loader is None or not path.is_file():
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:  # a release whose module no longer loads alone: use the registry
        return None
    country = getattr(module, "ID", None)
    if isinstance(country, type) and issubclass(country, HolidayBase):
        return country
    return None


@cache
def public_holidays(year: int) -> frozenset[date]:
    """Indonesian public holidays of ``year``; cached because building them is slow and they never
    change within a process (a frozenset, so the cache holds no mutable state)."""
    return frozenset(_indonesia()(year).keys())


def is_working_day(day: date, extra_holidays: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year) and day not in extra_holidays


def due_at(
    received_at: datetime, policy: SlaPolicy, tz: ZoneInfo, severity: str | None = None
) -> datetime | None:
    """When the answer is due, aware in ``tz``; None for a naive ``received_at``."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        return None
    amount = policy.default
    if severity is not None:
        amount = policy.by_severity.get(severity, amount)  # type: ignore[call-overload]
    local = received_at.astimezone(tz)
    if policy.unit == "hours":
        return local + timedelta(hours=amount)
    day = _working_days_after(local.date(), amount, tuple(policy.extra_holidays))
    return datetime.combine(day, _END_OF_DAY, tzinfo=tz)


@lru_cache(maxsize=1024)
def _working_days_after(received: date, amount: int, extra_holidays: tuple[date, ...]) -> date:
    """The ``amount``-th working day after ``received``.

    Cached, bounded: every report of a day asks the same question (a walk of a week or more,
    ~8 us), and the answer depends on the arguments alone.
    """
    extra = frozenset(extra_holidays)
    day = received
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if is_working_day(day, extra):
            counted += 1
    return day
