"""The response deadline (``due_at``) from the office's SLA policy.

SP4N-LAPOR! SOPs count in working days ("5 hari kerja"), sometimes per severity (7/14/30), and
some offices promise "3 x 24 jam". Working days are counted in the office's timezone: a report
received on Friday evening in Palembang is a Friday report even though it is still Friday in UTC
only until 17:00. The day of receipt itself is not counted; the deadline is the end (23:59:59
local) of the N-th working day after it, skipping Saturdays, Sundays, Indonesian public holidays
(``holidays`` package, country ID) and the office's ``extra_holidays`` (cuti bersama, local days).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from normalizers.office import SlaPolicy

__all__ = ["due_at", "is_working_day", "public_holidays"]

_END_OF_DAY = time(23, 59, 59)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """Indonesian public holidays of ``year``; cached because building them is slow and they never
    change within a process (a frozenset, so the cache holds no mutable state)."""
    return frozenset(holidays.country_holidays("ID", years=year).keys())


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
    extra = frozenset(policy.extra_holidays)
    day = local.date()
    counted = 0
    while counted < amount:
        day += timedelta(days=1)
        if is_working_day(day, extra):
            counted += 1
    return datetime.combine(day, _END_OF_DAY, tzinfo=tz)
