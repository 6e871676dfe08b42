"""The pipeline archives every raw payload and attachment before it publishes a report, whether
the batch is normalized in this process or in the worker pool; a chunk of several payloads
goes into one pack (a zip), a payload on its own into one blob file."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from ingest.config import load_config
from ingest.packs import read_archived
from ingest.pipeline import PARALLEL_MIN, Pipeline
from normalizers.base import RawMessage


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def email_config(tmp_path: Path) -> Path:
    """A channels.yaml with one email channel ``kotak`` and the embedded defaults."""
    config = tmp_path / "channels.yaml"
    config.write_text(
        """office: {name: Uji, region: {province: Sumatera Selatan}}
data_dir: ./var
queue: {url: embedded}
channels:
  - {name: kotak, kind: email, host: 127.0.0.1, username: u, password: p, tls: none}
""",
        encoding="utf-8",
    )
    return config


def _mail(i: int) -> bytes:
    photo = base64.encodebytes(f"foto-{i}".encode() * 50).decode()
    return (
        f"From: Warga {i} <warga{i}@contoh.id>\r\nTo: aduan@diskominfo.test\r\n"
        f"Subject: Jalan rusak {i}\r\nMessage-ID: <arsip-{i}@contoh.id>\r\n"
        "Date: Mon, 23 Nov 2026 08:00:00 +0700\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Jalan di depan pasar berlubang besar, laporan nomor {i}.\r\n--B\r\n"
        f'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="f{i}.jpg"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{photo}--B--\r\n"
    ).encode()


@pytest.mark.parametrize(
    "count", [1, 3, PARALLEL_MIN + 2], ids=["single", "in-process", "worker-pool"]
)
def test_raw_payloads_and_attachments_are_archived(tmp_path: Path, count: int) -> None:
    config = email_config(tmp_path)
    cfg = load_config(config, env={})
    cfg.data_dir.mkdir(parents=True)
    messages = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(count)]
    with Pipeline.open(cfg) as pipeline:
        result = pipeline.process("kotak", messages)
    assert len(result.published) == count
    by_subject = {r.subject: r for r in result.published}
    for i, raw in enumerate(messages):
        report = by_subject[f"Jalan rusak {i}"]
        assert read_archived(report.raw.uri) == raw.payload
        assert report.raw.sha256 == raw.sha256
        [attachment] = report.attachments
        assert _path(attachment.uri).read_bytes() == f"foto-{i}".encode() * 50
    assert not list((cfg.data_dir / "raw").rglob("*.tmp"))
    packs = {r.raw.uri.partition("!/")[0] for r in result.published if r.raw.uri.startswith("jar:")}
    files = [p for p in (cfg.data_dir / "raw").rglob("*") if p.is_file()]
    if count == 1:  # a payload on its own: one plain file, named by its hash
        assert [p.name for p in files] == [messages[0].sha256]
        assert not packs
    else:  # one pack per chunk (per worker in the pool), and nothing else
        assert len(packs) == len(files) == (1 if count < PARALLEL_MIN else pipeline.workers)
        assert all(p.suffix == ".zip" for p in files)
