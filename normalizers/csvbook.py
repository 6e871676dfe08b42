"""Rows of an office's existing complaint book (buku/agenda pengaduan) → reports.

Input is either one row as JSON (what the ``csv`` adapter emits: ``{"row": n, "values": {...},
"source": "buku.csv"}``) or a whole CSV/XLSX file (what ``aduan normalize --channel csv`` hands
over). The column mapping comes from the channel's settings (``columns:`` in channels.yaml), so
every office keeps its own book layout.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report
from normalizers.extract.phone import normalize_phone
from normalizers.record import mask_nik, mask_niks_in_text

#: Date layouts seen in Indonesian complaint books, tried in order after ISO 8601.
DATE_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d/%m/%y",
)

FIELDS = (
    "id",
    "text",
    "name",
    "email",
    "phone",
    "address",
    "nik",
    "subject",
    "received_at",
    "location",
    "category",
    "severity",
)


def row_hash(values: Mapping[str, Any]) -> str:
    """A row's identity when the book has no id column: stable across re-exports."""
    canon = json.dumps(
        {k: ("" if v is None else str(v)) for k, v in values.items()}, sort_keys=True
    )
    return "row-" + hashlib.sha256(canon.encode()).hexdigest()[:32]


def parse_date(value: Any, tz: dt.tzinfo, fmt: str | None = None) -> dt.datetime | None:
    """A book's date cell (text, Excel datetime or date) as an aware datetime in the office tz."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(0, 0))
    else:
        text = str(value).strip()
        candidates = (fmt,) if fmt else DATE_FORMATS
        parsed_opt: dt.datetime | None = None
        try:
            parsed_opt = dt.datetime.fromisoformat(text)
        except ValueError:
            for layout in candidates:
                if layout is None:
                    continue
                try:
                    parsed_opt = dt.datetime.strptime(text, layout)
                    break
                except ValueError:
                    continue
        if parsed_opt is None:
            return None
        parsed = parsed_opt
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def iter_csv_rows(
    data: bytes, delimiter: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs of a CSV file; the delimiter is sniffed unless given."""
    text = data.decode("utf-8-sig", errors="replace")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    for values in reader:
        if any((v or "").strip() for v in values.values() if isinstance(v, str)):
            yield reader.line_num, {k.strip(): v for k, v in values.items() if k is not None}


def _cell(values: Mapping[str, Any], column: str | None) -> Any:
    if not column:
        return None
    if column in values:
        return values[column]
    folded = {k.strip().lower(): v for k, v in values.items()}
    return folded.get(column.strip().lower())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalize_row(
    values: Mapping[str, Any], line: int, source: str, ctx: NormalizeContext
) -> Outcome:
    columns: Mapping[str, str | None] = ctx.settings.get("columns") or {}
    if columns.get("text") and _cell(values, columns["text"]) is None:
        return Rejection(f"{source}:{line}: column {columns['text']!r} (text) not found in the row")
    ext = _text(_cell(values, columns.get("id"))) or row_hash(values)
    text = _text(_cell(values, columns.get("text")))
    if text is None:
        return Rejection(f"{source}:{line}: empty complaint text", ext)
    tz = ctx.office.tz
    received_raw = _cell(values, columns.get("received_at"))
    received = parse_date(received_raw, tz, ctx.settings.get("date_format"))
    if received is None:
        if received_raw not in (None, ""):
            return Rejection(
                f"{source}:{line}: cannot read date {str(received_raw)[:40]!r} in column "
                f"{columns.get('received_at')!r} (set date_format, e.g. '%d/%m/%Y')",
                ext,
            )
        received = ctx.ingested_at
    nik = _text(_cell(values, columns.get("nik")))
    nik_masked = None
    if nik:
        try:
            nik_masked = mask_nik(nik)
        except ValueError:
            return Rejection(
                f"{source}:{line}: column {columns.get('nik')!r}: NIK must have 16 digits", ext
            )
    category = _text(_cell(values, columns.get("category")))
    severity = _text(_cell(values, columns.get("severity")))
    fields: dict[str, Any] = {
        "external_id": ext,
        "received_at": received,
        "text": text,
        "subject": _text(_cell(values, columns.get("subject"))),
        "reporter": {
            "name": _text(_cell(values, columns.get("name"))),
            "email": _text(_cell(values, columns.get("email"))),
            "address": _text(_cell(values, columns.get("address"))),
            "nik_masked": nik_masked,
        },
        "location": {"text": _text(_cell(values, columns.get("location")))},
        "category": category,
        "severity": severity.lower() if severity else None,
    }
    phone = _text(_cell(values, columns.get("phone")))
    if phone:
        fields["reporter"]["phone"] = normalize_phone(phone)
    outcome = build_report(fields, ctx)
    if isinstance(outcome, Rejection):
        return Rejection(mask_niks_in_text(f"{source}:{line}: {outcome.reason}"), ext)
    return outcome


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    source = raw.filename or "row"
    if raw.content_type == "application/json":
        try:
            doc = json.loads(raw.payload)
            values, line = doc["values"], int(doc.get("row", 0))
            source = str(doc.get("source") or source)
        except (ValueError, KeyError, TypeError) as exc:
            return [Rejection(f"not a complaint-book row: {exc}")]
        return [normalize_row(values, line, source, ctx)]
    if raw.payload[:2] == b"PK":  # XLSX is a zip
        from normalizers.xlsx import iter_xlsx_rows

        rows = iter_xlsx_rows(raw.payload, ctx.settings.get("sheet"))
    else:
        rows = iter_csv_rows(raw.payload, ctx.settings.get("delimiter"))
    return [normalize_row(values, line, source, ctx) for line, values in rows]
