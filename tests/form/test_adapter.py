"""The form channel's plugin and its watch folder (the folder mechanics themselves are tested
with the generic adapter; here: what the form kind adds or relies on)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from ingest.adapter import AdapterContext
from ingest.adapters.form import PLUGIN, FormSettings, make_adapter, read_files
from ingest.normalizing import settings_dict
from ingest.registry import get_plugin
from normalizers.form import FormOptions, normalize
from normalizers.office import DEFAULT_OFFICE

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake\n"


def _ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(
        channel_name="kotak", data_dir=tmp_path / "data", office=DEFAULT_OFFICE, base_dir=tmp_path
    )


def _settings(**extra: object) -> FormSettings:
    return FormSettings.model_validate(
        {"name": "kotak", "kind": "form", "path": "scans", "settle_seconds": 0, **extra}
    )


def _drop(folder: Path, name: str, data: bytes, mtime: float = 1_763_600_000.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def test_plugin_is_registered_and_cpu_bound() -> None:
    plugin = get_plugin("form")
    assert plugin is PLUGIN
    assert plugin.kind == "form" and plugin.cpu_bound is True
    assert plugin.normalize is normalize and plugin.adapter is make_adapter
    assert plugin.settings is FormSettings


def test_settings_defaults_and_typos() -> None:
    conf = _settings()
    assert {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"} <= set(conf.suffixes)
    assert conf.min_confidence == 0.7 and conf.lang == "ind+eng"
    with pytest.raises(ValidationError, match="min_confidense"):
        _settings(min_confidense=0.5)
    with pytest.raises(ValidationError):
        _settings(min_confidence=1.5)


def test_ocr_settings_reach_the_normalizer() -> None:
    options = FormOptions.from_settings(settings_dict(_settings(min_confidence=0.55, pdf_dpi=300)))
    assert options.min_confidence == 0.55 and options.pdf_dpi == 300
    assert options.limits.pdf_dpi == 300 and options.ocr.lang == "ind+eng"


def test_fetch_commit_moves_scans_once(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    png = _drop(scans, "slip-001.png", PNG)
    _drop(scans / "2026-11", "surat.PDF", PDF, mtime=1_763_600_100.0)
    _drop(scans, "catatan.txt", b"not a scan")
    adapter = make_adapter(_settings(), _ctx(tmp_path))
    batch = adapter.fetch(None)
    got = {m.filename: m for m in batch.messages}
    assert set(got) == {"slip-001.png", "2026-11/surat.PDF"}
    slip = got["slip-001.png"]
    assert slip.content_type == "image/png"
    assert slip.external_id == hashlib.sha256(PNG).hexdigest()
    assert slip.received_at == datetime.fromtimestamp(1_763_600_000.0, UTC)
    assert got["2026-11/surat.PDF"].content_type == "application/pdf"
    assert png.exists()  # nothing moves before the queue confirmed
    adapter.commit(batch)
    assert not png.exists()
    assert (scans / "processed" / "slip-001.png").read_bytes() == PNG
    assert (scans / "processed" / "2026-11" / "surat.PDF").exists()
    assert (scans / "catatan.txt").exists()
    assert adapter.fetch(batch.state).messages == []


def test_oversized_scan_is_quarantined_unread(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    _drop(scans, "huge.tif", b"II*\x00" + b"\x00" * 5000)
    _drop(scans, "ok.jpg", b"\xff\xd8\xff" + b"\x00" * 100)
    adapter = make_adapter(_settings(max_bytes=1000), _ctx(tmp_path))
    batch = adapter.fetch(None)
    by_name = {m.filename: m for m in batch.messages}
    huge = by_name["huge.tif"]
    assert huge.transport_error is not None and "max_bytes" in huge.transport_error
    assert huge.payload == b""
    assert (scans / "quarantine" / "huge.tif").exists()
    reason = (scans / "quarantine" / "huge.tif.reason.txt").read_text()
    assert "max_bytes (1000)" in reason
    assert by_name["ok.jpg"].transport_error is None


def test_read_files_for_import_moves_nothing(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    _drop(scans, "a.png", PNG)
    _drop(scans, "b.pdf", PDF)
    one = list(read_files(scans / "a.png", _settings()))
    assert [m.filename for m in one] == ["a.png"]
    both = list(read_files(scans, _settings()))
    assert sorted(m.filename or "" for m in both) == ["a.png", "b.pdf"]
    assert (scans / "a.png").exists() and (scans / "b.pdf").exists()
