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
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from itertools import repeat
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


@lru_cache(maxsize=256)
def normalize_text(text: str) -> str:
    """Lower-cased, accent-free, slang replaced: what rules and the model look at.

    Cached (bounded; a pure function of a string) because the rules, the model and the
    severity each look at the same message's text.
    """
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _MONEY.sub(" uang ", text)
    # letters repeated for emphasis ("parahhh", "tolonggg") collapse to one
    text = _REPEATED.sub(r"\1", text)
    return " ".join(SLANG.get(w, w) for w in _WORD.findall(text))


# ----------------------------------------------------------------------------- severity

_BERAT = re.compile(
    r"\b(?:pungli|pungutan liar|suap|disuap|menyuap|sogok|gratifikasi|korupsi|dikorupsi|"
    r"pemerasan|memeras|diperas|peras|pelicin|uang damai|uang rokok|calo|kkn|nepotisme|"
    r"mark up|markup|dimark|fiktif|disunat|dipotong oknum|menyelewengkan|penyelewengan|"
    r"sewenang|penyalahgunaan wewenang|penyalahgunaan jabatan|intimidasi|mengintimidasi|"
    r"diancam|mengancam|kekerasan|memukul|dipukul|penganiayaan|jual beli jabatan|"
    r"setoran|minta jatah|fee \d+|oknum)\b"
)
_RINGAN = re.compile(
    r"\b(?:terima kasih|apresiasi|salut|hebat|mantap|bangga|saran|usul|usulan|aspirasi|"
    r"mohon info|minta info|info dong|informasi|bertanya|tanya|pertanyaan|bagaimana cara|"
    r"cara|syarat|prosedur|kapan|jadwal|apakah|dimana|di mana|berapa)\b"
)
_COMPLAINT = re.compile(
    r"\b(?:rusak|tidak|belum|lambat|mati|kotor|bau|ditolak|macet|bocor|hilang|kosong|"
    r"mahal|sulit|susah|telat|error|eror|dipersulit|jorok|banjir|salah)\b"
)
_AGENCIES = re.compile(
    r"\b(?:dinas|dukcapil|puskesmas|rumah sakit|sekolah|pdam|pln|samsat|polisi|polsek|"
    r"polres|satpol|camat|kecamatan|kelurahan|lurah|kades|kepala desa|kantor desa|bpn|"
    r"bpjs|dinsos|damkar|bupati|walikota|dprd|kua|disdik|dishub|pu|dlh)\b"
)


def severity_of(text: str, category: str | None = None) -> str:
    """``ringan`` / ``sedang`` / ``berat`` by the SP4N-LAPOR! definitions (see module doc)."""
    norm = normalize_text(text)
    if _BERAT.search(norm) or category == "pungli_korupsi":
        return "berat"
    if len(set(_AGENCIES.findall(norm))) >= 3:
        return "berat"  # the matter spans several agencies
    if category == "informasi" or (_RINGAN.search(norm) and not _COMPLAINT.search(norm)):
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
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:  # a word no longer than n is one n-gram, counted once
            grams.append(padded)
            break
        grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(grams)


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

    #: char_wb rows of each word seen (words recur across complaints); bounded, per model
    _word_rows: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_word_rows"] = {}  # a cache: not worth shipping to a worker process
        return state

    def _char_rows(self, norm: str) -> Any:
        """The vocabulary row of every char_wb n-gram of the text, repeats included (an unknown
        n-gram gets the last row), from the per-word cache."""
        import numpy as np

        missing = len(self.idf) - 1
        cache = self._word_rows
        parts = []
        for word in _SPACES.sub(" ", norm).split():
            found = cache.get(word)
            if found is None:
                pieces = _word_grams(word, self.low, self.high)
                found = np.fromiter(
                    map(self.vocabulary.get, pieces, repeat(missing)), np.intp, len(pieces)
                )
                if len(cache) >= _WORD_CACHE:
                    cache.clear()
                cache[word] = found
            parts.append(found)
        return np.concatenate(parts) if parts else np.zeros(0, np.intp)

    def score(self, norm: str) -> Any:
        """This block's contribution to the decision function, or None when no term is known."""
        import numpy as np

        if self.analyzer == "word":  # few n-grams, rarely repeated: count the strings
            counts = Counter(_word_ngrams(norm, self.low, self.high))
            missing = len(self.idf) - 1
            rows = np.fromiter(
                map(self.vocabulary.get, counts.keys(), repeat(missing)), np.intp, len(counts)
            )
            tf = np.fromiter(counts.values(), np.intp, len(counts))
        else:
            rows, tf = np.unique(self._char_rows(norm), return_counts=True)
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

    def features(self, norm: str) -> Any:
        import numpy as np

        present: set[str] = set()
        for longest in self.pattern.findall(norm):
            present.update(self.closure[longest])
        hits = np.zeros(self.columns)
        for cue in present:
            for column in self.cue_columns[cue]:
                hits[column] += 1
        return self.weight * np.log1p(hits)

    def score(self, norm: str) -> Any:
        return self.features(norm) @ self.coef


@dataclass(frozen=True)
class LinearTextClassifier:
    """The fitted model as plain arrays: what the pipeline runs on every message.

    Same decision function as the scikit-learn pipeline (a test checks it), without importing
    scikit-learn (~1 s at start, in every worker process) or paying its per-call overhead
    (~3 ms for one text through a FeatureUnion). The text is normalized once; each TF-IDF block
    is recomputed from the fitted vocabulary and idf, with the idf and SVM weights laid out per
    term. Saved and loaded as a NumPy ``.npz`` of arrays (no pickle).
    """

    categories: tuple[str, ...]
    classes: tuple[str, ...]
    intercept: Any = field(repr=False)
    lexicon: _Lexicon | None
    blocks: tuple[_Block, ...]

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
        if not text or not text.strip():
            return None, None
        scores = self.scores(text)
        if len(scores) == 1:  # two classes: one decision value, positive means classes[1]
            category = self.classes[int(scores[0] > 0)]
        else:
            category = self.classes[int(scores.argmax())]
        return category, severity_of(text, category)

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
