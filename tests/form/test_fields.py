"""Label-based field extraction on synthetic word boxes (no OCR: fast, exact, table-driven).

Each row is written as it would sit on a page: ``(x, "text")`` pairs at one y. Widths come from
the text length, so gaps between words are what a real page would show.
"""

from __future__ import annotations

from typing import Any

import pytest

from normalizers.ocr.fields import (
    DEFAULT_TITLE,
    Word,
    extract_fields,
    find_labels,
    group_rows,
    split_documents,
    words_from_data,
)

CHAR_W, H, PITCH = 12, 24, 40


def row(y: int, *items: tuple[int, str], conf: float = 0.9, page: int = 0) -> list[Word]:
    """Words at ``y``: each item is (x, text); a text with spaces becomes single-spaced words."""
    words: list[Word] = []
    for x, text in items:
        cursor = x
        for token in text.split(" "):
            words.append(Word(token, conf, cursor, y, CHAR_W * len(token), H, page))
            cursor += CHAR_W * (len(token) + 1)
    return words


def page(*rows: list[Word]) -> list[Word]:
    return [w for r in rows for w in r]


def fields_of(words: list[Word]) -> dict[str, str]:
    form = extract_fields(group_rows(words))
    return {k: v.text for k, v in form.fields.items()}


PROJECT = page(
    row(40, (300, "FORMULIR PENGADUAN MASYARAKAT")),
    row(120, (100, "Nama"), (380, ": Budi Santoso")),
    row(160, (100, "NIK"), (380, ": 1671015708900003")),
    row(200, (100, "Alamat"), (380, ": Jl. Merdeka No. 12")),
    row(240, (392, "RT 03 RW 05 Sukajadi")),
    row(280, (100, "No. HP/Telepon"), (380, ": 0812-3456-7890")),
    row(320, (100, "Email"), (380, ": budi@example.id")),
    row(360, (100, "Tempat Kejadian"), (380, ": Depan Pasar Indralaya")),
    row(400, (100, "Waktu Kejadian"), (380, ": Senin 16 November 2026")),
    row(460, (100, "Uraian Pengaduan:")),
    row(500, (100, "Lampu jalan mati atas nama dinas")),
    row(540, (100, "Alamat rumah saya gelap sekali.")),
    row(640, (700, "Tanda Tangan:")),
    row(700, (720, "~~~ ,/-")),
)

TWO_COLUMN = page(
    row(40, (300, "LEMBAR PENGADUAN")),
    row(120, (100, "Nama Lengkap :"), (300, "Siti Aminah"), (700, "No. KTP : 1671015708900003")),
    row(160, (100, "Telp/HP : 081234567890"), (700, "E-mail : siti@example.id")),
    row(200, (100, "Lokasi Kejadian: Jalan Lintas"), (700, "Tanggal Kejadian : 3 Nov 2026")),
    row(240, (100, "Timur km 32"), (700, "pukul 08.00")),
    row(300, (100, "Isi Pengaduan :")),
    row(340, (100, "Jembatan rusak parah.")),
)

OCR_ERRORS = page(
    row(120, (100, "Narna"), (300, ": Andi")),
    row(160, (100, "N1K"), (300, ": 1671015708900003")),
    row(200, (100, "A1amat"), (300, ": Desa Tanjung Seteko")),
    row(240, (100, "Ura1an Pengaduan :")),
    row(280, (100, "Sampah menumpuk.")),
)

LABEL_COLUMN_WITHOUT_COLONS = page(
    row(120, (100, "Nama"), (400, "Rahmat Hidayat")),
    row(160, (100, "Alamat"), (400, "Indralaya Utara")),
    row(200, (100, "Keluhan"), (400, "Air PDAM tidak mengalir")),
)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(
            PROJECT,
            {
                "name": "Budi Santoso",
                "nik": "1671015708900003",
                "address": "Jl. Merdeka No. 12 RT 03 RW 05 Sukajadi",
                "phone": "0812-3456-7890",
                "email": "budi@example.id",
                "place": "Depan Pasar Indralaya",
                "when": "Senin 16 November 2026",
                "text": "Lampu jalan mati atas nama dinas Alamat rumah saya gelap sekali.",
            },
            id="project-form",
        ),
        pytest.param(
            TWO_COLUMN,
            {
                "name": "Siti Aminah",
                "nik": "1671015708900003",
                "phone": "081234567890",
                "email": "siti@example.id",
                "place": "Jalan Lintas Timur km 32",
                "when": "3 Nov 2026 pukul 08.00",
                "text": "Jembatan rusak parah.",
            },
            id="two-columns-other-wording",
        ),
        pytest.param(
            OCR_ERRORS,
            {
                "name": "Andi",
                "nik": "1671015708900003",
                "address": "Desa Tanjung Seteko",
                "text": "Sampah menumpuk.",
            },
            id="labels-misread-by-ocr",
        ),
        pytest.param(
            LABEL_COLUMN_WITHOUT_COLONS,
            {
                "name": "Rahmat Hidayat",
                "address": "Indralaya Utara",
                "text": "Air PDAM tidak mengalir",
            },
            id="tabular-no-colons",
        ),
    ],
)
def test_fields_by_label(words: list[Word], expected: dict[str, str]) -> None:
    assert fields_of(words) == expected


def test_words_inside_the_complaint_are_not_labels() -> None:
    """'atas nama' and a line starting with 'Alamat' (no colon, no gap) stay complaint text."""
    labels = find_labels(group_rows(PROJECT))
    keys = [lab.key for lab in labels]
    assert keys == [
        "name",
        "nik",
        "address",
        "phone",
        "email",
        "place",
        "when",
        "text",
        "signature",
    ]


def test_value_glued_to_its_label() -> None:
    """Cramped print or OCR may drop the space: "Tempat Kejadian:Depan Pasar"."""
    words = page(
        row(120, (100, "Tempat Kejadian:Depan Pasar"), (700, "Waktu Kejadian:Senin, 16 Nov")),
        row(160, (100, "NIK:1671015708900003")),
        row(200, (100, "Uraian Pengaduan:")),
        row(240, (100, "Lampu mati.")),
    )
    assert fields_of(words) == {
        "place": "Depan Pasar",
        "when": "Senin, 16 Nov",
        "nik": "1671015708900003",
        "text": "Lampu mati.",
    }


def test_a_repeated_label_inside_the_complaint_is_text() -> None:
    words = page(
        row(120, (100, "Nama : Budi")),
        row(160, (100, "Lokasi : Pasar Indralaya")),
        row(200, (100, "Uraian :")),
        row(240, (100, "Lampu mati sejak Senin.")),
        row(280, (100, "Lokasi: depan kios nomor 12.")),
        row(360, (700, "Tanda Tangan:")),
    )
    assert fields_of(words) == {
        "name": "Budi",
        "place": "Pasar Indralaya",
        "text": "Lampu mati sejak Senin. Lokasi: depan kios nomor 12.",
    }


def test_title_and_signature_label() -> None:
    form = extract_fields(group_rows(PROJECT))
    assert form.title == DEFAULT_TITLE
    signature = form.label("signature")
    assert signature is not None and signature.box[0] == 700
    assert "signature" not in form.fields  # read as ink, never as text
    assert extract_fields(group_rows(TWO_COLUMN)).title == "LEMBAR PENGADUAN"
    assert extract_fields(group_rows(OCR_ERRORS)).title is None
    other = page(row(40, (300, "Formulir Isian Warga")), row(120, (100, "Nama : Ani")))
    assert extract_fields(group_rows(other)).title == "Formulir Isian Warga"


def test_field_confidence_is_mean_word_confidence() -> None:
    words = page(
        row(120, (100, "Nama"), (300, ":")),
        row(120, (320, "Budi"), conf=0.9),
        row(120, (400, "Santoso"), conf=0.5),
        row(200, (100, "Uraian Pengaduan:")),
        row(240, (100, "Banjir"), conf=0.8),
    )
    form = extract_fields(group_rows(words))
    assert form.fields["name"].confidence == pytest.approx(0.7)
    assert form.fields["text"].confidence == pytest.approx(0.8)


def test_complaint_continues_on_the_next_page() -> None:
    first = page(
        row(120, (100, "Nama : Budi"), page=0),
        row(160, (100, "Alamat : Indralaya"), page=0),
        row(200, (100, "Uraian Pengaduan:"), page=0),
        row(240, (100, "Jalan berlubang di depan sekolah"), page=0),
    )
    second = page(
        row(60, (100, "sudah tiga bulan tidak diperbaiki."), page=1),
        row(200, (700, "Tanda Tangan:"), page=1),
    )
    assert split_documents([first, second]) == [[0, 1]]
    form = extract_fields(group_rows(first + second))
    assert form.fields["text"].text == (
        "Jalan berlubang di depan sekolah sudah tiga bulan tidak diperbaiki."
    )
    assert form.pages == (0, 1)


def test_each_page_with_identity_labels_starts_a_new_form() -> None:
    one = page(
        row(120, (100, "Nama : A")), row(160, (100, "NIK : 1")), row(200, (100, "Uraian: x"))
    )
    two = [Word(w.text, w.conf, w.left, w.top, w.width, w.height, 1) for w in one]
    three = page(row(100, (100, "lanjutan uraian"), page=2))
    assert split_documents([one, two, three]) == [[0], [1, 2]]


def test_short_labels_must_be_read_exactly() -> None:
    """'HP' and 'NIK' may not be fuzzy: 'HR' or 'NIP' are other things."""
    words = page(row(120, (100, "NIP : 198701012010011001")), row(160, (100, "HR : Andi")))
    assert fields_of(words) == {}


def test_rows_group_words_by_vertical_position_despite_jitter() -> None:
    words = [
        Word("Nama", 0.9, 100, 120, 48, 24),
        Word(":", 0.9, 300, 124, 6, 20),
        Word("Budi", 0.9, 320, 117, 48, 26),
        Word("NIK", 0.9, 100, 160, 36, 24),
    ]
    rows = group_rows(words)
    assert [[w.text for w in r] for r in rows] == [["Nama", ":", "Budi"], ["NIK"]]


def test_words_from_tesseract_data_keeps_words_only() -> None:
    data: dict[str, list[Any]] = {
        "level": [1, 5, 5, 5],
        "text": ["", "Nama", " ", ":"],
        "conf": [-1, 96.5, -1, 40],
        "left": [0, 10, 60, 70],
        "top": [0, 5, 5, 5],
        "width": [100, 40, 5, 5],
        "height": [100, 20, 20, 20],
    }
    words = words_from_data(data, page=2)
    assert [(w.text, w.conf, w.page) for w in words] == [("Nama", 0.965, 2), (":", 0.4, 2)]


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_bounded_distance_agrees_with_levenshtein() -> None:
    """The banded, early-exit distance used for label matching is exact up to its bound."""
    import random

    from normalizers.ocr.fields import _distance

    rnd = random.Random(1)
    for _ in range(3000):
        a = "".join(rnd.choice("abnm") for _ in range(rnd.randrange(0, 10)))
        b = "".join(rnd.choice("abnm") for _ in range(rnd.randrange(0, 10)))
        bound = rnd.randrange(0, 4)
        exact = _levenshtein(a, b)
        assert _distance(a, b) == exact
        assert _distance(a, b, bound) == (exact if exact <= bound else bound + 1), (a, b, bound)
