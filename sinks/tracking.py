"""Tracking numbers: what a citizen reads over the phone, so they must be short and checkable.

Format ``ADU-YYMM-NNNNNN-C``: the year and month the store issued it, a store-wide sequence
(zero-padded to six digits, longer when it outgrows them) and a Damm check digit over all the
digits. Damm catches every single-digit error and every adjacent transposition, the two mistakes
people make when they read a number aloud or type it from a paper slip.
"""

from __future__ import annotations

import re
from datetime import datetime

PREFIX = "ADU"

_FORMAT = re.compile(r"^ADU-(\d{4})-(\d{6,})-(\d)$")

# The Damm quasigroup of order 10 (weakly totally anti-symmetric), from H. Michael Damm (2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_check_digit(digits: str) -> int:
    """The digit that makes ``digits + check`` reduce to 0 in the Damm table."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def make_tracking_no(sequence: int, when: datetime) -> str:
    """Issue the tracking number for the ``sequence``-th report stored in ``when``'s month."""
    if sequence < 1:
        raise ValueError("tracking sequence numbers start at 1")
    period = f"{when.year % 100:02d}{when.month:02d}"
    seq = f"{sequence:06d}"
    return f"{PREFIX}-{period}-{seq}-{damm_check_digit(period + seq)}"


def is_valid_tracking_no(value: str) -> bool:
    """True when ``value`` has the format, a real month and a matching check digit."""
    match = _FORMAT.match(value.strip().upper()) if isinstance(value, str) else None
    if match is None:
        return False
    period, seq, check = match.groups()
    if not 1 <= int(period[2:]) <= 12 or int(seq) == 0:
        return False
    return damm_check_digit(period + seq) == int(check)


def normalize_tracking_no(value: str) -> str:
    """What a person typed, tidied (case and surrounding spaces) for lookup."""
    return value.strip().upper()
