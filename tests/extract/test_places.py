"""Places named in complaints, resolved against the areaid gazetteer within the office's region."""

from __future__ import annotations

import dataclasses
import difflib
import random
from types import MappingProxyType

import pytest

from normalizers.extract.places import (
    _ASCII_TOKEN,
    _TOKEN,
    COMMON_WORDS,
    DISTRICT,
    PROVINCE,
    REGENCY,
    VILLAGE,
    Entry,
    Place,
    _closest,
    _fuzzy,
    _Index,
    _index,
    _mentions,
    _ordinary,
    _resolve_provinces,
    find_place,
    gazetteer_provinces,
)

SS, OI = "Sumatera Selatan", "Kabupaten Ogan Ilir"
PLG = "Kota Palembang"

# (text, expected (village, district, regency, province) or None, location.text)
Row = tuple[str, tuple[str | None, str | None, str | None, str] | None, str | None]

SUMSEL: list[Row] = [
    ("Jalan rusak di desa Lorok kec. Indralaya Utara", ("Lorok", "Indralaya Utara", OI, SS),
     "desa Lorok kec. Indralaya Utara"),
    ("jln di ds. sakatiga rusak parah", ("Sakatiga", "Indralaya", OI, SS), "ds. sakatiga"),
    ("banjir di desa Tanjung Pering", ("Tanjung Pering", "Indralaya Utara", OI, SS),
     "desa Tanjung Pering"),
    ("Kel. Timbangan kec indralaya utara", ("Timbangan", "Indralaya Utara", OI, SS),
     "Kel. Timbangan kec indralaya utara"),
    ("kelurahan timbangan", ("Timbangan", "Indralaya Utara", OI, SS), "kelurahan timbangan"),
    ("jalan di Pemulutan rusak", (None, "Pemulutan", OI, SS), "Pemulutan"),
    ("sampah di kec pemulutan", (None, "Pemulutan", OI, SS), "kec pemulutan"),
    ("KECAMATAN RANTAU ALAI", (None, "Rantau Alai", OI, SS), "KECAMATAN RANTAU ALAI"),
    ("Ds. Meranjat II", ("Meranjat II", "Indralaya Selatan", OI, SS), "Ds. Meranjat II"),
    ("desa meranjat 2", ("Meranjat II", "Indralaya Selatan", OI, SS), "desa meranjat 2"),
    ("desa meranjat dua", ("Meranjat II", "Indralaya Selatan", OI, SS), "desa meranjat dua"),
    ("desa sei rambutan", ("Sungai Rambutan", "Indralaya Utara", OI, SS), "desa sei rambutan"),
    ("ds sungai rambutan", ("Sungai Rambutan", "Indralaya Utara", OI, SS), "ds sungai rambutan"),
    ("kec indralaya selatan desa beti", ("Beti", "Indralaya Selatan", OI, SS),
     "kec indralaya selatan desa beti"),
    ("Kec. Lubuk Keliat, desa Ketiau", ("Ketiau", "Lubuk Keliat", OI, SS),
     "Kec. Lubuk Keliat, desa Ketiau"),
    ("desa Kasih Raja", ("Kasih Raja", "Lubuk Keliat", OI, SS), "desa Kasih Raja"),
    ("saya warga Kel. Sukaraja Baru, Indralaya Selatan",
     ("Sukaraja Baru", "Indralaya Selatan", OI, SS), "Kel. Sukaraja Baru, Indralaya Selatan"),
    ("warga Talang Aur mengeluh", ("Talang Aur", "Indralaya", OI, SS), "Talang Aur"),
    # misspellings (fuzzy after a marker) and case
    ("Kec Indralay Utara banjir", (None, "Indralaya Utara", OI, SS), "Kec Indralay Utara"),
    ("kec. pemulutn barat", (None, "Pemulutan Barat", OI, SS), "kec. pemulutn barat"),
    ("desa tanjng pering", ("Tanjung Pering", "Indralaya Utara", OI, SS), "desa tanjng pering"),
    ("kota pagaralam", (None, None, "Kota Pagar Alam", SS), "kota pagaralam"),
    ("kab. ogan ilr", (None, None, OI, SS), "kab. ogan ilr"),
    # difflib's ratio is exactly the cutoff (0.8): the rapidfuzz prefilter must not drop it
    ("kab. muara emil", (None, None, "Kabupaten Muara Enim", SS), "kab. muara emil"),
    # district and its capital village share a name: unmarked -> the district
    ("lampu mati di Tanjung Raja", (None, "Tanjung Raja", OI, SS), "Tanjung Raja"),
    ("desa Tanjung Raja kec. tanjung raja", ("Tanjung Raja", "Tanjung Raja", OI, SS),
     "desa Tanjung Raja kec. tanjung raja"),
    ("Kec. Tanjung Raja Kab. Ogan Ilir", (None, "Tanjung Raja", OI, SS),
     "Kec. Tanjung Raja Kab. Ogan Ilir"),
    ("ds tanjung batu", ("Tanjung Batu", "Tanjung Batu", OI, SS), "ds tanjung batu"),
    # regencies, abbreviations, one-word spellings
    ("di kab. OI", (None, None, OI, SS), "kab. OI"),
    ("warga OKI", (None, None, "Kabupaten Ogan Komering Ilir", SS), "OKI"),
    ("Kabupaten Ogan Komering Ilir", (None, None, "Kabupaten Ogan Komering Ilir", SS),
     "Kabupaten Ogan Komering Ilir"),
    ("di oku selatan", (None, None, "Kabupaten Ogan Komering Ulu Selatan", SS), "oku selatan"),
    ("Kota Prabumulih", (None, None, "Kota Prabumulih", SS), "Kota Prabumulih"),
    ("lubuklinggau", (None, None, "Kota Lubuk Linggau", SS), "lubuklinggau"),
    ("Muara Enim", (None, None, "Kabupaten Muara Enim", SS), "Muara Enim"),
    ("kab banyu asin", (None, None, "Kabupaten Banyuasin", SS), "kab banyu asin"),
    ("banjir di palembang", (None, None, PLG, SS), "palembang"),
    ("di kota palembang kec ilir barat I", (None, "Ilir Barat I", PLG, SS),
     "kota palembang kec ilir barat I"),
    ("Palembang kec. Sukarami", (None, "Sukarami", PLG, SS), "Palembang kec. Sukarami"),
    ("kel kertapati", ("Kertapati", "Kertapati", PLG, SS), "kel kertapati"),
    ("sumsel", (None, None, None, SS), "sumsel"),
    ("provinsi sumatera selatan", (None, None, None, SS), "provinsi sumatera selatan"),
    ("Sumatra Selatan", (None, None, None, SS), "Sumatra Selatan"),
    # ambiguity decided by a higher-level name nearby (91 villages are named Sidomulyo)
    ("Desa Sidomulyo Kec. Air Kumbang", ("Sidomulyo", "Air Kumbang", "Kabupaten Banyuasin", SS),
     "Desa Sidomulyo Kec. Air Kumbang"),
    # negatives: ordinary words that are also place names, places outside the region
    ("parit tersumbat depan pasar", None, None),
    ("lampu mati di tanjung raja", None, None),  # lower-case common words, no marker
    ("lampu di Bakung mati", None, None),  # one-word village without a marker
    ("air sungai meluap", None, None),
    ("jalan baru rusak lagi", None, None),
    ("Pusat kota macet", None, None),
    ("di pasar", None, None),
    ("oi jalan rusak", None, None),
    ("Jakarta Selatan banjir", None, None),  # outside the office's province
    ("kota bandung", None, None),
    ("tidak ada apa apa", None, None),
    ("Kampung kami gelap", None, None),
    ("Harapan kami jalan diperbaiki", None, None),
    ("desa kami", None, None),
    ("jembatan gantung di dusun 3 sudah miring", None, None),
    ("truk lewat jalan desa siang hari", None, None),  # not a misspelt "Sindang Sari"
    ("kepala desa korupsi dana desa, pembangunan fiktif", None, None),  # the comma ends it
    ("kec.", None, None),
    ("", None, None),
]  # fmt: skip


def _check(found: Place | None, expected: Row) -> None:
    _, names, phrase = expected
    if names is None:
        assert found is None
        return
    assert found is not None
    assert (found.village, found.district, found.regency, found.province) == names
    assert found.text == phrase


@pytest.mark.parametrize("row", SUMSEL, ids=[r[0][:40] or "empty" for r in SUMSEL])
def test_ogan_ilir_office(row: Row) -> None:
    _check(find_place(row[0], "Sumatera Selatan", "Ogan Ilir"), row)


def test_enough_cases() -> None:
    assert len(SUMSEL) >= 50
    assert sum(1 for r in SUMSEL if r[1] is None) >= 12


JB = "Jawa Barat"
JABAR: list[Row] = [
    ("Bandung", (None, None, "Kota Bandung", JB), "Bandung"),  # the office's own regency wins
    ("kab bandung", (None, None, "Kabupaten Bandung", JB), "kab bandung"),
    ("kota bandung", (None, None, "Kota Bandung", JB), "kota bandung"),
    ("kec. Coblong", (None, "Coblong", "Kota Bandung", JB), "kec. Coblong"),
    ("jalan rusak di Cimahi", (None, None, "Kota Cimahi", JB), "Cimahi"),
    ("Sukamaju", ("Sukamaju", "Cibeunying Kidul", "Kota Bandung", JB), "Sukamaju"),
    ("lorok", None, None),
]


@pytest.mark.parametrize("row", JABAR, ids=[r[0] for r in JABAR])
def test_kota_bandung_office(row: Row) -> None:
    _check(find_place(row[0], "Jawa Barat", "Kota Bandung"), row)


def test_region_breaks_ties() -> None:
    # the same village name in two regencies: the office's regency decides
    in_city = find_place("Sukamaju", "Jawa Barat", "Kota Bandung")
    in_regency = find_place("Sukamaju", "Jawa Barat", "Bandung")
    assert in_city is not None and in_city.regency == "Kota Bandung"
    assert in_regency is not None and in_regency.regency == "Kabupaten Bandung"


def test_unknown_province_falls_back_to_the_country() -> None:
    found = find_place("desa Lorok kec. Indralaya Utara", "Atlantis")
    assert found is not None and found.regency == OI


def test_gazetteer_provinces() -> None:
    names = gazetteer_provinces()
    assert len(names) == 34
    assert "Sumatera Selatan" in names and "Sumatra Selatan" not in names


JT = "Jawa Tengah"
# Central Java has districts named after ordinary words (Butuh, Taman, Tambak, Teras).
JATENG: list[Row] = [
    ("korban banjir butuh makanan", None, None),
    ("usul ada taman bermain anak", None, None),
    ("murid belajar di teras", None, None),
    ("hutan mangrove ditebang untuk tambak", None, None),
    ("box culvert di jalan desa jebol", None, None),
    ("kantor desa tutup di jam kerja", None, None),
    ("kec. Butuh", (None, "Butuh", "Kabupaten Purworejo", JT), "kec. Butuh"),
    ("kecamatan taman", (None, "Taman", "Kabupaten Pemalang", JT), "kecamatan taman"),
    ("banjir di Kecamatan Teras, Boyolali", (None, "Teras", "Kabupaten Boyolali", JT),
     "Kecamatan Teras, Boyolali"),
    ("warga desa Tutup mengeluh", ("Tutup", "Tunjungan", "Kabupaten Blora", JT), "desa Tutup"),
    ("Jalan di Butuh rusak", (None, "Butuh", "Kabupaten Purworejo", JT), "Butuh"),
    ("Taman kota kotor", None, None),  # capitalised only because it starts the sentence
]  # fmt: skip


@pytest.mark.parametrize("row", JATENG, ids=[r[0] for r in JATENG])
def test_names_that_are_ordinary_words(row: Row) -> None:
    _check(find_place(row[0], "Jawa Tengah", "Kabupaten Semarang"), row)


# The fuzzy look-up narrows each pool with rapidfuzz before difflib decides. It must pick what
# difflib picks over the whole pool, i.e. what this reference (the look-up before the
# prefilter, scanning the index itself) picks.
def _fuzzy_reference(
    index: _Index, words: list[str], plain: list[str], level: int
) -> tuple[int, tuple[Entry, ...]]:
    best: tuple[float, int, tuple[Entry, ...]] = (0.0, 0, ())
    for n in range(min(3, len(words)), 0, -1):
        if (n == 1 and _ordinary(plain[0])) or all(w in COMMON_WORDS for w in plain[:n]):
            continue
        phrase = " ".join(words[:n])
        if len(phrase) < 5:
            continue
        pool = {
            " ".join(key): key
            for key, entries in index.keys.items()
            if any(e.level == level for e in entries)
        }
        names = [j for j in pool if j[0] == phrase[0] and abs(len(j) - len(phrase)) <= 3]
        cutoff = 0.8 if len(phrase) >= 7 else 0.86
        for match in difflib.get_close_matches(phrase, names, n=1, cutoff=cutoff):
            ratio = difflib.SequenceMatcher(None, phrase, match).ratio()
            if ratio > best[0]:
                entries = tuple(e for e in index.keys[pool[match]] if e.level == level)
                best = (ratio, n, entries)
    return best[1], best[2]


# (office province, level after the marker, the words after it as written)
MISSPELT: list[tuple[str, int, str]] = [
    (SS, VILLAGE, "tanjng pering"), (SS, VILLAGE, "tanjung pring sejak lama"),
    (SS, DISTRICT, "Indralay Utara banjir"), (SS, DISTRICT, "pemulutn barat"),
    (SS, REGENCY, "ogan ilr"), (SS, REGENCY, "muara emil"),  # ratio exactly the cutoff
    (SS, REGENCY, "muara enm kec"), (SS, VILLAGE, "meranjat sejak hari"),  # -> Meranjat I
    (SS, VILLAGE, "timbngan"), (SS, VILLAGE, "sakatig"), (SS, DISTRICT, "rantau ali"),
    (SS, REGENCY, "prabumulh"), (SS, REGENCY, "lubuk lingau"), (SS, REGENCY, "musi banyu asn"),
    (SS, PROVINCE, "sumatera selatn"), (SS, VILLAGE, "sungai rambtan"),
    (SS, DISTRICT, "tanjung rja"), (SS, VILLAGE, "kasih rja"), (SS, DISTRICT, "lubuk keliyat"),
    (JB, DISTRICT, "coblng"), (JB, VILLAGE, "sukamju"), (JB, REGENCY, "cimahy"),
    ("Jawa Tengah", DISTRICT, "purworjo"), ("Jawa Tengah", VILLAGE, "tutupp"),
    # nothing: ordinary words, too short, nothing close
    (SS, VILLAGE, "siang hari"), (SS, VILLAGE, "kami"), (SS, DISTRICT, "xyzzy qwerty"),
    (SS, VILLAGE, "abc"), (SS, REGENCY, "bandung"),
]  # fmt: skip


def _words(phrase: str) -> tuple[list[str], list[str]]:
    # the same tokens ``_mentions`` hands to ``_fuzzy`` (no apostrophes or synonyms here)
    plain = phrase.lower().split()
    return plain, plain


@pytest.mark.parametrize("row", MISSPELT, ids=[f"{r[1]}-{r[2]}" for r in MISSPELT])
def test_fuzzy_agrees_with_difflib(row: tuple[str, int, str]) -> None:
    province, level, phrase = row
    index = _index(_resolve_provinces(province))
    words, plain = _words(phrase)
    assert _fuzzy(index, words, plain, level) == _fuzzy_reference(index, words, plain, level)


def test_fuzzy_table_finds_places() -> None:
    found = 0
    for province, level, phrase in MISSPELT:
        words, plain = _words(phrase)
        found += bool(_fuzzy(_index(_resolve_provinces(province)), words, plain, level)[1])
    assert found >= 20


def _typo(rng: random.Random, name: str) -> str:
    chars = list(name)
    for _ in range(rng.choice((1, 1, 2, 3))):
        k = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.3 and len(chars) > 1:
            del chars[k]
        elif op < 0.6:
            chars.insert(k, rng.choice("aeiounrgklmst"))
        elif op < 0.85:
            chars[k] = rng.choice("aeiounrgklmst")
        elif k + 1 < len(chars):
            chars[k], chars[k + 1] = chars[k + 1], chars[k]
    return "".join(chars)


def test_fuzzy_agrees_with_difflib_on_generated_typos() -> None:
    rng = random.Random(4)
    index = _index(_resolve_provinces(SS))
    keys = sorted(index.keys)
    found = 0
    for key in rng.sample(keys, 250):
        level = rng.choice([e.level for e in index.keys[key]])
        phrase = _typo(rng, " ".join(key)) + rng.choice(("", " sejak", " kec ogan"))
        words, plain = _words(phrase)
        expected = _fuzzy_reference(index, words, plain, level)
        assert _fuzzy(index, words, plain, level) == expected, (phrase, level)
        found += bool(expected[1])
    assert found >= 100  # the table exercises matches, not only misses


def test_index_starts_bound_every_key() -> None:
    # the n-gram loop looks up no key longer than ``starts`` says for its first word
    index = _index(_resolve_provinces(SS))
    longest: dict[str, int] = {}
    for key in index.keys:
        longest[key[0]] = max(longest.get(key[0], 0), len(key))
    assert dict(index.starts) == longest


def test_apostrophes_and_synonyms_in_names() -> None:
    # the tokenizer's two paths (with and without apostrophes in the text) agree
    plain = find_place("banjir di desa Sei Rambutan", SS, "Ogan Ilir")
    quoted = find_place("banjir di desa Sei Rambutan, kata pak RT'nya", SS, "Ogan Ilir")
    assert plain is not None and quoted is not None
    assert (plain.village, plain.district) == (quoted.village, quoted.district)
    assert plain.village == "Sungai Rambutan"


class _EveryWord(dict[str, int]):
    """``starts`` as if every word could begin a key of the longest length: the plain loop."""

    def __init__(self, longest: int) -> None:
        super().__init__()
        self.longest = longest

    def __contains__(self, word: object) -> bool:
        return True

    def get(self, word: str, default: object = None) -> int:
        return self.longest


_MARKED = ("desa", "Ds.", "kel.", "Kelurahan", "kec.", "KECAMATAN", "kab.", "kota", "prov.")
_AROUND = (
    "Saya ingin melaporkan jalan berlubang di {} sejak 5 hari yang lalu. Mohon segera.",
    "Pengaduan sampah menumpuk di {}",
    "lampu mati di {}, kec. {} gelap",
    "warga {} mengeluh: air PDAM tidak mengalir",
    "{}",
)


def _texts(province: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    names = sorted(" ".join(k) for k in _index(_resolve_provinces(province)).keys)
    out = []
    for _ in range(count):
        phrases = []
        for _ in range(2):
            name = rng.choice(names)
            name = _typo(rng, name) if rng.random() < 0.5 else name
            name = name.title() if rng.random() < 0.5 else name
            phrases.append(f"{rng.choice(_MARKED)} {name}" if rng.random() < 0.7 else name)
        out.append(rng.choice(_AROUND).format(*phrases))
    return out


@pytest.mark.parametrize(
    ("province", "rows"), [(SS, SUMSEL), ("Jawa Tengah", JATENG)], ids=["sumsel", "jateng"]
)
def test_mentions_fast_paths_agree_with_the_plain_loop(province: str, rows: list[Row]) -> None:
    # ``starts`` lets the loop skip words that start no name and bounds the n-grams it tries;
    # texts without apostrophes skip ``_norm_token``. Neither may change a mention.
    index = _index(_resolve_provinces(province))
    every = _EveryWord(max(len(k) for k in index.keys))
    plain_loop = dataclasses.replace(index, starts=MappingProxyType(every))
    texts = [r[0] for r in rows] + _texts(province, 300, 11)
    found = 0
    for text in texts:
        fast = _mentions(text, index)
        assert fast == _mentions(text, plain_loop), text
        # a lone apostrophe after the last word changes no token, only the path taken
        assert fast == _mentions(text + " ’", index), text
        found += bool(fast)
    assert found >= len(texts) // 2


def test_ascii_tokens_are_the_unicode_patterns_tokens() -> None:
    # _mentions scans an ASCII text with the ASCII spelling of the token pattern
    rng = random.Random(8)
    alphabet = [chr(c) for c in range(128)] + ["'"] * 10 + ["a"] * 20
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        expected = [m.span() for m in _TOKEN.finditer(text)]
        assert [m.span() for m in _ASCII_TOKEN.finditer(text)] == expected, text
        assert [m.span() for m in _ASCII_TOKEN.finditer(text.lower())] == expected, text


def test_fuzzy_look_ups_are_cached_per_index() -> None:
    index = _index(_resolve_provinces(SS))
    words = ["meranjat", "sejak", "lama"]
    first = _fuzzy(index, words, words, VILLAGE)
    hits = _closest.cache_info().hits
    assert _fuzzy(index, words, words, VILLAGE) == first
    assert _closest.cache_info().hits > hits
    assert first == _fuzzy_reference(index, words, words, VILLAGE)
