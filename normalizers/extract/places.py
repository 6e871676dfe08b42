"""Places named in a complaint, resolved against the ``areaid`` gazetteer of all Indonesia.

The gazetteer (34 provinces, ~500 regencies, ~7,000 districts, ~82,000 villages) ships as JSON
inside the ``areaid`` package. Reading package data is not I/O in the sense that matters for a
pure normalizer (it never changes, it needs no network, no clock, no state from the world), so
the index is built lazily from it, once per scope, and kept behind ``functools.cache``: the
index is immutable (tuples, frozensets and read-only mappings), so the cache holds no mutable
module state and concurrent readers are safe.

Matching is by token n-grams in a hash map (a few dictionary look-ups per word, well under a
millisecond per message). Markers ("desa", "ds.", "kel.", "kec.", "kab.", "kota", "prov.")
restrict the level and allow a fuzzy look-up for misspelled names (difflib's choice, made
among the few names rapidfuzz's Indel distance leaves possible); unmarked names are accepted
only when they are unlikely to be ordinary words. Ambiguous names (there are 91 villages named
Sidomulyo) are decided by the other names in the text (a village under a district also named),
then by the office's regency. Canonical names are the gazetteer's spelling, with the
parenthesised variants dropped and "Sumatra" written the official way, "Sumatera".
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import Indel

__all__ = ["Place", "find_place", "gazetteer_provinces"]

VILLAGE, DISTRICT, REGENCY, PROVINCE = 3, 2, 1, 0

MARKERS: dict[str, int] = {
    "desa": VILLAGE, "ds": VILLAGE, "kelurahan": VILLAGE, "kel": VILLAGE, "kelur": VILLAGE,
    "kalurahan": VILLAGE, "nagari": VILLAGE, "gampong": VILLAGE,
    "kecamatan": DISTRICT, "kec": DISTRICT, "kc": DISTRICT, "kcm": DISTRICT, "kecmtn": DISTRICT,
    "distrik": DISTRICT,
    "kabupaten": REGENCY, "kab": REGENCY, "kota": REGENCY, "kodya": REGENCY,
    "kotamadya": REGENCY, "kabupatem": REGENCY,
    "provinsi": PROVINCE, "prov": PROVINCE, "propinsi": PROVINCE, "prop": PROVINCE,
}  # fmt: skip

# Token spellings that mean the same thing in place names ("Sei" and "Sungai" are one word).
SYNONYMS: dict[str, str] = {
    "sei": "sungai", "sui": "sungai", "sng": "sungai", "tj": "tanjung", "tjg": "tanjung",
    "tg": "tanjung", "kp": "kampung", "kmp": "kampung", "sumatra": "sumatera", "pd": "padang",
    "dsn": "dusun", "1": "i", "2": "ii", "3": "iii", "4": "iv", "5": "v", "satu": "i",
    "dua": "ii", "tiga": "iii", "lbk": "lubuk", "mr": "muara", "ma": "muara", "plg": "palembang",
}  # fmt: skip

# Regional shorthands people use for provinces and a few regencies.
ALIASES: dict[str, str] = {
    "sumsel": "sumatera selatan", "sumut": "sumatera utara", "sumbar": "sumatera barat",
    "jabar": "jawa barat", "jateng": "jawa tengah", "jatim": "jawa timur",
    "diy": "daerah istimewa yogyakarta", "jogja": "yogyakarta", "yogya": "yogyakarta",
    "dki": "daerah khusus ibukota jakarta", "kalbar": "kalimantan barat",
    "kalteng": "kalimantan tengah", "kalsel": "kalimantan selatan",
    "kaltim": "kalimantan timur", "kaltara": "kalimantan utara", "sulut": "sulawesi utara",
    "sulteng": "sulawesi tengah", "sulsel": "sulawesi selatan", "sultra": "sulawesi tenggara",
    "sulbar": "sulawesi barat", "ntb": "nusa tenggara barat", "ntt": "nusa tenggara timur",
    "babel": "kepulauan bangka belitung", "kepri": "kepulauan riau", "malut": "maluku utara",
    "oi": "ogan ilir", "oki": "ogan komering ilir", "oku": "ogan komering ulu",
    "muba": "musi banyuasin", "mura": "musi rawas", "pali": "penukal abab lematang ilir",
}  # fmt: skip

# Ordinary words that are also place names: never taken as a place without a marker.
_COMMON_TEXT = """
    ada adalah agar air akan aku anak antara apa atas atau baik banyak baru bawah belum benar
    besar bisa bukan dalam dan dari depan desa dengan di dia ini itu jadi jalan jembatan juga
    kami kampung kanan kantor karena ke kecil kiri kota lagi lain lama lampu lebih lewat luar
    maaf mana masih mau melalui mereka mohon naik pada pagi panjang parit pasar pemerintah
    perlu pinggir pintu pulau puskesmas raya ruas rusak saja sampai sangat satu saya sebelah
    sedang sejak selatan sekolah seperti sini sudah sungai supaya tanah tanjung tengah tetapi
    tidak timur utara barat ulu ilir umum warga yang bukit batu air talang lubuk muara ujung
    indah jaya makmur mulia sari sakti baru lama kembang harapan damai sejahtera bahagia
    merdeka mekar maju indah permai asri rejo rejeki tunas beringin kenanga melati mawar
    cempaka tengah pusat teluk rawa sawah kebun hutan gunung danau laut pantai lorong gang
    kali parit pondok rumah tanjung pangkalan simpang tiga dua empat lima enam kelapa pinang
    durian rambutan duku nangka mangga bambu pinus jati karet sawit padi beras garam minyak
    timbangan bakung kasih raja ratu putri putra tinggi rendah dalam luar lintas alam bumi
    langit bintang bulan matahari terang gelap panas dingin basah kering ramai sepi aman
    kami kita kamu anda kalian sana situ setempat tersebut terdekat sebelah kampungku kamu
    tetangga lain sekitar sekitarnya ini itu nya setempat saja yang tapi tetapi namun blm
    belum sdh sudah udah tdk gak ga nggak tidak bukan ada adanya dan atau serta juga pun lagi
    mohon tolong segera untuk utk buat bagi kepada ke dari di pada oleh sama dengan dgn yg
    terus lalu kemudian setelah sebelum waktu saat ketika sejak hingga sampai agar supaya
    sehingga karena krn jadi maka bahwa kalau jika apabila bila hari minggu bulan tahun kemarin
    siang sore malam subuh tadi gantung besi kayu beton putus ambruk roboh miring baru lama
    kepala sekretaris perangkat dana bantuan kantor balai aula masjid musholla gereja
"""
COMMON_WORDS: frozenset[str] = frozenset(_COMMON_TEXT.split())


class Entry(NamedTuple):
    """One gazetteer unit with its canonical chain (village/district may be None)."""

    level: int
    province: str
    regency: str | None
    district: str | None
    village: str | None

    def chain(self) -> tuple[str | None, ...]:
        return (self.province, self.regency, self.district, self.village)[: self.level + 1]


@dataclass(frozen=True)
class Place:
    """What ``find_place`` resolved: canonical names and the phrase as written."""

    text: str
    province: str
    regency: str | None = None
    district: str | None = None
    village: str | None = None


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a key of _closest's cache
class _Index:
    keys: MappingProxyType[tuple[str, ...], tuple[Entry, ...]]
    #: (level, first letter, length of the joined name) -> joined names: the fuzzy look-up
    #: only ever compares names of one level and initial within 3 characters of the phrase
    by_initial: MappingProxyType[tuple[int, str, int], tuple[str, ...]]
    #: joined name ("tanjung pering") -> its key; joining is one-to-one (tokens hold no spaces)
    joined: MappingProxyType[str, tuple[str, ...]]
    #: first word of a key -> the longest key it starts: most words start none, and the
    #: n-gram loop need not build a tuple to find that out
    starts: MappingProxyType[str, int]


_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# The same tokens in an ASCII text ([^\W_] is [A-Za-z0-9] there), found ~30% faster: the
# engine tests an ASCII class with a bitmap instead of looking each character's category up.
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")
_PAREN = re.compile(r"\s*\(([^)]*)\)\s*")
_SPACES = re.compile(r"\s+")
_SUMATRA = re.compile(r"\bSumatra\b")


def _norm_token(token: str) -> str:
    token = token.lower().replace("'", "").replace("’", "")
    return SYNONYMS.get(token, token)


def _key(name: str) -> tuple[str, ...]:
    return tuple(_norm_token(t) for t in _TOKEN.findall(name.replace("-", " ")))


def _canonical(name: str) -> str:
    name = _PAREN.sub(" ", name).strip()
    name = _SPACES.sub(" ", name)
    return _SUMATRA.sub("Sumatera", name)


def _variants(name: str) -> list[tuple[str, ...]]:
    """Keys under which a gazetteer name is found: itself, its parenthesised variant, slashes."""
    base = _PAREN.sub(" ", name).strip()
    out = [base]
    for alias in _PAREN.findall(name):
        alias = alias.strip()
        if not alias:
            continue
        words = base.split()
        if len(alias.split()) >= 2 or len(words) == 1:
            out.append(alias)
        else:
            out.append(" ".join([*words[:-1], alias]))
    for item in list(out):
        if "/" in item:
            head, _, tail = item.partition("/")
            rest = tail.split(" ", 1)
            out.append(head.rsplit(" ", 1)[0] + " " + rest[0] if " " in head else head)
            out.append(" ".join(p for p in (head.rsplit(" ", 1)[0] if " " in head else "",
                                            *rest) if p))  # fmt: skip
    keys: list[tuple[str, ...]] = []
    for item in out:
        key = _key(item.replace("/", " "))
        if key and key not in keys:
            keys.append(key)
    return keys


def _regency_keys(name: str) -> list[tuple[str, ...]]:
    """ "Kabupaten Ogan Ilir" is found as "ogan ilir" (and "kabupaten ogan ilir" via the marker)."""
    keys = []
    for key in _variants(name):
        if key and key[0] in ("kabupaten", "kota") and len(key) > 1:
            key = key[1:]
        if key:
            keys.append(key)
    return keys


@cache
def gazetteer_provinces() -> tuple[str, ...]:
    """Canonical names of the gazetteer's provinces (as ``location.province`` writes them)."""
    return tuple(_canonical(p) for p in _load_names())


@cache
def _load_names() -> tuple[str, ...]:
    """Read once: every ``find_place`` call resolves its scope through this list."""
    text = resources.files("areaid").joinpath("nama/provinsi.json").read_text("utf-8")
    names: list[str] = json.loads(text)["himpunan"]
    return tuple(names)


def _load_province(name: str) -> list[dict[str, Any]]:
    path = resources.files("areaid").joinpath(f"data/{name.lower()}.json")
    data: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data


@lru_cache(maxsize=64)
def _resolve_provinces(province: str | None) -> tuple[str, ...]:
    """Gazetteer file names for a scope: one province (office's) or all of them (None).

    Cached, bounded: an office asks with the same province for every message, but the name is
    configuration, not gazetteer data, so there is no telling how many a process may see.
    """
    names = _load_names()
    if province is None:
        return names
    wanted = _key(province)
    for name in names:
        if _key(name) == wanted:
            return (name,)
    return names  # unknown province name: fall back to the whole country


@cache
def _index(provinces: tuple[str, ...]) -> _Index:
    keys: dict[tuple[str, ...], list[Entry]] = {}

    def add(key: tuple[str, ...], entry: Entry) -> None:
        bucket = keys.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)

    for file_name in provinces:
        for prov in _load_province(file_name):
            p_name = _canonical(prov["provinsi"])
            p_entry = Entry(PROVINCE, p_name, None, None, None)
            for key in _variants(prov["provinsi"]):
                add(key, p_entry)
            for kab in prov["kabupaten"]:
                r_name = _canonical(kab["kab_kota"])
                r_entry = Entry(REGENCY, p_name, r_name, None, None)
                for key in _regency_keys(kab["kab_kota"]):
                    add(key, r_entry)
                for kec in kab["kecamatan"]:
                    d_name = _canonical(kec["kec"])
                    d_entry = Entry(DISTRICT, p_name, r_name, d_name, None)
                    for key in _variants(kec["kec"]):
                        add(key, d_entry)
                    for kel in kec["kelurahan"]:
                        v_entry = Entry(VILLAGE, p_name, r_name, d_name, _canonical(kel["kelu"]))
                        for key in _variants(kel["kelu"]):
                            add(key, v_entry)
    # "lubuklinggau", "pagaralam": regencies and districts written as one word
    for key, entries in list(keys.items()):
        if 2 <= len(key) <= 3:
            for entry in entries:
                if entry.level in (REGENCY, DISTRICT):
                    add(("".join(key),), entry)
    for alias, target in ALIASES.items():
        for entry in list(keys.get(_key(target), ())):
            if entry.level <= REGENCY:
                add((alias,), entry)
    by_initial: dict[tuple[int, str, int], list[str]] = {}
    joined_keys: dict[str, tuple[str, ...]] = {}
    starts: dict[str, int] = {}
    for key, entries in keys.items():
        joined = " ".join(key)
        joined_keys[joined] = key
        starts[key[0]] = max(starts.get(key[0], 0), len(key))
        for level in {e.level for e in entries}:
            by_initial.setdefault((level, joined[0], len(joined)), []).append(joined)
    return _Index(
        keys=MappingProxyType({k: tuple(v) for k, v in keys.items()}),
        by_initial=MappingProxyType({k: tuple(v) for k, v in by_initial.items()}),
        joined=MappingProxyType(joined_keys),
        starts=MappingProxyType(starts),
    )


class _Mention(NamedTuple):
    start: int  # character offsets into the original text (marker included)
    end: int
    entries: tuple[Entry, ...]
    marked: bool


def _fuzzy(
    index: _Index, words: list[str], plain: list[str], level: int
) -> tuple[int, tuple[Entry, ...]]:
    """Best fuzzy match of the first 1..3 words against names of ``level``: (n words, entries).

    Ordinary words are not misspelt names: "desa kami", "desa siang hari" match nothing.
    """
    best: tuple[float, int, tuple[Entry, ...]] = (0.0, 0, ())
    for n in range(min(3, len(words)), 0, -1):
        if (n == 1 and _ordinary(plain[0])) or all(w in COMMON_WORDS for w in plain[:n]):
            continue
        phrase = " ".join(words[:n])
        if len(phrase) < 5:
            continue
        closest = _closest(index, phrase, level)
        if closest is not None and closest[0] > best[0]:
            ratio, match = closest
            key = index.joined[match]
            entries = tuple(e for e in index.keys[key] if e.level == level)
            best = (ratio, n, entries)
    return best[1], best[2]


@lru_cache(maxsize=4096)
def _closest(index: _Index, phrase: str, level: int) -> tuple[float, str] | None:
    """difflib's closest name of ``level`` to ``phrase`` and its ratio; None when none is close.

    Cached, bounded: a misspelt place comes back in message after message of one office, and
    difflib spends ~12 us a candidate. The answer depends on the arguments alone (the index
    is immutable), so the cache holds no state of its own.
    """
    cutoff = 0.8 if len(phrase) >= 7 else 0.86
    candidates = _candidates(index, phrase, level, cutoff)
    if not candidates:
        return None  # difflib would find none either, after ~4 us of setting up
    for match in difflib.get_close_matches(phrase, candidates, n=1, cutoff=cutoff):
        return difflib.SequenceMatcher(None, phrase, match).ratio(), match
    return None


def _candidates(index: _Index, phrase: str, level: int, cutoff: float) -> list[str]:
    """The names of ``level`` that difflib could find close to ``phrase``: a superset, cheaply.

    difflib scores 2*M/T (T: both lengths), M counting the characters of its matching blocks,
    a common subsequence of the two strings; so M <= LCS, and a name difflib puts at or over
    the cutoff has an Indel distance T - 2*LCS <= (1 - cutoff) * T. rapidfuzz counts that
    distance in C++ for the whole pool; difflib, run on the few left, then picks exactly what
    it would have picked over them all. Integer distances: rapidfuzz's normalized scores round
    their cutoffs (a 0.8 at a cutoff of 0.8 - 1e-9 is dropped), which a superset cannot afford.
    """
    names: list[str] = []
    initial, size = phrase[0], len(phrase)
    for length in range(size - 3, size + 4):
        names.extend(index.by_initial.get((level, initial, length), ()))
    if not names:
        return names
    slack = 1.0 - cutoff
    # the longest name allowed (3 more characters) has the largest T; +1 against float rounding
    most = int(slack * (2 * size + 3)) + 1
    found = process.extract(
        phrase, names, scorer=Indel.distance, processor=None, score_cutoff=most, limit=None
    )
    # each name's own T; 1e-9: (1 - 0.8) * 20 is 3.9999999999999996 in floats, not 4
    return [name for name, dist, _ in found if dist <= slack * (size + len(name)) + 1e-9]


@cache
def _dictionary() -> frozenset[str]:
    """Indonesian root words (Sastrawi's ~30,000-word KBBI list), read once, immutable.

    A village or district whose name is an ordinary word ("Taman", "Butuh", "Tutup", "Parit")
    is only taken for a place when it is written like a name, not like a word.
    """
    try:
        data = resources.files("Sastrawi").joinpath("Stemmer/data/kata-dasar.txt")
        return frozenset(data.read_text("utf-8").split())
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - dependency missing
        return frozenset()


def _ordinary(word: str) -> bool:
    return word in COMMON_WORDS or word in _dictionary()


#: Words after which "desa X" / "kecamatan X" names a place rather than modifying a noun
#: ("kantor desa tutup" is an office that is closed, "warga desa Tutup" lives in Tutup).
_PLACE_LEAD_TEXT = """di ke dari warga penduduk masyarakat wilayah daerah kawasan sekitar dekat
area asal alamat lokasi tinggal dusun rt rw"""
_PLACE_LEAD = frozenset(_PLACE_LEAD_TEXT.split())


def _starts_sentence(text: str, token: re.Match[str]) -> bool:
    before = text[: token.start()].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?:\n"


class _Case:
    """Which tokens start with a capital letter, and whether the text mixes cases.

    Only a candidate name that needs its spelling judged asks (one text in four or five), so the
    flags are worked out then, once, rather than for every token of every text up front.
    """

    __slots__ = ("_capital", "_mixed", "_spaced", "_tokens")

    def __init__(self, spaced: str, tokens: list[re.Match[str]]) -> None:
        self._spaced, self._tokens = spaced, tokens
        self._capital: list[bool] | None = None
        self._mixed = False

    @property
    def capital(self) -> list[bool]:
        return self._work_out()

    @property
    def mixed(self) -> bool:
        self._work_out()
        return self._mixed

    def _work_out(self) -> list[bool]:
        if self._capital is None:
            spaced = self._spaced
            # a token is never empty; its first character as written, whatever text was scanned
            self._capital = [spaced[t.start()].isupper() for t in self._tokens]
            self._mixed = any(self._capital) and not all(self._capital)
        return self._capital


def _mentions(text: str, index: _Index) -> list[_Mention]:
    spaced = text.replace("-", " ")
    if spaced.isascii():
        # ASCII lower case keeps every character's place: the tokens of the lowered text are
        # the tokens, lowered, at the same offsets (no str.lower per token, no raw list)
        tokens = list(_ASCII_TOKEN.finditer(spaced.lower()))
        plain = [t[0] for t in tokens]  # before synonyms: "tiga" is a word, not "III"
        raw = plain  # _norm_token lowers first: the lowered spelling gives the same word
    else:
        tokens = list(_TOKEN.finditer(spaced))
        raw = [t[0] for t in tokens]
        plain = [w.lower() for w in raw]
    if "'" in text or "’" in text:
        words = [_norm_token(w) for w in raw]
    else:  # nothing to drop: ``_norm_token`` is the synonym of the lower case
        synonym = SYNONYMS.get
        words = [synonym(w, w) for w in plain]
    case = _Case(spaced, tokens)
    found: list[_Mention] = []
    starts = index.starts
    # Most words (~85% in complaints) neither are markers nor start a name: at those the loop
    # below only steps on, so it visits the others alone, each the first not yet consumed.
    hits = [k for k, w in enumerate(words) if w in starts or w in MARKERS]
    h, i = 0, 0
    while True:
        while h < len(hits) and hits[h] < i:
            h += 1
        if h == len(hits):
            break
        i = hits[h]
        level = MARKERS.get(words[i])
        if level is not None and i + 1 < len(words):
            between = text[tokens[i].end() : tokens[i + 1].start()]
            if between.strip(" .") or "\n" in between:
                i += 1  # "kepala desa, pembangunan…": the marker does not name the next word
                continue
            # "kab." / "kota" before a regency name, "kec." before a district…
            j = i + 1
            lead_ok = (
                i == 0
                or plain[i - 1] in _PLACE_LEAD
                or _starts_sentence(text, tokens[i])
                or bool(found and found[-1].end == tokens[i - 1].end())  # "kec. X desa Y"
            )
            for n in range(min(starts.get(words[j], 0), len(words) - j), 0, -1):
                entries = tuple(e for e in index.keys.get(tuple(words[j : j + n]), ()) if
                                e.level == level)  # fmt: skip
                if not entries:
                    continue
                if (
                    level >= DISTRICT
                    and not lead_ok
                    and not all(case.capital[j : j + n])
                    and all(_ordinary(w) for w in plain[j : j + n])
                ):
                    continue  # "jalan desa jebol", "kantor desa tutup"
                if level == REGENCY:
                    # "kota Bandung" and "kab. Bandung" are two different regencies
                    kind = "Kota" if words[i] in ("kota", "kodya", "kotamadya") else "Kabupaten"
                    entries = (
                        tuple(e for e in entries if (e.regency or "").startswith(kind)) or entries
                    )
                found.append(_Mention(tokens[i].start(), tokens[j + n - 1].end(), entries, True))
                i = j + n
                break
            else:
                n, entries = 0, ()
                if j + 1 < len(words):  # "banyu asin", "pagar alam": one name split in two
                    joined = index.keys.get((words[j] + words[j + 1],), ())
                    n, entries = 2, tuple(e for e in joined if e.level == level)
                if not entries:
                    n, entries = _fuzzy(index, words[j : j + 3], plain[j : j + 3], level)
                if entries:
                    found.append(
                        _Mention(tokens[i].start(), tokens[j + n - 1].end(), entries, True)
                    )
                    i = j + n
                else:
                    i += 1
            continue
        longest = starts.get(words[i], 0)
        if not longest:
            i += 1
            continue
        for n in range(min(longest, len(words) - i), 0, -1):
            entries = index.keys.get(tuple(words[i : i + n]), ())
            if entries:
                entries = _unmarked(entries, text, tokens, plain, case, i, n)
            if not entries:
                continue
            # an unmarked name that is both a district and its capital village means the district
            top = min(e.level for e in entries)
            entries = tuple(e for e in entries if e.level == top)
            found.append(_Mention(tokens[i].start(), tokens[i + n - 1].end(), entries, False))
            i += n - 1
            break
        i += 1
    return found


def _unmarked(
    entries: tuple[Entry, ...],
    text: str,
    tokens: list[re.Match[str]],
    plain: list[str],
    case: _Case,
    i: int,
    n: int,
) -> tuple[Entry, ...]:
    """The entries a name written without a marker may stand for (often none: it is a word)."""
    span = plain[i : i + n]
    if n == 1:
        word = span[0]
        if word in COMMON_WORDS or (len(word) < 4 and not (word in ALIASES and len(word) >= 3)):
            return ()
    capital = case.capital
    if case.mixed and not capital[i]:
        return ()  # the writer capitalises names; a lower-case one here is a word
    written_as_name = all(capital[i : i + n]) and not (n == 1 and _starts_sentence(text, tokens[i]))
    if all(_ordinary(w) for w in span) and not written_as_name:
        # "bandung" may still be the regency; "taman", "butuh" are not districts
        entries = tuple(e for e in entries if e.level <= REGENCY)
    if n == 1 and not (capital[i] and len(span[0]) >= 6):
        # a lone village name is too weak a clue unless it is capitalised and not short
        entries = tuple(e for e in entries if e.level < VILLAGE)
    return entries


def _related(a: Entry, b: Entry) -> bool:
    short, long = (a, b) if a.level <= b.level else (b, a)
    return short.level != long.level and long.chain()[: short.level + 1] == short.chain()


def find_place(
    text: str, province: str | None = None, regency: str | None = None, everywhere: bool = False
) -> Place | None:
    """The most specific place the text names, within ``province`` unless ``everywhere``.

    ``regency`` (the office's) breaks ties between equally supported candidates.
    """
    if not text:
        return None
    index = _index(_resolve_provinces(None if everywhere else province))
    mentions = _mentions(text, index)
    if not mentions:
        return None
    # "Kota Bandung" names one regency; a bare "Bandung" accepts Kota and Kabupaten Bandung
    home = _office_key(regency) if regency else None
    scored: list[tuple[float, int, Entry]] = []
    for pos, mention in enumerate(mentions):
        for entry in mention.entries:
            support = sum(
                1
                for other_pos, other in enumerate(mentions)
                if other_pos != pos and any(_related(entry, e) for e in other.entries)
            )
            at_home = 0.5 if home and entry.regency and home in _home_keys(entry.regency) else 0
            unique = 0.25 if len(mention.entries) == 1 else 0
            score = 2.0 * support + at_home + unique + 0.1 * entry.level + 0.2 * mention.marked
            scored.append((score, -pos, entry))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best = scored[0][2]
    # "desa X kec. Y": the best-supported unit may be the district; its named village is better
    finer = [item for item in scored if item[2].level > best.level and _related(item[2], best)]
    if finer:
        best = max(finer, key=lambda item: (item[2].level, item[0]))[2]
    spans = [
        (m.start, m.end) for m in mentions if any(e == best or _related(e, best) for e in m.entries)
    ]
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if end - start > 120:  # far-apart names: keep the phrase of the chosen one only
        start, end = next((m.start, m.end) for m in mentions if best in m.entries)
    return Place(
        text=text[start:end].strip(" ,.;"),
        province=best.province,
        regency=best.regency,
        district=best.district,
        village=best.village,
    )


@lru_cache(maxsize=64)
def _office_key(regency: str) -> tuple[str, ...]:
    """``_key`` of an office's regency: asked for every message, and the same every time.

    Bounded: the name is configuration, not gazetteer data (see ``_resolve_provinces``).
    """
    return _key(regency)


@cache
def _home_keys(name: str) -> tuple[tuple[str, ...], ...]:
    """How an office may spell its regency: "Kota Palembang", "Palembang", "Kab. Ogan Ilir".

    Cached: asked for every candidate of every message, always with a gazetteer regency name
    (a few hundred of them), so the cache stays small.
    """
    key = _key(name)
    if key and key[0] in ("kabupaten", "kota") and len(key) > 1:
        short = ("kab", *key[1:]) if key[0] == "kabupaten" else key
        return (key, key[1:], short)
    return (key,)
