"""Category and severity: office rules, the statistical model, and its held-out accuracy."""

from __future__ import annotations

import math
import pickle
import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, cycle, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pytest

from ingest.classifier import default_classifier, shipped_rows
from normalizers.extract.classify import (
    DEFAULT_CATEGORIES,
    LinearTextClassifier,
    ModelClassifier,
    _Block,
    _Lexicon,
    evaluate,
    normalize_text,
    rule_category,
    severity_of,
    train,
)
from normalizers.office import Category

SEVERITY: list[tuple[str, str | None, str]] = [
    # ringan: appreciation, aspiration, requests for information
    ("terima kasih pak bupati jalan sudah diperbaiki", None, "ringan"),
    ("makasih min infonya", None, "ringan"),
    ("apresiasi untuk petugas damkar yang cepat datang", None, "ringan"),
    ("salut dengan pelayanan dukcapil sekarang", None, "ringan"),
    ("saran: buka layanan ktp di hari sabtu", None, "ringan"),
    ("usul agar taman kota diberi wifi gratis", None, "ringan"),
    ("aspirasi warga, kami ingin lapangan olahraga", None, "ringan"),
    ("mohon info syarat membuat akta kelahiran", None, "ringan"),
    ("bagaimana cara daftar bpjs mandiri", None, "ringan"),
    ("gmn cara cek bansos min", None, "ringan"),
    ("kapan pendaftaran cpns dibuka", None, "ringan"),
    ("apakah pembuatan kk dipungut biaya", None, "ringan"),
    ("jadwal samsat keliling bulan ini dimana", None, "ringan"),
    ("berapa nomor pengaduan pdam", None, "ringan"),
    ("matur nuwun pak, dalan wis didandani", None, "ringan"),
    ("hatur nuhun kana bantosanana", None, "ringan"),
    ("info dong jadwal posyandu", None, "ringan"),
    ("any text at all", "informasi", "ringan"),
    # sedang: a complaint about one agency
    ("jalan rusak parah di desa kami", None, "sedang"),
    ("jln rusak bgt gk bs lewat", None, "sedang"),
    ("sampah menumpuk seminggu tidak diangkut", None, "sedang"),
    ("air pdam mati 3 hari", None, "sedang"),
    ("puskesmas tutup jam 11 padahal jadwalnya sampai jam 2", None, "sedang"),
    ("guru sering tidak masuk", None, "sedang"),
    ("ktp saya belum jadi 6 bulan", None, "sedang"),
    ("lampu jalan mati sebulan", None, "sedang"),
    ("balap liar tiap malam", None, "sedang"),
    ("bansos tidak tepat sasaran", None, "sedang"),
    ("kapan jalan rusak ini diperbaiki", None, "sedang"),  # a question, but a complaint
    ("terima kasih tapi jalannya masih rusak", None, "sedang"),
    ("dalan neng deso kulo rusak parah", None, "sedang"),
    ("jalan butut pisan", None, "sedang"),
    ("sampah numpuk nian", None, "sedang"),
    ("banjir setiap hujan", "lingkungan", "sedang"),
    ("listrik padam terus", "pelayanan_publik", "sedang"),
    # berat: abuse of authority, pungli, several agencies
    ("oknum petugas minta uang 200 ribu", None, "berat"),
    ("ada pungli di jembatan timbang", None, "berat"),
    ("pungutan liar sertifikat prona", None, "berat"),
    ("kepala desa korupsi dana desa", None, "berat"),
    ("lurah minta uang rokok buat tanda tangan", None, "berat"),
    ("uang pelicin untuk surat rujukan", None, "berat"),
    ("polisi minta uang damai", None, "berat"),
    ("calo di samsat", None, "berat"),
    ("kades menyelewengkan dana bumdes", None, "berat"),
    ("penyalahgunaan wewenang oleh camat", None, "berat"),
    ("kades intimidasi warga yang lapor", None, "berat"),
    ("guru memukul murid sampai memar", None, "berat"),
    ("bantuan blt disunat perangkat desa", None, "berat"),
    ("proyek fiktif di kantor kecamatan", None, "berat"),
    ("seleksi perangkat desa penuh kkn", None, "berat"),
    ("harga mahal", "pungli_korupsi", "berat"),
    ("dinas pu, dinas kesehatan dan pdam saling lempar tanggung jawab", None, "berat"),
    ("sudah lapor ke kelurahan, kecamatan dan dinas sosial tidak ada yang peduli", None, "berat"),
]


@pytest.mark.parametrize(
    ("text", "category", "expected"), SEVERITY, ids=[s[0][:40] for s in SEVERITY]
)
def test_severity(text: str, category: str | None, expected: str) -> None:
    assert severity_of(text, category) == expected


def test_enough_severity_cases() -> None:
    assert len(SEVERITY) >= 50


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Jln rusak BGT gak bs lewat!!!", "jalan rusak banget tidak bisa lewat"),
        ("parahhh tolonggg", "parah tolong"),
        ("dak katek wong", "tidak tidak ada orang"),
        ("Kulo mboten angsal", "saya tidak dapat"),
        ("abdi teu kenging", "saya tidak dapat"),
        ("jalan butut pisan", "jalan rusak sangat"),
        ("Hatur nuhun", "terima kasih"),
        ("sayá", "saya"),
    ],
)
def test_normalize_text(text: str, normalized: str) -> None:
    assert normalize_text(text) == normalized


OFFICE_CATEGORIES = [
    Category(name="jalan", keywords=["jalan rusak", "jalan berlubang", "aspal"]),
    Category(name="banjir", keywords=["banjir", "genangan"], patterns=[r"\bair\s+naik\b"]),
    Category(name="korupsi", keywords=["pungli", "korupsi"], severity="berat"),
    Category(name="bad regex", patterns=["("]),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jln rusak di depan sd", ("jalan", None)),  # slang normalized before matching
        ("Jalan berlubang dan banjir dan genangan", ("banjir", None)),  # most hits wins
        ("air naik sampai lutut", ("banjir", None)),
        ("ada PUNGLI di pasar", ("korupsi", "berat")),
        ("anak sekolah tidak dapat seragam", None),
        ("pasaraspal", None),  # keywords match whole words only
    ],
)
def test_office_rules(text: str, expected: tuple[str, str | None] | None) -> None:
    assert rule_category(text, OFFICE_CATEGORIES) == expected


def test_no_rules_no_category() -> None:
    assert rule_category("jalan rusak", []) is None


def test_model_beats_baseline_on_held_out_split() -> None:
    scores = evaluate(shipped_rows(), test_size=0.25, seed=42)
    assert scores.test_size >= 100
    assert scores.model >= scores.baseline
    assert scores.model >= 0.75  # the shipped model is useful, not just better than bad


def test_shipped_set() -> None:
    rows = shipped_rows()
    assert len(rows) >= 400
    assert {c for _, c in rows} == set(DEFAULT_CATEGORIES)


@pytest.mark.parametrize(
    ("text", "category", "severity"),
    [
        ("jln dpn rmh sy rusak bgt, lubangnya dalem", "infrastruktur", "sedang"),
        ("oknum dukcapil minta 300rb biar ktp cepet jadi", "pungli_korupsi", "berat"),
        ("pak, kapan bantuan pkh cair?", "informasi", "ringan"),
        ("sampah di tps pasar bau bgt gak diangkut2", "lingkungan", "sedang"),
        ("anak sy gk bisa daftar sekolah krn zonasi", "pendidikan", "sedang"),
        ("puskesmas gak ada dokter jaga", "kesehatan", "sedang"),
    ],
)
def test_default_classifier(text: str, category: str, severity: str) -> None:
    assert default_classifier().classify(text) == (category, severity)


def test_empty_text() -> None:
    assert default_classifier().classify("  ") == (None, None)


@pytest.fixture(scope="module")
def fitted() -> ModelClassifier:
    return train(shipped_rows())


def test_compiled_model_equals_the_pipeline(fitted: ModelClassifier) -> None:
    compiled = fitted.compiled
    texts = [t for t, _ in shipped_rows()[::5]]
    texts += ["zzz qqq", "Jalan RUSAK parahhh!!! di desa", "bayar Rp 50.000 ke oknum", "ok"]
    texts += ["Pelayanan Dukcapil lambat sekali, sudah 3 minggu KTP-el belum jadi. Café résumé"]
    expected = fitted.model.decision_function(texts)
    for text, want in zip(texts, expected, strict=True):
        assert np.allclose(compiled.scores(text), want), text


ANALYZER_TEXTS = [
    "",
    "a",
    "ab",
    "jalan rusak",
    "x y z jalan",
    "pungli  di   kantor desa\nrt 03",
    "abcdefghij kl m",
    "uang uang uang 2026",
    "pendek " + "panjang" * 12 + " x",
]


@pytest.mark.parametrize("text", ANALYZER_TEXTS)
@pytest.mark.parametrize(
    ("analyzer", "ngram_range"),
    [
        ("word", (1, 2)),
        ("word", (2, 3)),
        ("word", (1, 1)),
        ("char_wb", (2, 5)),
        ("char_wb", (1, 3)),
        ("char_wb", (3, 3)),
    ],
)
def test_own_analyzers_equal_scikit_learn(
    text: str, analyzer: str, ngram_range: tuple[int, int]
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from normalizers.extract.classify import _char_wb_ngrams, _word_ngrams

    theirs = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range).build_analyzer()(text)
    ours = (_word_ngrams if analyzer == "word" else _char_wb_ngrams)(text, *ngram_range)
    assert ours == theirs


def test_lexicon_scan_equals_substring_search(fitted: ModelClassifier) -> None:
    from normalizers.extract.classify import LexiconFeatures

    lexicon = fitted.compiled.lexicon
    assert lexicon is not None
    plain = LexiconFeatures()
    texts = [t for t, _ in shipped_rows()] + ["jalanan jalan rusak di mana dimana", "apa apakah"]
    for text in texts:
        assert np.allclose(lexicon.features(normalize_text(text)), plain.transform([text])[0])


def test_compiled_model_round_trips_through_arrays(fitted: ModelClassifier) -> None:
    from normalizers.extract.classify import LinearTextClassifier

    compiled = fitted.compiled
    again = LinearTextClassifier.from_arrays(compiled.to_arrays())
    assert again.classes == compiled.classes and again.categories == compiled.categories
    for text, _ in shipped_rows()[::11]:
        assert np.array_equal(again.scores(text), compiled.scores(text))


def test_a_model_that_cannot_be_compiled_is_refused() -> None:
    from normalizers.extract.classify import baseline_model

    rows = [("jalan rusak", "jalan")] * 3 + [("banjir besar", "air")] * 3
    fitted = ModelClassifier(
        baseline_model().fit([t for t, _ in rows], [c for _, c in rows]), ("air", "jalan")
    )
    with pytest.raises(ValueError, match="retrain"):
        _ = fitted.compiled


def test_normalize_text_is_the_same_for_ascii_and_accented_text() -> None:
    assert normalize_text("Café RUSAK") == "cafe rusak"
    assert normalize_text("Jln rusak bgt") == "jalan rusak banget"


def test_train_rejects_one_category() -> None:
    with pytest.raises(ValueError, match="two categories"):
        train([("a", "x"), ("b", "x")])


def test_train_small_custom_set() -> None:
    rows = [("jalan rusak", "jalan")] * 3 + [("banjir besar", "air")] * 3
    model = train(rows)
    assert isinstance(model, ModelClassifier)
    assert model.categories == ("air", "jalan")
    assert model.classify("jalan rusak parah")[0] == "jalan"


def test_fast_path_agrees_with_predict_for_two_classes() -> None:
    rows = [("jalan rusak", "jalan")] * 3 + [("banjir besar", "air")] * 3
    model = train(rows)
    for text in ("jalan rusak parah", "banjir", "air naik", "lubang di jalan", "zzz"):
        assert model.classify(text)[0] == str(model.model.predict([text])[0])
    _assert_same_as_frozen(model.compiled, EDGE_TEXTS + _new_word_texts(100))


# --- the fast path (word-level caches, one sort per text) equals the plain computation ---

ISSUES = ["lampu jalan padam", "jalan berlubang", "sampah menumpuk", "air PDAM tidak mengalir"]
PLACES = ["Desa Tanjung Raja", "Kecamatan Indralaya", "Pasar Pangkalan Balai", "Jl. Lintas Timur"]
EDGE_TEXTS = [
    "!!!",
    "a b c d",
    "x jalan y rusak z",  # one-letter words between the word analyzer's tokens
    "jalan " * 2100,  # more n-grams than the table of 1 + log(tf) holds
    "di mana",
    "di  mana jalanan rusak",  # a phrase cue, and a cue that is a prefix of a word
    "terima kasih",
    "sampah sampah sampah sampah di di di",
    "Rp 50.000 300rb 2 juta 12k fee 10",
    "tolonggg parahhh sekaliii aaa bbb",
    "Café résumé ٣ ribu ｆｅｅ ５ İstanbul",
    "supercalifragilisticexpialidocious " + "x" * 500,
    "oknum dukcapil minta 300rb biar ktp cepet jadi",
]


def _mixed_texts(count: int) -> list[str]:
    """Texts of shuffled words from the shipped set: other word neighbours than the set has."""
    rng = random.Random(5)
    words = " ".join(t for t, _ in shipped_rows()).split()
    return [" ".join(rng.choices(words, k=rng.randint(1, 40))) for _ in range(count)]


def _bench_like_texts() -> list[str]:
    return [
        f"Pengaduan {issue} di {place}\nSelamat pagi Bapak/Ibu,\n\nSaya ingin melaporkan {issue} "
        f"di {place} sejak {days} hari yang lalu. Mohon segera ditindaklanjuti, warga sudah "
        f"resah.\nHubungi saya di 0812-4455-{days:04d}.\n\nTerima kasih."
        for days, (issue, place) in enumerate((i, p) for i in ISSUES for p in PLACES)
    ]


def _assert_same_scores(compiled: LinearTextClassifier, texts: list[str]) -> None:
    for text in texts:
        fast, plain = compiled.scores(text), compiled.plain_scores(text)
        assert np.allclose(fast, plain, rtol=1e-9, atol=1e-12), text
        if text.strip():
            category = compiled.classes[int(plain.argmax())]
            assert compiled.classify(text) == (category, severity_of(text, category)), text


def test_fast_scores_equal_plain_scores(fitted: ModelClassifier) -> None:
    compiled = fitted.compiled
    assert compiled._scorer is not None
    texts = [t for t, _ in shipped_rows()] + EDGE_TEXTS + _mixed_texts(300) + _bench_like_texts()
    _assert_same_scores(compiled, texts)
    again = LinearTextClassifier.from_arrays(compiled.to_arrays())
    _assert_same_scores(again, EDGE_TEXTS + _bench_like_texts())


@pytest.mark.parametrize(
    ("word_range", "char_ranges"),
    [((1, 3), [(3, 4)]), ((2, 2), [(2, 2), (4, 6)]), ((1, 1), [(1, 3)])],
)
def test_other_model_layouts_equal_scikit_learn(
    word_range: tuple[int, int], char_ranges: list[tuple[int, int]]
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    from normalizers.extract.classify import LexiconFeatures

    rows = shipped_rows()
    features = make_union(
        LexiconFeatures(weight=0.5),
        TfidfVectorizer(preprocessor=normalize_text, ngram_range=word_range, sublinear_tf=True),
        *(
            TfidfVectorizer(
                preprocessor=normalize_text, analyzer="char_wb", ngram_range=r, sublinear_tf=True
            )
            for r in char_ranges
        ),
    )
    model = make_pipeline(features, LinearSVC(C=0.5, random_state=0))
    model.fit([t for t, _ in rows], [c for _, c in rows])
    compiled = LinearTextClassifier.of(model, sorted({c for _, c in rows}))
    assert compiled._scorer is not None
    texts = EDGE_TEXTS + _mixed_texts(60)
    expected = model.decision_function(texts)
    for text, want in zip(texts, expected, strict=True):
        assert np.allclose(compiled.scores(text), want, rtol=1e-9, atol=1e-12), text
    _assert_same_as_frozen(compiled, texts + _new_word_texts(100))


def test_cues_that_are_not_plain_words_use_the_lexicon_scan(fitted: ModelClassifier) -> None:
    arrays = fitted.compiled.to_arrays()
    arrays["lexicon_cues"] = np.append(arrays["lexicon_cues"], ["di  mana", "mana "])
    arrays["lexicon_columns"] = np.append(arrays["lexicon_columns"], [0, 1])
    compiled = LinearTextClassifier.from_arrays(arrays)
    assert compiled._scorer is not None and not compiled._scorer.plain_cues
    _assert_same_scores(compiled, [*EDGE_TEXTS, "di  mana", "di mana", "mana mana"])
    _assert_same_as_frozen(compiled, [*EDGE_TEXTS, "di  mana", "x mana", *_new_word_texts(100)])


def test_a_model_with_a_nonzero_unknown_row_takes_the_plain_path(fitted: ModelClassifier) -> None:
    arrays = fitted.compiled.to_arrays()
    arrays["block1_idf"] = arrays["block1_idf"].copy()
    arrays["block1_idf"][-1] = 0.5
    compiled = LinearTextClassifier.from_arrays(arrays)
    assert compiled._scorer is None
    assert np.array_equal(compiled.scores("jalan rusak"), compiled.plain_scores("jalan rusak"))


def test_compiled_model_pickles_without_its_caches(fitted: ModelClassifier) -> None:
    compiled = fitted.compiled
    compiled.classify("jalan rusak parah di desa kami")
    again = pickle.loads(pickle.dumps(compiled))
    assert again._scorer is not None and not again._scorer._words
    for text in EDGE_TEXTS[:8]:
        assert np.array_equal(again.scores(text), compiled.scores(text))


def _plain_normalize_text(text: str) -> str:
    """``normalize_text`` as first written: the whole text at once."""
    import unicodedata

    from normalizers.extract.classify import _MONEY, _REPEATED, _WORD, SLANG

    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _MONEY.sub(" uang ", text)
    text = _REPEATED.sub(r"\1", text)
    return " ".join(SLANG.get(w, w) for w in _WORD.findall(text))


def _fuzz_texts(count: int) -> list[str]:
    rng = random.Random(11)
    pieces = [
        *"rp.,  \t\n0123456789kbjtuaiemx_",
        *("rb", "ribu", "juta", "Rp", "aaa", "gggg", "é", "Ñ", "٣", "ｆ", "ß", "İ"),
        *("jln", "gk", "bgt", "rumah sakit", "di mana", "fee 12", "fee", "pu", "kua"),
    ]
    return ["".join(rng.choices(pieces, k=rng.randint(0, 16))) for _ in range(count)]


def _amount_texts(count: int) -> list[str]:
    """Texts dense in what _MONEY and its shortcut look at: digits, every kind of space
    (\\s matches \\x1c-\\x1f too), r/j/k right after digits or after spaces, "rp"."""
    rng = random.Random(13)
    pieces = [
        *"0123456789.,-_/ kKrRjJpPbBtTuUaAeEx",
        *(" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\xa0"),
        *("rb", "ribu", "rebu", "jt", "juta", "k", "rp", "Rp.", "RP", "rpp", "ribuan", "kasih"),
        *("٣", "é", "ｋ", "İ", "ß", "jalan", "uang", "12", "300", "2.500", "1,5"),
    ]
    spaces = ["", " ", "  ", "\t", "\n", "\x0b", "\x1c", "\x1f", "\xa0", "-", "_"]
    suffixes = ["rb", "ribu", "rebu", "jt", "juta", "k", "K", "ribuan", "kasih", "jam", "x", ""]
    texts = []
    for _ in range(count):
        text = "".join(rng.choices(pieces, k=rng.randint(0, 14)))
        if rng.random() < 0.5:  # an amount, or nearly one, somewhere in it
            amount = (
                rng.choice(["", "rp", "Rp.", "RP", "xrp"])
                + rng.choice(spaces)
                + str(rng.randint(0, 10**6))
                + rng.choice(["", ".000", ",5", "."])
                + rng.choice(spaces)
                + rng.choice(suffixes)
                + rng.choice(["", " ", ".", "a", "5"])
            )
            at = rng.randint(0, len(text))
            text = text[:at] + amount + text[at:]
        texts.append(text)
    return texts


def test_normalize_text_word_by_word_equals_the_whole_text() -> None:
    from normalizers.extract.classify import _normalized

    texts = [t for t, _ in shipped_rows()] + EDGE_TEXTS + _fuzz_texts(3000)
    texts += _amount_texts(6000) + _bench_like_texts() + [s[0] for s in SEVERITY]
    split = 0
    for text in texts:
        norm, words = _normalized.__wrapped__(text)
        assert norm == _plain_normalize_text(text), text
        assert words == tuple(norm.split()), text
        split += any(" " in word for word in map(normalize_text, text.split()))
    assert split  # some texts have slang that becomes two words ("makasih" -> "terima kasih")


def test_the_amount_shortcut_never_misses_an_amount() -> None:
    """``_maybe_amount`` may say yes for a text without an amount, never no for one with."""
    from normalizers.extract.classify import _MONEY, _maybe_amount

    texts = [t.lower() for t in _amount_texts(20_000) + _fuzz_texts(3000) if t.isascii()]
    texts += [t.lower() for t in _bench_like_texts()]
    matched = skipped = 0
    for text in texts:
        if _MONEY.search(text):
            matched += 1
            assert _maybe_amount(text), text
        skipped += not _maybe_amount(text)
    assert matched > 1000 and skipped > 1000  # both sides were exercised


def test_severity_terms_equal_their_patterns() -> None:
    from normalizers.extract.classify import _AGENCIES, _BERAT, _COMPLAINT, _RINGAN

    rng = random.Random(3)
    vocabulary = ["fee", "12", "12x", "rumah", "sakit", "kepala", "desa", "di", "mana", "kasih"]
    for terms in (_BERAT, _RINGAN, _COMPLAINT, _AGENCIES):
        vocabulary += [w for t in terms.pattern.pattern[5:-3].split("|") for w in t.split(" ")]
    texts = [" ".join(rng.choices(vocabulary, k=rng.randint(0, 12))) for _ in range(3000)]
    texts += [s[0] for s in SEVERITY] + [t for t, _ in shipped_rows()]
    for text in texts:
        norm = normalize_text(text)
        words = set(norm.split())
        for terms in (_BERAT, _RINGAN, _COMPLAINT, _AGENCIES):
            assert terms.search(norm, words) == bool(terms.pattern.search(norm)), (norm, terms)
            found = len(set(terms.pattern.findall(norm)))
            for least in (1, 2, 3):
                assert terms.several(norm, words, least) == (found >= least), (norm, least)


# --- the scorer against a frozen copy of its first version, bit for bit ---
#
# ``_FrozenScorer`` and ``_frozen_word_grams`` are ``_Scorer`` and ``_word_grams`` as they
# were before the per-text shortcuts (rows gathered in C, one sort with two bounds, cue sets
# kept per set of words, n-gram slicers), copied unchanged but for their names. The fast
# scorer must give the very same float64 values (same bytes), not merely close ones: the
# decision values become a category and a severity, and later a confidence.

_FROZEN_WORD_CACHE = 50_000
_FROZEN_LOG_TF = 4096
_FROZEN_ROW = "intc"


def _frozen_word_grams(word: str, low: int, high: int) -> tuple[str, ...]:
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


#: What ``_FrozenScorer`` keeps of one word: the rows of its n-grams in every block (repeats
#: included, unknown ones left out; the bytes of an ``array("i")``) and the one-word cues it
#: starts with.
_FrozenEntry = tuple[bytes, tuple[str, ...]]


@dataclass(frozen=True)
class _FrozenScorer:
    """The decision function computed word by word: same values as the blocks' and the
    lexicon's plain ``score`` (a test checks it), at a fraction of the cost per text.

    Complaints are made of a few thousand recurring words, so what depends on one word only
    (its char n-gram rows, its word-unigram row, the cues it starts with) is looked up once
    per model and kept. Per text, the rows of all blocks (numbered one block after the other
    in one table) are counted together with one sort, and one gather and one product with
    the stacked SVM weights give the blocks' sum; the l2 norm of each block is taken on its
    slice of the sorted rows. Each call into NumPy costs about a microsecond, more with the
    caches cold between two messages, so the per-text work keeps their number small.
    """

    table: Any = field(repr=False)  # (rows, classes): each block's weights, unknown row dropped
    idf: Any = field(repr=False)  # (rows,)
    starts: Any = field(repr=False)  # first row of every block after the first
    log_tf: Any = field(repr=False)  # 1 + log(tf) for tf below its length (sublinear tf)
    #: per char_wb block: term -> row in the table, n-gram range
    char_blocks: tuple[tuple[dict[str, int], int, int], ...] = field(repr=False)
    #: per word block with unigrams: term -> row in the table
    unigrams: tuple[dict[str, int], ...] = field(repr=False)
    #: per word block and n >= 2 it counts: n, n tokens -> row in the table
    ngrams: tuple[tuple[int, dict[tuple[str, ...], int]], ...] = field(repr=False)
    lexicon: _Lexicon | None = field(repr=False)
    #: whether every cue is words joined by single spaces (else the lexicon's own scan)
    plain_cues: bool
    cues: frozenset[str] = field(repr=False)  # one-word cues
    longest_cue: int
    #: cues of several words, by their first word (f" {cue}" to look for in f" {text}")
    phrases: dict[str, tuple[tuple[str, str], ...]] = field(repr=False)
    phrase_words: frozenset[str] = field(repr=False)  # their first words

    #: per model, bounded: word -> its _FrozenEntry
    _words: dict[str, _FrozenEntry] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: per model, bounded: (column, cues found in it) of every column hit -> the lexicon's
    #: share of the decision values (texts hit few columns, each a few times)
    _cue_shares: dict[tuple[tuple[int, int], ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, blocks: Sequence[_Block], lexicon: _Lexicon | None) -> _FrozenScorer | None:
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
        ngrams: list[tuple[int, dict[tuple[str, ...], int]]] = []
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
                by_size: dict[int, dict[tuple[str, ...], int]] = {
                    n: {} for n in range(max(block.low, 2), block.high + 1)
                }
                for term, row in rows.items():
                    parts = tuple(term.split(" "))
                    if len(parts) in by_size and all(parts):
                        by_size[len(parts)][parts] = row
                ngrams.extend(by_size.items())
            offset += size
        return cls(
            np.ascontiguousarray(np.concatenate(tables), dtype=np.float64),
            np.ascontiguousarray(np.concatenate(idfs), dtype=np.float64),
            np.array(starts, dtype=np.intp),
            np.concatenate(
                ([np.nan], 1.0 + np.log(np.arange(1, _FROZEN_LOG_TF, dtype=np.float64)))
            ),
            tuple(char_blocks),
            tuple(unigrams),
            tuple(ngrams),
            lexicon,
            plain_cues,
            frozenset(cues),
            max(map(len, cues), default=0),
            {first: tuple(found) for first, found in phrases.items()},
            frozenset(phrases),
        )

    def _entry(self, word: str) -> _FrozenEntry:
        rows: list[int] = []
        for vocabulary, low, high in self.char_blocks:
            found = map(vocabulary.get, _frozen_word_grams(word, low, high))
            rows.extend(row for row in found if row is not None)
        if len(word) > 1:  # a token of the word analyzer (\b\w\w+\b in a normalized text)
            found = map(dict.get, self.unigrams, repeat(word))
            rows.extend(row for row in found if row is not None)
        cues = self.cues
        entry: _FrozenEntry = (
            array("i", rows).tobytes(),
            tuple(
                word[:size]
                for size in range(1, min(len(word), self.longest_cue) + 1)
                if word[:size] in cues
            ),
        )
        if len(self._words) >= _FROZEN_WORD_CACHE:
            self._words.clear()
        self._words[word] = entry
        return entry

    def scores(self, norm: str, words: Sequence[str], intercept: Any) -> Any:
        """The decision values of a normalized text (and the list of its words)."""
        import numpy as np

        known = self._words
        entries = [known.get(word) or self._entry(word) for word in words]
        parts = list(map(itemgetter(0), entries))
        if self.ngrams:
            tokens = [word for word in words if len(word) > 1]
            for n, terms in self.ngrams:
                grams = map(terms.get, zip(*(tokens[i:] for i in range(n)), strict=False))
                found = [row for row in grams if row is not None]
                if found:
                    parts.append(array("i", found).tobytes())
        # one buffer for all the rows: cheaper than concatenating one small array per word
        occurrences = np.frombuffer(bytearray().join(parts), _FROZEN_ROW)
        total = self._blocks(occurrences) + intercept if occurrences.size else intercept.copy()
        lexicon = self.lexicon
        if lexicon is not None:
            if self.plain_cues:
                cues = set(chain.from_iterable(map(itemgetter(1), entries)))
                firsts = self.phrase_words.intersection(words)
                if firsts:
                    padded = f" {norm}"
                    for first in firsts:
                        for spaced, cue in self.phrases[first]:
                            if spaced in padded:
                                cues.add(cue)
            else:
                cues = lexicon.present(norm)
            if cues:
                total += self._cues(lexicon, cues)
        return total

    def _blocks(self, occurrences: Any) -> Any:
        """Every block's share of the decision values, from the rows of the text's n-grams."""
        import numpy as np

        occurrences.sort()
        size = occurrences.size
        edges = np.empty(size + 1, np.bool_)  # where a run of one row begins (and the end)
        edges[0] = edges[size] = True
        np.not_equal(occurrences[1:], occurrences[:-1], out=edges[1:size])
        at = edges.nonzero()[0]
        rows = occurrences.take(at[:-1])
        tf = at[1:] - at[:-1]
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

    def _cues(self, lexicon: _Lexicon, found: set[str]) -> Any:
        """The lexicon's share of the decision values, from the cues found in the text."""
        columns: dict[int, int] = {}
        for cue in found:
            for column in lexicon.cue_columns[cue]:
                columns[column] = columns.get(column, 0) + 1
        key = tuple(sorted(columns.items()))
        share = self._cue_shares.get(key)
        if share is None:
            share = lexicon.counted(found) @ lexicon.coef
            if len(self._cue_shares) >= _FROZEN_WORD_CACHE:
                self._cue_shares.clear()
            self._cue_shares[key] = share
        return share


def _assert_same_as_frozen(compiled: LinearTextClassifier, texts: list[str]) -> None:
    """The fast path's scores are the frozen scorer's (same bytes), and ``classify`` gives
    what that version's ``classify`` gave on them."""
    from normalizers.extract.classify import _severity

    frozen = _FrozenScorer.build(compiled.blocks, compiled.lexicon)
    assert frozen is not None and compiled._scorer is not None
    for text in texts:
        norm = _plain_normalize_text(text)
        words = norm.split()
        want = frozen.scores(norm, words, compiled.intercept)
        got = compiled.scores(text)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (text, got, want)
        if not text.strip():
            assert compiled.classify(text) == (None, None)
            continue
        if len(want) == 1:
            category = compiled.classes[int(want[0] > 0)]
        else:
            category = compiled.classes[int(want.argmax())]
        assert compiled.classify(text) == (category, _severity(norm, set(words), category))


def _new_word_texts(count: int) -> list[str]:
    """Texts of shipped words mixed with words no model has seen (phone numbers, e-mail
    local parts, ids, misspellings), in any case and punctuation, some with amounts, phrase
    cues, one-letter words and slang: every text brings new words, as every mail does."""
    rng = random.Random(17)
    known = " ".join(t for t, _ in shipped_rows()).split()
    letters = "abcdefghijklmnopqrstuvwxyz"

    def new_word() -> str:
        kind = rng.randrange(6)
        if kind == 0:
            return str(rng.randint(0, 10 ** rng.randint(1, 13)))
        if kind == 1:
            return "".join(rng.choices(letters, k=rng.randint(1, 14)))
        if kind == 2:
            return f"{rng.choice(known).lower()}{rng.randint(0, 9999)}@warga.test"
        if kind == 3:
            word = rng.choice(known)
            return word + word[-1] * rng.randint(1, 4)  # "tolonggg"
        if kind == 4:
            return "".join(rng.choices(letters + "0123456789", k=rng.randint(2, 70)))
        return rng.choice(["a", "x", "u", "k", "7", "rp", "Rp 50.000", "300rb", "2 jt", "fee"])

    extras = ["terima kasih", "di mana", "rumah sakit", "air mati", "kartu keluarga", "makasih"]
    extras += ["jln", "gk", "bgt", "yg", "tdk", "mksh", "Café", "résumé", "0812-4455-1234"]
    texts = []
    for _ in range(count):
        words = []
        for _ in range(rng.randint(0, 60)):
            roll = rng.random()
            words.append(
                rng.choice(known)
                if roll < 0.6
                else new_word()
                if roll < 0.9
                else rng.choice(extras)
            )
        seps = rng.choices([" ", " ", ", ", ". ", "\n", "!! ", " - "], k=len(words))
        texts.append("".join(map("{}{}".format, words, seps)))
    return texts


def test_fast_scores_equal_the_frozen_scorer_bit_for_bit(fitted: ModelClassifier) -> None:
    compiled = LinearTextClassifier.from_arrays(fitted.compiled.to_arrays())  # cold caches
    texts = [t for t, _ in shipped_rows()] + EDGE_TEXTS + _bench_like_texts()
    texts += _mixed_texts(300) + _new_word_texts(1000) + _fuzz_texts(300) + _amount_texts(300)
    texts += [s[0] for s in SEVERITY] + ANALYZER_TEXTS
    _assert_same_as_frozen(compiled, texts)
    _assert_same_as_frozen(compiled, texts[::7])  # warm caches


def test_caches_stay_bounded_and_exact(
    fitted: ModelClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tiny bounds the caches are renewed all the time, texts longer than the bound
    included, and the values stay the same."""
    from normalizers.extract import classify

    monkeypatch.setattr(classify, "_WORD_CACHE", 40)
    monkeypatch.setattr(classify, "_CUE_CACHE", 3)
    compiled = LinearTextClassifier.from_arrays(fitted.compiled.to_arrays())
    scorer = compiled._scorer
    assert scorer is not None
    frozen = _FrozenScorer.build(compiled.blocks, compiled.lexicon)
    assert frozen is not None
    for text in _new_word_texts(400) + _bench_like_texts() + EDGE_TEXTS:
        norm = _plain_normalize_text(text)
        want = frozen.scores(norm, norm.split(), compiled.intercept)
        assert compiled.scores(text).tobytes() == want.tobytes(), text
        assert len(scorer._words) <= max(40, len(norm.split()))
        assert scorer._words.marked.keys() <= scorer._words.keys()
        assert len(scorer._groups) <= 3 and len(scorer._cue_shares) <= 3


def test_a_text_scored_meanwhile_does_not_change_another(
    fitted: ModelClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What another thread could do between two steps of a text: score other texts, which
    renews the word cache (tiny here) while the first text is half gathered. The first text
    must still read the marks (cues, one-letter words) of the words it gathered."""
    from normalizers.extract import classify

    monkeypatch.setattr(classify, "_WORD_CACHE", 40)
    compiled = LinearTextClassifier.from_arrays(fitted.compiled.to_arrays())
    scorer = compiled._scorer
    assert scorer is not None
    frozen = _FrozenScorer.build(compiled.blocks, compiled.lexicon)
    assert frozen is not None
    others = cycle(_new_word_texts(500))
    entry = scorer._entry
    inside = False
    made = 0

    def interleaved(word: str) -> tuple[bytes, Any]:
        nonlocal inside, made
        made += 1
        if not inside and made % 8 == 0:  # as another thread could, then the first goes on
            inside = True
            compiled.scores(next(others))
            inside = False
        return entry(word)

    object.__setattr__(scorer, "_entry", interleaved)
    object.__setattr__(scorer, "_words", classify._WordRows(scorer._entry))
    renewed = 0
    for text in _new_word_texts(120) + _bench_like_texts():
        before = scorer._words
        norm = _plain_normalize_text(text)
        want = frozen.scores(norm, norm.split(), compiled.intercept)
        assert compiled.scores(text).tobytes() == want.tobytes(), text
        renewed += scorer._words is not before
    assert renewed > 50


def test_word_grams_equal_the_frozen_ones() -> None:
    from normalizers.extract.classify import _word_grams

    rng = random.Random(19)
    words = ["a", "ab", "jalan", "x" * 61, "y" * 62, "z" * 63, "w" * 64, "v" * 200]
    words += [
        "".join(rng.choices("abc1 ", k=rng.randint(1, 90))).replace(" ", "") or "q"
        for _ in range(300)
    ]
    for low, high in [(1, 1), (1, 3), (2, 5), (3, 3), (5, 5), (4, 6), (2, 2), (6, 8), (3, 2)]:
        for word in words:
            assert _word_grams(word, low, high) == _frozen_word_grams(word, low, high), (word, low)
