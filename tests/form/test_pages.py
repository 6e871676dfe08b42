"""Decoding, clean-up and the signature box, without OCR (fast)."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from normalizers.ocr.decode import DecodeError, DecodeLimits, decode_pages
from normalizers.ocr.preprocess import prepare_page
from normalizers.ocr.signature import find_box, signature_ink, signature_present
from tests.form.render import FormSpec, degrade, encode, render_pages


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (grayscale) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_and_protection_stays_on() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    assert limit is not None
    with pytest.raises(DecodeError, match="decompression bomb"):
        list(decode_pages(_png_header_only(20_000, 10_000)))  # 200 Mpx
    assert limit == Image.MAX_IMAGE_PIXELS


def test_large_scans_are_downscaled_to_the_limit() -> None:
    big = Image.new("L", (5000, 7000), 255)
    ImageDraw.Draw(big).rectangle((100, 100, 4900, 200), fill=0)
    for fmt in ("PNG", "JPEG"):
        pages = list(decode_pages(encode([big], fmt), DecodeLimits(max_side=2000)))
        assert len(pages) == 1
        assert max(pages[0].shape) <= 2000
        assert pages[0].shape[0] > pages[0].shape[1]  # orientation kept
        assert pages[0].dtype == np.uint8


def test_multipage_tiff_and_pdf(fonts: dict[str, Path]) -> None:
    sheets = render_pages(FormSpec(font=fonts["sans"], dpi=100), pages=2)
    for fmt in ("TIFF", "PDF"):
        pages = list(decode_pages(encode(sheets, fmt), DecodeLimits(pdf_dpi=100)))
        assert len(pages) == 2, fmt
        assert all(p.ndim == 2 for p in pages)
        # page 2 holds the signature: it has ink, and the pages differ
        assert not np.array_equal(pages[0][:200], pages[1][:200])


def test_too_many_pages_and_unknown_formats_are_refused() -> None:
    sheet = Image.new("L", (50, 50), 255)
    with pytest.raises(DecodeError, match="split the scan"):
        list(decode_pages(encode([sheet] * 3, "TIFF"), DecodeLimits(max_pages=2)))
    with pytest.raises(DecodeError, match="PNG, JPEG, TIFF or PDF"):
        list(decode_pages(b"hello, this is not an image"))
    with pytest.raises(DecodeError, match="unreadable PDF"):
        list(decode_pages(b"%PDF-1.4 garbage"))
    truncated = encode([Image.new("L", (400, 400), 128)], "PNG")[:200]
    with pytest.raises(DecodeError):
        list(decode_pages(truncated))


def test_transparent_png_is_paper_not_ink() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).text((20, 20), "Nama", fill=(0, 0, 0, 255))
    page = next(decode_pages(encode([image], "PNG")))
    assert page.mean() > 250


@pytest.mark.parametrize("angle", [-3.0, -1.5, 2.0, 3.0])
def test_deskew_recovers_the_rotation(fonts: dict[str, Path], angle: float) -> None:
    sheet = render_pages(FormSpec(font=fonts["sans"], dpi=100))[0]
    scan = degrade(sheet, angle=angle, noise=0.005)
    prepared = prepare_page(np.asarray(scan, dtype=np.uint8))
    assert prepared.angle == pytest.approx(-angle, abs=0.35)
    assert not prepared.blank and not prepared.too_dark


def test_blank_and_dark_pages() -> None:
    blank = np.full((1400, 1000), 250, np.uint8)
    rnd = np.random.default_rng(3)
    speckled = blank.copy()
    speckled[rnd.integers(0, 1400, 300), rnd.integers(0, 1000, 300)] = 0  # dust
    assert prepare_page(blank).blank
    assert prepare_page(speckled).blank
    noise = rnd.integers(0, 256, (1400, 1000), dtype=np.uint8)
    assert prepare_page(noise).too_dark


def test_small_print_is_upscaled_for_tesseract(fonts: dict[str, Path]) -> None:
    sheet = render_pages(FormSpec(font=fonts["sans"], dpi=90))[0]
    gray = np.asarray(sheet, dtype=np.uint8)
    prepared = prepare_page(gray)
    assert prepared.gray.shape[0] > gray.shape[0]
    assert prepared.gray.shape == prepared.binary.shape


# --- the signature box ------------------------------------------------------------------------

LABEL = (600, 400, 760, 430)  # where "Tanda Tangan:" is printed


def _sheet(fonts: dict[str, Path], *, box: bool | str, ink: str) -> np.ndarray:
    image = Image.new("L", (1000, 800), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(fonts["sans"]), 24)
    draw.text((LABEL[0], LABEL[1]), "Tanda Tangan:", font=font, fill=0)
    if box == "around":  # the label printed inside the top of the box
        draw.rectangle((585, 385, 960, 620), outline=0, width=2)
    elif box:
        draw.rectangle((600, 450, 960, 620), outline=0, width=2)
    if ink == "signed":
        points = [(640 + i * 7, 535 + 30 * np.sin(i / 3)) for i in range(40)]
        draw.line(points, fill=0, width=3)
    elif ink == "ruled":
        draw.line((620, 590, 940, 590), fill=0, width=2)
    elif ink == "dust":
        rnd = random.Random(5)
        for _ in range(60):
            x, y = rnd.randrange(610, 950), rnd.randrange(460, 610)
            draw.point((x, y), fill=0)
    prepared = prepare_page(np.asarray(image, dtype=np.uint8))
    return prepared.binary


@pytest.mark.parametrize(
    ("box", "ink", "signed"),
    [
        (True, "signed", True),
        (True, "none", False),
        (True, "dust", False),
        ("around", "signed", True),
        ("around", "none", False),
        (False, "signed", True),
        (False, "none", False),
        (False, "ruled", False),
    ],
)
def test_signature_ink(fonts: dict[str, Path], box: bool | str, ink: str, signed: bool) -> None:
    binary = _sheet(fonts, box=box, ink=ink)
    assert signature_present(binary, LABEL) is signed, signature_ink(binary, LABEL)


def test_signature_box_is_found_below_its_label(fonts: dict[str, Path]) -> None:
    binary = _sheet(fonts, box=True, ink="none")
    found = find_box(binary, LABEL)
    assert found is not None
    x0, y0, x1, y1 = found
    assert abs(x0 - 600) <= 3 and abs(y0 - 450) <= 3 and abs(x1 - 961) <= 3 and abs(y1 - 621) <= 3
    assert find_box(_sheet(fonts, box=False, ink="none"), LABEL) is None
    around = find_box(_sheet(fonts, box="around", ink="none"), LABEL)
    assert around is not None and abs(around[1] - 385) <= 3  # the box the label sits in


def test_uneven_phone_lighting_is_flattened(fonts: dict[str, Path]) -> None:
    """A shadowed corner must not turn into ink (Otsu alone would blacken it)."""
    sheet = render_pages(FormSpec(font=fonts["sans"], dpi=100))[0]
    even = prepare_page(np.asarray(sheet, dtype=np.uint8))
    shaded = np.asarray(degrade(sheet, shade=0.6), dtype=np.uint8)
    flat = prepare_page(shaded)
    assert flat.ink == pytest.approx(even.ink, rel=0.3)
    # what a plain global threshold makes of the same photo
    _, naive = cv2.threshold(shaded, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    assert np.count_nonzero(naive == 0) / naive.size > 3 * even.ink


def test_16_bit_scans_keep_their_ink() -> None:
    page = np.full((400, 400), 60000, np.uint16)
    page[100:120, 50:350] = 3000  # a dark stroke
    decoded = next(decode_pages(encode([Image.fromarray(page)], "PNG")))
    assert decoded[110, 200] < 30 and decoded[10, 10] > 220
