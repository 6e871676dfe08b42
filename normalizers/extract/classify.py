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

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from normalizers.office import Category

__all__ = [
    "DEFAULT_CATEGORIES",
    "LexiconFeatures",
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


def normalize_text(text: str) -> str:
    """Lower-cased, accent-free, slang replaced: what rules and the model look at."""
    text = unicodedata.normalize("NFKD", text.lower())
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


@dataclass(frozen=True)
class _FastScorer:
    """The fitted pipeline's linear decision function, computed without scikit-learn's per-call
    overhead (~3 ms for one text through a FeatureUnion; this takes a fraction of that).

    The text is normalized once and each TF-IDF block is recomputed from the fitted vocabulary
    and idf (sublinear tf, l2 norm, as fitted); the tests check it equals ``decision_function``.
    """

    lexicon: LexiconFeatures | None
    blocks: tuple[tuple[Any, dict[str, int], Any, int], ...]  # analyzer, vocabulary, idf, offset
    coef: Any
    intercept: Any
    classes: tuple[str, ...]

    @classmethod
    def of(cls, model: Any) -> _FastScorer | None:
        import copy

        try:
            union, svm = model.steps[0][1], model.steps[-1][1]
            lexicon: LexiconFeatures | None = None
            blocks = []
            offset = 0
            for _, part in union.transformer_list:
                if isinstance(part, LexiconFeatures):
                    lexicon = part
                    offset += len(LEXICON)
                    continue
                if not (part.sublinear_tf and part.norm == "l2" and part.use_idf):
                    return None
                plain = copy.copy(part)
                plain.preprocessor = None  # the text is normalized once, up front
                blocks.append((plain.build_analyzer(), part.vocabulary_, part.idf_, offset))
                offset += len(part.vocabulary_)
            if lexicon is not None and union.transformer_list[0][1] is not lexicon:
                return None  # the lexicon block must come first (offset 0)
            classes = tuple(str(c) for c in svm.classes_)
            return cls(lexicon, tuple(blocks), svm.coef_, svm.intercept_, classes)
        except (AttributeError, IndexError, TypeError):
            return None

    def scores(self, text: str) -> Any:
        import numpy as np

        norm = normalize_text(text)
        total = self.intercept.copy()
        if self.lexicon is not None:
            lex = self.lexicon.transform([text])[0]
            total += self.coef[:, : len(lex)] @ lex
        for analyzer, vocabulary, idf, offset in self.blocks:
            counts: dict[int, int] = {}
            for gram in analyzer(norm):
                col = vocabulary.get(gram)
                if col is not None:
                    counts[col] = counts.get(col, 0) + 1
            if not counts:
                continue
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (1.0 + np.log(tf)) * idf[cols]
            values /= np.sqrt(values @ values)
            total += self.coef[:, cols + offset] @ values
        return total


@dataclass(frozen=True)
class ModelClassifier:
    """A fitted model behind the ``Classifier`` protocol (category by model, severity by rule)."""

    model: Any
    categories: tuple[str, ...]

    @cached_property
    def _fast(self) -> _FastScorer | None:
        return _FastScorer.of(self.model)

    def classify(self, text: str) -> tuple[str | None, str | None]:
        if not text or not text.strip():
            return None, None
        fast = self._fast
        if fast is not None:
            scores = fast.scores(text)
            if len(scores) == 1:  # two classes: one decision value, positive means classes[1]
                category = fast.classes[int(scores[0] > 0)]
            else:
                category = fast.classes[int(scores.argmax())]
        else:
            category = str(self.model.predict([text])[0])
        return category, severity_of(text, category)


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
