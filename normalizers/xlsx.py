"""Rows of an XLSX complaint book, the way the CSV reader yields them (line number, row)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook


def iter_xlsx_rows(data: bytes, sheet: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """The first row is the header; blank rows are skipped; line numbers are Excel's (1-based)."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [
            str(h).strip() if h is not None else f"column{i + 1}" for i, h in enumerate(header)
        ]
        for line, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield line, dict(zip(names, cells, strict=False))
    finally:
        book.close()
