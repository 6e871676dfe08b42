"""Is the signature box ("Tanda Tangan") signed? Measured as ink, never read as text.

The box is found near its label: a drawn rectangle below (or around) the label when the form has
one, else the area under the label where people sign on forms without a box. Inside it, ruled
lines and printed words Tesseract read with confidence (a printed "(nama jelas)", the signer's
typed name) are blanked; what is left counts as signature only when it forms strokes (connected
components at least about a letter tall), so scanner specks do not sign a form.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from normalizers.ocr.decode import Gray
from normalizers.ocr.fields import Word

__all__ = ["find_box", "signature_ink", "signature_present"]

#: share of the box area covered by strokes above which the box counts as signed
SIGNED_INK = 0.004

Box = tuple[int, int, int, int]


def _edge_ink(inv: Gray, box: Box) -> float:
    """The least-inked side of ``box``: near 1.0 when a rectangle is drawn there."""
    x0, y0, x1, y1 = box
    # a 2-3 px border may be off by a pixel after deskewing: look at a 5 px band
    bands = [
        inv[max(0, y0 - 2) : y0 + 3, x0:x1].max(axis=0),
        inv[max(0, y1 - 3) : y1 + 2, x0:x1].max(axis=0),
        inv[y0:y1, max(0, x0 - 2) : x0 + 3].max(axis=1),
        inv[y0:y1, max(0, x1 - 3) : x1 + 2].max(axis=1),
    ]
    return float(min(np.count_nonzero(b) / max(1, b.size) for b in bands))


def find_box(binary: Gray, label: Box) -> Box | None:
    """The drawn rectangle that belongs to the signature label, if the form has one."""
    lx0, ly0, lx1, ly1 = label
    lh = max(8, ly1 - ly0)
    page_h, page_w = binary.shape
    # only the band around the label can hold its box: label the band, not the page
    top, bottom = max(0, ly0 - 12 * lh), min(page_h, ly1 + 40 * lh)
    inv = np.asarray(cv2.bitwise_not(binary[top:bottom]), dtype=np.uint8)
    contours, _ = cv2.findContours(inv, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    best: tuple[float, Box] | None = None
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        y += top
        if w < 3 * lh or h < 2 * lh or w > 0.95 * page_w or h > 0.6 * page_h:
            continue
        below = ly0 - lh <= y <= ly1 + 5 * lh
        around = y <= ly0 and y + h >= ly1 and x <= lx0 and x + w >= lx1
        overlaps = x < lx1 + 4 * lh and x + w > lx0 - 4 * lh
        if not ((below and overlaps) or around):
            continue
        box = (x, y, x + w, y + h)
        if _edge_ink(inv, (x, y - top, x + w, y - top + h)) < 0.85:
            continue
        distance = abs(y - ly1) + abs(x - lx0) * 0.25
        if best is None or distance < best[0]:
            best = (distance, box)
    return best[1] if best is not None else None


def signature_ink(binary: Gray, label: Box, words: Sequence[Word] = ()) -> float:
    """Share of the signature area covered by pen strokes (0..1)."""
    lx0, ly0, lx1, ly1 = label
    lh = max(8, ly1 - ly0)
    page_h, page_w = binary.shape
    box = find_box(binary, label)
    if box is not None:
        x0, y0, x1, y1 = box
        margin = max(5, round(0.05 * min(x1 - x0, y1 - y0)))
        x0, y0, x1, y1 = x0 + margin, y0 + margin, x1 - margin, y1 - margin
        if y0 <= ly1 <= y1 and x0 <= lx0 <= x1:
            y0 = ly1 + 4  # label printed inside the top of the box
    else:
        x0, y0 = lx0 - lh, ly1 + lh // 3
        x1, y1 = max(lx1 + 4 * lh, lx0 + 12 * lh), ly1 + 6 * lh
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(page_w, x1), min(page_h, y1)
    if x1 - x0 < lh or y1 - y0 < lh:
        return 0.0
    region = np.asarray(255 - binary[y0:y1, x0:x1], dtype=np.uint8).copy()
    for word in words:  # printed text inside (a typed name under the signature)
        if word.conf >= 0.6 and sum(c.isalpha() for c in word.text) >= 3:
            wx0, wy0 = max(0, word.left - x0 - 2), max(0, word.top - y0 - 2)
            wx1, wy1 = word.right - x0 + 2, word.bottom - y0 + 2
            if wx1 > 0 and wy1 > 0:
                region[wy0:wy1, wx0:wx1] = 0
    # ruled lines to sign on are not a signature
    lines = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((1, max(3, 4 * lh)), np.uint8))
    region = np.asarray(cv2.subtract(region, lines), dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    strokes = 0
    for i in range(1, count):
        w, h, area = (
            stats[i, cv2.CC_STAT_WIDTH],
            stats[i, cv2.CC_STAT_HEIGHT],
            stats[i, cv2.CC_STAT_AREA],
        )
        if max(w, h) >= 0.8 * lh:
            strokes += int(area)
    return strokes / float(region.size)


def signature_present(binary: Gray, label: Box, words: Sequence[Word] = ()) -> bool:
    return signature_ink(binary, label, words) > SIGNED_INK
