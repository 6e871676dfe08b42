"""E-mail addresses in free text (lower-cased, as the record stores them)."""

from __future__ import annotations

import re

__all__ = ["find_emails", "first_email"]

_EMAIL = re.compile(
    r"(?<![\w.+-])"
    r"([A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})"
    r"(?![\w-]|\.[A-Za-z0-9])"
)
_LOCAL_MAX = 64  # the longest local part _EMAIL accepts: 1 + 62 + 1 characters


def find_emails(text: str) -> list[str]:
    """Distinct addresses in order of appearance (``a..b@x.id`` and ``@handles`` are not)."""
    found: list[str] = []
    # Every address holds an "@" and at most 64 characters before it (the local part): no match
    # starts earlier than that before the first "@", so the scan (~10 us over a complaint, the
    # pattern opening with a look-behind) starts there, and is skipped when there is none.
    at = text.find("@")
    if at < 0:
        return found
    for match in _EMAIL.finditer(text, max(0, at - _LOCAL_MAX)):
        address = match.group(1).lower()
        local = address.split("@", 1)[0]
        if ".." in local or address in found:
            continue
        found.append(address)
    return found


def first_email(text: str) -> str | None:
    found = find_emails(text)
    return found[0] if found else None
