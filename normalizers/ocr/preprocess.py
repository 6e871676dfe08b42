"""Page clean-up before OCR: flatten lighting, denoise, deskew, binarize.

Every step is cheap (about 30 ms together on an A4 page at 200 dpi, against ~600 ms of OCR)
because the goal is that the whole pipeline costs little more than Tesseract itself: the skew
search shifts strip profiles instead of rotating images, lighting is only flattened when it is
uneven, and rotation and upscaling are one warp. Deskewing matters
beyond OCR accuracy: field extraction groups words into rows by their vertical position, which
only works when text lines are horizontal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from normalizers.ocr.decode import Gray

__all__ = ["PreparedPage", "estimate_skew", "glyph_height", "prepare_page"]

#: Tesseract reads best when letters are about 20 px tall; pages whose median glyph height is
#: below MIN_GLYPH (small print at 150 dpi, a phone photo from afar) are upscaled to TARGET_GLYPH
MIN_GLYPH = 13
TARGET_GLYPH = 18.0
MAX_UPSCALE = 2.0
#: skew search range in degrees (flatbeds and phones rarely do worse than this)
MAX_SKEW = 5.0


@dataclass(frozen=True)
class PreparedPage:
    """A deskewed page: ``gray`` (cleaned) goes to Tesseract, which binarizes better than a
    global threshold on small anti-aliased print; ``binary`` (ink 0, paper 255, same geometry)
    is what ink is measured on (blank pages, the signature box)."""

    gray: Gray
    binary: Gray
    angle: float  # degrees the page was rotated by to deskew it
    ink: float  # fraction of ink pixels after clean-up

    @property
    def blank(self) -> bool:
        return self.ink < 0.003

    @property
    def too_dark(self) -> bool:
        """Mostly ink: a photo, a dark background, a garbage image, not a paper form."""
        return self.ink > 0.35


def _downscale(image: Gray, longest: int) -> Gray:
    """``image`` shrunk by an integer factor (OpenCV's fast area path) to about ``longest``."""
    h, w = image.shape
    factor = max(1, -(-max(h, w) // longest))
    if factor == 1:
        return image
    size = (max(1, w // factor), max(1, h // factor))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _flatten(gray: Gray, small: Gray) -> tuple[Gray, Gray]:
    """Divide by the estimated paper colour so shadows and uneven phone lighting vanish; the
    page and its downscaled copy ``small`` both.

    A flatbed scan is evenly lit already: it is returned as it is (the division would cost as
    much as the rest of the clean-up together).
    """
    tiny = _downscale(small, 400)
    # text is dark and thin: a grey-level closing removes it, leaving the paper
    paper = cv2.morphologyEx(tiny, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    paper = cv2.medianBlur(paper, 5)
    low, high = np.percentile(paper, (2, 98))
    if high - low <= 24 and low >= 170:
        return gray, small
    out = []
    for image in (gray, small):
        h, w = image.shape
        scaled = np.maximum(cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR), 1)
        out.append(np.asarray(cv2.divide(image, scaled, scale=255), dtype=np.uint8))
    return out[0], out[1]


Profiles = npt.NDArray[np.float64]


def _profiles(binary_inv: Gray, strips: int = 32) -> tuple[Profiles, Profiles]:
    """Row ink profiles of vertical strips of the page, and each strip's offset from the centre."""
    h, w = binary_inv.shape
    width = max(1, w // strips)
    used = min(w, width * strips)
    strips = used // width
    cols = binary_inv[:, :used].reshape(h, strips, width)
    profiles = np.ascontiguousarray(cols.sum(axis=2, dtype=np.float64).T)
    centres = (np.arange(strips) + 0.5) * width - w / 2
    return profiles, np.asarray(centres, dtype=np.float64)


def _scores(profiles: Profiles, centres: Profiles, angles: Sequence[float]) -> list[float]:
    """Sharpness of the page's row profile as if rotated by each angle.

    For the small angles of a skewed scan, rotating moves a strip of the page up or down by
    ``offset * sin(angle)``: shifting the precomputed strip profiles and adding them up gives
    the rotated page's profile without rotating any image.
    """
    strips, h = profiles.shape
    margin = int(np.ceil(np.abs(centres).max() * np.sin(np.radians(MAX_SKEW + 1)))) + 1
    padded = np.zeros((strips, h + 2 * margin))
    padded[:, margin : margin + h] = profiles
    rows = np.arange(h)
    out: list[float] = []
    for angle in angles:
        shifts = np.rint(centres * np.sin(np.radians(angle))).astype(int)
        index = rows[None, :] + margin + shifts[:, None]
        total = np.take_along_axis(padded, index, axis=1).sum(axis=0)
        out.append(float(np.sum(np.diff(total) ** 2)))
    return out


def estimate_skew(binary_inv: Gray) -> float:
    """The rotation (degrees, counter-clockwise positive) that makes text lines horizontal.

    Projection-profile search: the right angle gives the sharpest row histogram. Coarse then
    fine, on a downscaled copy.
    """
    profiles, centres = _profiles(_downscale(binary_inv, 1000))
    coarse = [float(a) for a in np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5)]
    best = coarse[int(np.argmax(_scores(profiles, centres, coarse)))]
    fine = [float(a) for a in np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)]
    return round(fine[int(np.argmax(_scores(profiles, centres, fine)))], 2)


def _binarize(gray: Gray) -> Gray:
    """Otsu, except that light grey is always paper: Otsu on an almost empty page would split
    paper grain in two, and a form's light-grey writing lines are meant to vanish."""
    level, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if level > 200:
        _, binary = cv2.threshold(gray, 200, 255, cv2.THRESH_BINARY)
    return np.asarray(binary, dtype=np.uint8)


def glyph_height(binary: Gray, inv: Gray | None = None) -> float:
    """Median height of letter-like connected components (px): the page's print size.

    Measured in the quarter of the page with the most ink (the form's fields): representative,
    and a quarter of the cost of labelling the whole page.
    """
    h = binary.shape[0]
    if inv is None:
        inv = np.asarray(cv2.bitwise_not(binary), dtype=np.uint8)
    band = max(1, h // 4)
    if h > band:
        ink_rows = cv2.reduce(inv, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        rows = np.concatenate([[0], np.cumsum(ink_rows)])
        top = int(np.argmax(rows[band:] - rows[:-band]))
        inv = inv[top : top + band]
    count, _, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=8)
    if count <= 1:
        return 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    letters = heights[(heights >= 4) & (heights <= 200) & (widths <= 3 * heights)]
    return float(np.median(letters)) if letters.size >= 20 else 0.0


def prepare_page(gray: Gray) -> PreparedPage:
    """Grayscale page in, cleaned deskewed page (gray for OCR, binary for ink) out."""
    flat, small = _flatten(gray, _downscale(gray, 1000))
    clean = np.asarray(cv2.medianBlur(flat, 3), dtype=np.uint8)
    binary = _binarize(clean)
    inv = np.asarray(cv2.bitwise_not(binary), dtype=np.uint8)
    ink = cv2.countNonZero(inv) / binary.size
    page = PreparedPage(clean, binary, 0.0, ink)
    if page.blank or page.too_dark:
        return page
    # the skew is measured on the small copy: lines are as straight there, at a tenth the cost
    angle = estimate_skew(np.asarray(cv2.bitwise_not(_binarize(small)), dtype=np.uint8))
    angle = angle if abs(angle) > 0.15 else 0.0
    glyph = glyph_height(binary, inv)
    scale = min(MAX_UPSCALE, TARGET_GLYPH / glyph) if 0 < glyph < MIN_GLYPH else 1.0
    if angle or scale != 1.0:
        # one warp does both: rotate about the centre and upscale small print
        h, w = clean.shape
        out_w, out_h = round(w * scale), round(h * scale)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        matrix[0, 2] += (out_w - w) / 2
        matrix[1, 2] += (out_h - h) / 2
        flags = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_LINEAR
        warped = cv2.warpAffine(clean, matrix, (out_w, out_h), flags=flags, borderValue=255)
        clean = np.asarray(warped, dtype=np.uint8)
        binary = _binarize(clean)
    return PreparedPage(clean, binary, angle, ink)
