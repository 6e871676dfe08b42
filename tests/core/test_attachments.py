"""The content-addressed store for raw payloads and attachments (ingest.attachments)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from ingest.attachments import AttachmentStore


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("sync", [True, False])
def test_put_keeps_bytes_under_their_hash(tmp_path: Path, sync: bool) -> None:
    store = AttachmentStore(tmp_path / "blobs")
    data = b"Pengaduan: jalan rusak\r\n" * 100
    sha = hashlib.sha256(data).hexdigest()
    blob = store.put(data, sync=sync)
    store.sync()
    assert blob.sha256 == sha and blob.size == len(data)
    assert blob.path == tmp_path / "blobs" / sha[:2] / sha
    assert blob.path.read_bytes() == data
    assert blob.uri == f"{(tmp_path / 'blobs').resolve().as_uri()}/{sha[:2]}/{sha}"
    assert stat.S_IMODE(blob.path.stat().st_mode) == 0o600  # raw complaints are personal data
    assert _files(tmp_path) == [blob.path]  # no temporary file left behind


def test_put_twice_stores_once_and_agrees_with_put_stream(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    first = store.put(b"foto")
    mtime = first.path.stat().st_mtime_ns
    again = store.put(b"foto")
    streamed = store.put_stream([b"fo", b"to"])
    assert first == again == streamed
    assert first.path.stat().st_mtime_ns == mtime
    assert _files(tmp_path) == [first.path]
    assert store.put(b"").path.read_bytes() == b""


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AttachmentStore(tmp_path)

    def disk_full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.put(b"laporan")
    monkeypatch.undo()
    assert _files(tmp_path) == []
    assert store.put(b"laporan").path.read_bytes() == b"laporan"  # and the next try works
