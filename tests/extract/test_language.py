"""Language of the complaint text (ISO 639-1)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from normalizers.extract import language
from normalizers.extract.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jalan di depan rumah saya rusak parah dan banyak lubang", "id"),
        ("jln rusak bgt gk bs lewat", "id"),
        ("mohon ditindaklanjuti, sampah sudah seminggu tidak diangkut", "id"),
        ("the road near my house has been broken for months", "en"),
        ("dalan neng deso kulo rusak parah, mboten saget dilewati", "jv"),
        ("ok", None),
        ("123 456", None),
        ("", None),
    ],
)
def test_detect_language(text: str, code: str | None) -> None:
    assert detect_language(text) == code


# --- the shortcuts must never change py3langid's answer -------------------------------------

MIXED = [
    "aku wis lapor nanging durung ana tanggapan saka dinas",
    "kulo nyuwun tulung, dalan ing kampung rusak, wis suwe ora didandani",
    "wong-wong padha ngeluh amarga banyu PDAM mati telung dina, mohon segera dibenakke",
    "lampu jalan di depan rumah mati sudah seminggu, tolong segera diperbaiki, saya dan warga resah",
    "jalan yang di depan pasar itu rusak dan tidak bisa dilewati oleh warga dari kampung sebelah",
    "saya mau lapor bahwa di rt 03 sampah tidak diangkut dan sudah bau, mohon segera ditindak",
    "Mohon maaf, saya ingin menyampaikan keluhan tentang pelayanan di kantor kelurahan yang sangat "
    "lambat dan petugas tidak ramah kepada warga",
    "the streetlight in front of my house has been broken for a month and nobody from the office "
    "has come",
    "I want to report that the road in my village is damaged and it is dangerous for the children",
    "Selamat pagi Bapak/Ibu,\r\n\r\nSaya ingin melaporkan jalan berlubang di Pasar 16 Ilir sejak 3 "
    "hari yang lalu. Mohon segera ditindaklanjuti, warga sudah resah.\r\nHubungi saya di "
    "0812-1234-5678.\r\n\r\nTerima kasih.\r\n\r\nDikirim dari Yahoo Mail di Android",
    "the road is broken, jalan rusak di depan sekolah dan tidak ada yang memperbaiki",
    "unknown:2;M01:P0:KBHYSPmQwK8=;oojtM0FZyAHR7/Y3mgLFUSQnTi9t PQY8CE13YZiKoSyqF9S is the and of",
    "ABC DEF GHI",
    "1234567890 !!! ???",
    "\ud800abc def",
]


def _reference(text: str) -> str | None:
    """The unoptimized answer: py3langid's own classify on the whole text."""
    if sum(c.isalpha() for c in text) < 3:
        return None
    return str(language._identifier().classify(text)[0])


@pytest.mark.parametrize("text", MIXED)
def test_shortcuts_agree_with_py3langid(text: str) -> None:
    expected = _reference(text)
    assert detect_language(text) == expected
    if expected is not None:
        assert language._classify(text) == expected
        assert language._by_function_words(text) in (None, expected)


def test_function_words_decide_plain_prose_only() -> None:
    assert language._by_function_words(MIXED[4]) == "id"
    assert language._by_function_words(MIXED[7]) == "en"
    assert language._by_function_words(MIXED[0]) is None  # Javanese: always the model
    assert language._by_function_words(MIXED[10]) is None  # code-switching: the model


def test_only_the_opening_is_read() -> None:
    head = "jalan di depan rumah saya rusak parah dan banyak lubang, mohon segera diperbaiki. "
    tail = "the road near my house has been broken for months and nobody came to fix it. "
    text = head * 9 + tail * 40
    assert len(text) > language._SAMPLE_CHARS
    assert _reference(text) == "en"  # the quoted English thread would outweigh it
    assert detect_language(text) == "id"


def _corpus_texts(root: Path) -> list[str]:
    """Natural-language strings of the shared corpora: JSON string fields, mail bodies, cues."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(root.rglob("*.json")):
        try:
            walk(json.loads(path.read_text(encoding="utf-8", errors="replace")))
        except ValueError:
            continue
    for path in sorted(root.rglob("*.eml")):
        found.append(path.read_bytes().decode("utf-8", errors="replace"))
    for suffix in ("vtt", "srt", "sbv"):
        for path in sorted(root.rglob(f"*.{suffix}")):
            found.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    return list(dict.fromkeys(t for t in found if sum(c.isalpha() for c in t) >= 3))


def test_shortcuts_agree_with_py3langid_on_the_corpora(corpora: Path) -> None:
    texts = _corpus_texts(corpora)
    assert len(texts) > 1000
    wrong = [t[:60] for t in texts if detect_language(t) != _reference(t)]
    assert wrong == []


def test_words_are_the_regex_runs() -> None:
    # ASCII texts are split by bytes.translate, others by the regex: the same words either way
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)] + ["é", "ß", "İ", "’", "ÿ", "\u00a0"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))).lower()
        assert language._words(text) == language._WORD.findall(text), text
