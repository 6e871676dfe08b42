"""Places named in complaints, resolved against the areaid gazetteer within the office's region."""

from __future__ import annotations

import pytest

from normalizers.extract.places import Place, find_place, gazetteer_provinces

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
