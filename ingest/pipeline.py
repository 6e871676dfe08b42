"""One pass of raw messages through the pipeline: archive, normalize, publish, quarantine.

Both the pollers (``ingest.runtime``) and the pushed channels (``aduan serve``) go through
``Pipeline.process``, so a report is produced the same way whatever brought it in.

Order matters for "nothing lost": the raw payload is archived first (so a quarantined item can
always be replayed), attachment blobs are written before the report that names them is
published, reports are published and confirmed, and only then are rejections quarantined. A
crash anywhere before the caller saves its checkpoint makes the caller redo the whole batch;
publishing is idempotent downstream (deterministic ids), so redoing is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sinks.state import QuarantineStore

from ingest.attachments import AttachmentStore
from ingest.config import AppConfig
from ingest.normalizing import load_classifier, normalize_safely, settings_dict
from ingest.registry import ChannelSettings
from normalizers.base import (
    Classifier,
    NormalizeContext,
    Normalized,
    Outcome,
    RawMessage,
    Rejection,
)
from normalizers.record import Report
from sinks.queue import PublishError, ReportPublisher

log = logging.getLogger("aduan.pipeline")


class PublishFailed(Exception):
    """The queue did not confirm the batch: do not advance the checkpoint, try again later."""


@dataclass
class ProcessResult:
    published: list[Report] = field(default_factory=list)
    quarantined: list[tuple[int, Rejection]] = field(default_factory=list)
    #: rejections not quarantined (``quarantine=False``, as a replay asks)
    rejected: list[Rejection] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        cfg: AppConfig,
        publisher: ReportPublisher,
        quarantine: QuarantineStore,
        *,
        classifier: Classifier | None = None,
        cpu_pool: Executor | None = None,
    ) -> None:
        self.cfg = cfg
        self.publisher = publisher
        self.quarantine = quarantine
        self.classifier = classifier
        self.cpu_pool = cpu_pool
        self.raw_store = AttachmentStore(cfg.data_dir / "raw")
        self.attachments = AttachmentStore(cfg.data_dir / "attachments")

    @classmethod
    @contextmanager
    def open(cls, cfg: AppConfig, *, migrate: bool = True) -> Iterator[Pipeline]:
        """A pipeline wired to the configured queue and store; closed on exit."""
        from sinks.db import make_engine
        from sinks.db import migrate as run_migrations

        engine = make_engine(cfg.store_url)
        if migrate:
            run_migrations(engine)
        publisher = ReportPublisher(cfg.queue_url, cfg.data_dir)
        pool: ProcessPoolExecutor | None = None
        if any(cfg.plugin(c).cpu_bound for c in cfg.enabled_channels):
            pool = ProcessPoolExecutor()
        try:
            yield cls(
                cfg,
                publisher,
                QuarantineStore(engine),
                classifier=load_classifier(cfg),
                cpu_pool=pool,
            )
        finally:
            publisher.close()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            engine.dispose()

    def context(self, settings: ChannelSettings, raw_uri: str, raw_sha: str) -> NormalizeContext:
        return NormalizeContext(
            channel_name=settings.name,
            channel_kind=settings.kind,
            ingested_at=datetime.now(UTC),
            raw_uri=raw_uri,
            raw_sha256=raw_sha,
            office=self.cfg.office,
            settings=settings_dict(settings),
            attachment_base_uri=self.attachments.base_uri,
            classifier=self.classifier,
        )

    def normalize(
        self, settings: ChannelSettings, messages: Sequence[RawMessage]
    ) -> list[tuple[RawMessage, str, list[Outcome]]]:
        """Archive each raw payload and normalize it (in the CPU pool for OCR-like kinds)."""
        plugin = self.cfg.plugin(settings)
        jobs: list[tuple[RawMessage, NormalizeContext]] = []
        for raw in messages:
            stored = self.raw_store.put(raw.payload)
            jobs.append((raw, self.context(settings, stored.uri, stored.sha256)))
        results: list[list[Outcome]]
        todo = [(raw, ctx) for raw, ctx in jobs if raw.transport_error is None]
        if plugin.cpu_bound and self.cpu_pool is not None and len(todo) > 1:
            futures = [
                self.cpu_pool.submit(normalize_safely, plugin, raw, ctx) for raw, ctx in todo
            ]
            done = iter([f.result() for f in futures])
        else:
            done = iter([normalize_safely(plugin, raw, ctx) for raw, ctx in todo])
        results = [
            [Rejection(raw.transport_error, raw.external_id)]
            if raw.transport_error is not None
            else next(done)
            for raw, _ in jobs
        ]
        return [(raw, ctx.raw_uri, out) for (raw, ctx), out in zip(jobs, results, strict=True)]

    def process(
        self,
        channel_name: str,
        messages: Sequence[RawMessage],
        *,
        quarantine: bool = True,
    ) -> ProcessResult:
        """Normalize and publish ``messages``; returns once the queue confirmed every report.

        Raises PublishFailed when the queue did not confirm: then nothing of this batch may be
        considered done (the caller keeps its checkpoint and retries).
        """
        settings = self.cfg.channel(channel_name)
        result = ProcessResult()
        pending_rejections: list[tuple[RawMessage, str, Rejection]] = []
        reports: list[Report] = []
        for raw, raw_uri, outcomes in self.normalize(settings, messages):
            for outcome in outcomes:
                if isinstance(outcome, Normalized):
                    for data in outcome.blobs.values():
                        self.attachments.put(data)
                    reports.append(outcome.report)
                else:
                    pending_rejections.append((raw, raw_uri, outcome))
        if reports:
            try:
                self.publisher.publish(reports)
            except PublishError as exc:
                raise PublishFailed(self.cfg.redact(str(exc))) from exc
        result.published = reports
        for raw, raw_uri, rejection in pending_rejections:
            if not quarantine:
                result.rejected.append(rejection)
                continue
            item_id = self.quarantine.put(
                channel_name=settings.name,
                channel_kind=settings.kind,
                reason=rejection.reason,
                external_id=rejection.external_id or raw.external_id,
                raw_uri=raw_uri,
                raw_sha256=raw.sha256,
                content_type=raw.content_type,
                filename=raw.filename,
                meta={**raw.meta, **({"transport_error": True} if raw.transport_error else {})},
                received_at=raw.received_at,
            )
            log.warning(
                "channel %s: quarantined item %d: %s", settings.name, item_id, rejection.reason
            )
            result.quarantined.append((item_id, rejection))
        return result
