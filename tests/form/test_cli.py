"""``aduan form-template``: the printable form, and that the form channel reads its layout back."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from typer.testing import CliRunner

from ingest.cli import build_app
from normalizers.form import FormOptions, read_pages
from normalizers.ocr.fields import DEFAULT_TITLE, extract_fields, group_rows


def test_form_template_writes_an_ocr_friendly_pdf(tmp_path: Path, tesseract: str) -> None:
    del tesseract
    out = tmp_path / "formulir.pdf"
    result = CliRunner().invoke(
        build_app(), ["form-template", "--out", str(out), "--office", "Diskominfo Ogan Ilir"]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    pdf = pdfium.PdfDocument(data)
    try:
        assert len(pdf) == 1
        page_text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    for printed in ("DISKOMINFO OGAN ILIR", DEFAULT_TITLE, "Nama", "NIK", "Alamat",
                    "No. HP/Telepon", "Email", "Tempat Kejadian", "Waktu Kejadian",
                    "Uraian Pengaduan", "Tanda Tangan"):  # fmt: skip
        assert printed in page_text, printed
    # printed and scanned empty, every label is found by OCR and the box reads as unsigned
    pages = read_pages(data, FormOptions(pdf_dpi=150))
    form = extract_fields(group_rows(list(pages[0].words)))
    assert {lab.key for lab in form.labels} == {
        "name", "nik", "address", "phone", "email", "place", "when", "text", "signature",
    }  # fmt: skip
    assert form.title == DEFAULT_TITLE
    assert pages[0].signed is False
    assert form.fields == {}  # light-grey writing lines are not read as values


def test_form_template_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_app(), ["form-template", "--out", str(tmp_path / "nope" / "f.pdf")]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
