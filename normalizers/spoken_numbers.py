"""Indonesian number words to digits, the way callers dictate them on the phone.

Speech-to-text writes what it hears: a caller reading out a phone number says "nol delapan satu
dua, tiga empat lima enam", or "kosong delapan satu tiga, dua belas, tiga puluh empat"; a NIK is
read in digits or in pairs. The extractors (phone, NIK) and the NIK masking of ``text`` need
digits, so a run of number words is turned into the digit string the caller meant.

A run is cut into *groups*: each group is one compound number ("seratus dua puluh" = 120, "dua
ribu dua puluh empat" = 2024) or a single digit word. A run of one group is that number ("dua
belas" -> "12"); a run of several groups is a dictation and its groups are concatenated ("nol
delapan satu dua" -> "0812", "dua belas tiga puluh empat" -> "1234"). A new group starts when
the next word cannot extend the current number (a unit after a unit, anything after "nol").

Pure functions, no state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_DIGITS: dict[str, int] = {
    "nol": 0,
    "kosong": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
# "se-" forms: one of the multiplier, written as one word.
_SE_FORMS: dict[str, tuple[int, str]] = {
    "sepuluh": (1, "puluh"),
    "sebelas": (1, "belas"),
    "seratus": (1, "ratus"),
    "seribu": (1, "ribu"),
    "sejuta": (1, "juta"),
}
_MULTIPLIERS = {"belas", "puluh", "ratus", "ribu", "juta", "miliar", "milyar"}
_SCALES = {"ribu": 1_000, "juta": 1_000_000, "miliar": 1_000_000_000, "milyar": 1_000_000_000}
NUMBER_WORDS = frozenset(_DIGITS) | frozenset(_SE_FORMS) | frozenset(_MULTIPLIERS)

# A word of the text, or a literal digit string, with what separates it from the next token.
_TOKEN = re.compile(r"[A-Za-z]+|\d+")


@dataclass(frozen=True)
class _Piece:
    """A part of a sub-thousand number: its value and the decimal positions it fills."""

    value: int
    high: int  # highest position used (0 units, 1 tens, 2 hundreds)
    low: int  # lowest position used


def _piece_at(words: Sequence[str], i: int) -> tuple[_Piece, int] | None:
    """The sub-thousand piece starting at ``words[i]`` and the number of words it takes."""
    word = words[i]
    if word in _SE_FORMS:
        _, mult = _SE_FORMS[word]
        if mult == "puluh":
            return _Piece(10, 1, 1), 1
        if mult == "belas":
            return _Piece(11, 1, 0), 1
        if mult == "ratus":
            return _Piece(100, 2, 2), 1
        return None  # seribu / sejuta are scales, handled by the caller
    if word not in _DIGITS:
        return None
    digit = _DIGITS[word]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if digit > 0 and nxt == "belas":
        return _Piece(10 + digit, 1, 0), 2
    if digit > 0 and nxt == "puluh":
        return _Piece(digit * 10, 1, 1), 2
    if digit > 0 and nxt == "ratus":
        return _Piece(digit * 100, 2, 2), 2
    return _Piece(digit, 0, 0), 1


def _parse_group(words: Sequence[str], start: int) -> tuple[int, int, bool]:
    """Parse one compound number from ``start``: (value, words used, starts with zero)."""
    if words[start] in ("nol", "kosong"):
        return 0, 1, True
    total = 0
    sub = 0
    low = 99  # lowest position filled so far in the current sub-thousand part
    scale_limit = 10**12  # the next scale word must be smaller than the last one used
    i = start
    while i < len(words):
        word = words[i]
        if word in ("nol", "kosong"):
            break
        if word in ("seribu", "sejuta"):
            scale = 1_000 if word == "seribu" else 1_000_000
            if sub or scale >= scale_limit:
                break
            total += scale
            scale_limit = scale
            low = 99
            i += 1
            continue
        if word in _SCALES:
            scale = _SCALES[word]
            if not sub or scale >= scale_limit:
                break
            total += sub * scale
            sub = 0
            scale_limit = scale
            low = 99
            i += 1
            continue
        found = _piece_at(words, i)
        if found is None:
            break
        piece, used = found
        if piece.high >= low:
            break
        sub += piece.value
        low = piece.low
        i += used
    if i == start:
        return 0, 0, False
    return total + sub, i - start, False


def number_groups(words: Sequence[str]) -> list[int] | None:
    """The numbers a run of number words says, in order; None if a word is not a number word.

    >>> number_groups("nol delapan satu dua".split())
    [0, 8, 1, 2]
    >>> number_groups("seratus dua puluh".split())
    [120]
    """
    lowered = [w.lower() for w in words]
    if not lowered or any(w not in NUMBER_WORDS for w in lowered):
        return None
    groups: list[int] = []
    i = 0
    while i < len(lowered):
        value, used, _ = _parse_group(lowered, i)
        if used == 0:
            return None  # a dangling multiplier ("puluh" alone): not a number
        groups.append(value)
        i += used
    return groups


def words_to_digits(phrase: str) -> str | None:
    """The digit string a phrase of number words (and digits) says, or None if it is not one.

    "nol delapan satu dua" -> "0812"; "dua belas" -> "12"; "0812 tiga empat" -> "081234".
    """
    out: list[str] = []
    words: list[str] = []
    for token in _TOKEN.findall(phrase):
        if token.isdigit():
            if words:
                groups = number_groups(words)
                if groups is None:
                    return None
                out.extend(str(g) for g in groups)
                words = []
            out.append(token)
        else:
            words.append(token)
    if words:
        groups = number_groups(words)
        if groups is None:
            return None
        out.extend(str(g) for g in groups)
    return "".join(out) or None


# A run: number words, and digit strings that begin a phone number ("0812", "62"), separated
# by spaces, commas or hyphens. Other digit strings ("tahun 2024 dua kali") stay out of runs.
_WORD_ALT = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_UNIT = rf"(?:\b(?:{_WORD_ALT})\b|\b(?:0|62)\d*\b)"
_RUN = re.compile(rf"{_UNIT}(?:[ \t]*[,\-]?[ \t]*{_UNIT})*", re.IGNORECASE)
_HAS_WORD = re.compile(rf"\b(?:{_WORD_ALT})\b", re.IGNORECASE)


def _chunk_digits(chunk: str) -> str | None:
    if not _HAS_WORD.search(chunk):
        return None
    return words_to_digits(chunk)


def _dictated(run: str) -> bool:
    """True when the run says its number in two groups or more (a dictation)."""
    groups = 0
    for chunk in re.split(r"[ \t]*,[ \t]*", run):
        words = _TOKEN.findall(chunk)
        pending: list[str] = []
        for token in words:
            if token.isdigit():
                groups += 1 + (len(number_groups(pending) or []) if pending else 0)
                pending = []
            else:
                pending.append(token)
        if pending:
            groups += len(number_groups(pending) or [])
    return groups >= 2


def replace_spoken_numbers(text: str, *, min_digits: int = 1, dictated_only: bool = False) -> str:
    """``text`` with each run of spoken number words replaced by its digits.

    A run split by commas ("nol delapan satu tiga, dua belas, tiga puluh empat") is one
    dictation when its digits together are phone-length (6 or more): the pieces are joined
    without separators. Otherwise each piece is replaced on its own and the commas stay.
    Runs that would give fewer than ``min_digits`` digits are left as words (``min_digits=6``
    turns only dictated phone numbers and NIKs into digits and leaves "dua orang" alone).
    Runs made only of digits are left untouched. With ``dictated_only`` a run is replaced only
    when it is read out piece by piece (two groups or more: "nol delapan …", "satu enam satu
    nol, nol satu …"); an amount said as one number ("seratus lima puluh ribu") stays in words.
    """

    def repl(match: re.Match[str]) -> str:
        run = match.group(0)
        if not _HAS_WORD.search(run):
            return run
        if dictated_only and not _dictated(run):
            return run
        chunks = re.split(r"[ \t]*,[ \t]*", run)
        converted = [_chunk_digits(c) or (c if c.isdigit() else None) for c in chunks]
        if len(chunks) > 1 and all(d is not None for d in converted):
            joined = "".join(d for d in converted if d is not None)
            if len(joined) >= max(6, min_digits):
                return joined
        parts = [
            d if d is not None and len(d) >= min_digits and not c.isdigit() else c
            for c, d in zip(chunks, converted, strict=True)
        ]
        return ", ".join(parts)

    return _RUN.sub(repl, text)
