"""Language of a complaint (ISO 639-1), restricted to the languages Indonesian offices receive."""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["LANGUAGES", "detect_language"]

#: Indonesian, English, Javanese. Malay is left out on purpose: short informal Indonesian is
#: often scored as Malay, and an Indonesian office receives next to no Malay. py3langid knows no
#: Sundanese, Palembang or Minang, so those come out as Indonesian, which is what staff expect.
LANGUAGES: tuple[str, ...] = ("id", "en", "jv")


@cache
def _identifier() -> Any:
    """py3langid's model restricted to ``LANGUAGES``; built once (read-only afterwards)."""
    from py3langid.langid import _load_identifier

    return _load_identifier(langs=list(LANGUAGES))


def detect_language(text: str) -> str | None:
    """ISO 639-1 code, or None for text too short to tell (under three letters)."""
    if sum(c.isalpha() for c in text) < 3:
        return None
    code, _ = _identifier().classify(text)
    return str(code) if code else None
