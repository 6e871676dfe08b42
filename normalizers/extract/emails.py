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


def find_emails(text: str) -> list[str]:
    """Distinct addresses in order of appearance (``a..b@x.id`` and ``@handles`` are not)."""
    found: list[str] = []
    for match in _EMAIL.finditer(text):
        address = match.group(1).lower()
        local = address.split("@", 1)[0]
        if ".." in local or address in found:
            continue
        found.append(address)
    return found


def first_email(text: str) -> str | None:
    found = find_emails(text)
    return found[0] if found else None
