"""The printable complaint form shipped with the project (``aduan form-template``).

Laid out for OCR (``normalizers.form`` reads it back): one label per row at the left margin,
each followed by a colon, so the label finder sees "label: value" rows; writing lines printed in
light grey (a dropout colour the binarizer turns into paper, so handwriting on them is not
underlined for Tesseract); generous row height for handwriting; the complaint under its own
heading with the full page width; the signature in a black-bordered box whose ink is measured,
never read. Instructions ask for block capitals in dark ink, which Tesseract reads best.

``values`` pre-fills the form in print (kiosks, tests, the OCR benchmark).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

__all__ = ["FIELDS", "TITLE", "build_form_pdf", "write_form_pdf"]

TITLE = "FORMULIR PENGADUAN MASYARAKAT"
#: (key, printed label, rows of writing space)
FIELDS: tuple[tuple[str, str, int], ...] = (
    ("name", "Nama", 1),
    ("nik", "NIK", 1),
    ("address", "Alamat", 2),
    ("phone", "No. HP/Telepon", 1),
    ("email", "Email", 1),
    ("place", "Tempat Kejadian", 2),
    ("when", "Waktu Kejadian", 1),
)
TEXT_LABEL = "Uraian Pengaduan"
SIGNATURE_LABEL = "Tanda Tangan"
DROPOUT = Color(0.82, 0.82, 0.82)
FONT, BOLD = "Helvetica", "Helvetica-Bold"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if stringWidth(trial, font, size) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def build_form_pdf(
    office: str | None = None,
    values: Mapping[str, str] | None = None,
    *,
    text_rows: int = 12,
) -> bytes:
    """The form as PDF bytes (one A4 page)."""
    values = values or {}
    buf = io.BytesIO()
    pdf = Canvas(buf, pagesize=A4)
    pdf.setTitle(TITLE)
    pdf.setAuthor(office or "aduan")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    value_x = 66 * mm
    y = height - 20 * mm
    if office:
        pdf.setFont(BOLD, 11)
        pdf.drawCentredString(width / 2, y, office.upper())
        y -= 8 * mm
    pdf.setFont(BOLD, 16)
    pdf.drawCentredString(width / 2, y, TITLE)
    y -= 7 * mm
    pdf.setFont(FONT, 9)
    pdf.drawCentredString(
        width / 2, y, "Tulis dengan huruf cetak yang jelas memakai tinta hitam atau biru tua."
    )
    y -= 12 * mm
    row = 10 * mm
    size = 12
    for key, label, rows in FIELDS:
        pdf.setFillColor(black)
        pdf.setFont(FONT, size)
        pdf.drawString(left, y, label)
        pdf.drawString(value_x - 4 * mm, y, ":")
        lines = _wrap(values.get(key, ""), FONT, size, right - value_x)
        for i in range(max(rows, len(lines))):
            line_y = y - i * row
            pdf.setStrokeColor(DROPOUT)
            pdf.setLineWidth(0.6)
            pdf.line(value_x, line_y - 1.5 * mm, right, line_y - 1.5 * mm)
            if i < len(lines):
                pdf.setFillColor(black)
                pdf.drawString(value_x, line_y, lines[i])
        y -= max(rows, len(lines)) * row + 2 * mm
    y -= 3 * mm
    pdf.setFillColor(black)
    pdf.setFont(FONT, size)
    pdf.drawString(left, y, f"{TEXT_LABEL}:")
    y -= row
    text_lines = _wrap(values.get("text", ""), FONT, size, right - left)
    for i in range(max(text_rows, len(text_lines))):
        line_y = y - i * 8 * mm
        pdf.setStrokeColor(DROPOUT)
        pdf.line(left, line_y - 1.5 * mm, right, line_y - 1.5 * mm)
        if i < len(text_lines):
            pdf.drawString(left, line_y, text_lines[i])
    y -= max(text_rows, len(text_lines)) * 8 * mm + 4 * mm
    box_w, box_h = 70 * mm, 28 * mm
    box_x = right - box_w
    pdf.setFillColor(black)
    pdf.drawString(box_x, y, f"{SIGNATURE_LABEL}:")
    y -= 4 * mm
    pdf.setStrokeColor(black)
    pdf.setLineWidth(1.2)
    pdf.rect(box_x, y - box_h, box_w, box_h, stroke=1, fill=0)
    pdf.setFont(FONT, 8)
    pdf.drawCentredString(box_x + box_w / 2, y - box_h - 5 * mm, "(tanda tangan dan nama jelas)")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def write_form_pdf(out: Path, office: str | None = None) -> Path:
    out.write_bytes(build_form_pdf(office))
    return out
