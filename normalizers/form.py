"""``kind: form``: scanned paper complaint forms (kotak pengaduan, letters) read by OCR.

One file (PNG, JPEG, multi-page TIFF or PDF) -> decode page by page (bounded size) -> clean up
(flatten lighting, denoise, deskew, binarize) -> Tesseract ``ind+eng`` word boxes -> fields by
their printed labels -> one report per form. A file may hold several forms (a stack of slips
from the complaint box scanned into one PDF): a page with identity labels (Nama, NIK, Alamat…)
starts a form, a page without them continues the previous one. One form in the file keeps the
file's SHA-256 as ``external_id``; several get ``<sha256>#p<first page>``.

Review of doubtful reads. The record has no "needs review" flag and the contract fixes its
fields, so an OCR report whose ``confidence`` (mean word confidence of the fields used) is below
the channel's ``min_confidence`` is still published, with the note
``[PERLU PERIKSA MANUAL: keyakinan OCR NN%]`` appended to ``subject``; the verification UI sorts
by ``confidence`` and staff compare with the original scan at ``raw.uri``. Nothing is dropped
for being hard to read: only files with no form on them (blank, garbage, not a form, no
complaint text) are rejected, with the reason.

Picklable and top-level on purpose: the runtime runs this normalizer in a process pool
(``ChannelPlugin.cpu_bound``), one file per worker.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report
from normalizers.extract.dates import find_occurred_at
from normalizers.extract.emails import first_email
from normalizers.extract.nik import find_niks, mask_niks
from normalizers.extract.phone import first_phone, normalize_phone
from normalizers.ocr.decode import DecodeError, DecodeLimits, decode_pages
from normalizers.ocr.engine import OcrError, OcrOptions, detect_rotation, ocr_words
from normalizers.ocr.fields import (
    DEFAULT_TITLE,
    FormFields,
    Label,
    Word,
    extract_fields,
    find_labels,
    group_documents,
    group_rows,
    starts_form,
)
from normalizers.ocr.preprocess import prepare_page
from normalizers.ocr.signature import signature_present
from normalizers.record import mask_nik

__all__ = ["FormOptions", "PageRead", "normalize", "read_pages", "record_fields"]

REVIEW_NOTE = "[PERLU PERIKSA MANUAL: keyakinan OCR {pct}%]"
_DIGIT_FIXES = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1",
                              "|": "1", "i": "1", "S": "5", "s": "5", "B": "8", "Z": "2",
                              "z": "2", "G": "6", "b": "6", "q": "9", "g": "9"})  # fmt: skip


@dataclass(frozen=True)
class FormOptions:
    """The OCR knobs of a form channel (flat keys of its entry in channels.yaml)."""

    lang: str = "ind+eng"
    psm: int = 3
    min_confidence: float = 0.7
    pdf_dpi: int = 200
    max_side: int = 3508
    max_pages: int = 20
    ocr_timeout: float = 120.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> FormOptions:
        known = {k: settings[k] for k in cls.__dataclass_fields__ if settings.get(k) is not None}
        return cls(**known)

    @property
    def limits(self) -> DecodeLimits:
        return DecodeLimits(max_side=self.max_side, pdf_dpi=self.pdf_dpi, max_pages=self.max_pages)

    @property
    def ocr(self) -> OcrOptions:
        return OcrOptions(lang=self.lang, psm=self.psm, timeout=self.ocr_timeout)


@dataclass(frozen=True)
class PageRead:
    """One page after OCR. The image itself is not kept (bounded memory over long files): the
    one thing needed from it later, the signature box's ink, is measured right away."""

    index: int
    words: tuple[Word, ...] = ()
    rows: tuple[tuple[Word, ...], ...] = ()
    labels: tuple[Label, ...] = ()
    starts: bool = False  # the first page of a form (see fields.starts_form)
    blank: bool = False
    dark: bool = False
    angle: float = 0.0
    signed: bool | None = None  # None: no signature label on this page


def _field_count(labels: Sequence[Label]) -> int:
    return len({lab.key for lab in labels} - {"signature"})


def _looks_turned(words: Sequence[Word]) -> bool:
    """Text as Tesseract reads a turned page: none of it, unsure (upside down), or in tall
    boxes (sideways lines read as vertical text). A continuation page of plain text, however
    short, is none of these, so it does not pay for an orientation pass."""
    wordy = [w for w in words if sum(c.isalnum() for c in w.text) >= 3]
    if not wordy:
        return True
    mean_conf = sum(w.conf for w in wordy) / len(wordy)
    tall = sum(w.height > w.width for w in wordy) / len(wordy)
    return mean_conf < 0.6 or tall > 0.5


def read_pages(payload: bytes, options: FormOptions) -> list[PageRead]:
    """Decode, clean up and OCR every page; raises DecodeError / OcrError with a reason."""
    pages: list[PageRead] = []
    for index, gray in enumerate(decode_pages(payload, options.limits)):
        prepared = prepare_page(gray)
        del gray
        if prepared.blank or prepared.too_dark:
            pages.append(PageRead(index, blank=prepared.blank, dark=prepared.too_dark))
            continue
        gray, binary = prepared.gray, prepared.binary
        words = ocr_words(gray, index, options.ocr)
        rows = group_rows(words)
        labels = find_labels(rows)
        if _field_count(labels) < 2 and _looks_turned(words):
            # hardly a label and odd text: the sheet went through upside down or sideways?
            turn = detect_rotation(gray, options.ocr)
            if turn:
                t_gray, t_binary = (
                    np.ascontiguousarray(np.rot90(a, k=-turn // 90)) for a in (gray, binary)
                )
                t_words = ocr_words(t_gray, index, options.ocr)
                t_rows = group_rows(t_words)
                t_labels = find_labels(t_rows)
                if _field_count(t_labels) > _field_count(labels):
                    gray, binary, words, rows, labels = t_gray, t_binary, t_words, t_rows, t_labels
        signed: bool | None = None
        sig = next((lab for lab in labels if lab.key == "signature"), None)
        if sig is not None:
            signed = signature_present(binary, sig.box, words)
        pages.append(
            PageRead(
                index,
                tuple(words),
                rows=tuple(tuple(r) for r in rows),
                labels=tuple(labels),
                starts=starts_form(rows, labels),
                angle=prepared.angle,
                signed=signed,
            )
        )
    return pages


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value.translate(_DIGIT_FIXES))


_DIGITISH = "0-9OoDQIl|iSsBZzGbqg"
_NIK_RUN = re.compile(rf"[{_DIGITISH}](?:[ .-]?[{_DIGITISH}]){{15}}(?![{_DIGITISH}])")


def _nik(value: str | None) -> str | None:
    """The masked NIK of a "NIK:" field: a structurally valid one first, else any 16 digits
    (OCR may garble the structure; under the NIK label 16 digits are masked all the same)."""
    if not value:
        return None
    valid = find_niks(value)
    if valid:
        return mask_nik(valid[0])
    for run in _NIK_RUN.findall(value):
        digits = _digits(run)
        if len(digits) == 16:
            return mask_nik(digits)
    return None


def _phone(value: str | None) -> str | None:
    if not value:
        return None
    direct = first_phone(value)
    if direct is not None:
        return direct
    fixed = re.sub(r"[^\d+]", "", value.translate(_DIGIT_FIXES))
    return normalize_phone(fixed) if fixed else None


#: what OCR makes of "@" in a typed address
_AT_LOOKALIKES = "©®GQ"


def _email(value: str | None) -> str | None:
    if not value:
        return None
    compact = re.sub(r"\s+", "", value)
    compact = compact.replace("(at)", "@").replace("[at]", "@")
    found = first_email(compact)
    if found is not None or "@" in compact:
        return found
    # "budi.santosoGexample.id": try the rightmost look-alike before the domain as the "@"
    for i in range(len(compact) - 1, 0, -1):
        if compact[i] in _AT_LOOKALIKES:
            repaired = first_email(f"{compact[:i]}@{compact[i + 1 :]}")
            if repaired is not None:
                return repaired
    return None


def _name(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = re.sub(r"\s+", " ", value).strip(" .,:;-_")
    return cleaned or None


def record_fields(
    form: FormFields,
    signed: bool | None,
    received_at: datetime,
    ctx: NormalizeContext,
    min_confidence: float,
) -> tuple[dict[str, Any], float]:
    """The record draft of one form and its confidence (mean over the fields used)."""
    used: list[float] = []

    def take(key: str, value: Any) -> Any:
        if value is not None:
            used.append(form.fields[key].confidence)
        return value

    name = take("name", _name(form.value("name")))
    nik = take("nik", _nik(form.value("nik")))
    phone = take("phone", _phone(form.value("phone")))
    email = take("email", _email(form.value("email")))
    raw_address = form.value("address")
    address = take("address", mask_niks(raw_address) if raw_address else None)
    place = take("place", form.value("place"))
    when_text = form.value("when")
    occurred = (
        take("when", find_occurred_at(when_text, received_at, ctx.office.tz)) if when_text else None
    )
    text = take("text", mask_niks(form.value("text") or ""))
    confidence = round(sum(used) / len(used), 3) if used else 0.0
    subject = form.title or DEFAULT_TITLE
    if confidence < min_confidence:
        subject = f"{subject} {REVIEW_NOTE.format(pct=round(confidence * 100))}"
    draft: dict[str, Any] = {
        "received_at": received_at,
        "reporter": {
            "name": name,
            "address": address,
            "phone": phone,
            "email": email,
            "nik_masked": nik,
        },
        "subject": subject,
        "text": text,
        "location": {"text": place},
        "occurred_at": occurred,
        "signature_present": signed,
        "confidence": confidence,
    }
    return draft, confidence


def _pages_label(indexes: Sequence[int]) -> str:
    numbers = [str(i + 1) for i in indexes]
    return f"page {numbers[0]}" if len(numbers) == 1 else f"pages {', '.join(numbers)}"


def _unreadable_reason(pages: Sequence[PageRead]) -> str:
    """Why no page of the file had any text on it."""
    if all(p.blank for p in pages):
        where = _pages_label([p.index for p in pages])
        return f"blank scan ({where}): nothing written on it; check the scanner's page feed"
    dark = [p.index for p in pages if p.dark]
    if dark:
        return (
            f"not a paper form: {_pages_label(dark)} mostly dark (a photo or a garbage image); "
            "rescan the form on a white background"
        )
    unread = _pages_label([p.index for p in pages if not p.blank])
    return f"no form fields recognised on {unread}: no text found (a garbage image or not a form)"


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One scan file -> one report per form on it, or a Rejection saying why not."""
    sha = raw.external_id or raw.sha256
    options = FormOptions.from_settings(ctx.settings)
    try:
        pages = read_pages(raw.payload, options)
    except (DecodeError, OcrError) as exc:
        return [Rejection(str(exc), sha)]
    if not pages:
        return [Rejection("the file has no pages: rescan the form", sha)]
    readable = [p for p in pages if p.words]
    if not readable:
        return [Rejection(_unreadable_reason(pages), sha)]
    received_at = raw.received_at or ctx.ingested_at
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=ctx.office.tz)
    documents = group_documents([p.starts for p in readable])
    outcomes: list[Outcome] = []
    for doc in documents:
        doc_pages = [readable[i] for i in doc]
        indexes = [p.index for p in doc_pages]
        ext = sha if len(documents) == 1 else f"{sha}#p{indexes[0] + 1}"
        if len(doc_pages) == 1:  # rows and labels of the page are the form's
            form = extract_fields(doc_pages[0].rows, doc_pages[0].labels)
        else:
            form = extract_fields(group_rows([w for p in doc_pages for w in p.words]))
        if not any(lab.key != "signature" for lab in form.labels):
            outcomes.append(Rejection(
                f"no form fields recognised on {_pages_label(indexes)} (a garbage image or not a "
                "complaint form): expected labels such as 'Nama:' and 'Uraian Pengaduan:'", ext,
            ))  # fmt: skip
            continue
        if form.value("text") is None:
            outcomes.append(Rejection(
                f"'Uraian Pengaduan' (the complaint itself) is missing or unreadable on "
                f"{_pages_label(indexes)}: type it in from the scan at the verification desk", ext,
            ))  # fmt: skip
            continue
        signed = next((p.signed for p in doc_pages if p.signed is not None), None)
        draft, _ = record_fields(form, signed, received_at, ctx, options.min_confidence)
        draft["external_id"] = ext
        outcomes.append(build_report(draft, ctx))
    return outcomes
