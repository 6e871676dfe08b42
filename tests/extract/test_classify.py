"""Category and severity: office rules, the statistical model, and its held-out accuracy."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from ingest.classifier import default_classifier, shipped_rows
from normalizers.extract.classify import (
    DEFAULT_CATEGORIES,
    LinearTextClassifier,
    ModelClassifier,
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


def test_cues_that_are_not_plain_words_use_the_lexicon_scan(fitted: ModelClassifier) -> None:
    arrays = fitted.compiled.to_arrays()
    arrays["lexicon_cues"] = np.append(arrays["lexicon_cues"], ["di  mana", "mana "])
    arrays["lexicon_columns"] = np.append(arrays["lexicon_columns"], [0, 1])
    compiled = LinearTextClassifier.from_arrays(arrays)
    assert compiled._scorer is not None and not compiled._scorer.plain_cues
    _assert_same_scores(compiled, [*EDGE_TEXTS, "di  mana", "di mana", "mana mana"])


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


def test_normalize_text_word_by_word_equals_the_whole_text() -> None:
    texts = [t for t, _ in shipped_rows()] + EDGE_TEXTS + _fuzz_texts(3000)
    for text in texts:
        assert normalize_text.__wrapped__(text) == _plain_normalize_text(text), text


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
