"""Tesseract, through pytesseract: one ``image_to_data`` call per page, words with confidences.

Exactly one OCR pass per page in the normal case (no orientation pass, no second language run):
the pipeline is meant to cost about what bare ``tesseract`` costs. Only a page on which no label
was found gets Tesseract's orientation detection (a sheet fed upside down or sideways) and, if
it is turned, a second pass. Tesseract is an external program; running it
is the only thing in the normalizer that is not pure computation, and it reads nothing but the
page image handed to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image

from normalizers.ocr.decode import Gray
from normalizers.ocr.fields import Word, words_from_data

__all__ = ["OcrError", "OcrOptions", "detect_rotation", "ocr_words"]


class OcrError(RuntimeError):
    """Tesseract could not read a page; the message says what to fix."""


@dataclass(frozen=True)
class OcrOptions:
    lang: str = "ind+eng"
    #: page segmentation mode 3: automatic layout (columns, label and value blocks)
    psm: int = 3
    timeout: float = 120.0


def ocr_words(gray: Gray, page: int, options: OcrOptions | None = None) -> list[Word]:
    """The words on one preprocessed grayscale page."""
    options = options or OcrOptions()
    # pytesseract hands the page over as a temporary file: uncompressed TIFF costs a copy (PNG
    # a compression), and Tesseract reads it faster than BMP (Pillow writes a palette BMP)
    image = Image.fromarray(np.asarray(gray, dtype=np.uint8))
    image.format = "TIFF"
    # Tesseract's OpenMP threads double its CPU time for little speed-up, and the runtime already
    # runs one file per core: one thread per Tesseract unless the operator decided otherwise.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        data = pytesseract.image_to_data(
            image,
            lang=options.lang,
            config=f"--psm {options.psm}",
            output_type=pytesseract.Output.DICT,
            timeout=options.timeout,
        )
    except pytesseract.TesseractNotFoundError:
        raise OcrError(
            "tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-ind"
        ) from None
    except pytesseract.TesseractError as exc:
        raise OcrError(
            f"tesseract failed on page {page + 1}: {exc.message.strip()[:300]} "
            f"(is the language pack for {options.lang!r} installed? tesseract --list-langs)"
        ) from None
    except RuntimeError as exc:  # pytesseract's timeout
        raise OcrError(
            f"OCR of page {page + 1} took longer than {options.timeout:.0f} s: "
            "rescan it at 200-300 dpi or raise ocr_timeout"
        ) from exc
    return words_from_data(data, page)


def detect_rotation(gray: Gray, options: OcrOptions | None = None) -> int:
    """Clockwise degrees (0, 90, 180, 270) that turn the page upright, per Tesseract's OSD.

    0 when Tesseract is unsure or finds too little text to tell (it raises then).
    """
    options = options or OcrOptions()
    image = Image.fromarray(np.asarray(gray, dtype=np.uint8))
    image.format = "TIFF"
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        osd = pytesseract.image_to_osd(
            image, output_type=pytesseract.Output.DICT, timeout=options.timeout
        )
    except (pytesseract.TesseractError, RuntimeError):
        return 0
    rotate = int(osd.get("rotate", 0))
    confident = float(osd.get("orientation_conf", 0.0)) >= 2.0
    return rotate % 360 if confident and rotate % 90 == 0 else 0
