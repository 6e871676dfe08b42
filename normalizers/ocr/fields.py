"""Field extraction from OCR word boxes: "label: value" forms, whoever printed them.

Works on geometry, not on Tesseract's own line/block split (which separates a label column from
its value column at random): words are grouped into rows by vertical position, labels are found
at the start of a row segment by fuzzy matching against known wordings (so "Narna", "Ura1an",
"No. Telp" and "Nama Lengkap Pelapor" all work), and a label's value runs to the right up to the
next label in the same row (two-column forms) and, for multi-line fields, down the rows below
within the label's column until the next label in that column.

Pure functions over plain data: the normalizer feeds them Tesseract's ``image_to_data`` output;
tests can feed them synthetic boxes.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_TITLE",
    "FIELD_LABELS",
    "FieldValue",
    "FormFields",
    "Label",
    "Word",
    "extract_fields",
    "find_labels",
    "group_documents",
    "group_rows",
    "split_documents",
    "starts_form",
    "words_from_data",
]

DEFAULT_TITLE = "FORMULIR PENGADUAN MASYARAKAT"

#: Known wordings of each field's label on Indonesian complaint forms (lower case, by words).
FIELD_LABELS: Mapping[str, tuple[str, ...]] = {
    "name": ("nama", "nama lengkap", "nama pelapor", "nama pengadu", "nama pemohon"),
    "nik": (
        "nik", "no nik", "nomor nik", "no ktp", "nomor ktp", "no identitas", "nik ktp",
        "nomor induk kependudukan",
    ),
    "address": ("alamat", "alamat lengkap", "alamat pelapor", "alamat rumah", "alamat tinggal"),
    "phone": (
        "no hp", "nomor hp", "no hp telepon", "no hp telp", "no hp wa", "no telepon", "no telp",
        "nomor telepon", "telepon", "telp", "hp", "no handphone", "handphone", "no wa",
        "nomor whatsapp", "whatsapp", "telepon hp", "no kontak", "kontak",
    ),
    "email": ("email", "e mail", "alamat email", "alamat e mail", "surel", "surat elektronik"),
    "place": ("tempat kejadian", "lokasi kejadian", "lokasi", "tempat", "lokasi tkp"),
    "when": (
        "waktu kejadian", "tanggal kejadian", "tgl kejadian", "hari tanggal kejadian",
        "waktu", "tanggal waktu kejadian", "hari tanggal", "tanggal",
    ),
    "text": (
        "uraian pengaduan", "isi pengaduan", "uraian", "uraian singkat", "uraian laporan",
        "isi laporan", "isi aduan", "uraian kejadian", "keluhan", "permasalahan",
        "pokok permasalahan", "kronologi", "kronologis kejadian", "uraian singkat pengaduan",
    ),
    "signature": ("tanda tangan", "ttd", "tanda tangan pelapor", "tanda tangan pengadu"),
}  # fmt: skip

#: fields whose value may continue on the rows below the label
MULTILINE = frozenset({"address", "place", "when", "text"})
#: fields that mark a page as the first page of a form (a continuation page has none of them)
IDENTITY = frozenset({"name", "nik", "address", "phone", "email"})
_COLONS = (":", ";", "：")
#: a row above the first label containing one of these is the form's title
_TITLE_WORDS = ("formulir", "pengaduan", "laporan")


@dataclass(frozen=True)
class Word:
    """One word Tesseract read, in page pixels; ``conf`` in 0..1."""

    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    page: int = 0

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def cy(self) -> float:
        return self.top + self.height / 2

    @property
    def cx(self) -> float:
        return self.left + self.width / 2


@dataclass(frozen=True)
class Label:
    """A field label found on a page: its words (colon and leaders included)."""

    key: str
    row: int  # index into the document's rows
    start: int  # index of its first word in the row
    end: int  # index after its last word (colon included)
    words: tuple[Word, ...]
    #: the value's first piece when it is glued to the label ("Kejadian:Depan")
    rest: Word | None = None

    @property
    def left(self) -> int:
        return self.words[0].left

    @property
    def page(self) -> int:
        return self.words[0].page

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (
            min(w.left for w in self.words),
            min(w.top for w in self.words),
            max(w.right for w in self.words),
            max(w.bottom for w in self.words),
        )


@dataclass(frozen=True)
class FieldValue:
    key: str
    text: str
    confidence: float  # mean word confidence, 0..1
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class FormFields:
    """What a form said: one value per field found, the title, the signature label."""

    fields: Mapping[str, FieldValue]
    title: str | None
    labels: tuple[Label, ...] = ()
    pages: tuple[int, ...] = ()
    words: tuple[Word, ...] = field(default=(), repr=False)

    def value(self, key: str) -> str | None:
        found = self.fields.get(key)
        return found.text if found is not None and found.text else None

    def label(self, key: str) -> Label | None:
        return next((lab for lab in self.labels if lab.key == key), None)


# --- words and rows -------------------------------------------------------------------------


def words_from_data(data: Mapping[str, Sequence[Any]], page: int = 0) -> list[Word]:
    """Words of ``pytesseract.image_to_data(..., output_type=Output.DICT)`` (level 5 only)."""
    words: list[Word] = []
    for i, text in enumerate(data["text"]):
        text = str(text).strip()
        conf = float(data["conf"][i])
        if not text or conf < 0 or int(data["level"][i]) != 5:
            continue
        words.append(
            Word(
                text=text,
                conf=min(1.0, max(0.0, conf / 100)),
                left=int(data["left"][i]),
                top=int(data["top"][i]),
                width=int(data["width"][i]),
                height=int(data["height"][i]),
                page=page,
            )
        )
    return words


def _text_height(words: Sequence[Word]) -> float:
    heights = [w.height for w in words if any(c.isalnum() for c in w.text)]
    return float(statistics.median(heights)) if heights else 20.0


def group_rows(words: Sequence[Word]) -> list[list[Word]]:
    """Words in rows (top to bottom, each left to right), per page in page order."""
    rows: list[list[Word]] = []
    for page in sorted({w.page for w in words}):
        on_page = sorted((w for w in words if w.page == page), key=lambda w: w.cy)
        h = _text_height(on_page)
        current: list[Word] = []
        center = 0.0
        for word in on_page:
            if current and abs(word.cy - center) > 0.5 * h:
                rows.append(sorted(current, key=lambda w: w.left))
                current = []
            current.append(word)
            center = sum(w.cy for w in current) / len(current)
        if current:
            rows.append(sorted(current, key=lambda w: w.left))
    return rows


# --- label matching -------------------------------------------------------------------------

#: OCR confusions folded away before comparing a word with a label (applied to both sides)
_OCR_CONFUSIONS = (
    ("rn", "m"), ("vv", "w"), ("1", "l"), ("i", "l"), ("|", "l"), ("!", "l"), ("0", "o"),
    ("5", "s"), ("8", "b"), ("€", "e"),
)  # fmt: skip


def _canon(text: str) -> str:
    text = text.lower()
    for wrong, right in _OCR_CONFUSIONS:
        text = text.replace(wrong, right)
    return re.sub(r"[^a-z]", "", text)


def _distance(a: str, b: str, bound: int = 1_000) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``bound + 1`` as soon as it must exceed
    ``bound``. Only the diagonal band of width ``2 * bound + 1`` is computed (cells outside it
    cost more than ``bound`` anyway), and most label candidates fail after a few characters."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    over = bound + 1
    previous = [j if j <= bound else over for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        ca = a[i - 1]
        lo, hi = max(1, i - bound), min(len(b), i + bound)
        current = [over] * (len(b) + 1)
        current[0] = i if i <= bound else over
        for j in range(lo, hi + 1):
            cost = previous[j - 1] + (ca != b[j - 1])
            current[j] = min(cost, previous[j] + 1, current[j - 1] + 1, over)
        if min(current[max(0, lo - 1) : hi + 1]) > bound:
            return over
        previous = current
    return min(previous[-1], over)


def _allowed(length: int, words: int = 1) -> int:
    """OCR errors tolerated in a label wording of ``length`` letters and ``words`` words.

    One-word labels get little slack: "keluhan" and "kelurahan", "tanggal" and "tangan" are
    two edits apart and must stay apart.
    """
    if length <= 3:
        return 0
    if words == 1:
        return 1 if length <= 9 else 2
    return 2 if length <= 10 else 3


_VARIANTS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    sorted(
        (
            (key, tuple(_canon(t) for t in v.split()))
            for key, vs in FIELD_LABELS.items()
            for v in vs
        ),
        key=lambda kv: -len("".join(kv[1])),
    )
)


def _tokens(row: Sequence[Word]) -> list[tuple[str, int]]:
    """Canonical sub-tokens of a row ("No.", "HP/Telepon:" -> no, hp, telepon) with word index."""
    tokens: list[tuple[str, int]] = []
    for index, word in enumerate(row):
        for piece in re.findall(r"[^\s/\\.:;,\-()_]+", word.text):
            canon = _canon(piece)
            if canon:
                tokens.append((canon, index))
    return tokens


def _match_at(tokens: list[tuple[str, int]], t: int) -> tuple[str, int] | None:
    """The longest label wording starting at token ``t``: (field, index of its last word)."""
    best: tuple[int, int, str, int] | None = None  # (distance, -chars, key, last word)
    joined: dict[int, str] = {}
    for key, variant in _VARIANTS:
        k = len(variant)
        if t + k > len(tokens):
            continue
        want = "".join(variant)
        allowed = _allowed(len(want), k)
        got = joined.get(k)
        if got is None:
            got = joined[k] = "".join(tok for tok, _ in tokens[t : t + k])
        if got[:1] != want[:1] or abs(len(got) - len(want)) > allowed:
            continue
        if any(
            len(v) <= 3 and tok != v for v, (tok, _) in zip(variant, tokens[t : t + k], strict=True)
        ):
            continue  # short words ("no", "hp", "nik") must be read exactly
        dist = _distance(got, want, allowed)
        if dist > allowed:
            continue
        candidate = (dist, -len(want), key, tokens[t + k - 1][1])
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return (best[2], best[3]) if best is not None else None


def _is_colon(text: str) -> bool:
    return text in _COLONS or text.startswith(_COLONS)


def _leader(text: str) -> bool:
    """Dot leaders and underscores between a label and its value ("Nama ......:")."""
    return bool(text) and not any(c.isalnum() for c in text)


def find_labels(rows: Sequence[Sequence[Word]], height: float | None = None) -> list[Label]:
    """Every field label in ``rows``, in reading order.

    A label must start a row or a row segment (after a wide gap: two-column forms), and must be
    followed by a colon (within the next few words: "Nama Lengkap Pelapor :"), end its segment,
    or be followed by a wide gap (tabular forms without colons). That keeps "atas nama" or an
    "alamat" inside the complaint text from being read as a label.
    """
    labels: list[Label] = []
    all_words = [w for row in rows for w in row]
    h = height if height is not None else _text_height(all_words)
    for r, row in enumerate(rows):
        tokens = _tokens(row)
        first_token: dict[int, int] = {}
        for t, (_, wi) in enumerate(tokens):
            first_token.setdefault(wi, t)
        i = 0
        while i < len(row):
            gap_before = row[i].left - row[i - 1].right if i else 10**9
            if gap_before < 1.6 * h or i not in first_token:
                i += 1
                continue
            matched = _match_at(tokens, first_token[i])
            if matched is None:
                i += 1
                continue
            key, last = matched
            rest = _glued_value(row[last])
            if rest is not None:
                labels.append(Label(key, r, i, last + 1, tuple(row[i : last + 1]), rest))
                i = last + 1
                continue
            end = _label_end(row, i, last, h)
            if end is None:
                i += 1
                continue
            labels.append(Label(key, r, i, end, tuple(row[i:end])))
            i = end
    return labels


def _glued_value(word: Word) -> Word | None:
    """The value part of a word like "Kejadian:Depan" (label, colon and value without spaces),
    with a box estimated from its share of the letters; None when nothing follows a colon."""
    text = word.text
    cut = min((text.find(c) for c in _COLONS if c in text[:-1]), default=-1)
    if cut <= 0:
        return None
    value = text[cut + 1 :].lstrip(":; ")
    if not any(c.isalnum() for c in value):
        return None
    offset = round(word.width * (len(text) - len(value)) / len(text))
    return Word(value, word.conf, word.left + offset, word.top, word.width - offset,
                word.height, word.page)  # fmt: skip


def _label_end(row: Sequence[Word], start: int, last: int, h: float) -> int | None:
    """Index after the label's colon/leaders, or None when this is not a label after all."""
    if row[last].text.endswith(_COLONS):
        return last + 1
    for j in range(last + 1, min(len(row), last + 4)):
        if j > last + 1 and row[j].left - row[j - 1].right > 1.6 * h:
            break
        if _is_colon(row[j].text):
            # ":Budi" glued to the colon: the word is the value's start, keep it
            return j + 1 if row[j].text in _COLONS else j
    if last + 1 == len(row):
        return last + 1
    nxt = row[last + 1]
    if nxt.left - row[last].right > 1.6 * h or _leader(nxt.text):
        end = last + 1
        while end < len(row) and _leader(row[end].text):
            end += 1
        return end
    return None


# --- values ---------------------------------------------------------------------------------


def _clean_value_words(words: Sequence[Word]) -> list[Word]:
    kept: list[Word] = []
    for word in words:
        text = word.text
        if not any(c.isalnum() for c in text):
            continue  # leaders, lone punctuation, specks
        if word.conf < 0.15 and len(text) <= 3:
            continue
        if not kept and len(text) <= 2 and not text.isalnum():
            continue  # a misread colon before the value ("“2", ":.")
        kept.append(word)
    if kept:
        first = kept[0]
        stripped = first.text.lstrip(":;.,-_=~“”\"'")
        if stripped != first.text:
            kept[0] = Word(stripped, first.conf, first.left, first.top, first.width, first.height,
                           first.page)  # fmt: skip
    return kept


def _join(rows: Sequence[Sequence[Word]], pitch: float) -> str:
    parts: list[str] = []
    previous: Sequence[Word] | None = None
    for row in rows:
        if not row:
            continue
        if previous is not None:
            gap = row[0].top - previous[0].top
            same_page = row[0].page == previous[0].page
            parts.append("\n\n" if same_page and gap > 2.6 * pitch else " ")
        parts.append(" ".join(w.text for w in row))
        previous = row
    return "".join(parts).strip()


def _pitch(rows: Sequence[Sequence[Word]]) -> float:
    tops = [statistics.median(w.cy for w in row) for row in rows if row]
    gaps = [b - a for a, b in itertools.pairwise(tops) if b > a]
    return float(statistics.median(gaps)) if gaps else 40.0


def extract_fields(
    rows: Sequence[Sequence[Word]], labels: Sequence[Label] | None = None
) -> FormFields:
    """The fields of one form (its rows over all its pages, in reading order)."""
    all_words = tuple(w for row in rows for w in row)
    h = _text_height(all_words)
    labels = list(labels) if labels is not None else find_labels(rows, h)
    # a label repeating a field already seen above is content ("Lokasi: ..." inside the
    # complaint), not a boundary: only each field's first label delimits values
    seen: set[str] = set()
    firsts: list[Label] = []
    for lab in labels:
        if lab.key not in seen or lab.key == "signature":
            firsts.append(lab)
        seen.add(lab.key)
    labels = firsts
    pitch = _pitch(rows)
    by_row: dict[int, list[Label]] = {}
    for lab in labels:
        by_row.setdefault(lab.row, []).append(lab)
    fields: dict[str, FieldValue] = {}
    for lab in labels:
        if lab.key in fields or lab.key == "signature":
            continue  # first occurrence wins; the signature box is read as ink, not text
        row = rows[lab.row]
        siblings = sorted(by_row[lab.row], key=lambda x: x.start)
        after = [s for s in siblings if s.start > lab.start]
        stop = after[0].start if after else len(row)
        span_left = lab.left - h
        span_right = after[0].left - 0.5 * h if after else float("inf")
        head = [lab.rest] if lab.rest is not None else []
        value_rows: list[list[Word]] = [_clean_value_words([*head, *row[lab.end : stop]])]
        multiline = lab.key in MULTILINE
        if multiline or not value_rows[0]:
            value_rows += _continuation(
                rows, labels, lab, (span_left, span_right), pitch,
                limit=None if multiline else 1, any_gap=lab.key == "text",
            )  # fmt: skip
        used = [w for r in value_rows for w in r]
        text = _join(value_rows, pitch)
        if not text:
            continue
        conf = sum(w.conf for w in used) / len(used)
        fields[lab.key] = FieldValue(lab.key, text, round(conf, 4), tuple(used))
    first_label_row = min((lab.row for lab in labels), default=len(rows))
    return FormFields(
        fields=fields,
        title=_title(rows[:first_label_row]),
        labels=tuple(labels),
        pages=tuple(sorted({w.page for w in all_words})),
        words=all_words,
    )


def _continuation(
    rows: Sequence[Sequence[Word]],
    labels: Sequence[Label],
    lab: Label,
    span: tuple[float, float],
    pitch: float,
    *,
    limit: int | None,
    any_gap: bool,
) -> list[list[Word]]:
    """The rows below a label that still belong to its value (same column, no label there)."""
    left, right = span
    stops = {(other.row) for other in labels if other.row > lab.row and left <= other.left < right}
    out: list[list[Word]] = []
    last_cy = statistics.median(w.cy for w in rows[lab.row])
    last_page = lab.page
    for r in range(lab.row + 1, len(rows)):
        if r in stops:
            break
        if any(
            other.row == r and other.left < left and _spans_into(rows[r], other, left)
            for other in labels
        ):
            break  # a full-width label further left (the form's next section)
        words = [w for w in rows[r] if left <= w.cx < right]
        if not words:
            continue
        cy = statistics.median(w.cy for w in words)
        if words[0].page != last_page:
            if not any_gap:
                break
        elif not any_gap and cy - last_cy > 2.2 * pitch:
            break
        cleaned = _clean_value_words(words)
        if cleaned:
            out.append(cleaned)
        last_cy, last_page = cy, words[0].page
        if limit is not None and len(out) >= limit:
            break
    return out


def _spans_into(row: Sequence[Word], label: Label, left: float) -> bool:
    """Does the value of ``label`` (left of our column) run on into our column?"""
    value = row[label.end :]
    return bool(value) and value[-1].right > left and label.end < len(row)


def _title(rows: Sequence[Sequence[Word]]) -> str | None:
    canonical = _canon(DEFAULT_TITLE)
    for row in rows:
        joined = "".join(_canon(w.text) for w in row)
        if not joined:
            continue
        if _distance(joined, canonical, 4) <= 4:
            return DEFAULT_TITLE
        if any(_canon(word) in joined for word in _TITLE_WORDS):
            text = " ".join(w.text for w in row if any(c.isalnum() for c in w.text))
            return text.strip() or None
    return None


def starts_form(rows: Sequence[Sequence[Word]], labels: Sequence[Label]) -> bool:
    """Is this page the first page of a form? It has identity labels (Nama, NIK, …), or one of
    them under a form title; a page without them continues the previous form (the second sheet
    of a long complaint, the signature page)."""
    keys = {lab.key for lab in labels}
    return len(keys & IDENTITY) >= 2 or (bool(keys & IDENTITY) and _title(rows[:3]) is not None)


def group_documents(starts: Sequence[bool]) -> list[list[int]]:
    """Page indexes of each form, given which pages start one."""
    documents: list[list[int]] = []
    for index, start in enumerate(starts):
        if start or not documents:
            documents.append([index])
        else:
            documents[-1].append(index)
    return documents


def split_documents(pages: Sequence[Sequence[Word]]) -> list[list[int]]:
    """Which pages (each given as its words) make up each form."""
    starts = []
    for words in pages:
        rows = group_rows(words)
        starts.append(starts_form(rows, find_labels(rows)))
    return group_documents(starts)
