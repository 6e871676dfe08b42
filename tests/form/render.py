"""Filled complaint forms rendered the way a scanner or a phone would deliver them.

The tests (and ``bench/ocr_bench.py``) draw their own forms with Pillow and TrueType fonts found
on the machine, so no scan is ever committed and every field value is known exactly. Layouts
mimic the project's own template and other offices' "label: value" forms (other order, two
columns, labels misprinted the way OCR misreads them).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

#: The values every test form is filled with unless a test says otherwise.
VALUES: dict[str, str] = {
    "name": "Budi Santoso",
    "nik": "1671015708900003",
    "address": "Jl. Merdeka No. 12 RT 03 RW 05 Kelurahan Sukajadi",
    "phone": "0812-3456-7890",
    "email": "budi.santoso@example.id",
    "place": "Depan Pasar Indralaya",
    "when": "Senin, 16 November 2026 pukul 14.30",
    "text": (
        "Lampu penerangan jalan di depan pasar sudah mati selama dua minggu sehingga "
        "jalan sangat gelap pada malam hari dan rawan kecelakaan. Mohon segera diperbaiki "
        "oleh dinas terkait."
    ),
}

PROJECT_LABELS: dict[str, str] = {
    "name": "Nama",
    "nik": "NIK",
    "address": "Alamat",
    "phone": "No. HP/Telepon",
    "email": "Email",
    "place": "Tempat Kejadian",
    "when": "Waktu Kejadian",
    "text": "Uraian Pengaduan",
    "signature": "Tanda Tangan",
}

#: Another office's wording of the same fields ("m" misprinted as "rn", as OCR often reads it).
OTHER_LABELS: dict[str, str] = {
    "name": "Narna Lengkap",
    "nik": "No. KTP",
    "address": "Alamat Rumah",
    "phone": "Telp/HP",
    "email": "E-mail",
    "place": "Lokasi Kejadian",
    "when": "Tanggal Kejadian",
    "text": "Isi Pengaduan",
    "signature": "Tanda Tangan Pelapor",
}


def find_font(*names: str) -> Path | None:
    """The first TrueType font of ``names`` installed on this machine."""
    for base in FONT_DIRS:
        if not base.is_dir():
            continue
        for name in names:
            hits = sorted(base.rglob(name))
            if hits:
                return hits[0]
    return None


@dataclass
class FormSpec:
    """What to draw: values, labels, the layout and how the page is degraded afterwards."""

    font: Path
    values: dict[str, str] = field(default_factory=lambda: dict(VALUES))
    labels: dict[str, str] = field(default_factory=lambda: dict(PROJECT_LABELS))
    layout: str = "project"  # project | two_column | other_order
    title: str = "FORMULIR PENGADUAN MASYARAKAT"
    dpi: int = 150
    font_pt: float = 11.0
    signed: bool = True
    signature_box: bool = True
    order: Sequence[str] = (
        "name", "nik", "address", "phone", "email", "place", "when",
    )  # fmt: skip


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _signature(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], seed: int) -> None:
    """A handwritten-looking scrawl: a few thick connected curves inside ``box``."""
    rnd = random.Random(seed)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    points = []
    for i in range(40):
        t = i / 39
        x = x0 + w * (0.15 + 0.7 * t)
        y = y0 + h * (0.5 + 0.3 * math.sin(t * 9 + rnd.random()) * (1 - t / 2))
        points.append((x, y))
    draw.line(points, fill=0, width=3, joint="curve")
    draw.line([(x0 + w * 0.2, y0 + h * 0.75), (x0 + w * 0.8, y0 + h * 0.6)], fill=0, width=2)


def render_pages(spec: FormSpec, pages: int = 1) -> list[Image.Image]:
    """The filled form as 8-bit grayscale A4 pages; ``pages=2`` moves the signature to page 2."""

    def px(mm: float) -> int:
        return round(mm / 25.4 * spec.dpi)

    size = (px(210), px(297))
    font = ImageFont.truetype(str(spec.font), round(spec.font_pt / 72 * spec.dpi))
    title_font = ImageFont.truetype(str(spec.font), round(spec.font_pt * 1.35 / 72 * spec.dpi))
    line_h = round(spec.font_pt / 72 * spec.dpi * 1.9)
    sheets = [Image.new("L", size, 255) for _ in range(pages)]
    draw = ImageDraw.Draw(sheets[0])
    left, right = px(20), size[0] - px(20)
    y = px(18)
    tw = draw.textlength(spec.title, font=title_font)
    draw.text(((size[0] - tw) / 2, y), spec.title, font=title_font, fill=0)
    y += line_h * 2
    labels, values = spec.labels, spec.values

    def field_line(x: int, y: int, key: str, value_x: int, width: int) -> int:
        # a wide font must not run the label into its colon: push the value right if needed
        needed = x + round(draw.textlength(f"{labels[key]} : ", font=font))
        width -= max(0, needed - value_x)
        value_x = max(value_x, needed)
        draw.text((x, y), f"{labels[key]}", font=font, fill=0)
        draw.text((value_x - round(draw.textlength(": ", font=font)), y), ":", font=font, fill=0)
        lines = _wrap(draw, values.get(key, ""), font, width)
        for line in lines or [""]:
            draw.text((value_x, y), line, font=font, fill=0)
            y += line_h
        return y

    if spec.layout == "two_column":
        mid = size[0] // 2 + px(5)
        col_w = mid - left - px(35) - px(5)
        pairs = [("name", "nik"), ("phone", "email"), ("place", "when")]
        for a, b in pairs:
            ya = field_line(left, y, a, left + px(32), col_w)
            yb = field_line(mid, y, b, mid + px(30), right - mid - px(30))
            y = max(ya, yb) + line_h // 3
        y = field_line(left, y, "address", left + px(32), right - left - px(32)) + line_h // 3
    else:
        keys = list(spec.order)
        for key in keys:
            y = field_line(left, y, key, left + px(45), right - left - px(45)) + line_h // 4
    # the complaint: a heading, then the paragraph below it
    y += line_h // 2
    draw.text((left, y), f"{labels['text']}:", font=font, fill=0)
    y += line_h
    text_lines = _wrap(draw, values.get("text", ""), font, right - left)
    if pages == 2:
        half = max(1, len(text_lines) // 2)
        first, rest = text_lines[:half], text_lines[half:]
    else:
        first, rest = text_lines, []
    for line in first:
        draw.text((left, y), line, font=font, fill=0)
        y += line_h
    if pages == 2:
        draw = ImageDraw.Draw(sheets[1])
        y = px(20)
        for line in rest:
            draw.text((left, y), line, font=font, fill=0)
            y += line_h
    # the signature block, bottom right
    y += line_h
    sx = size[0] - px(85)
    draw.text((sx, y), f"{labels['signature']}:", font=font, fill=0)
    y += line_h + px(2)
    box = (sx, y, sx + px(65), y + px(30))
    if spec.signature_box:
        draw.rectangle(box, outline=0, width=2)
    if spec.signed:
        _signature(draw, box, seed=len(values.get("name", "")))
    return sheets


def degrade(
    image: Image.Image,
    *,
    angle: float = 0.0,
    noise: float = 0.0,
    blur: float = 0.0,
    shade: float = 0.0,
    seed: int = 7,
) -> Image.Image:
    """What a flatbed or a phone does to a page: skew, sensor noise, defocus, and (``shade``)
    the uneven light of a phone photo: the page darkens by up to that fraction towards a corner
    and the paper turns grey."""
    out = image
    if shade:
        w, h = out.size
        down = Image.linear_gradient("L").resize((w, h))  # 0 at the top, 255 at the bottom
        across = Image.linear_gradient("L").rotate(90).resize((w, h))
        ramp = Image.blend(down, across, 0.5)
        light = ramp.point(lambda v: round(255 - shade * v))
        out = Image.composite(out, Image.new("L", out.size, 0), light).point(
            lambda v: round(v * 0.92)
        )
    if angle:
        out = out.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rnd = random.Random(seed)
        noisy = out.copy()
        pixels = noisy.load()
        assert pixels is not None
        w, h = noisy.size
        for _ in range(int(w * h * noise)):
            x, y = rnd.randrange(w), rnd.randrange(h)
            pixels[x, y] = 0 if rnd.random() < 0.5 else 255
        out = noisy
    return out


def encode(images: Sequence[Image.Image], fmt: str, **options: object) -> bytes:
    """The file bytes a scanner would write (PNG, JPEG, TIFF, PDF; several pages where allowed)."""
    buf = io.BytesIO()
    first, rest = images[0], list(images[1:])
    if fmt in ("TIFF", "PDF"):
        extra: dict[str, object] = {"save_all": True, "append_images": rest}
        if fmt == "PDF":
            extra["resolution"] = 150.0
        first.save(buf, format=fmt, **extra, **options)
    else:
        first.convert("RGB" if fmt == "JPEG" else first.mode).save(buf, format=fmt, **options)
    return buf.getvalue()
