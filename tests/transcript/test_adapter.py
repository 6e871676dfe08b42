"""The ``transcript`` plugin end to end: a folder of calls -> raw messages -> reports."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.adapter import AdapterContext
from ingest.adapters.transcript import PLUGIN, TranscriptSettings, read_files
from ingest.registry import get_plugin
from normalizers.base import NormalizeContext, Normalized
from normalizers.office import DEFAULT_OFFICE

CALL = """Petugas: Selamat pagi, Diskominfo, ada yang bisa dibantu?
Penelepon: Saya mau lapor, drainase di Jalan Lintas Timur tersumbat dan meluap ke jalan.
Penelepon: Nomor saya nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol.
"""
OLD = 1_700_000_000  # an mtime long past the settle time


def settings(folder: Path, **fields: object) -> TranscriptSettings:
    return TranscriptSettings.model_validate(
        {"name": "callcenter", "kind": "transcript", "path": str(folder), **fields}
    )


def context(settings: TranscriptSettings, raw_sha: str) -> NormalizeContext:
    return NormalizeContext(
        channel_name=settings.name,
        channel_kind="transcript",
        ingested_at=datetime(2026, 11, 23, tzinfo=UTC),
        raw_uri="file:///raw",
        raw_sha256=raw_sha,
        settings=settings.model_dump(mode="json"),
    )


def write_old(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (OLD, OLD))


def test_plugin_is_registered() -> None:
    assert get_plugin("transcript") is PLUGIN
    assert PLUGIN.adapter is not None and PLUGIN.read_files is not None


def test_settings_reject_unknown_fields_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        settings(tmp_path, complete_when="sometimes")
    with pytest.raises(ValidationError):
        settings(tmp_path, watch_folder="/x")
    assert settings(tmp_path).suffixes == [".vtt", ".srt", ".json", ".txt", ".csv"]


def test_folder_with_call_log_to_reports(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    log = drop / "calls.csv"
    write_old(
        log,
        "call_id,start_time,ani,agent,duration\n"
        "CC-1,2026-11-23 08:30:00,0852-1234-5678,Rina,95\n"
        "CC-2,2026-11-23 09:00:00,,Rina,40\n",
    )
    write_old(drop / "CC-1.txt", CALL)
    write_old(drop / "CC-2.txt", CALL.replace("drainase", "lampu jalan"))
    write_old(drop / "CC-3.txt", CALL.replace("drainase", "jembatan"))
    write_old(drop / "CC-3.json", '{"started_at": "2026-11-23T10:00:00+07:00"}')
    conf = settings(drop, call_log=str(log), settle_seconds=1)
    assert PLUGIN.adapter is not None
    adapter = PLUGIN.adapter(
        conf, AdapterContext(channel_name="callcenter", data_dir=tmp_path, office=DEFAULT_OFFICE)
    )
    batch = adapter.fetch(None)
    names = sorted(m.filename or "" for m in batch.messages)
    assert names == ["CC-1.txt", "CC-2.txt", "CC-3.txt"]  # not the call log, not the sidecar
    reports = {}
    for raw in batch.messages:
        (outcome,) = PLUGIN.normalize(raw, context(conf, raw.sha256))
        assert isinstance(outcome, Normalized), outcome
        assert outcome.report.external_id == raw.sha256 == raw.external_id
        reports[raw.filename] = outcome.report
    assert reports["CC-1.txt"].reporter.phone == "+6285212345678"  # ANI from the log
    assert reports["CC-1.txt"].received_at == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    assert reports["CC-2.txt"].reporter.phone == "+6281234567890"  # no ANI: from speech
    assert reports["CC-3.txt"].received_at == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    adapter.commit(batch)
    assert sorted(p.name for p in (drop / "processed").iterdir()) == [
        "CC-1.txt", "CC-2.txt", "CC-3.json", "CC-3.txt",
    ]  # fmt: skip
    assert log.exists()  # the call log stays where the switch writes it


def test_read_files_for_import(tmp_path: Path) -> None:
    write_old(tmp_path / "a.txt", CALL)
    write_old(tmp_path / "b.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Warga>Halo\n")
    conf = settings(tmp_path)
    assert sorted(r.filename or "" for r in read_files(tmp_path, conf)) == ["a.txt", "b.vtt"]
    (only,) = list(read_files(tmp_path / "b.vtt", conf))
    assert only.filename == "b.vtt" and only.content_type == "text/vtt"
    assert (tmp_path / "a.txt").exists()  # import never moves files
