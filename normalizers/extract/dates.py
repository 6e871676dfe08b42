"""When the incident happened, from Indonesian expressions relative to the message's arrival.

"kemarin", "tadi pagi", "Senin lalu", "tgl 3 Nov", "03/11/2026", "2 hari yang lalu"… are read
in the office's timezone relative to ``received_at`` (the day boundary of "kemarin" is the
office's, not UTC's). Precision follows the text: a part of day ("pagi", "malam") or a clock time
("jam 14.30") sets the hour, a bare day means the start of that day. The result is never later
than ``received_at``: a date without a year that would lie in the future is read as last year's,
and an explicit date in the future is not an incident time at all (it is discarded).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = ["find_occurred_at"]

MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "februari": 2, "pebruari": 2, "feb": 2, "peb": 2, "maret": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "agustus": 8, "agu": 8, "agt": 8, "ags": 8, "aug": 8, "agust": 8, "september": 9,
    "sep": 9, "sept": 9, "okt": 10, "oktober": 10, "oct": 10, "november": 11, "nov": 11,
    "nop": 11, "nopember": 11, "desember": 12, "des": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS: dict[str, int] = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "jumaat": 4,
    "sabtu": 5, "minggu": 6, "ahad": 6,
}  # fmt: skip
NUMBERS: dict[str, int] = {
    "se": 1, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "sepuluh": 10,
}  # fmt: skip
PARTS_OF_DAY: dict[str, time] = {
    "dini hari": time(2, 0), "subuh": time(4, 30), "pagi": time(7, 0), "siang": time(12, 0),
    "sore": time(16, 0), "petang": time(18, 0), "malam": time(20, 0),
}  # fmt: skip

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_PART_RE = "|".join(sorted(PARTS_OF_DAY, key=len, reverse=True))
_NUM_RE = r"\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True))
_AGO = r"(?:\s+(?:yang|yg)\s+|\s+)(?:lalu|lewat|kemarin|kemaren|kmrn|kmarin)\b"
_CLOCK = re.compile(
    r"\b(?:jam|pukul|pkl\.?)\s*(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?"
    r"(?:\s*(?P<part>" + _PART_RE + r"))?",
    re.IGNORECASE,
)


def _num(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


class _Reading:
    """One expression found: the day it names and, if stated, the time of day."""

    def __init__(self, day: date, at: time | None = None, explicit: bool = False) -> None:
        self.day, self.at, self.explicit = day, at, explicit


Handler = Callable[[re.Match[str], date], _Reading | None]


def _part(match: re.Match[str]) -> time | None:
    part = match.groupdict().get("part")
    return PARTS_OF_DAY[part] if part else None


def _today(m: re.Match[str], today: date) -> _Reading:
    return _Reading(today, _part(m))


def _last_night(m: re.Match[str], today: date) -> _Reading:
    # "semalam"/"tadi malam": the evening before, unless the message itself was sent at night
    return _Reading(today, time(20, 0))


def _yesterday(m: re.Match[str], today: date) -> _Reading:
    return _Reading(today - timedelta(days=1), _part(m))


def _two_days(m: re.Match[str], today: date) -> _Reading:
    return _Reading(today - timedelta(days=2), _part(m))


def _ago(m: re.Match[str], today: date) -> _Reading | None:
    n = _num(m.group("n"))
    unit = m.group("unit")
    if unit.startswith(("hari", "hr")):
        return _Reading(today - timedelta(days=n))
    if unit.startswith(("minggu", "mgg", "pekan")):
        return _Reading(today - timedelta(weeks=n))
    if unit.startswith(("bulan", "bln")):
        return _Reading(_months_back(today, n))
    if unit.startswith(("tahun", "thn")):
        return _Reading(_months_back(today, 12 * n))
    return None


def _last_unit(m: re.Match[str], today: date) -> _Reading:
    if m.group(0).startswith(("bulan", "bln")):
        return _Reading(_months_back(today, 1))
    return _Reading(today - timedelta(weeks=1))


def _day_only(m: re.Match[str], today: date) -> _Reading | None:
    day = int(m.group("d"))
    for back in (0, 1):
        month_date = _months_back(today.replace(day=1), back)
        try:
            found = month_date.replace(day=day)
        except ValueError:
            continue
        if found <= today:
            return _Reading(found, None, explicit=True)
    return None


def _weekday(m: re.Match[str], today: date) -> _Reading:
    if m.group("wd") == "minggu" and not m.group(0).startswith(("hari", "pada")):
        return _Reading(today - timedelta(weeks=1))  # "minggu lalu" is last week, not Sunday
    target = WEEKDAYS[m.group("wd")]
    back = (today.weekday() - target) % 7 or 7  # "Senin lalu" on a Monday means a week ago
    if m.group("this") and back == 7:
        back = 0
    return _Reading(today - timedelta(days=back), _part(m))


def _day_month(m: re.Match[str], today: date) -> _Reading | None:
    day, month = int(m.group("d")), MONTHS[m.group("mon")]
    year_text = m.group("y")
    return _explicit(day, month, year_text, today, _part(m))


def _numeric(m: re.Match[str], today: date) -> _Reading | None:
    day, month = int(m.group("d")), int(m.group("mo"))
    return _explicit(day, month, m.group("y") or None, today, None)


def _iso(m: re.Match[str], today: date) -> _Reading | None:
    return _explicit(int(m.group("d")), int(m.group("mo")), m.group("y"), today, None)


def _explicit(
    day: int, month: int, year_text: str | None, today: date, at: time | None
) -> _Reading | None:
    if year_text:
        year = int(year_text)
        if year < 100:
            year += 2000
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        return _Reading(found, at, explicit=True)
    for year in (today.year, today.year - 1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= today:
            return _Reading(found, at, explicit=True)
    return None


def _months_back(today: date, months: int) -> date:
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (today.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return date(year, month, 28)  # pragma: no cover


class _Rule(NamedTuple):
    """An expression's pattern, plus cheap tests that any text it matches must pass.

    Scanning a ~250-character message with one of these patterns costs ~5-15 µs: a leading
    word boundary or optional group keeps the regex engine from skipping ahead to a literal, so
    it tries the whole pattern at every position. Most messages hold one kind of expression or
    none, so each rule first asks for substrings the pattern cannot match without (``needs``:
    every group must have a member in the text; ``in`` skips ahead fast), then for a relaxed
    pattern the engine can skip ahead on (``gate``). If either fails the pattern has no match,
    and skipping it changes nothing: the scan below is otherwise the same.
    """

    pattern: re.Pattern[str]
    handler: Handler
    needs: tuple[tuple[str, ...], ...]
    gate: re.Pattern[str] | None = None


# substrings of every spelling the patterns accept ("kemar": kemarin, kemaren, kemarn)
_AGO_WORDS = ("lalu", "lewat", "kemar", "kmrn", "kmar")
_WEEKDAY_WORDS = ("senin", "selasa", "rabu", "kamis", "jum", "sabtu", "minggu", "ahad")
_TGL = ("tgl", "tanggal")
_MONTH_INITIAL = "[" + "".join(sorted({name[0] for name in MONTHS})) + "]"

_RULES: tuple[_Rule, ...] = (
    _Rule(
        re.compile(r"\b(?:kemarin|kemaren|kmrn|kmarin)\s+lusa\b|\blusa\s+(?:kemarin|kemaren)\b"),
        _two_days,
        (("lusa",),),
    ),
    _Rule(
        re.compile(
            r"\b(?:kemarin|kemaren|kmrn|kmarin|kemarn)\b(?:\s+(?P<part>" + _PART_RE + r"))?"
        ),
        _yesterday,
        (("kemar", "kmrn", "kmar"),),
    ),
    _Rule(
        re.compile(r"\b(?:semalam|semalem|tadi\s+malam|tadi\s+malem|td\s+malam)\b"),
        _last_night,
        (("mal",),),
    ),
    _Rule(
        re.compile(r"\b(?:tadi|td|barusan)\b(?:\s+(?P<part>" + _PART_RE + r"))?"),
        _today,
        (("tadi", "td", "barusan"),),
    ),
    _Rule(
        re.compile(r"\b(?:hari\s+ini|pagi\s+ini|siang\s+ini|sore\s+ini|malam\s+ini)\b"),
        _today,
        (("ini",),),
        re.compile(r"(?:hari|pagi|siang|sore|malam)\s+ini"),
    ),
    _Rule(
        re.compile(
            r"\b(?P<n>" + _NUM_RE + r")\s*(?P<unit>hari|hr|minggu|mgg|pekan|bulan|bln|"
            r"tahun|thn)" + _AGO
        ),
        _ago,
        (_AGO_WORDS, ("hari", "minggu", "bulan", "tahun", "hr", "mgg", "pekan", "bln", "thn")),
    ),
    _Rule(
        re.compile(r"\b(?P<n>se)(?P<unit>hari|minggu|pekan|bulan|tahun)" + _AGO),
        _ago,
        (_AGO_WORDS,),
        re.compile(r"se(?:hari|minggu|pekan|bulan|tahun)"),
    ),
    _Rule(
        re.compile(
            r"\b(?:hari\s+)?(?P<wd>" + _WEEKDAY_RE + r")(?P<this>)\s+(?:yang\s+|yg\s+)?"
            r"(?:lalu|kemarin|kemaren|kmrn|kmarin)\b(?:\s+(?P<part>" + _PART_RE + r"))?"
        ),
        _weekday,
        (("lalu", "kemar", "kmrn", "kmar"), _WEEKDAY_WORDS),
    ),
    _Rule(
        re.compile(
            r"\b(?:pada\s+)?hari\s+(?P<wd>" + _WEEKDAY_RE + r")(?P<this>)"
            r"(?:\s+(?P<part>" + _PART_RE + r"))?\b"
        ),
        _weekday,
        (("hari",),),
        re.compile(r"hari\s+(?:" + _WEEKDAY_RE + r")"),
    ),
    _Rule(
        re.compile(r"\b(?:minggu|pekan|bulan|bln)\s+(?:yang\s+|yg\s+)?(?:lalu|kemarin)\b"),
        _last_unit,
        (("lalu", "kemarin"), ("minggu", "pekan", "bulan", "bln")),
    ),
    _Rule(
        re.compile(
            r"\b(?:tgl\.?|tanggal|tg\.?)?\s*(?P<d>\d{1,2})\s*[ -]?\s*(?P<mon>"
            + _MONTH_RE
            + r")\.?(?:\s*[ -]?\s*(?P<y>(?:19|20)\d{2}))?\b(?:\s+(?P<part>"
            + _PART_RE
            + r"))?"
        ),
        _day_month,
        (),
        re.compile(r"\d[\s-]*" + _MONTH_INITIAL),
    ),
    _Rule(
        re.compile(
            r"(?<![\d/.-])(?P<d>\d{1,2})[/.-](?P<mo>\d{1,2})[/.-](?P<y>(?:19|20)?\d{2})"
            r"(?![\d/.-]|\.\d)"
        ),
        _numeric,
        (("/", ".", "-"),),
        re.compile(r"[/.-]\d{1,2}[/.-]\d"),
    ),
    _Rule(
        re.compile(r"(?<![\d/-])(?P<y>(?:19|20)\d{2})-(?P<mo>\d{2})-(?P<d>\d{2})(?![\d])"),
        _iso,
        (("-",),),
        re.compile(r"-\d\d-\d"),
    ),
    # "tgl 19/11", "Kamis (19/11)": day/month without a year (never a bare "03/05": RT/RW)
    _Rule(
        re.compile(
            r"(?:\b(?:tgl\.?|tanggal)\s*|\b(?:" + _WEEKDAY_RE + r")\s*,?\s*\(\s*)"
            r"(?P<d>\d{1,2})[/-](?P<mo>\d{1,2})(?P<y>)\b(?![/-]\d)"
        ),
        _numeric,
        (("(", *_TGL),),
        re.compile(r"(?:tgl|tanggal|\()\.?\s*\d{1,2}[/-]\d"),
    ),
    # "tgl 3": the 3rd of this month, or of last month if that is still to come
    _Rule(
        re.compile(r"\b(?:tgl\.?|tanggal)\s*(?P<d>\d{1,2})\b(?![/.-]\d)"),
        _day_only,
        (_TGL,),
        re.compile(r"(?:tgl|tanggal)\.?\s*\d"),
    ),
)


def _may_match(rule: _Rule, lowered: str) -> bool:
    """False only if ``rule.pattern`` cannot match ``lowered``."""
    for group in rule.needs:
        for needle in group:
            if needle in lowered:
                break
        else:
            return False
    return rule.gate is None or rule.gate.search(lowered) is not None


def find_occurred_at(text: str, received_at: datetime, tz: ZoneInfo) -> datetime | None:
    """The incident time the text states, aware, never after ``received_at``; else None."""
    if received_at.tzinfo is None:
        return None
    now = received_at.astimezone(tz)
    today = now.date()
    lowered = text.lower()
    rules = [rule for rule in _RULES if _may_match(rule, lowered)]
    if not rules:  # nothing date-like
        return None
    best: tuple[int, _Reading, re.Match[str]] | None = None
    for pattern, handler, _, _ in rules:
        for match in pattern.finditer(lowered):
            if best is not None and match.start() >= best[0]:
                break
            reading = handler(match, today)
            if reading is not None:
                best = (match.start(), reading, match)
                break
    if best is None:
        return None
    _, reading, match = best
    at = reading.at
    clock = _CLOCK.search(lowered, match.start(), min(len(lowered), match.end() + 40))
    if clock is None:
        clock = _CLOCK.search(lowered, max(0, match.start() - 30), match.start())
    if clock is not None:
        hour, minute = int(clock.group("h")), int(clock.group("m") or 0)
        part = clock.group("part")
        evening = part in ("sore", "malam", "petang") and hour < 12
        if evening or (part == "siang" and hour < 6):
            hour += 12
        elif part is None and at is not None and at.hour >= 12 and hour < 12:
            hour += 12  # "kemarin sore jam 4"
        if hour < 24 and minute < 60:
            at = time(hour, minute)
    result = datetime.combine(reading.day, at or time(0, 0), tzinfo=tz)
    if result > now:
        if reading.explicit and reading.day > today:
            return None
        if reading.day == today and at is not None:
            # "tadi malam" said at 07:00 means last night; a day-part later than now, yesterday
            result -= timedelta(days=1)
        if result > now:
            result = now
    return result
