"""Indonesian number words as callers dictate them, table-driven."""

from __future__ import annotations

import pytest

from normalizers.spoken_numbers import number_groups, replace_spoken_numbers, words_to_digits

# phrase -> the digits it says
PHRASES: list[tuple[str, str]] = [
    ("nol", "0"),
    ("kosong", "0"),
    ("satu", "1"),
    ("sembilan", "9"),
    ("sepuluh", "10"),
    ("sebelas", "11"),
    ("dua belas", "12"),
    ("sembilan belas", "19"),
    ("dua puluh", "20"),
    ("dua puluh satu", "21"),
    ("sembilan puluh sembilan", "99"),
    ("seratus", "100"),
    ("seratus dua puluh", "120"),
    ("seratus lima", "105"),
    ("dua ratus sebelas", "211"),
    ("sembilan ratus sembilan puluh sembilan", "999"),
    ("seribu", "1000"),
    ("seribu dua ratus", "1200"),
    ("dua ribu dua puluh empat", "2024"),
    ("seratus ribu", "100000"),
    ("seratus lima puluh ribu", "150000"),
    ("tiga juta lima ratus ribu", "3500000"),
    ("Satu Juta", "1000000"),
    # dictations: one group after another, concatenated
    ("nol delapan satu dua", "0812"),
    ("kosong delapan satu tiga", "0813"),
    ("kosong kosong", "00"),
    ("delapan satu", "81"),
    ("dua belas tiga puluh empat", "1234"),
    ("dua puluh dua puluh", "2020"),
    ("nol delapan satu satu dua dua dua tiga tiga tiga empat", "08112223334"),
    ("0812 tiga empat lima", "0812345"),
    ("satu sebelas", "111"),
]


@pytest.mark.parametrize(("phrase", "digits"), PHRASES)
def test_words_to_digits(phrase: str, digits: str) -> None:
    assert words_to_digits(phrase) == digits


@pytest.mark.parametrize("phrase", ["puluh", "ribu", "halo pak", "dua orang", ""])
def test_not_a_number(phrase: str) -> None:
    assert words_to_digits(phrase) is None


def test_groups_keep_leading_zero_apart() -> None:
    assert number_groups(["nol", "delapan", "satu", "dua"]) == [0, 8, 1, 2]
    assert number_groups(["seratus", "dua", "puluh"]) == [120]


# text -> (all runs replaced, only dictations of 6+ digits replaced)
TEXTS: list[tuple[str, str, str]] = [
    (
        "nomor saya nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol",
        "nomor saya 081234567890",
        "nomor saya 081234567890",
    ),
    (
        "kosong delapan satu tiga, dua belas, tiga puluh empat, lima enam tujuh delapan",
        "081312345678",
        "081312345678",
    ),
    ("ada dua belas rumah terendam", "ada 12 rumah terendam", "ada dua belas rumah terendam"),
    ("satu orang, dua orang", "1 orang, 2 orang", "satu orang, dua orang"),
    ("rt nol tiga rw nol lima", "rt 03 rw 05", "rt nol tiga rw nol lima"),
    ("bayar seratus lima puluh ribu", "bayar 150000", "bayar seratus lima puluh ribu"),
    ("tahun 2024 dua kali", "tahun 2024 2 kali", "tahun 2024 dua kali"),
    ("puluhan orang", "puluhan orang", "puluhan orang"),
    ("Satu Enam Satu Nol, nol satu satu lima", "16100115", "16100115"),
    ("sudah tiga, empat hari", "sudah 3, 4 hari", "sudah tiga, empat hari"),
]


@pytest.mark.parametrize(("text", "everything", "dictated"), TEXTS)
def test_replace_in_text(text: str, everything: str, dictated: str) -> None:
    assert replace_spoken_numbers(text) == everything
    assert replace_spoken_numbers(text, min_digits=6, dictated_only=True) == dictated


def test_a_dictated_nik_becomes_sixteen_digits() -> None:
    said = "satu enam satu nol nol satu satu lima nol tiga delapan lima nol nol nol dua"
    assert replace_spoken_numbers(said, min_digits=6, dictated_only=True) == "1610011503850002"
