"""Reports normalized in a pool worker come back sealed for the queue (their envelope only),
and reach the queue exactly as a report serialized in the fetching process would."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ingest.attachments import AttachmentStore
from ingest.config import load_config
from ingest.normalizing import Archive, Sealed, normalize_chunk
from ingest.pipeline import PARALLEL_MIN, Pipeline, PublishedReports
from normalizers.base import NormalizeContext, Normalized, RawMessage
from sinks.envelope import Envelope, routing_key
from tests.core.test_pipeline_archive import _mail, email_config


def _jobs(tmp_path: Path, count: int) -> tuple[list[tuple[RawMessage, NormalizeContext]], Archive]:
    raw_store = AttachmentStore(tmp_path / "raw")
    attachments = AttachmentStore(tmp_path / "attachments")
    base = NormalizeContext(
        channel_name="kotak",
        channel_kind="email",
        ingested_at=datetime(2026, 11, 23, tzinfo=UTC),
        raw_uri="",
        raw_sha256="",
        attachment_base_uri=attachments.base_uri,
    )
    messages = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(count)]
    jobs = [
        (raw, replace(base, raw_uri=raw_store.uri_for(raw.sha256), raw_sha256=raw.sha256))
        for raw in messages
    ]
    return jobs, Archive(raw_store, attachments)


def test_a_worker_hands_back_envelopes_equal_to_the_reports(tmp_path: Path) -> None:
    config = email_config(tmp_path)
    plugin = load_config(config, env={}).plugin(load_config(config, env={}).channel("kotak"))
    jobs, archive = _jobs(tmp_path, 5)
    plain = [o for [o] in normalize_chunk(plugin, jobs)]  # no archive: the reports themselves
    with ProcessPoolExecutor(1) as pool:
        sealed = [
            o
            for [o] in pool.submit(
                normalize_chunk, plugin, jobs, archive, keep_reports=False
            ).result()
        ]
    assert all(isinstance(o, Normalized) for o in plain)
    assert all(isinstance(o, Sealed) and o.report is None for o in sealed)
    for normalized, envelope in zip(plain, sealed, strict=True):
        assert isinstance(normalized, Normalized) and isinstance(envelope, Sealed)
        report = normalized.report
        assert envelope.envelope == Envelope(
            report.to_json().encode("utf-8"), routing_key(report), str(report.id)
        )
        assert envelope.has_attachments and envelope.decoded() == report


def test_in_process_keeps_the_report(tmp_path: Path) -> None:
    config = email_config(tmp_path)
    plugin = load_config(config, env={}).plugin(load_config(config, env={}).channel("kotak"))
    jobs, archive = _jobs(tmp_path, 2)
    [[first], [_second]] = normalize_chunk(plugin, jobs, archive)
    assert isinstance(first, Sealed) and first.report is not None
    assert first.decoded() is first.report


def test_published_reports_decode_on_demand(tmp_path: Path) -> None:
    config = email_config(tmp_path)
    cfg = load_config(config, env={})
    cfg.data_dir.mkdir(parents=True)
    count = PARALLEL_MIN + 3  # large enough for the worker pool
    messages = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(count)]
    with Pipeline.open(cfg) as pipeline:
        assert pipeline._pool_ready.wait(60)
        result = pipeline.process("kotak", messages)
    published = result.published
    assert isinstance(published, PublishedReports) and len(published) == count
    assert [r.subject for r in published] == [f"Jalan rusak {i}" for i in range(count)]
    assert [r.subject for r in published[1:3]] == ["Jalan rusak 1", "Jalan rusak 2"]
    assert published[-1].subject == f"Jalan rusak {count - 1}"
