"""Category and severity of a complaint: the office's rules first, then a statistical model.

Office rules (``categories`` in channels.yaml: keywords and regular expressions) win because
they are the office's own decision and are explainable to staff. Only when no rule fires does
the statistical classifier guess. The model is built here (pure: it only turns rows into a
fitted object) and loaded or trained from the shipped data by ``ingest.classifier``: reading
files is the ingest layer's job.

Real complaint text is short, informal and misspelled ("jln rusak bgt gk bs lewat"), and mixes
Palembang, Javanese and Sundanese words. The model therefore sees the text after slang
normalization, as both word n-grams and character n-grams (robust to misspellings); on the
shipped set this beats a plain word TF-IDF + linear SVM (``baseline_model``), which the tests
check on a fixed split.

Severity follows the SP4N-LAPOR! definitions: appreciation, aspiration and requests for
information are ``ringan``; a complaint about one agency is ``sedang``; abuse of authority
(pungli, bribery, extortion, violence by officials) or a matter involving several agencies is
``berat``.
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from normalizers.office import Category

__all__ = [
    "DEFAULT_CATEGORIES",
    "MODEL_FORMAT",
    "LexiconFeatures",
    "LinearTextClassifier",
    "ModelClassifier",
    "RuleSet",
    "baseline_model",
    "build_model",
    "evaluate",
    "normalize_text",
    "rule_category",
    "severity_of",
    "train",
]

#: The default category list (matches the shipped labelled set).
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "infrastruktur", "kesehatan", "pendidikan", "kependudukan", "lingkungan", "ketertiban",
    "pelayanan_publik", "sosial", "pungli_korupsi", "informasi",
)  # fmt: skip

#: Informal, abbreviated and regional spellings -> standard Indonesian.
SLANG: dict[str, str] = {
    # abbreviations and chat spellings
    "jln": "jalan", "jl": "jalan", "jaln": "jalan", "gak": "tidak", "ga": "tidak",
    "gk": "tidak", "nggak": "tidak", "ngga": "tidak", "enggak": "tidak", "tdk": "tidak",
    "tak": "tidak", "bgt": "banget", "bngt": "banget", "yg": "yang", "dgn": "dengan",
    "dg": "dengan", "utk": "untuk", "u": "untuk", "sy": "saya", "sya": "saya", "aq": "saya",
    "gw": "saya", "gue": "saya", "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah",
    "blm": "belum", "blum": "belum", "bs": "bisa", "bsa": "bisa", "krn": "karena",
    "karna": "karena", "tp": "tapi", "tpi": "tapi", "dpn": "depan", "rmh": "rumah",
    "kalo": "kalau", "klo": "kalau", "kl": "kalau", "pd": "pada", "dr": "dari", "org": "orang",
    "skrg": "sekarang", "skg": "sekarang", "bln": "bulan", "thn": "tahun", "hr": "hari",
    "mhn": "mohon", "tlg": "tolong", "tolonglah": "tolong", "mksh": "terima kasih",
    "makasih": "terima kasih", "trims": "terima kasih", "tq": "terima kasih",
    "thx": "terima kasih", "min": "admin", "gmn": "bagaimana", "gimana": "bagaimana",
    "gmana": "bagaimana", "knp": "kenapa", "kpn": "kapan", "dmn": "dimana", "bkn": "bukan",
    "jg": "juga", "lg": "lagi", "aja": "saja", "aj": "saja", "bnyk": "banyak", "byk": "banyak",
    "sm": "sama", "msh": "masih", "pemkab": "pemerintah kabupaten", "pemda": "pemerintah daerah",
    "puskes": "puskesmas", "rs": "rumah sakit", "rsud": "rumah sakit", "sklh": "sekolah",
    "dukcapil": "dukcapil", "disdukcapil": "dukcapil", "ktp": "ktp", "e-ktp": "ktp",
    "malem": "malam", "cepet": "cepat", "biar": "supaya", "duit": "uang", "pake": "pakai",
    "kmrn": "kemarin", "kemaren": "kemarin", "rusakk": "rusak",
    # Palembang
    "dak": "tidak", "galak": "mau", "kagek": "nanti", "wong": "orang", "nian": "sangat",
    "cak": "bagaimana", "mano": "mana", "katek": "tidak ada", "dewek": "sendiri",
    "galo": "semua", "payah": "susah", "baunyo": "baunya", "bae": "saja", "nak": "mau",
    # Javanese
    "ora": "tidak", "mboten": "tidak", "dalan": "jalan", "deso": "desa", "kulo": "saya",
    "aku": "saya", "banyu": "air", "uwuh": "sampah", "wis": "sudah", "durung": "belum",
    "ning": "di", "neng": "di", "saben": "setiap", "dino": "hari", "wengi": "malam",
    "bocah": "anak", "sekolahe": "sekolah", "ambune": "baunya", "didandani": "diperbaiki",
    "matur": "terima", "nuwun": "kasih", "angsal": "dapat", "mili": "mengalir",
    "montor": "motor", "saget": "bisa", "wonten": "ada", "kudu": "harus", "mbayar": "bayar",
    # Sundanese
    "teu": "tidak", "abdi": "saya", "butut": "rusak", "pisan": "sangat", "cai": "air",
    "runtah": "sampah", "walungan": "sungai", "sakola": "sekolah", "murangkalih": "anak",
    "kenging": "dapat", "punten": "maaf", "hatur": "terima", "nuhun": "kasih",
    "ngocor": "mengalir", "unggal": "setiap", "peuting": "malam", "budak": "anak",
    "aya": "ada", "kedah": "harus", "tos": "sudah", "acan": "belum", "gancang": "cepat",
}  # fmt: skip


#: Hand-written cue words per category (prefixes of normalized words): domain knowledge the small
#: labelled set cannot teach by itself. They are model features, not rules: the SVM weighs them.
LEXICON: dict[str, tuple[str, ...]] = {
    "infrastruktur": (
        "jalan",
        "aspal",
        "lubang",
        "berlubang",
        "jembatan",
        "lampu",
        "pju",
        "drainase",
        "gorong",
        "talud",
        "trotoar",
        "cor",
        "proyek",
        "bangun",
        "rambu",
        "tiang",
        "dermaga",
        "gapura",
        "culvert",
        "amblas",
        "retak",
        "tambal",
        "atap",
        "roboh",
    ),
    "kesehatan": (
        "puskesmas",
        "rumah sakit",
        "dokter",
        "bidan",
        "perawat",
        "obat",
        "pasien",
        "bpjs",
        "kis",
        "igd",
        "ambulans",
        "posyandu",
        "imunisasi",
        "vaksin",
        "dbd",
        "demam",
        "diare",
        "stunting",
        "gizi",
        "medis",
        "nakes",
        "sakit",
        "persalinan",
        "polindes",
        "pustu",
        "keracunan",
        "berobat",
        "operasi",
        "hamil",
        "fogging",
        "nyamuk",
    ),
    "pendidikan": (
        "sekolah",
        "guru",
        "murid",
        "siswa",
        "kelas",
        "ppdb",
        "dana bos",
        "kip",
        "pip",
        "ijazah",
        "rapor",
        "beasiswa",
        "smp",
        "sd",
        "sma",
        "paud",
        "kuliah",
        "seragam",
        "buku",
        "honorer",
        "belajar",
        "mengajar",
        "ujian",
        "komite",
        "spp",
        "madrasah",
    ),
    "kependudukan": (
        "ktp",
        "kk",
        "kartu keluarga",
        "akta",
        "akte",
        "dukcapil",
        "nik",
        "domisili",
        "pindah",
        "blangko",
        "blanko",
        "rekam",
        "kia",
        "adminduk",
        "siak",
        "identitas",
        "kependudukan",
        "surat keterangan",
        "perkawinan",
        "kelahiran",
        "kematian",
    ),
    "lingkungan": (
        "sampah",
        "limbah",
        "sungai",
        "banjir",
        "asap",
        "polusi",
        "bau",
        "pencemaran",
        "tps",
        "hutan",
        "tambang",
        "pohon",
        "got",
        "mampet",
        "debu",
        "bising",
        "galian",
        "mangrove",
        "kabut",
        "lahan",
        "tercemar",
        "rob",
        "tanggul",
        "selokan",
    ),
    "ketertiban": (
        "balap",
        "mabuk",
        "judi",
        "preman",
        "parkir liar",
        "kaki lima",
        "pkl",
        "begal",
        "curi",
        "pencurian",
        "maling",
        "narkoba",
        "tawuran",
        "geng",
        "knalpot",
        "berisik",
        "hiburan",
        "petasan",
        "mesum",
        "ronda",
        "patroli",
        "liar",
        "meresahkan",
        "ribut",
        "togel",
        "pengamen",
        "pengemis",
        "ternak",
    ),
    "pelayanan_publik": (
        "pelayanan",
        "layanan",
        "kantor",
        "petugas",
        "antre",
        "antri",
        "loket",
        "pdam",
        "listrik",
        "pln",
        "padam",
        "izin",
        "perizinan",
        "samsat",
        "website",
        "aplikasi",
        "sinyal",
        "internet",
        "angkot",
        "bus",
        "pegawai",
        "ditanggapi",
        "air mati",
        "token",
        "sertifikat",
        "jam kerja",
        "elpiji",
    ),
    "sosial": (
        "bantuan",
        "bansos",
        "pkh",
        "bpnt",
        "blt",
        "dtks",
        "miskin",
        "lansia",
        "janda",
        "disabilitas",
        "difabel",
        "terlantar",
        "korban",
        "sembako",
        "layak huni",
        "bedah rumah",
        "pengungsi",
        "kks",
        "tidak mampu",
        "yatim",
        "jalanan",
        "pasung",
        "kdrt",
        "pengangguran",
    ),
    "pungli_korupsi": (
        "pungli",
        "pungut",
        "oknum",
        "korupsi",
        "suap",
        "pelicin",
        "calo",
        "uang",
        "fiktif",
        "mark up",
        "markup",
        "dipotong",
        "disunat",
        "setoran",
        "jatah",
        "kkn",
        "menyeleweng",
        "wewenang",
        "fee",
        "peras",
        "sogok",
        "bayar",
        "minta uang",
        "damai",
        "jual beli",
        "intimidasi",
        "sewenang",
    ),
    "informasi": (
        "info",
        "informasi",
        "tanya",
        "bagaimana",
        "cara",
        "syarat",
        "kapan",
        "jadwal",
        "apakah",
        "terima kasih",
        "apresiasi",
        "saran",
        "usul",
        "aspirasi",
        "prosedur",
        "salut",
        "hebat",
        "berapa",
        "dimana",
        "di mana",
        "apa",
    ),
}

_WORD = re.compile(r"[a-z0-9]+")
_REPEATED = re.compile(r"([a-z])\1{2,}")
# "300rb", "Rp 50.000", "2 juta": an amount of money, whatever its spelling
_MONEY = re.compile(r"\brp\.?\s*\d[\d.,]*|\b\d+(?:[.,]\d+)?\s*(?:rb|ribu|rebu|jt|juta|k)\b")
_DIGIT = re.compile(r"\d")
# For ASCII text, two str.translate tables that stand in for scanning it with a regex (each
# scan costs ~15 µs on a mail; a translation ~2 µs). _WORD_RUNS turns every character that
# _WORD does not match into a space, so ``.split()`` gives exactly ``_WORD.findall``.
_WORD_RUNS = str.maketrans({c: chr(c) if _WORD.fullmatch(chr(c)) else " " for c in range(128)})
# _AMOUNT_MARKS turns every digit into "0" and drops every character ``\s`` matches: what
# _MONEY's second branch matches ends in a digit, maybe spaces, then rb/ribu/rebu/jt/juta/k,
# so it leaves "0r", "0j" or "0k" (its first branch needs "rp" in the text itself). A test
# checks the shortcut never misses an amount _MONEY finds.
_AMOUNT_MARKS = str.maketrans(
    {
        c: "0" if _DIGIT.fullmatch(chr(c)) else None if re.fullmatch(r"\s", chr(c)) else chr(c)
        for c in range(128)
    }
)


def normalize_text(text: str) -> str:
    """Lower-cased, accent-free, slang replaced: what rules and the model look at (cached,
    with its words, by ``_normalized``)."""
    return _normalized(text)[0]


@lru_cache(maxsize=256)
def _normalized(text: str) -> tuple[str, tuple[str, ...]]:
    """``normalize_text`` and its words (its ``.split()``).

    Cached (bounded; a pure function of a string) because the rules, the model and the
    severity each look at the same message's text.
    """
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        if not text.isascii():  # \d also matches other scripts' digits: the plain way
            if _DIGIT.search(text):
                text = _MONEY.sub(" uang ", text)
            return _joined(tuple(map(_normalize_word, _WORD.findall(text))))
    if _maybe_amount(text):  # most complaints have no amount, though nearly all have digits
        text = _MONEY.sub(" uang ", text)
    return _joined(tuple(map(_normalize_word, text.translate(_WORD_RUNS).split())))


def _joined(words: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The normalized text of its normalized words, and its words: these same ones unless a
    slang word became two (all are non-empty, of letters, digits and single spaces)."""
    norm = " ".join(words)
    if norm.count(" ") + 1 != len(words):
        words = tuple(norm.split())
    return norm, words


def _maybe_amount(text: str) -> bool:
    """False only when ``_MONEY`` cannot match in this ASCII text (see ``_AMOUNT_MARKS``)."""
    if "rp" in text:
        return True
    marked = text.translate(_AMOUNT_MARKS)
    return "0r" in marked or "0j" in marked or "0k" in marked


@lru_cache(maxsize=1 << 16)
def _normalize_word(word: str) -> str:
    """One word of ``normalize_text``, cached: the same few thousand words make up most
    complaints. Letters repeated for emphasis ("parahhh", "tolonggg") collapse to one; word
    by word as in the whole text, since a run of one letter never spans two words."""
    if len(word) > 2 and _REPEATED.search(word):  # sub alone costs more for no match
        word = _REPEATED.sub(r"\1", word)
    return SLANG.get(word, word)


# ----------------------------------------------------------------------------- severity


@dataclass(frozen=True)
class _Terms:
    """A ``\\b(?:term|term|...)\\b`` pattern, plus what lets most normalized texts skip it.

    In a normalized text (words of ``[a-z0-9]`` joined by single spaces) a one-word term
    matches exactly when it is one of the words, and a literal phrase exactly when
    ``" phrase "`` is in ``" text "``; only the other terms (``fee \\d+``) need the
    pattern, and only when their first word is there.
    """

    pattern: re.Pattern[str]
    words: frozenset[str]  # one-word terms
    phrases: dict[str, tuple[str, ...]] = field(repr=False)  # first word -> " phrase "s
    others: frozenset[str]  # first words of the terms that are not literal

    @classmethod
    def of(cls, *terms: str) -> _Terms:
        words: set[str] = set()
        phrases: dict[str, list[str]] = {}
        others: set[str] = set()
        for term in terms:
            first, _, rest = term.partition(" ")
            if not _LITERAL_WORD.fullmatch(first):
                raise ValueError(f"a term must start with a plain word: {term!r}")
            if not rest:
                words.add(first)
            elif all(_LITERAL_WORD.fullmatch(part) for part in rest.split(" ")):
                phrases.setdefault(first, []).append(f" {term} ")
            else:
                others.add(first)
        pattern = re.compile(r"\b(?:" + "|".join(terms) + r")\b")
        return cls(
            pattern,
            frozenset(words),
            {first: tuple(found) for first, found in phrases.items()},
            frozenset(others),
        )

    def search(self, norm: str, words: frozenset[str] | set[str]) -> bool:
        """``bool(self.pattern.search(norm))`` for a normalized text and the set of its words."""
        if not self.words.isdisjoint(words):
            return True
        firsts = self.phrases.keys() & words
        if firsts:  # plain loops: a generator per first word costs more than the search
            padded = f" {norm} "
            for first in firsts:
                for phrase in self.phrases[first]:
                    if phrase in padded:
                        return True
        return not self.others.isdisjoint(words) and self.pattern.search(norm) is not None

    def several(self, norm: str, words: frozenset[str] | set[str], least: int) -> bool:
        """``len(set(self.pattern.findall(norm))) >= least``: every distinct literal match
        is a distinct term whose first word is in the text, so fewer such terms than
        ``least`` settle it without the pattern."""
        if not self.others:
            possible = len(self.words & words)
            for first in self.phrases.keys() & words:
                possible += len(self.phrases[first])
            if possible < least:
                return False
        return len(set(self.pattern.findall(norm))) >= least


_LITERAL_WORD = re.compile(r"[a-z0-9]+")

_BERAT = _Terms.of(
    "pungli", "pungutan liar", "suap", "disuap", "menyuap", "sogok", "gratifikasi", "korupsi",
    "dikorupsi", "pemerasan", "memeras", "diperas", "peras", "pelicin", "uang damai",
    "uang rokok", "calo", "kkn", "nepotisme", "mark up", "markup", "dimark", "fiktif",
    "disunat", "dipotong oknum", "menyelewengkan", "penyelewengan", "sewenang",
    "penyalahgunaan wewenang", "penyalahgunaan jabatan", "intimidasi", "mengintimidasi",
    "diancam", "mengancam", "kekerasan", "memukul", "dipukul", "penganiayaan",
    "jual beli jabatan", "setoran", "minta jatah", r"fee \d+", "oknum",
)  # fmt: skip
_RINGAN = _Terms.of(
    "terima kasih", "apresiasi", "salut", "hebat", "mantap", "bangga", "saran", "usul",
    "usulan", "aspirasi", "mohon info", "minta info", "info dong", "informasi", "bertanya",
    "tanya", "pertanyaan", "bagaimana cara", "cara", "syarat", "prosedur", "kapan", "jadwal",
    "apakah", "dimana", "di mana", "berapa",
)  # fmt: skip
_COMPLAINT = _Terms.of(
    "rusak", "tidak", "belum", "lambat", "mati", "kotor", "bau", "ditolak", "macet", "bocor",
    "hilang", "kosong", "mahal", "sulit", "susah", "telat", "error", "eror", "dipersulit",
    "jorok", "banjir", "salah",
)  # fmt: skip
_AGENCIES = _Terms.of(
    "dinas", "dukcapil", "puskesmas", "rumah sakit", "sekolah", "pdam", "pln", "samsat",
    "polisi", "polsek", "polres", "satpol", "camat", "kecamatan", "kelurahan", "lurah",
    "kades", "kepala desa", "kantor desa", "bpn", "bpjs", "dinsos", "damkar", "bupati",
    "walikota", "dprd", "kua", "disdik", "dishub", "pu", "dlh",
)  # fmt: skip


def severity_of(text: str, category: str | None = None) -> str:
    """``ringan`` / ``sedang`` / ``berat`` by the SP4N-LAPOR! definitions (see module doc)."""
    norm, words = _normalized(text)
    return _severity(norm, set(words), category)


def _severity(norm: str, words: set[str] | frozenset[str], category: str | None) -> str:
    """``severity_of`` for a normalized text and the set of its words."""
    if category == "pungli_korupsi" or _BERAT.search(norm, words):
        return "berat"
    if _AGENCIES.several(norm, words, 3):
        return "berat"  # the matter spans several agencies
    if category == "informasi" or (
        _RINGAN.search(norm, words) and not _COMPLAINT.search(norm, words)
    ):
        return "ringan"
    return "sedang"


# ----------------------------------------------------------------------------- office rules


@dataclass(frozen=True)
class RuleSet:
    """The office's categories compiled once (keyword phrases and regular expressions)."""

    rules: tuple[tuple[str, tuple[str, ...], tuple[re.Pattern[str], ...], str | None], ...]

    @classmethod
    def of(cls, categories: Sequence[Category]) -> RuleSet:
        key = tuple((c.name, tuple(c.keywords), tuple(c.patterns), c.severity) for c in categories)
        return _compile_rules(key)

    def match(self, text: str) -> tuple[str, str | None] | None:
        """(category, its fixed severity or None) of the best-matching rule, else None."""
        norm = f" {normalize_text(text)} "
        best: tuple[int, int, str, str | None] | None = None
        for order, (name, keywords, patterns, severity) in enumerate(self.rules):
            hits = sum(1 for k in keywords if k in norm)
            hits += sum(1 for p in patterns if p.search(text))
            if hits and (best is None or hits > best[0]):
                best = (hits, -order, name, severity)
        return (best[2], best[3]) if best else None


_RuleKey = tuple[tuple[str, tuple[str, ...], tuple[str, ...], str | None], ...]


@cache
def _compile_rules(categories: _RuleKey) -> RuleSet:
    """Compiled once per distinct category list (a tuple of tuples: hashable, immutable)."""
    rules = []
    for name, keywords, patterns, severity in categories:
        words = tuple(f" {normalize_text(k)} " for k in keywords if normalize_text(k))
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error:
                continue  # the config loader reports bad patterns; here we just skip them
        rules.append((name, words, tuple(compiled), severity))
    return RuleSet(tuple(rules))


def rule_category(text: str, categories: Sequence[Category]) -> tuple[str, str | None] | None:
    if not categories:
        return None
    return RuleSet.of(categories).match(text)


# ----------------------------------------------------------------------------- the model


class LexiconFeatures:
    """Counts of each category's cue words (``LEXICON``) in a text, as a scikit-learn transformer.

    A plain class at module level so a fitted pipeline pickles with joblib.
    """

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, texts: Sequence[str], labels: Any = None) -> LexiconFeatures:
        del texts, labels
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        import numpy as np

        names = sorted(LEXICON)
        out = np.zeros((len(texts), len(names)))
        for row, text in enumerate(texts):
            norm = f" {normalize_text(text)}"
            for col, name in enumerate(names):
                hits = sum(1 for cue in LEXICON[name] if f" {cue}" in norm)
                out[row, col] = self.weight * np.log1p(hits)
        return out

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        del deep
        return {"weight": self.weight}

    def set_params(self, **params: Any) -> LexiconFeatures:
        self.weight = float(params.get("weight", self.weight))
        return self


def build_model(seed: int = 0, lexicon_weight: float = 1.0) -> Any:
    """An unfitted pipeline: cue-word counts, slang-normalized word 1-2-grams and char 2-5-grams
    (misspellings share most of their character n-grams), linear SVM."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    features = make_union(
        LexiconFeatures(weight=lexicon_weight),
        TfidfVectorizer(preprocessor=normalize_text, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(
            preprocessor=normalize_text, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        ),
    )
    return make_pipeline(features, LinearSVC(C=0.5, random_state=seed))


def baseline_model(seed: int = 0) -> Any:
    """The plain reference the model must beat: word TF-IDF + linear SVM, no normalization."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(TfidfVectorizer(), LinearSVC(random_state=seed))


_WORD_TOKEN = r"(?u)\b\w\w+\b"  # noqa: S105 - scikit-learn's default token_pattern
_SPACES = re.compile(r"\s\s+")
MODEL_FORMAT = "aduan-classifier/2"  # the .npz layout of LinearTextClassifier.to_arrays
_WORD_CACHE = 50_000  # words whose char n-gram rows a model keeps (~5 MB at most)
_CUE_CACHE = 4096  # sets of cue words, of cues, whose share a model keeps (~2 MB at most)
_LOG_TF = 4096  # term frequencies whose 1 + log(tf) a model keeps in a table
_ROW = "intc"  # a row of the stacked weights, as array("i") keeps it (smaller, faster to sort)
_ROW_BYTES = struct.Struct("i").pack  # one row as array("i") keeps it (a C int), made faster


def _word_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``analyzer="word"`` with the default token pattern, re-done here so the
    runtime needs no scikit-learn (a test checks both give the same n-grams)."""
    tokens: list[str] = _WORD_PATTERN.findall(text)
    grams = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        if n == 2:  # the common case, without a join per pair
            grams.extend(map(_PAIR.format, tokens, tokens[1:]))
        else:
            grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


_PAIR = "{} {}"


_WORD_PATTERN = re.compile(_WORD_TOKEN)


def _char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's ``analyzer="char_wb"``: character n-grams inside space-padded words."""
    grams: list[str] = []
    for word in _SPACES.sub(" ", text).split():
        grams.extend(_word_grams(word, low, high))
    return grams


def _word_grams(word: str, low: int, high: int) -> tuple[str, ...]:
    """The char_wb n-grams of one word."""
    padded = f" {word} "
    size = len(padded)
    if size <= _SLICED:
        return _gram_slicer(size, low, high)(padded)
    return tuple(padded[span] for span in _gram_spans(size, low, high))


def _gram_spans(size: int, low: int, high: int) -> list[slice]:
    """Where the char_wb n-grams of a padded word of this size are: every n-gram for n from
    low to high, except that a word no longer than n is one n-gram, counted once."""
    spans = [
        slice(i, i + n) for n in range(low, min(high, size - 1) + 1) for i in range(size - n + 1)
    ]
    if max(low, size) <= high:
        spans.append(slice(0, size))
    return spans


_SLICED = 64  # padded words up to this size are cut by a cached _gram_slicer


@lru_cache(maxsize=256)
def _gram_slicer(size: int, low: int, high: int) -> Callable[[str], tuple[str, ...]]:
    """``_gram_spans`` as one C call (an itemgetter of slices): a new word's n-grams cost
    ~3 µs instead of ~10 µs with a Python loop, and each mail brings new words."""
    spans = _gram_spans(size, low, high)
    if len(spans) == 1:  # itemgetter of one item gives the item, not a 1-tuple
        span = spans[0]
        return lambda padded: (padded[span],)
    if not spans:
        return lambda padded: ()
    return itemgetter(*spans)


@dataclass(frozen=True)
class _Block:
    """One fitted TF-IDF block (sublinear tf, idf, l2 norm) and its slice of the SVM weights."""

    analyzer: str  # "word" or "char_wb"
    low: int
    high: int
    #: term -> row; a missing term maps to the last (zero) row
    vocabulary: dict[str, int] = field(repr=False)
    idf: Any = field(repr=False)  # (terms + 1,) float64, last entry 0
    weights: Any = field(repr=False)  # (terms + 1, classes) float64, last row 0

    def score(self, norm: str) -> Any:
        """This block's contribution to the decision function, or None when no term is known.

        The plain computation, n-gram strings counted one text at a time: what ``_Scorer``
        must equal, and what runs a model whose layout ``_Scorer`` does not cover.
        """
        import numpy as np

        if self.analyzer == "word":
            counts = Counter(_word_ngrams(norm, self.low, self.high))
        else:
            counts = Counter(_char_wb_ngrams(norm, self.low, self.high))
        missing = len(self.idf) - 1
        rows = np.fromiter(
            map(self.vocabulary.get, counts.keys(), repeat(missing)), np.intp, len(counts)
        )
        tf = np.fromiter(counts.values(), np.intp, len(counts))
        if not len(rows):
            return None
        values = (1.0 + np.log(tf)) * self.idf[rows]  # the unknown row has idf 0
        norm_sq = float(values @ values)
        if norm_sq == 0.0:
            return None
        return (values @ self.weights[rows]) / math.sqrt(norm_sq)


@dataclass(frozen=True)
class _Lexicon:
    """Counts of each category's cue words found in a text (``LexiconFeatures`` without
    scikit-learn): one regular-expression scan instead of a substring search per cue.

    At each word start the longest cue that begins there is found; every cue that is a prefix
    of it begins there too, which gives exactly the cues ``f" {cue}" in f" {text}"`` finds.
    """

    weight: float
    columns: int
    pattern: re.Pattern[str] = field(repr=False)
    #: longest cue found -> every cue that is a prefix of it
    closure: dict[str, tuple[str, ...]] = field(repr=False)
    cue_columns: dict[str, tuple[int, ...]] = field(repr=False)  # cue -> its column per listing
    coef: Any = field(repr=False)  # (columns, classes)

    @classmethod
    def build(
        cls, cues: Sequence[tuple[str, int]], columns: int, weight: float, coef: Any
    ) -> _Lexicon:
        by_cue: dict[str, list[int]] = {}
        for cue, column in cues:
            by_cue.setdefault(cue, []).append(column)
        ordered = sorted(by_cue, key=lambda c: (-len(c), c))
        pattern = re.compile(r"(?:^|(?<= ))(?=(" + "|".join(re.escape(c) for c in ordered) + "))")
        closure = {cue: tuple(other for other in by_cue if cue.startswith(other)) for cue in by_cue}
        return cls(
            weight, columns, pattern, closure, {c: tuple(v) for c, v in by_cue.items()}, coef
        )

    def present(self, norm: str) -> set[str]:
        """The cues found in a normalized text."""
        found: set[str] = set()
        for longest in self.pattern.findall(norm):
            found.update(self.closure[longest])
        return found

    def features(self, norm: str) -> Any:
        return self.counted(self.present(norm))

    def counted(self, cues: Iterable[str]) -> Any:
        """The feature row of the cues found in a text."""
        import numpy as np

        hits = np.zeros(self.columns)
        for cue in cues:
            for column in self.cue_columns[cue]:
                hits[column] += 1
        return self.weight * np.log1p(hits)

    def score(self, norm: str) -> Any:
        return self.features(norm) @ self.coef


#: Two rows added to every text's rows: one sorts before every row and one after, so that
#: comparing each sorted row with the next finds where every run of one row begins and
#: where the last one ends, without an array of its own for the ends.
_BOUNDS = array("i", [-1, (1 << 31) - 1]).tobytes()

#: What ``_Scorer`` notes of a word that needs more than its rows: the one-word cues it
#: starts with, the phrase cues it may start (f" {cue}", cue), whether it is too short to be
#: a token of the word analyzer.
_Marks = tuple[tuple[str, ...], tuple[tuple[str, str], ...], bool]
#: The same for the marked words of a text together, the cues as a set.
_Group = tuple[frozenset[str], tuple[tuple[str, str], ...], bool]


class _WordRows(dict[str, bytes]):
    """word -> the rows of its n-grams in every block (repeats included, unknown n-grams left
    out; the bytes of an ``array("i")``), made by ``make`` the first time a word is looked up,
    so that ``map(rows.__getitem__, words)`` gathers a text's rows without leaving C for the
    words seen before. ``marked`` holds the marks of those of its words that have some.

    Never emptied: a full one is replaced by a new one, so a text scored in another thread
    meanwhile still finds the marks of every word it gathered in the one it started with.
    """

    __slots__ = ("make", "marked")

    def __init__(self, make: Callable[[str], tuple[bytes, _Marks | None]]) -> None:
        super().__init__()
        self.make = make
        self.marked: dict[str, _Marks] = {}

    def __missing__(self, word: str) -> bytes:
        rows, marks = self.make(word)
        if marks is not None:
            self.marked[word] = marks  # before the rows: whoever sees the rows sees the marks
        self[word] = rows
        return rows


@dataclass(frozen=True)
class _Scorer:
    """The decision function computed word by word: same values as the blocks' and the
    lexicon's plain ``score`` (a test checks it), at a fraction of the cost per text.

    Complaints are made of a few thousand recurring words, so what depends on one word only
    (its char n-gram rows, its word-unigram row, the cues it starts with) is looked up once
    per model and kept. Per text, the rows of all blocks (numbered one block after the other
    in one table) are counted together with one sort, and one gather and one product with
    the stacked SVM weights give the blocks' sum; the l2 norm of each block is taken on its
    slice of the sorted rows. Each call into NumPy costs a microsecond or more, and so does
    a Python loop over a text's words, so the per-text work keeps the NumPy calls few and
    gathers the rows with C loops (``map``, ``bytearray.join``); only the few words with
    cues or of one letter are looked at one by one.

    The floating-point work is the same NumPy operations, in the same order, on the same
    arrays as the first version of this class, kept in the tests, which compare the two bit
    for bit: later changes only find the same integer rows and counts at a lower cost.
    """

    table: Any = field(repr=False)  # (rows, classes): each block's weights, unknown row dropped
    idf: Any = field(repr=False)  # (rows,)
    starts: Any = field(repr=False)  # first row of every block after the first
    log_tf: Any = field(repr=False)  # 1 + log(tf) for tf below its length (sublinear tf)
    #: per char_wb block: term -> row in the table, n-gram range
    char_blocks: tuple[tuple[dict[str, int], int, int], ...] = field(repr=False)
    #: per word block with unigrams: term -> row in the table
    unigrams: tuple[dict[str, int], ...] = field(repr=False)
    #: per word block and n >= 2 it counts: n, n tokens -> the row in the table (as bytes)
    ngrams: tuple[tuple[int, dict[tuple[str, ...], bytes]], ...] = field(repr=False)
    lexicon: _Lexicon | None = field(repr=False)
    #: whether every cue is words joined by single spaces (else the lexicon's own scan)
    plain_cues: bool
    cues: frozenset[str] = field(repr=False)  # one-word cues
    cue_heads: frozenset[str] = field(repr=False)  # every prefix of a one-word cue
    #: cues of several words, by their first word (f" {cue}" to look for in f" {text}")
    phrases: dict[str, tuple[tuple[str, str], ...]] = field(repr=False)

    #: per model, bounded: word -> the rows of its n-grams (and the marks of some); replaced
    #: by an empty one before a text that could take it past _WORD_CACHE words (so it holds at
    #: most that many, or the words of one longer text)
    _words: _WordRows = field(init=False, repr=False, compare=False)
    #: per model, bounded: the marked words of a text -> their one-word cues, the phrase cues
    #: they may start, whether one is short (texts have few, and the same few again and again)
    _groups: dict[frozenset[str], _Group] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: per model, bounded: cues found in a text -> the lexicon's share of the decision values
    _cue_shares: dict[frozenset[str], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_words", _WordRows(self._entry))

    @classmethod
    def build(cls, blocks: Sequence[_Block], lexicon: _Lexicon | None) -> _Scorer | None:
        """The scorer of these blocks, or None when it would not give the plain values."""
        import numpy as np

        if any(b.idf[-1] != 0 or np.any(b.weights[-1] != 0) for b in blocks):
            return None  # the plain path counts unknown terms with the last row's values
        cues: set[str] = set()
        phrases: dict[str, list[tuple[str, str]]] = {}
        plain_cues = True
        for cue in lexicon.cue_columns if lexicon is not None else ():
            first, *rest = cue.split(" ")
            if not first or not all(rest):
                plain_cues = False  # spaces at the ends or doubled: not a sequence of words
            elif rest:
                phrases.setdefault(first, []).append((f" {cue}", cue))
            else:
                cues.add(cue)
        if not plain_cues:
            cues, phrases = set(), {}
        tables, idfs, starts = [], [], []
        char_blocks: list[tuple[dict[str, int], int, int]] = []
        unigrams: list[dict[str, int]] = []
        ngrams: list[tuple[int, dict[tuple[str, ...], bytes]]] = []
        offset = 0
        for block in blocks:
            if offset:
                starts.append(offset)
            size = len(block.idf) - 1
            tables.append(block.weights[:size])
            idfs.append(block.idf[:size])
            rows = {term: row + offset for term, row in block.vocabulary.items()}
            if block.analyzer == "char_wb":
                char_blocks.append((rows, block.low, block.high))
            else:  # as _word_ngrams: unigrams when low is 1, then max(low, 2) to high tokens
                if block.low == 1:
                    unigrams.append(rows)
                by_size: dict[int, dict[tuple[str, ...], bytes]] = {
                    n: {} for n in range(max(block.low, 2), block.high + 1)
                }
                for term, row in rows.items():
                    parts = tuple(term.split(" "))
                    if len(parts) in by_size and all(parts):
                        by_size[len(parts)][parts] = _ROW_BYTES(row)
                ngrams.extend(by_size.items())
            offset += size
        if offset >= 1 << 31:
            return None  # more rows than array("i") holds (never so: 2**31 terms)
        return cls(
            np.ascontiguousarray(np.concatenate(tables), dtype=np.float64),
            np.ascontiguousarray(np.concatenate(idfs), dtype=np.float64),
            np.array(starts, dtype=np.intp),
            np.concatenate(([np.nan], 1.0 + np.log(np.arange(1, _LOG_TF, dtype=np.float64)))),
            tuple(char_blocks),
            tuple(unigrams),
            tuple(ngrams),
            lexicon,
            plain_cues,
            frozenset(cues),
            frozenset(cue[:size] for cue in cues for size in range(1, len(cue) + 1)),
            {first: tuple(found) for first, found in phrases.items()},
        )

    def _entry(self, word: str) -> tuple[bytes, _Marks | None]:
        """The rows of a word not seen yet, and its marks if it needs more than its rows."""
        rows: list[int] = []
        for vocabulary, low, high in self.char_blocks:
            found = map(vocabulary.get, _word_grams(word, low, high))
            rows += [row for row in found if row is not None]
        short = len(word) < 2  # not a token of the word analyzer (\b\w\w+\b)
        if not short:
            found = map(dict.get, self.unigrams, repeat(word))
            rows += [row for row in found if row is not None]
        cues: list[str] = []
        heads, one_word = self.cue_heads, self.cues
        for size in range(1, len(word) + 1):
            head = word[:size]
            if head not in heads:
                break  # no longer head is a cue either
            if head in one_word:
                cues.append(head)
        phrases = self.phrases.get(word, ())
        marks = (tuple(cues), phrases, short) if cues or phrases or short else None
        return array("i", rows).tobytes(), marks

    def scores(self, norm: str, words: Sequence[str], intercept: Any) -> Any:
        """The decision values of a normalized text (and the list of its words)."""
        import numpy as np

        known = self._words
        if len(known) + len(words) > _WORD_CACHE:
            known = _WordRows(self._entry)  # (see _WordRows: replaced, not emptied)
            object.__setattr__(self, "_words", known)
        parts = list(map(known.__getitem__, words))
        cues: frozenset[str] = frozenset()
        tokens = words
        present = known.marked.keys() & words
        if present:
            key = frozenset(present)
            cues, phrases, shorts = self._groups.get(key) or self._group(key, known.marked)
            if phrases:
                padded = f" {norm}"
                found = [cue for spaced, cue in phrases if spaced in padded]
                if found:
                    cues = cues.union(found)
            if shorts:
                tokens = [word for word in words if len(word) > 1]
        for n, terms in self.ngrams:
            # zip, not pairwise: zip reuses its tuple once the lookup lets go of it
            if n == 2:
                grams = zip(tokens, tokens[1:], strict=False)  # noqa: RUF007
            else:
                grams = zip(*(tokens[i:] for i in range(n)), strict=False)
            parts += map(terms.get, grams, repeat(b""))
        parts.append(_BOUNDS)
        shares = self._blocks(np.frombuffer(bytearray().join(parts), _ROW))
        total = intercept.copy() if shares is None else shares + intercept
        lexicon = self.lexicon
        if lexicon is not None:
            if not self.plain_cues:
                cues = frozenset(lexicon.present(norm))
            if cues:
                total += self._cues(lexicon, cues)
        return total

    def _group(self, words: frozenset[str], marked: Mapping[str, _Marks]) -> _Group:
        """What these marked words need together (kept: the same few sets recur)."""
        marks = [marked[word] for word in words]
        group = (
            frozenset(chain.from_iterable(cues for cues, _, _ in marks)),
            tuple(chain.from_iterable(phrases for _, phrases, _ in marks)),
            any(short for _, _, short in marks),
        )
        if len(self._groups) >= _CUE_CACHE:
            self._groups.clear()
        self._groups[words] = group
        return group

    def _blocks(self, occurrences: Any) -> Any:
        """Every block's share of the decision values, from the rows of the text's n-grams
        and the two of ``_BOUNDS``; None when no n-gram of the text is in a vocabulary."""
        import numpy as np

        occurrences.sort()  # the bound -1, runs of one row each, the end bound
        after = occurrences[1:]
        # where each run begins in ``after`` (one before where it does in ``occurrences``),
        # and last where the end bound does: the runs' rows and lengths, with no edge array
        at = (after != occurrences[:-1]).nonzero()[0]
        first = at[:-1]
        if not first.size:
            return None
        rows = after.take(first)
        tf = at[1:] - first
        size = occurrences.size - 2
        values = self.log_tf.take(tf) if size < len(self.log_tf) else 1.0 + np.log(tf)
        values *= self.idf.take(rows)
        low = 0
        for high in (*rows.searchsorted(self.starts).tolist(), rows.size):
            if high > low:
                block = values[low:high]
                norm_sq = float(block.dot(block))
                if norm_sq == 0.0:
                    block[:] = 0.0  # the plain path leaves such a block out
                else:
                    block /= math.sqrt(norm_sq)
            low = high
        return values.dot(self.table.take(rows, axis=0))

    def _cues(self, lexicon: _Lexicon, found: frozenset[str]) -> Any:
        """The lexicon's share of the decision values, from the cues found in the text."""
        share = self._cue_shares.get(found)
        if share is None:
            # the counts per column do not depend on the order the set gives the cues in
            share = lexicon.counted(found) @ lexicon.coef
            if len(self._cue_shares) >= _CUE_CACHE:
                self._cue_shares.clear()
            self._cue_shares[found] = share
        return share


@dataclass(frozen=True)
class LinearTextClassifier:
    """The fitted model as plain arrays: what the pipeline runs on every message.

    Same decision function as the scikit-learn pipeline (a test checks it), without importing
    scikit-learn (~1 s at start, in every worker process) or paying its per-call overhead
    (~3 ms for one text through a FeatureUnion). The text is normalized once; each TF-IDF block
    is recomputed from the fitted vocabulary and idf, with the idf and SVM weights laid out per
    term. Saved and loaded as a NumPy ``.npz`` of arrays (no pickle); what makes it fast per
    message (``_Scorer``: stacked weights, per-word caches) is derived on loading, not saved.
    """

    categories: tuple[str, ...]
    classes: tuple[str, ...]
    intercept: Any = field(repr=False)
    lexicon: _Lexicon | None
    blocks: tuple[_Block, ...]
    #: derived from the blocks and lexicon when the model is made or loaded (not saved)
    _scorer: _Scorer | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_scorer", _Scorer.build(self.blocks, self.lexicon))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_scorer"]  # rebuilt on arrival: smaller to ship to a worker process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @classmethod
    def of(cls, model: Any, categories: Sequence[str]) -> LinearTextClassifier:
        """Compile a pipeline made by ``build_model`` (or ``baseline_model``) and fitted."""
        import numpy as np

        union, svm = model.steps[0][1], model.steps[-1][1]
        parts = union.transformer_list if hasattr(union, "transformer_list") else [("", union)]
        coef = np.asarray(svm.coef_, dtype=np.float64)
        lexicon: _Lexicon | None = None
        blocks: list[_Block] = []
        offset = 0
        for _, part in parts:
            if isinstance(part, LexiconFeatures):
                names = sorted(LEXICON)
                cues = [(cue, col) for col, name in enumerate(names) for cue in LEXICON[name]]
                block_coef = coef[:, offset : offset + len(names)].T.copy()
                lexicon = _Lexicon.build(cues, len(names), part.weight, block_coef)
                offset += len(names)
                continue
            analyzer = part.analyzer
            if (
                analyzer not in ("word", "char_wb")
                or not (part.sublinear_tf and part.norm == "l2" and part.use_idf)
                or part.preprocessor is not normalize_text
                or (analyzer == "word" and part.token_pattern != _WORD_TOKEN)
                or part.stop_words is not None
                or part.strip_accents is not None
                or part.binary
            ):
                raise ValueError(f"cannot compile this TF-IDF block ({part!r}); retrain")
            vocabulary = {str(term): int(col) for term, col in part.vocabulary_.items()}
            size = len(vocabulary)
            idf = np.zeros(size + 1)
            idf[:size] = part.idf_
            weights = np.zeros((size + 1, coef.shape[0]))
            weights[:size] = coef[:, offset : offset + size].T
            low, high = part.ngram_range
            blocks.append(_Block(analyzer, int(low), int(high), vocabulary, idf, weights))
            offset += size
        if offset != coef.shape[1]:
            raise ValueError("the model's features do not add up; retrain")
        classes = tuple(str(c) for c in svm.classes_)
        intercept = np.asarray(svm.intercept_, dtype=np.float64)
        return cls(tuple(categories), classes, intercept, lexicon, tuple(blocks))

    def scores(self, text: str) -> Any:
        """The SVM's decision values (one per class; a single one for two classes)."""
        norm, words = _normalized(text)
        if self._scorer is None:
            return self.plain_scores(text)
        return self._scorer.scores(norm, words, self.intercept)

    def plain_scores(self, text: str) -> Any:
        """``scores`` computed block by block from n-gram strings: the reference the fast
        path is tested against, and the path of a model layout it does not cover."""
        norm = normalize_text(text)
        total = self.intercept.copy()
        if self.lexicon is not None:
            total += self.lexicon.score(norm)
        for block in self.blocks:
            part = block.score(norm)
            if part is not None:
                total += part
        return total

    def classify(self, text: str) -> tuple[str | None, str | None]:
        if not text or text.isspace():  # (as ``not text.strip()``, without the copy)
            return None, None
        norm, words = _normalized(text)
        if self._scorer is None:
            scores = self.plain_scores(text)
        else:
            scores = self._scorer.scores(norm, words, self.intercept)
        if len(scores) == 1:  # two classes: one decision value, positive means classes[1]
            category = self.classes[int(scores[0] > 0)]
        else:
            category = self.classes[int(scores.argmax())]
        return category, _severity(norm, set(words), category)

    # --- as arrays (the .npz file format) ---

    def to_arrays(self) -> dict[str, Any]:
        import numpy as np

        out: dict[str, Any] = {
            "format": np.array(MODEL_FORMAT),
            "categories": np.array(self.categories, dtype=str),
            "classes": np.array(self.classes, dtype=str),
            "intercept": self.intercept,
            "blocks": np.array(len(self.blocks)),
        }
        if self.lexicon is not None:
            lex = self.lexicon
            pairs = [(cue, col) for cue, cols in lex.cue_columns.items() for col in cols]
            out["lexicon_cues"] = np.array([c for c, _ in pairs], dtype=str)
            out["lexicon_columns"] = np.array([c for _, c in pairs], dtype=np.int64)
            out["lexicon_weight"] = np.array(lex.weight)
            out["lexicon_coef"] = lex.coef
        for i, block in enumerate(self.blocks):
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            out[f"block{i}_analyzer"] = np.array(f"{block.analyzer}:{block.low}:{block.high}")
            out[f"block{i}_terms"] = np.array(terms, dtype=str)
            out[f"block{i}_idf"] = block.idf
            out[f"block{i}_weights"] = block.weights
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> LinearTextClassifier:
        """Inverse of ``to_arrays``; raises KeyError/ValueError for anything else."""
        if str(arrays["format"]) != MODEL_FORMAT:
            raise ValueError(f"not an {MODEL_FORMAT} model")
        lexicon = None
        if "lexicon_cues" in arrays:
            names, columns = arrays["lexicon_cues"].tolist(), arrays["lexicon_columns"].tolist()
            cues = list(zip(names, columns, strict=True))
            coef = arrays["lexicon_coef"]
            lexicon = _Lexicon.build(cues, coef.shape[0], float(arrays["lexicon_weight"]), coef)
        blocks = []
        for i in range(int(arrays["blocks"])):
            analyzer, low, high = str(arrays[f"block{i}_analyzer"]).split(":")
            terms = arrays[f"block{i}_terms"].tolist()
            idf, weights = arrays[f"block{i}_idf"], arrays[f"block{i}_weights"]
            if analyzer not in ("word", "char_wb") or not len(terms) + 1 == len(idf) == len(
                weights
            ):
                raise ValueError(f"block {i} is malformed")
            vocabulary = dict(zip(terms, range(len(terms)), strict=True))
            blocks.append(_Block(analyzer, int(low), int(high), vocabulary, idf, weights))
        return cls(
            tuple(arrays["categories"].tolist()),
            tuple(arrays["classes"].tolist()),
            arrays["intercept"],
            lexicon,
            tuple(blocks),
        )


@dataclass(frozen=True)
class ModelClassifier:
    """A freshly fitted scikit-learn model (training, evaluation, ``.compiled()`` for use)."""

    model: Any
    categories: tuple[str, ...]

    @cached_property
    def compiled(self) -> LinearTextClassifier:
        return LinearTextClassifier.of(self.model, self.categories)

    def classify(self, text: str) -> tuple[str | None, str | None]:
        return self.compiled.classify(text)


@dataclass(frozen=True)
class Evaluation:
    """Held-out accuracy of the model and of the plain baseline on the same split."""

    model: float
    baseline: float
    test_size: int


def evaluate(
    rows: Sequence[tuple[str, str]], test_size: float = 0.25, seed: int = 42
) -> Evaluation:
    """Accuracy of ``build_model`` and ``baseline_model`` on a fixed stratified split."""
    from sklearn.model_selection import train_test_split

    texts = [t for t, _ in rows]
    labels = [c for _, c in rows]
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=test_size, random_state=seed, stratify=labels
    )

    def accuracy(model: Any) -> float:
        predicted = model.fit(x_train, y_train).predict(x_test)
        return sum(1 for p, y in zip(predicted, y_test, strict=True) if p == y) / len(y_test)

    return Evaluation(accuracy(build_model()), accuracy(baseline_model()), len(y_test))


def train(rows: Iterable[tuple[str, str]], seed: int = 0) -> ModelClassifier:
    """Fit the model on (text, category) rows."""
    texts: list[str] = []
    labels: list[str] = []
    for text, label in rows:
        if text.strip() and label.strip():
            texts.append(text)
            labels.append(label.strip())
    if len(set(labels)) < 2:
        raise ValueError("training needs at least two categories (columns text,category)")
    model = build_model(seed).fit(texts, labels)
    return ModelClassifier(model, tuple(sorted(set(labels))))
