"""``kind: csv``: an office's existing complaint book (CSV or XLSX), one complaint per row.

The book is usually a file staff keep appending to. The checkpoint is the number of rows already
published plus a hash of those rows: while the book only grows, each poll sends the new rows;
when an older row changed (a re-export, a sorted sheet) the hash no longer matches and the whole
book is sent again, which the store absorbs because each row keeps its id (the mapped id column,
else a hash of the row).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.adapter import AdapterContext, BaseAdapter, Batch, State
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import RawMessage
from normalizers.csvbook import iter_csv_rows, normalize
from normalizers.xlsx import iter_xlsx_rows


class CsvColumns(BaseModel):
    """Which column of the book holds each field (header names, case-insensitive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="the complaint itself (required)")
    id: str | None = Field(default=None, description="the book's own number (No. Agenda)")
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    nik: str | None = None
    subject: str | None = None
    received_at: str | None = None
    location: str | None = None
    category: str | None = None
    severity: str | None = None


class CsvSettings(ChannelSettings):
    kind: Literal["csv"] = "csv"
    path: str = Field(description="the CSV or XLSX file, relative to channels.yaml")
    columns: CsvColumns
    format: Literal["auto", "csv", "xlsx"] = "auto"
    sheet: str | None = None
    delimiter: str | None = Field(default=None, description="sniffed when not set")
    date_format: str | None = Field(default=None, description="strptime layout, e.g. %d/%m/%Y")
    batch_size: int = Field(default=500, gt=0)


def read_rows(path: Path, settings: CsvSettings) -> Iterator[tuple[int, dict[str, Any]]]:
    data = path.read_bytes()
    is_xlsx = settings.format == "xlsx" or (settings.format == "auto" and data[:2] == b"PK")
    if is_xlsx:
        return iter_xlsx_rows(data, settings.sheet)
    return iter_csv_rows(data, settings.delimiter)


def row_message(path: Path, line: int, values: dict[str, Any]) -> RawMessage:
    payload = json.dumps(
        {"source": path.name, "row": line, "values": values},
        ensure_ascii=False,
        default=str,
        sort_keys=True,
    ).encode()
    return RawMessage(
        payload=payload,
        content_type="application/json",
        filename=f"{path.name}:{line}",
        meta={"source": str(path), "row": line},
    )


class CsvBookAdapter(BaseAdapter):
    def __init__(self, settings: CsvSettings, ctx: AdapterContext) -> None:
        self.settings = settings
        self.path = ctx.resolve(settings.path)

    def fetch(self, state: State | None) -> Batch:
        done = int(state.get("rows_done", 0)) if state else 0
        prefix = str(state.get("prefix_sha256", "")) if state else ""
        if not self.path.exists():
            raise FileNotFoundError(f"complaint book {self.path} not found (check 'path')")
        rows = list(read_rows(self.path, self.settings))
        if done and (done > len(rows) or _prefix_hash(rows[:done]) != prefix):
            done = 0  # the book was rewritten, not appended to: send it all again (idempotent)
        chunk = rows[done : done + self.settings.batch_size]
        new_done = done + len(chunk)
        return Batch(
            messages=[row_message(self.path, line, values) for line, values in chunk],
            state={
                "rows_done": new_done,
                "prefix_sha256": _prefix_hash(rows[:new_done]),
                "checked_at": datetime.now(UTC).isoformat(),
            },
            more=new_done < len(rows),
        )


def _prefix_hash(rows: list[tuple[int, dict[str, Any]]]) -> str:
    digest = hashlib.sha256()
    for line, values in rows:
        digest.update(json.dumps([line, values], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def read_files(path: Path, settings: ChannelSettings) -> Iterator[RawMessage]:
    """``aduan import``: every row of a book (or of every book in a folder)."""
    assert isinstance(settings, CsvSettings)
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".xlsx"})
        if path.is_dir()
        else [path]
    )
    for file in files:
        for line, values in read_rows(file, settings):
            yield row_message(file, line, values)


def _adapter(settings: ChannelSettings, ctx: AdapterContext) -> CsvBookAdapter:
    assert isinstance(settings, CsvSettings)
    return CsvBookAdapter(settings, ctx)


PLUGIN = ChannelPlugin(
    kind="csv",
    settings=CsvSettings,
    normalize=normalize,
    adapter=_adapter,
    read_files=read_files,
    prefetch=True,
)
