"""kind: csv — the office's complaint book, row by row (courier-style table of cases)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from ingest.adapter import AdapterContext
from ingest.adapters.csvbook import PLUGIN, CsvBookAdapter, CsvSettings, read_files
from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.office import DEFAULT_OFFICE

WIB = timezone(timedelta(hours=7))
COLUMNS = {
    "id": "No Agenda",
    "received_at": "Tanggal",
    "name": "Nama",
    "phone": "HP",
    "nik": "NIK",
    "text": "Isi",
    "location": "Lokasi",
}


def settings(**over: Any) -> CsvSettings:
    base: dict[str, Any] = {"name": "buku", "kind": "csv", "path": "buku.csv", "columns": COLUMNS}
    base.update(over)
    return CsvSettings.model_validate(base)


def ctx(s: CsvSettings | None = None) -> NormalizeContext:
    return NormalizeContext(
        channel_name="buku",
        channel_kind="csv",
        ingested_at=datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        raw_uri="file:///raw",
        raw_sha256="0" * 64,
        office=DEFAULT_OFFICE,
        settings=(s or settings()).model_dump(mode="json"),
    )


def row(values: dict[str, Any], line: int = 2) -> RawMessage:
    payload = json.dumps({"source": "buku.csv", "row": line, "values": values}).encode()
    return RawMessage(payload=payload, content_type="application/json")


FULL = {
    "No Agenda": "AG-1",
    "Tanggal": "03/11/2026 08:15",
    "Nama": "Siti Aminah",
    "HP": "0812-7345-1122",
    "NIK": "1610021203850004",
    "Isi": "Jalan rusak parah di depan SD 12.",
    "Lokasi": "Desa Tanjung Seteko",
}

CASES: list[tuple[str, dict[str, Any], dict[str, Any] | str]] = [
    (
        "full row",
        FULL,
        {
            "external_id": "AG-1",
            "received_at": "2026-11-03T01:15:00Z",
            "reporter.name": "Siti Aminah",
            "reporter.phone": "+6281273451122",
            "reporter.nik_masked": "1610********0004",
            "location.text": "Desa Tanjung Seteko",
            "text": "Jalan rusak parah di depan SD 12.",
        },
    ),
    (
        "ISO date",
        {**FULL, "Tanggal": "2026-11-03T08:15:00+07:00"},
        {"received_at": "2026-11-03T01:15:00Z"},
    ),
    (
        "date only, office timezone",
        {**FULL, "Tanggal": "03-11-2026"},
        {"received_at": "2026-11-02T17:00:00Z"},
    ),
    ("no date: ingested_at", {**FULL, "Tanggal": ""}, {"received_at": "2026-11-23T03:00:00Z"}),
    (
        "international phone",
        {**FULL, "HP": "+62 813 6677 8899"},
        {"reporter.phone": "+6281366778899"},
    ),
    ("landline", {**FULL, "HP": "(0711) 412345"}, {"reporter.phone": "+62711412345"}),
    ("not a phone", {**FULL, "HP": "-"}, {"reporter.phone": None}),
    (
        "no id: row hash, stable",
        {k: v for k, v in FULL.items() if k != "No Agenda"},
        {"external_id": "row-"},
    ),
    (
        "header case and spaces",
        {"no agenda": "AG-9", "TANGGAL": "03/11/2026", "isi": "Sampah menumpuk"},
        {"external_id": "AG-9"},
    ),
    (
        "NIK in text is masked",
        {**FULL, "Isi": "NIK 1610021203850004 ditolak"},
        {"text": "NIK 1610********0004 ditolak"},
    ),
    ("empty text", {**FULL, "Isi": "  "}, "buku.csv:2: empty complaint text"),
    ("no text column", {"Tanggal": "03/11/2026"}, "column 'Isi' (text) not found"),
    ("bad date", {**FULL, "Tanggal": "kemarin sore"}, "cannot read date 'kemarin sore'"),
    ("bad NIK", {**FULL, "NIK": "12345"}, "NIK must have 16 digits"),
]


def _get(doc: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc[part]
    return doc


@pytest.mark.parametrize(("case", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_row_normalizer(case: str, values: dict[str, Any], expected: dict[str, Any] | str) -> None:
    outcomes = PLUGIN.normalize(row(values), ctx())
    assert len(outcomes) == 1
    outcome = outcomes[0]
    if isinstance(expected, str):
        assert isinstance(outcome, Rejection), case
        assert expected in outcome.reason
        return
    assert isinstance(outcome, Normalized), getattr(outcome, "reason", "")
    doc = json.loads(outcome.report.to_json())
    for key, value in expected.items():
        got = _get(doc, key)
        if isinstance(value, str) and value.endswith("-"):
            assert got.startswith(value)
        else:
            assert got == value, key
    assert doc["channel"] == {"kind": "csv", "name": "buku"}


def test_row_hash_is_stable_across_runs() -> None:
    values = {k: v for k, v in FULL.items() if k != "No Agenda"}
    first = PLUGIN.normalize(row(values), ctx())[0]
    again = PLUGIN.normalize(row(values, line=7), ctx())[0]
    assert isinstance(first, Normalized) and isinstance(again, Normalized)
    assert first.report.id == again.report.id


def test_whole_csv_and_xlsx_files(tmp_path: Path) -> None:
    header = list(FULL)
    csv_text = (
        ";".join(header)
        + "\n"
        + ";".join(FULL.values())
        + "\n"
        + ";".join({**FULL, "No Agenda": "AG-2"}.values())
        + "\n"
    )
    csv_out = PLUGIN.normalize(RawMessage(csv_text.encode(), "text/csv", filename="b.csv"), ctx())
    assert [o.report.external_id for o in csv_out if isinstance(o, Normalized)] == ["AG-1", "AG-2"]

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    ws.append([datetime(2026, 11, 3, 8, 15) if k == "Tanggal" else v for k, v in FULL.items()])
    ws.append([None] * len(header))  # blank rows are skipped
    path = tmp_path / "b.xlsx"
    wb.save(path)
    xlsx_out = PLUGIN.normalize(
        RawMessage(path.read_bytes(), "application/vnd.ms-excel", filename="b.xlsx"), ctx()
    )
    assert len(xlsx_out) == 1 and isinstance(xlsx_out[0], Normalized)
    assert xlsx_out[0].report.received_at == datetime(2026, 11, 3, 8, 15, tzinfo=WIB)


def _adapter(tmp_path: Path, batch_size: int = 2) -> CsvBookAdapter:
    actx = AdapterContext(
        channel_name="buku", data_dir=tmp_path / "var", office=DEFAULT_OFFICE, base_dir=tmp_path
    )
    return CsvBookAdapter(settings(batch_size=batch_size), actx)


def _write_book(tmp_path: Path, ids: list[str]) -> None:
    lines = ["No Agenda,Tanggal,Isi"] + [f"{i},03/11/2026,Keluhan nomor {i}" for i in ids]
    (tmp_path / "buku.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ids(messages: Any) -> list[str]:
    return [json.loads(m.payload)["values"]["No Agenda"] for m in messages]


def test_adapter_pages_then_picks_up_appended_rows(tmp_path: Path) -> None:
    _write_book(tmp_path, ["1", "2", "3"])
    adapter = _adapter(tmp_path)
    first = adapter.fetch(None)
    assert _ids(first.messages) == ["1", "2"] and first.more
    second = adapter.fetch(first.state)
    assert _ids(second.messages) == ["3"] and not second.more
    idle = adapter.fetch(second.state)
    assert idle.messages == [] and not idle.more
    _write_book(tmp_path, ["1", "2", "3", "4"])
    assert _ids(adapter.fetch(idle.state).messages) == ["4"]


def test_adapter_resends_a_rewritten_book(tmp_path: Path) -> None:
    _write_book(tmp_path, ["1", "2"])
    adapter = _adapter(tmp_path, batch_size=10)
    state = adapter.fetch(None).state
    _write_book(tmp_path, ["2", "1", "5"])  # sorted differently, a row added
    assert _ids(adapter.fetch(state).messages) == ["2", "1", "5"]


def test_adapter_missing_file_says_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="check 'path'"):
        _adapter(tmp_path).fetch(None)


def test_read_files_for_import(tmp_path: Path) -> None:
    _write_book(tmp_path, ["1", "2"])
    assert _ids(read_files(tmp_path, settings())) == ["1", "2"]
    assert _ids(read_files(tmp_path / "buku.csv", settings())) == ["1", "2"]
