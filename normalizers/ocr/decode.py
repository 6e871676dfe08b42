"""Scan files (PNG, JPEG, TIFF, PDF) to grayscale page arrays of bounded size.

Pages are yielded one at a time and downscaled while decoding where the format allows it (JPEG
draft mode, PDF rendering scale), so a 600 dpi A3 scan never sits in memory at full size next
to its copies. Pillow's decompression-bomb protection stays on: an image whose header claims
more pixels than ``Image.MAX_IMAGE_PIXELS`` is refused, not decoded (its warning band is turned
into a refusal too, locally, without touching Pillow's global settings).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

Gray = npt.NDArray[np.uint8]

__all__ = ["DecodeError", "DecodeLimits", "Gray", "decode_pages", "sniff_kind"]


class DecodeError(ValueError):
    """The file is not a scan this channel can read; the message says why and what to do."""


@dataclass(frozen=True)
class DecodeLimits:
    #: longest side of a page in pixels after decoding (A4 at 300 dpi is 3508)
    max_side: int = 3508
    #: rendering resolution for PDF pages
    pdf_dpi: int = 200
    #: pages beyond this are refused (a whole binder scanned into one file needs splitting)
    max_pages: int = 20


def sniff_kind(payload: bytes, content_type: str = "", filename: str | None = None) -> str:
    """``pdf``, ``image`` or ``unknown`` from the magic bytes (names and types can lie)."""
    del content_type, filename
    if payload[:5] == b"%PDF-" or b"%PDF-" in payload[:1024]:
        return "pdf"
    magic = (
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"II*\x00",
        b"MM\x00*",
        b"BM",
        b"GIF8",
        b"RIFF",
    )
    if payload.startswith(magic):
        return "image"
    return "unknown"


def _bounded(image: Image.Image, max_side: int) -> Image.Image:
    longest = max(image.size)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reduce() first (cheap integer box filter), then an exact resize
    factor = int(1 / scale)
    if factor >= 2:
        image = image.reduce(factor)
    return image.resize(size, Image.Resampling.LANCZOS) if max(image.size) > max_side else image


def _to_gray(frame: Image.Image) -> Image.Image:
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit scans: Pillow's plain conversion clips everything above 255 to white
        high = frame.convert("I")
        peak = high.getextrema()[1]
        scale = 1 / 256 if isinstance(peak, int) and peak > 255 else 1
        return high.point(lambda v: v * scale).convert("L")
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        # transparent areas of a screenshot-like image are paper, not ink
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        frame = Image.alpha_composite(background, rgba)
    return frame.convert("L")


def _open(payload: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(payload))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError(
                f"image refused as a possible decompression bomb ({exc}); rescan at 300 dpi or less"
            ) from None
        except (UnidentifiedImageError, OSError) as exc:
            raise DecodeError(
                f"unreadable image ({exc}); rescan or export as PNG/JPEG/TIFF/PDF"
            ) from None


def _load_frame(frame: Image.Image, is_jpeg: bool, limits: DecodeLimits) -> Gray:
    # Pillow checks the first frame's size on open(); later TIFF pages are checked here
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and frame.width * frame.height > limit:
        raise DecodeError(
            f"a page of {frame.width}x{frame.height} pixels is refused as a possible "
            "decompression bomb; rescan at 300 dpi or less"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            if is_jpeg:
                # decode at 1/2, 1/4, 1/8 directly when the scan is far too large
                frame.draft("L", (limits.max_side, limits.max_side))
            frame.load()
            page = ImageOps.exif_transpose(frame) if is_jpeg else frame
            page = _bounded(_to_gray(page), limits.max_side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise DecodeError(
                f"page refused as a possible decompression bomb ({exc}); rescan at 300 dpi"
            ) from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise DecodeError(f"damaged image data ({exc}); rescan the page") from None
    return np.asarray(page, dtype=np.uint8).copy()


def _image_pages(payload: bytes, limits: DecodeLimits) -> Iterator[Gray]:
    with _open(payload) as image:
        n_frames = getattr(image, "n_frames", 1)
        if n_frames > limits.max_pages:
            raise DecodeError(
                f"{n_frames} pages in one file (limit {limits.max_pages}): split the scan"
            )
        is_jpeg = image.format == "JPEG"
        for index in range(n_frames):
            if index:
                try:
                    image.seek(index)
                except (OSError, EOFError) as exc:
                    raise DecodeError(f"damaged page {index + 1} ({exc}); rescan it") from None
            yield _load_frame(image, is_jpeg, limits)


def _pdf_pages(payload: bytes, limits: DecodeLimits) -> Iterator[Gray]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(payload)
    except pdfium.PdfiumError as exc:
        raise DecodeError(f"unreadable PDF ({exc}); re-export it from the scanner") from None
    try:
        if len(pdf) > limits.max_pages:
            raise DecodeError(
                f"{len(pdf)} pages in one PDF (limit {limits.max_pages}): split the scan"
            )
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                width, height = page.get_size()
                scale = limits.pdf_dpi / 72
                longest = max(width, height) * scale
                if longest > limits.max_side:
                    scale *= limits.max_side / longest
                bitmap = page.render(scale=scale, grayscale=True)
                try:
                    image = bitmap.to_pil().convert("L")
                finally:
                    bitmap.close()
            finally:
                page.close()
            yield np.asarray(image, dtype=np.uint8).copy()
    finally:
        pdf.close()


def decode_pages(payload: bytes, limits: DecodeLimits | None = None) -> Iterator[Gray]:
    """Each page of the scan as a 2-D uint8 array, longest side at most ``limits.max_side``."""
    limits = limits or DecodeLimits()
    kind = sniff_kind(payload)
    if kind == "pdf":
        yield from _pdf_pages(payload, limits)
    elif kind == "image":
        yield from _image_pages(payload, limits)
    else:
        raise DecodeError("not a PNG, JPEG, TIFF or PDF file: save scans in one of those formats")
