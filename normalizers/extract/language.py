"""Language of a complaint (ISO 639-1), restricted to the languages Indonesian offices receive."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LANGUAGES", "detect_language"]

#: Indonesian, English, Javanese. Malay is left out on purpose: short informal Indonesian is
#: often scored as Malay, and an Indonesian office receives next to no Malay. py3langid knows no
#: Sundanese, Palembang or Minang, so those come out as Indonesian, which is what staff expect.
LANGUAGES: tuple[str, ...] = ("id", "en", "jv")

#: py3langid reads only this much of a text. The opening of a long e-mail is the complaint; the
#: rest is quoted thread, signatures and disclaimers, and the walk costs ~1.5 us per byte. No text
#: we have (corpora, tests, bench) changes language at 1000; at 300-400 a few long e-mails did.
_SAMPLE_CHARS = 1000

# Function words that settle a language on their own when they dominate a text. Javanese is only
# ever a veto: a single Javanese marker sends the text to py3langid, so id/jv code-switching is
# always decided by the model. Thresholds below: tests/extract/test_language.py checks the
# shortcut against py3langid on every text we have (it never disagreed where it fired).
_ID_WORDS = frozenset(
    "yang dan di ke dari untuk dengan tidak ini itu saya sudah akan ada juga karena pada "  # noqa: SIM905 (a word list reads best as words)
    "dalam atau bisa mohon kami belum sejak sangat tetapi tapi agar oleh kepada terima "
    "kasih segera tersebut adalah telah harus".split()
)
_EN_WORDS = frozenset(
    "the and of to is in that for it with was on are be this have my not you we they "  # noqa: SIM905 (a word list reads best as words)
    "from at by has been or an there please would could which".split()
)
_JV_WORDS = frozenset(
    "ora aku kowe sing lan karo wis durung mboten kulo kula neng ning opo apa piye "  # noqa: SIM905 (a word list reads best as words)
    "sampun njaluk tulung nggih dhateng saget amargi menika punika iki kuwi uga banget "
    "ingkang saking kangge sampeyan panjenengan ing saka kanggo ana ono iku kang uwis "
    "wes ngono dadi mergo amarga nek yen bae wae mung arep pengen ngapa lho sih dudu "
    "ndak gak rak lha tak dhewe dewe".split()
)
_WORD = re.compile(r"[a-z]+")
# bytes.translate table: every byte but a-z becomes a space, so that ``split`` finds _WORD's runs
_NOT_A_TO_Z = bytes(c if 0x61 <= c <= 0x7A else 0x20 for c in range(256))
_MIN_HITS = 6  # function words of the winning language
_MAX_OTHER_SHARE = 5  # the other language has at most 1/5 of the winner's hits
_MIN_DENSITY = 5  # and the winner's hits are at least 1/5 of all words


@cache
def _identifier() -> Any:
    """py3langid's model restricted to ``LANGUAGES``; built once (read-only afterwards)."""
    from py3langid.langid import _load_identifier

    return _load_identifier(langs=list(LANGUAGES))


@dataclass(frozen=True, slots=True)
class _Model:
    """The restricted identifier's parts, laid out for the cheapest exact scoring.

    ``LanguageIdentifier.classify`` gathers from a float16, column-sliced (strided) table and
    builds its index arrays from dict views; the same sums over a contiguous float32 copy of the
    three columns give bit-identical scores in about half the time (tests/extract pins the
    equality on every text we have).
    """

    nextmove: Sequence[int]
    rowbase: Sequence[int]
    output: Sequence[int]
    table: npt.NDArray[np.float32]
    prior: npt.NDArray[np.float32]
    classes: tuple[str, ...]
    encode: Callable[[str], bytes]
    visit: Callable[..., Any]


@cache
def _model() -> _Model:
    """Read-only view of ``_identifier()`` (same arrays, float32 table); built once."""
    from py3langid.langid import visit_counts

    ident = _identifier()
    if (
        ident._alias_pairs or ident._norm_probs
    ):  # neither holds for id/en/jv; be loud if it ever does
        raise RuntimeError("py3langid model layout changed: alias columns or normalized scores")
    return _Model(
        nextmove=ident.tk_nextmove,
        rowbase=ident._rowbase,
        output=ident.tk_output,
        table=np.ascontiguousarray(ident.nb_ptc, dtype=np.float32),
        prior=ident.nb_pc,
        classes=tuple(str(c) for c in ident.nb_classes),
        encode=ident._encode,
        visit=visit_counts,
    )


def _has_letters(text: str, wanted: int = 3) -> bool:
    """Whether ``text`` holds ``wanted`` letters; stops at the third instead of counting all."""
    seen = 0
    for char in text:
        if char.isalpha():
            seen += 1
            if seen >= wanted:
                return True
    return False


def detect_language(text: str) -> str | None:
    """ISO 639-1 code, or None for text too short to tell (under three letters).

    Runs on every complaint of every channel, so the common case (plain Indonesian or English
    prose) is settled by function words in ~10 us; everything else goes to py3langid (~100 us
    for a 250-character complaint) on the first ``_SAMPLE_CHARS`` characters.
    """
    if not _has_letters(text):
        return None
    sample = text[:_SAMPLE_CHARS]
    return _by_function_words(sample) or _classify(sample)


def _by_function_words(text: str) -> str | None:
    """ "id" or "en" when the text is overwhelmingly that language's function words, else None."""
    words = _words(text.lower())
    ind = eng = 0
    for word in words:
        if word in _JV_WORDS:
            return None
        if word in _ID_WORDS:
            ind += 1
        if word in _EN_WORDS:
            eng += 1
    top, other, code = (ind, eng, "id") if ind >= eng else (eng, ind, "en")
    if top >= _MIN_HITS and other * _MAX_OTHER_SHARE <= top and top * _MIN_DENSITY >= len(words):
        return code
    return None


def _words(lowered: str) -> list[str]:
    """``_WORD.findall(lowered)``; on ASCII text (``isascii`` is free) by ``bytes.translate``,
    ~4x faster than the regex: its runs of a-z are what is left between the spaces."""
    if not lowered.isascii():
        return _WORD.findall(lowered)
    return lowered.encode("ascii").translate(_NOT_A_TO_Z).decode("ascii").split()


def _classify(text: str) -> str:
    """Exactly ``_identifier().classify(text)[0]``, without its per-call overheads."""
    model = _model()
    visits = model.visit(model.nextmove, model.rowbase, model.output, model.encode(text))
    if not visits:
        # py3langid scores every language with the same floor; argmax takes the first
        return model.classes[0]
    features = np.fromiter(visits, dtype=np.intp, count=len(visits))
    counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
    scores = np.log1p(counts) @ model.table.take(features, axis=0) + model.prior
    return model.classes[int(scores.argmax())]
