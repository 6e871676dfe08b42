"""NIK detection by structure, and masking in text."""

from __future__ import annotations

import random

import pytest

from normalizers import record
from normalizers.extract.nik import _LABELLED, _RUN, find_niks, is_valid_nik, mask_niks
from normalizers.record import may_hold_digits

# 16 71 05 | 45 06 90 | 0003: Sumatera Selatan, Palembang, a woman born 5 June 1990
WOMAN = "1671054506900003"
MAN = "1610020512850001"  # Ogan Ilir, born 5 Dec 1985

VALID: list[str] = [
    WOMAN,
    MAN,
    "1101010101000001",  # Aceh, 1 Jan 2000
    "1201013112990009",  # Sumatera Utara, 31 Dec 1999
    "1371017107800002",  # woman born 31 July 1980 (71 = 31 + 40)
    "1471014101010001",  # woman born 1 Jan 2001 (41)
    "1571010202020202",
    "1771010303030303",
    "1871010404040404",
    "1971010505050505",
    "2171010606060606",
    "3171010707070707",  # DKI Jakarta
    "3273010808080808",  # Jawa Barat
    "3374010909090909",  # Jawa Tengah
    "3471011010101010",  # DIY
    "3578011111111111",  # Jawa Timur
    "3671011212121212",  # Banten
    "5171012501790001",  # Bali
    "5271012602800001",
    "5371012703810001",
    "6171012804820001",
    "6271012905830001",
    "6371013006840001",
    "6471013107850001",
    "6571010108860001",
    "7171010209870001",
    "7271010310880001",
    "7371010411890001",
    "7471010512900001",
    "7571010601910001",
    "7671010702920001",
    "8171010803930001",
    "8271010904940001",
    "9171011005950001",  # Papua Barat
    "9271011106960001",
    "9471011207970001",  # Papua
    "1671056906009999",  # woman born 29 June 2000
]

INVALID: list[str] = [
    "1234567890123456",  # day 78
    "0071054506900003",  # province 00
    "1071054506900003",  # province 10 does not exist
    "2071054506900003",
    "2271054506900003",
    "4171054506900003",
    "9971054506900003",
    "1600054506900003",  # regency 00
    "1671004506900003",  # district 00
    "1671050006900003",  # day 00
    "1671053206900003",  # day 32
    "1671054006900003",  # day 40
    "1671057206900003",  # day 72
    "1671054500900003",  # month 00
    "1671054513900003",  # month 13
    "1671054506900000",  # serial 0000
    "167105450690000",  # 15 digits
    "16710545069000031",  # 17 digits
    "1671O54506900003",  # a letter O
    "",
]


@pytest.mark.parametrize("nik", VALID)
def test_valid(nik: str) -> None:
    assert is_valid_nik(nik)
    assert find_niks(f"NIK saya {nik} terima kasih") == [nik]


@pytest.mark.parametrize("nik", INVALID)
def test_invalid(nik: str) -> None:
    assert not is_valid_nik(nik)
    assert find_niks(f"nomor {nik} ya") == []


def test_enough_cases() -> None:
    assert len(VALID) + len(INVALID) >= 50


TEXTS: list[tuple[str, list[str], str]] = [
    (f"NIK {WOMAN}", [WOMAN], "NIK 1671********0003"),
    (f"nik: {WOMAN[:4]} {WOMAN[4:8]} {WOMAN[8:12]} {WOMAN[12:]}", [WOMAN], "nik: 1671********0003"),
    ("no ktp 1671-0545-0690-0003", [WOMAN], "no ktp 1671********0003"),
    ("NIK: 16 71 05 450690 0003 ok", [WOMAN], "NIK: 1671********0003 ok"),
    ("NIK.1671.0545.0690.0003", [WOMAN], "NIK.1671********0003"),
    (f"{WOMAN} dan {MAN}", [WOMAN, MAN], "1671********0003 dan 1610********0001"),
    # any 16-digit run is masked in text even when it is not a NIK (privacy errs that way)
    ("kartu 1234567890123456", [], "kartu 1234********3456"),
    # longer and shorter runs are not NIKs and stay as they are
    ("rekening 12345678901234567", [], "rekening 12345678901234567"),
    ("nomor 167105450690000", [], "nomor 167105450690000"),
    ("hp 081234567890", [], "hp 081234567890"),
    ("sudah dimask 1671********0003", [], "sudah dimask 1671********0003"),
]


@pytest.mark.parametrize(("text", "niks", "masked"), TEXTS)
def test_find_and_mask_in_text(text: str, niks: list[str], masked: str) -> None:
    assert find_niks(text) == niks
    assert mask_niks(text) == masked
    assert WOMAN not in mask_niks(text) and MAN not in mask_niks(text)


def test_texts_with_too_few_digits_are_not_scanned() -> None:
    # find_niks and mask_niks skip texts with fewer than 16 digits: no pattern matches there
    pieces = [t[0] for t in TEXTS] + [
        "NIK", "nik:", "No. KTP", "ktp ", "1671", "0545", "0690", "0003", "16 71 05", " ", "  ",
        ".", "-", "*", "٣", "\uff11", "x",
    ]  # fmt: skip
    rng = random.Random(6)
    skipped = 0
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        if not may_hold_digits(text, 16):
            skipped += 1
            assert _LABELLED.search(text) is None and _RUN.search(text) is None, text
            assert record._NIK_IN_TEXT.search(text) is None, text
            assert find_niks(text) == [] and mask_niks(text) == text
    assert skipped > 1000
