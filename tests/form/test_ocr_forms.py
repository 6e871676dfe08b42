"""Whole-pipeline OCR: rendered, degraded forms -> reports, asserted field by field.

Runs the real Tesseract (``ind+eng``). Each scan is OCR'd once per session (``normalize_cached``)
and pages are rendered at 150-200 dpi, so the whole module stays within a few seconds per page.
"""

from __future__ import annotations

import hashlib
import pickle
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from ingest.form_template import build_form_pdf
from normalizers.base import Normalized, Outcome, Rejection
from normalizers.form import REVIEW_NOTE, normalize
from tests.form.conftest import make_ctx, only_report, run_normalizer
from tests.form.render import OTHER_LABELS, VALUES, FormSpec, degrade, encode, render_pages

Normalize = Callable[..., list[Outcome]]

OTHER_VALUES = {
    "name": "Siti Aminah",
    "nik": "1671 0157 0890 0003",
    "address": "Desa Tanjung Seteko, Indralaya",
    "phone": "+62 813-7788-9900",
    "email": "siti.aminah@mail.example.id",
    "place": "Jembatan Sungai Kelekar",
    "when": "tgl 3 Nov 2026 jam 08.00",
    "text": (
        "Jembatan kayu di desa kami rusak parah dan papan lantainya banyak yang patah. "
        "Anak sekolah terpaksa memutar jauh. Mohon perbaikan jembatan secepatnya."
    ),
}


def _scan(fonts: dict[str, Path], case: str) -> tuple[bytes, str]:
    """The file bytes of one test scan and its content type."""
    if case == "project_png":
        sheet = render_pages(FormSpec(font=fonts["sans"], dpi=150))[0]
        return encode([sheet], "PNG"), "image/png"
    if case == "serif_phone_jpeg":
        sheet = render_pages(FormSpec(font=fonts["liberation_serif"], dpi=200, font_pt=12))[0]
        scan = degrade(sheet, angle=3.0, noise=0.004, blur=0.7)
        return encode([scan], "JPEG", quality=35), "image/jpeg"
    if case == "two_column_tiff":
        spec = FormSpec(font=fonts["liberation_sans"], layout="two_column", dpi=200)
        scan = degrade(render_pages(spec)[0], angle=-2.0, noise=0.002)
        return encode([scan], "TIFF", compression="tiff_deflate"), "image/tiff"
    if case == "other_office_png":
        spec = FormSpec(
            font=fonts["serif"],
            labels=OTHER_LABELS,
            values=OTHER_VALUES,
            title="LEMBAR PENGADUAN",
            order=("phone", "email", "name", "nik", "when", "place", "address"),
            signed=False,
            signature_box=False,
            dpi=170,
        )
        scan = degrade(render_pages(spec)[0], angle=1.2, blur=0.5)
        return encode([scan], "PNG"), "image/png"
    if case == "phone_photo_jpeg":
        spec = FormSpec(font=fonts["sans"], dpi=170)
        photo = degrade(render_pages(spec)[0], angle=-2.5, shade=0.45, blur=0.8, noise=0.002)
        return encode([photo], "JPEG", quality=50), "image/jpeg"
    if case == "two_page_pdf":
        sheets = render_pages(FormSpec(font=fonts["mono"], dpi=150), pages=2)
        return encode([degrade(s, angle=0.8) for s in sheets], "PDF"), "application/pdf"
    if case == "template_pdf":
        return build_form_pdf("Diskominfo Ogan Ilir", VALUES), "application/pdf"
    if case == "template_signed_jpeg":
        return encode([_signed_template()], "JPEG", quality=60), "image/jpeg"
    raise AssertionError(case)


def _signed_template() -> Image.Image:
    """The filled project form printed, signed with a pen in its box, and scanned at 200 dpi."""
    import cv2
    import numpy as np
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(build_form_pdf(None, VALUES))
    sheet = pdf[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    inv = 255 - np.asarray(sheet)
    contours, _ = cv2.findContours(
        (inv > 128).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    x, y, w, h = max((cv2.boundingRect(c) for c in contours), key=lambda r: r[2] * r[3])
    assert w > 400 and h > 150, "the signature box is the largest drawn shape"
    draw = ImageDraw.Draw(sheet)
    points = [(x + 40 + i * (w - 80) / 40, y + h / 2 + 35 * np.sin(i / 2.5)) for i in range(41)]
    draw.line(points, fill=0, width=4)
    return degrade(sheet, angle=-1.0)


@pytest.fixture(scope="module")
def scan(fonts: dict[str, Path]) -> Callable[[str], tuple[bytes, str]]:
    made: dict[str, tuple[bytes, str]] = {}

    def get(case: str) -> tuple[bytes, str]:
        if case not in made:
            made[case] = _scan(fonts, case)
        return made[case]

    return get


def _report(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]], case: str
) -> Any:
    payload, content_type = scan(case)
    return only_report(normalize_cached(payload, content_type))


# --- field-level assertions, table-driven over layouts, fonts and degradations --------------

BUDI = {
    "name": "Budi Santoso",
    "nik_masked": "1671********0003",
    "phone": "+6281234567890",
    "email": "budi.santoso@example.id",
    "place": "Depan Pasar Indralaya",
    # "Senin, 16 November 2026 pukul 14.30" in Asia/Jakarta
    "occurred_at": datetime(2026, 11, 16, 7, 30, tzinfo=UTC),
    "words": ("lampu", "penerangan", "gelap", "kecelakaan", "diperbaiki"),
    "signed": True,
}
SITI = {
    "name": "Siti Aminah",
    "nik_masked": "1671********0003",
    "phone": "+6281377889900",
    "email": "siti.aminah@mail.example.id",
    "place": "Jembatan Sungai Kelekar",
    "occurred_at": datetime(2026, 11, 3, 1, 0, tzinfo=UTC),
    "words": ("jembatan", "rusak", "sekolah", "perbaikan"),
    "signed": False,
}

CASES = [
    pytest.param("project_png", BUDI, id="project-layout-dejavu-png"),
    pytest.param("serif_phone_jpeg", BUDI, id="serif-rotated-3deg-noise-blur-jpeg35"),
    pytest.param("two_column_tiff", BUDI, id="two-columns-rotated-tiff"),
    pytest.param("other_office_png", SITI, id="other-office-order-labels-no-box-unsigned"),
    pytest.param("phone_photo_jpeg", BUDI, id="phone-photo-uneven-light-jpeg50"),
    pytest.param("two_page_pdf", BUDI, id="two-page-pdf-monospace"),
    pytest.param("template_pdf", {**BUDI, "signed": False}, id="project-template-pdf-unsigned"),
    pytest.param("template_signed_jpeg", BUDI, id="project-template-printed-signed-scanned"),
]


@pytest.mark.parametrize(("case", "want"), CASES)
def test_fields(
    normalize_cached: Normalize,
    scan: Callable[[str], tuple[bytes, str]],
    case: str,
    want: dict[str, Any],
) -> None:
    report = _report(normalize_cached, scan, case)
    assert report.reporter.name == want["name"]
    assert report.reporter.nik_masked == want["nik_masked"]
    assert report.reporter.phone == want["phone"]
    assert report.reporter.email == want["email"]
    assert report.location.text == want["place"]
    assert report.occurred_at == want["occurred_at"]
    text = report.text.lower()
    for word in want["words"]:
        assert word in text, (word, report.text)
    assert report.signature_present is want["signed"]
    assert 0.6 < report.confidence <= 1.0
    assert "1671015708900003" not in report.to_json()  # the NIK never leaves unmasked


@pytest.mark.parametrize("case", ["project_png", "two_page_pdf", "template_pdf"])
def test_record_stamps(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]], case: str
) -> None:
    payload, _ = scan(case)
    report = _report(normalize_cached, scan, case)
    assert report.external_id == hashlib.sha256(payload).hexdigest()
    assert report.received_at == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    assert report.channel.kind == "form"
    assert report.subject == "FORMULIR PENGADUAN MASYARAKAT"
    assert report.reporter.address is not None and "Merdeka" in report.reporter.address


def test_two_page_pdf_keeps_the_complaint_whole(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]]
) -> None:
    """The complaint runs over to page 2 and the signature box is on page 2: one report."""
    report = _report(normalize_cached, scan, "two_page_pdf")
    text = report.text.lower()
    assert text.index("lampu") < text.index("kecelakaan") < text.index("terkait")


def test_other_office_title_is_the_subject(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]]
) -> None:
    report = _report(normalize_cached, scan, "other_office_png")
    assert report.subject == "LEMBAR PENGADUAN"
    assert report.reporter.address == "Desa Tanjung Seteko, Indralaya"


def test_low_confidence_is_published_with_a_review_note(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]]
) -> None:
    payload, content_type = scan("project_png")
    normal = only_report(normalize_cached(payload, content_type))
    strict = only_report(normalize_cached(payload, content_type, min_confidence=0.99))
    assert normal.subject == "FORMULIR PENGADUAN MASYARAKAT"
    note = REVIEW_NOTE.format(pct=round(strict.confidence * 100))
    assert strict.subject == f"FORMULIR PENGADUAN MASYARAKAT {note}"
    assert strict.confidence == normal.confidence < 0.99
    assert strict.id == normal.id  # same scan, same report


def test_several_forms_in_one_tiff(tesseract: str, fonts: dict[str, Path]) -> None:
    """A stack of slips from the box scanned into one file: one report per form."""
    del tesseract
    first = render_pages(FormSpec(font=fonts["sans"], dpi=150))[0]
    second = render_pages(FormSpec(font=fonts["sans"], dpi=150, values=OTHER_VALUES, signed=False))[
        0
    ]
    payload = encode([first, second], "TIFF", compression="tiff_deflate")
    outcomes = run_normalizer(payload, "image/tiff")
    assert [type(o) for o in outcomes] == [Normalized, Normalized], outcomes
    reports = [o.report for o in outcomes if isinstance(o, Normalized)]
    sha = hashlib.sha256(payload).hexdigest()
    assert [r.external_id for r in reports] == [f"{sha}#p1", f"{sha}#p2"]
    assert [r.reporter.name for r in reports] == ["Budi Santoso", "Siti Aminah"]
    assert [r.signature_present for r in reports] == [True, False]


@pytest.mark.parametrize("turn", [180, 90])
def test_sheet_fed_upside_down_or_sideways(
    tesseract: str, fonts: dict[str, Path], turn: int
) -> None:
    """No label on the first pass: Tesseract's orientation detection turns the page upright."""
    del tesseract
    sheet = render_pages(FormSpec(font=fonts["sans"], dpi=150))[0]
    turned = sheet.rotate(turn, expand=True, fillcolor=255)
    report = only_report(run_normalizer(encode([turned], "PNG")))
    assert report.reporter.name == "Budi Santoso"
    assert report.reporter.nik_masked == "1671********0003"
    assert "kecelakaan" in report.text
    assert report.signature_present is True


# --- rejections -------------------------------------------------------------------------------


def _garbage_shapes() -> bytes:
    rnd = random.Random(11)
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y = rnd.randrange(1240), rnd.randrange(1754)
        draw.ellipse((x, y, x + rnd.randrange(5, 90), y + rnd.randrange(5, 90)), outline=0, width=2)
        draw.line((x, y, rnd.randrange(1240), rnd.randrange(1754)), fill=0, width=1)
    return encode([image], "PNG")


def test_garbage_and_blank_scans_are_rejected_with_a_reason(tesseract: str) -> None:
    del tesseract
    rnd = random.Random(2)
    noise = Image.frombytes("L", (800, 1000), bytes(rnd.randrange(256) for _ in range(800 * 1000)))
    blank = Image.new("L", (1240, 1754), 252)
    cases = {
        "blank": (encode([blank], "PNG"), "blank scan"),
        "blank-pdf": (encode([blank, blank], "PDF"), "blank scan (pages 1, 2)"),
        "noise": (encode([noise], "JPEG"), "not a paper form"),
        "shapes": (_garbage_shapes(), "no form fields recognised"),
        "text-file": (b"Nama: Budi\nUraian: banjir\n", "not a PNG, JPEG, TIFF or PDF"),
    }
    for name, (payload, reason) in cases.items():
        outcomes = run_normalizer(payload)
        assert len(outcomes) == 1, name
        rejection = outcomes[0]
        assert isinstance(rejection, Rejection), (name, rejection)
        assert reason in rejection.reason, (name, rejection.reason)
        assert rejection.external_id == hashlib.sha256(payload).hexdigest()


def test_empty_template_is_rejected_for_missing_complaint(tesseract: str) -> None:
    del tesseract
    outcomes = run_normalizer(build_form_pdf(), "application/pdf")
    assert len(outcomes) == 1 and isinstance(outcomes[0], Rejection)
    assert "'Uraian Pengaduan'" in outcomes[0].reason


# --- the process pool contract (ChannelPlugin.cpu_bound) ---------------------------------------


def test_normalizer_runs_in_a_process_pool(
    normalize_cached: Normalize, scan: Callable[[str], tuple[bytes, str]]
) -> None:
    from normalizers.base import RawMessage

    payload, content_type = scan("project_png")
    raw = RawMessage(payload, content_type, external_id=RawMessage(payload, "").sha256,
                     received_at=datetime(2026, 11, 20, 3, 0, tzinfo=UTC))  # fmt: skip
    ctx = make_ctx()
    pickle.loads(pickle.dumps((normalize, raw, ctx)))  # what the pool sends
    with ProcessPoolExecutor(max_workers=2) as pool:
        remote = pool.submit(normalize, raw, ctx).result(timeout=120)
    local = normalize_cached(payload, content_type)
    assert [
        o.report.model_dump(exclude={"ingested_at"}) for o in remote if isinstance(o, Normalized)
    ] == [o.report.model_dump(exclude={"ingested_at"}) for o in local if isinstance(o, Normalized)]
