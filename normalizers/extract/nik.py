"""NIK (Nomor Induk Kependudukan) detection by structure, and masking.

A NIK is ``PP KK CC DDMMYY SSSS``: province, regency/city and district codes of the place of
registration, the holder's birth date (women add 40 to the day) and a serial. Checking the
structure lets ``nik_masked`` name a real NIK rather than any 16-digit number (a bank account or
a card number). Masking in ``text`` is deliberately broader: every 16-digit run is masked by
``normalizers.record.mask_niks_in_text`` whatever its structure, because privacy errs on the
side of masking; this module only adds NIKs written in ways that rule misses (e.g. split in
uneven groups after a "NIK" label).
"""

from __future__ import annotations

import re

from normalizers.record import mask_nik, mask_niks_in_text, may_hold_digits

__all__ = ["PROVINCE_CODES", "find_niks", "is_valid_nik", "mask_niks"]

#: Kemendagri province codes (Sumatra 11-19, Kepri 21, Java 31-36, Bali/Nusa Tenggara 51-53,
#: Kalimantan 61-65, Sulawesi 71-76, Maluku 81-82, Papua 91-96 including the 2022 provinces).
PROVINCE_CODES: frozenset[int] = frozenset(
    [
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 97),
    ]
)

# 16 digits, optionally grouped by single spaces, dots or dashes, not inside a longer number.
_RUN = re.compile(r"(?<![\d*])\d(?:[ .-]?\d){15}(?![\d*]|[ .-]\d)")
# After an explicit label we also accept any grouping ("NIK: 16 71 01 ...").
_LABELLED = re.compile(
    r"\b(?:nik|no\.?\s*ktp|nomor\s+ktp|ktp)\s*[:.]?\s*(?P<nik>\d(?:[ .-]{0,2}\d){15})(?!\d)",
    re.IGNORECASE,
)


def is_valid_nik(value: str) -> bool:
    """True when the 16 digits of ``value`` have the structure of a NIK."""
    digits = re.sub(r"[ .-]", "", value)
    if len(digits) != 16 or not digits.isdigit():
        return False
    province, regency, district = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    day, month = int(digits[6:8]), int(digits[8:10])
    serial = int(digits[12:16])
    if province not in PROVINCE_CODES or regency == 0 or district == 0 or serial == 0:
        return False
    if day > 40:
        day -= 40  # women
    return 1 <= day <= 31 and 1 <= month <= 12


def find_niks(text: str) -> list[str]:
    """Structurally valid NIKs in ``text`` (digits only, distinct, in order of appearance)."""
    found: list[str] = []
    if not may_hold_digits(text, 16):  # both patterns need 16 digits; most texts have fewer
        return found
    spans: list[tuple[int, int]] = []
    for match in _LABELLED.finditer(text):
        digits = re.sub(r"\D", "", match.group("nik"))
        if is_valid_nik(digits) and digits not in found:
            found.append(digits)
        spans.append(match.span("nik"))
    for match in _RUN.finditer(text):
        if any(start <= match.start() < end for start, end in spans):
            continue
        digits = re.sub(r"\D", "", match.group(0))
        if is_valid_nik(digits) and digits not in found:
            found.append(digits)
    return found


def mask_niks(text: str) -> str:
    """``text`` with every NIK masked (labelled ones in any grouping, and every 16-digit run)."""

    def _labelled(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group("nik"))
        whole = match.group(0)
        cut = match.start("nik") - match.start()
        return whole[:cut] + mask_nik(digits)

    if not may_hold_digits(text, 16):  # a labelled NIK has 16 digits too
        return text
    return mask_niks_in_text(_LABELLED.sub(_labelled, text))
