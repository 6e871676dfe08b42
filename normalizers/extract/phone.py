"""Indonesian phone numbers in free text, normalized to E.164.

Complaint text is full of digit runs that are not phones: NIKs (16 digits), money amounts
("Rp 1.500.000"), dates, tracking numbers ("ADU-2611-000123-7"), RT/RW numbers. A candidate is
only accepted when it is written the way Indonesians write phones (a leading ``0``, ``62`` or
``+62``, optionally an area code in parentheses, digits grouped by spaces, dots or dashes) *and*
``phonenumbers`` says the result is a valid Indonesian number. Everything else is left alone:
a missed phone costs a call-back, a wrong one reaches a stranger.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

__all__ = ["find_phones", "first_phone", "normalize_phone"]

# A phone-shaped run: +62 / 62 / 0 (or "(0" for an area code) then digits and separators.
_PHONE_SHAPE = r"(?:\+\s?62|62|\(\s?0|0)[\d() ./-]{6,34}\d"
_CANDIDATE = re.compile(
    r"(?<![\w+./,#-])"  # not glued to a word, a tracking number, a decimal or an amount
    r"(?P<num>" + _PHONE_SHAPE + r")"
    r"(?![\w/]|[.,-]\d)"
)
# The shape alone, for finding where ``_CANDIDATE`` may first match: opening with a
# look-behind, ``_CANDIDATE`` is tried at every position (~6 us over a complaint), while this
# pattern's first characters let ``re`` skip ahead to a "+", "6", "(" or "0".
_FIRST_SHAPE = re.compile(_PHONE_SHAPE)
_MONEY_BEFORE = re.compile(r"(?:rp\.?|idr|usd|\$)\s*$", re.IGNORECASE)
_MONEY_SHAPE = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_DATE_SHAPE = re.compile(r"^\d{1,2}([-./ ])\d{1,2}\1(?:19|20)?\d{2}$")
_NON_DIGIT = re.compile(r"\D")
_DIGIT_RUN = re.compile(r"\d+")
_GAP = re.compile(r"[ /]+")
_REPORTER_KINDS = frozenset(
    (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
)
_MIN_DIGITS = 9  # 0 + area code + 5..8 digits, at least
_MAX_DIGITS = 14


@lru_cache(maxsize=4096)  # pure; the same reporter writes in again and again
def normalize_phone(value: str) -> str | None:
    """E.164 form of one Indonesian number as written (``0812-3456-7890`` -> ``+6281234567890``).

    Returns None for anything that is not a valid Indonesian number, so callers never store a
    guess.
    """
    candidate = _candidate(value)
    if candidate is None:
        return None
    # Nearly every complaint brings a number never seen before, so the cache rarely helps and
    # phonenumbers.parse (~3/4 of the cost) is skipped for the usual shapes; see _fast_e164.
    e164 = _fast_e164(candidate)
    return e164 if e164 is not None else _e164_by_parsing(candidate)


def _normalize_phone_full(value: str) -> str | None:
    """``normalize_phone`` without the fast path: the reference the tests hold it equal to."""
    candidate = _candidate(value)
    return None if candidate is None else _e164_by_parsing(candidate)


def _candidate(value: str) -> str | None:
    """The number as ``+62…`` or ``0…`` digits for ``phonenumbers``, or None if it cannot be one."""
    raw = value.strip()
    raw = raw.replace("(0)", "")  # "+62 (0)812…": the trunk zero in parentheses
    digits = _NON_DIGIT.sub("", raw)
    if not digits or not _MIN_DIGITS - 1 <= len(digits) <= _MAX_DIGITS + 1:
        return None
    if raw.startswith("+"):
        if not digits.startswith("62"):
            return None
        candidate = "+" + digits
    elif digits.startswith("62"):
        candidate = "+" + digits
    elif digits.startswith("0"):
        candidate = digits
    else:
        return None
    if candidate.startswith("+620"):  # "+62 0812…": a trunk zero kept by mistake
        candidate = "+62" + candidate[4:]
    return candidate


def _fast_e164(candidate: str) -> str | None:
    """The E.164 form of ``+62N`` / ``0N`` without ``phonenumbers.parse``, or None to parse.

    Exact: whenever this answers, ``parse(candidate, "ID")`` yields the same number, namely
    ``PhoneNumber(62, int(N))`` with no leading-zero flags and no extension (phonenumbers 9.0.x;
    N is ASCII digits, not starting with 0, at most 14 long here):

    - nothing is trimmed: the candidate starts with "+" or a digit and ends with a digit, has no
      ";phone-context=" and no extension label (every extension form needs a letter, "#", ",",
      ";" or "~"), and ``_normalize`` of plain ASCII digits is the identity;
    - "+62N": the "+" is stripped, 6 is no calling code and 62 is, so N is the national number;
      ID's ``national_prefix_for_parsing`` is "0" with no transform rule, so an N not starting
      with 0 is kept whole;
    - "0N": no "+" and no IDD (``00[89]`` needs a second 0), and "0N" does not start with "62",
      so no country code is taken and the region's 62 is used. The prefix "0" is stripped unless
      "0N" matches the general description while N does not, and the result kept unless N's
      length is too short / local-only / invalid for the general description. ``number_type``
      returns UNKNOWN unless N matches the general description (pattern and lengths 7..17)
      first, so a reporter type here means the "0" is stripped and N is kept;
    - N has no leading 0, so no italian leading zero is set; 62 maps to ID alone, so
      ``number_type`` reads the same metadata either way, and E.164 is "+62" + str(int(N)).

    N in other scripts (Arabic-Indic digits, which ``\\d`` lets through) is left to ``parse``,
    which normalises it to ASCII; so is everything this does not accept.
    """
    if candidate.startswith("+62"):
        national = candidate[3:]
    elif candidate.startswith("0"):
        national = candidate[1:]
    else:
        return None
    if not (national.isascii() and national.isdigit()) or national.startswith("0"):
        return None  # isdigit() is also False for ""
    number = phonenumbers.PhoneNumber(country_code=62, national_number=int(national))
    if phonenumbers.number_type(number) not in _REPORTER_KINDS:
        return None
    return "+62" + national


def _e164_by_parsing(candidate: str) -> str | None:
    """The general path: let ``phonenumbers`` parse the candidate, then check its type."""
    try:
        number = phonenumbers.parse(candidate, "ID")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 62:
        return None
    # For +62 (one region) is_valid_number is exactly number_type != UNKNOWN, so the type alone
    # decides validity too and the number is matched against the metadata once, not twice.
    if phonenumbers.number_type(number) not in _REPORTER_KINDS:
        return None  # invalid, or toll-free / premium / shared-cost: not a reporter's phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phones(text: str) -> list[str]:
    """Every distinct Indonesian phone number in ``text``, E.164, in order of appearance."""
    found: list[str] = []
    # Every candidate has the shape where it starts, so none starts before the first shape;
    # the look-behind still sees the characters before ``first.start()``.
    first = _FIRST_SHAPE.search(text)
    if first is None:
        return found
    for match in _CANDIDATE.finditer(text, first.start()):
        written = match.group("num").strip()
        # trailing separators / a lone closing parenthesis are not part of the number
        written = written.rstrip(" .-(")
        if _MONEY_BEFORE.search(text[max(0, match.start() - 6) : match.start()]):
            continue
        if _MONEY_SHAPE.match(written) or _DATE_SHAPE.match(written):
            continue
        # a long unbroken run (NIK, account, tracking) is not a phone even if it starts with 0
        if max((len(run) for run in _DIGIT_RUN.findall(written)), default=0) > 13:
            continue
        for phone in _split(written):
            if phone not in found:
                found.append(phone)
    return found


def _split(written: str) -> list[str]:
    """One number, or two written side by side ("0812 3456 7890 0813 1111 2222")."""
    digits = _NON_DIGIT.sub("", written)
    if len(digits) <= _MAX_DIGITS + 1:
        phone = normalize_phone(written)
        if phone is not None:
            return [phone]
    for gap in _GAP.finditer(written):
        head, tail = written[: gap.start()].strip(), written[gap.end() :].strip()
        if not tail.startswith(("0", "+62", "62", "(0")):
            continue
        first, second = normalize_phone(head), normalize_phone(tail)
        if first is not None and second is not None:
            return [first, second]
    return []


def first_phone(text: str) -> str | None:
    """The first phone ``find_phones`` sees (the reporter's own, as a rule)."""
    found = find_phones(text)
    return found[0] if found else None
