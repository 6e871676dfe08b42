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
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import overload

from ingest.attachments import AttachmentStore
from ingest.config import AppConfig
from ingest.forking import die_with_parent, forkserver_context, normalizer_modules
from ingest.normalizing import (
    Archive,
    ChunkOutcome,
    Sealed,
    load_classifier,
    normalize_chunk,
    settings_dict,
)
from ingest.packs import PackStore, pack_name
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import (
    Classifier,
    NormalizeContext,
    Normalized,
    RawMessage,
    Rejection,
)
from normalizers.record import Report
from sinks.queue import PublishError, ReportPublisher
from sinks.state import QuarantineStore

log = logging.getLogger("aduan.pipeline")

#: batches at least this large are normalized in parallel (see Pipeline._run_normalizer)
PARALLEL_MIN = 32
MAX_WORKERS = 4
#: chunk size of a batch queued while the pool's workers are still starting
STARTING_CHUNK = 50


class PublishFailed(Exception):
    """The queue did not confirm the batch: do not advance the checkpoint, try again later."""


class PublishedReports(Sequence[Report]):
    """The reports of a delivered batch, decoded from their envelopes only when asked for.

    The runtime only counts them; the HTTP intake and quarantine replay look at one or two.
    """

    def __init__(self, sealed: Sequence[Sealed]) -> None:
        self._sealed = sealed

    def __len__(self) -> int:
        return len(self._sealed)

    @overload
    def __getitem__(self, index: int) -> Report: ...

    @overload
    def __getitem__(self, index: slice) -> list[Report]: ...

    def __getitem__(self, index: int | slice) -> Report | list[Report]:
        if isinstance(index, slice):
            return [sealed.decoded() for sealed in self._sealed[index]]
        return self._sealed[index].decoded()


@dataclass
class ProcessResult:
    published: Sequence[Report] = field(default_factory=list)
    quarantined: list[tuple[int, Rejection]] = field(default_factory=list)
    #: rejections not quarantined (``quarantine=False``, as a replay asks)
    rejected: list[Rejection] = field(default_factory=list)


def _ready() -> bool:
    return True


def _start_workers(pool: Executor, workers: int, ready: threading.Event) -> None:
    """Start the pool's worker processes (one task each), then set ``ready``.

    A worker starts once the fork server has imported its preload (about a second when
    ``aduan run`` starts); until then batches are normalized in the calling process instead of
    waiting, with the fork server importing on another core meanwhile.
    """
    try:
        for future in [pool.submit(_ready) for _ in range(workers)]:
            future.result()
    except Exception as exc:  # a broken pool shows up (and is dropped) on the first batch
        log.debug("starting the normalizer pool failed: %s", exc)
    finally:
        ready.set()


@dataclass(frozen=True)
class Prepared:
    """A batch archived and normalized, not yet published (``Pipeline.prepare``)."""

    channel_name: str
    #: per message, in order: the message, where its payload is archived, what it became
    outcomes: list[tuple[RawMessage, str, list[ChunkOutcome]]]


@dataclass
class _Normalizing:
    """A batch being archived and normalized (``Pipeline._submit``)."""

    pipeline: Pipeline
    plugin: ChannelPlugin
    messages: list[RawMessage]
    #: where each message's payload is archived, by ``id(message)``
    uris: dict[int, str]
    chunks: list[tuple[list[tuple[RawMessage, NormalizeContext]], Archive]]
    #: the chunks queued in the pool; None: normalized in this process (or queued later)
    futures: list[Future[list[list[ChunkOutcome]]]] | None

    def _outcomes(self) -> list[list[ChunkOutcome]]:
        if self.futures is None:  # queued before the pool was up: it may be up by now
            return self._in_place_until_ready()
        return self._collect(self.chunks, self.futures)

    def _collect(
        self,
        chunks: list[tuple[list[tuple[RawMessage, NormalizeContext]], Archive]],
        futures: list[Future[list[list[ChunkOutcome]]]],
    ) -> list[list[ChunkOutcome]]:
        """The pool's outcomes of ``chunks``; if the pool broke, the chunks done here instead
        (archiving again is harmless: the same payloads name the same files)."""
        try:
            return [outcome for f in futures for outcome in f.result()]
        except BrokenProcessPool as exc:
            self.pipeline._pool_broke(exc)
        plugin = self.plugin
        return [o for jobs, arc in chunks for o in normalize_chunk(plugin, jobs, arc)]

    def _in_place_until_ready(self) -> list[list[ChunkOutcome]]:
        """Normalize chunk by chunk in this process; once the pool is up, it gets the rest.

        A batch queued while the workers were starting is cut in small chunks (``_chunks``),
        so the workers take over as soon as they can instead of idling while this process
        normalizes a whole page alone.
        """
        done: list[list[ChunkOutcome]] = []
        for i, (jobs, archive) in enumerate(self.chunks):
            rest = self.chunks[i:]
            if len(rest) > 1:
                self.futures = self.pipeline._submit_chunks(self.plugin, rest)
                if self.futures is not None:
                    return done + self._collect(rest, self.futures)
            done.extend(normalize_chunk(self.plugin, jobs, archive))
        return done

    def result(self) -> list[tuple[RawMessage, str, list[ChunkOutcome]]]:
        """Per message, in order: the message, where its payload is archived, what it became
        (once every payload of the batch is flushed to disk)."""
        done = iter(self._outcomes())
        if self.messages:
            self.pipeline.raw_store.sync()  # one flush for the batch, before anything is published
        return [
            (
                raw,
                self.uris[id(raw)],
                [Rejection(raw.transport_error, raw.external_id)]
                if raw.transport_error is not None
                else next(done),
            )
            for raw in self.messages
        ]


class Preparing:
    """A batch whose ``prepare`` runs in the background (``Pipeline.start_prepare``)."""

    def __init__(self, channel_name: str, normalizing: _Normalizing) -> None:
        self.channel_name = channel_name
        self._normalizing = normalizing

    def result(self) -> Prepared:
        return Prepared(self.channel_name, self._normalizing.result())


class Pipeline:
    def __init__(
        self,
        cfg: AppConfig,
        publisher: ReportPublisher,
        quarantine: QuarantineStore,
        *,
        classifier: Classifier | None = None,
        cpu_pool: Executor | None = None,
        workers: int = 1,
    ) -> None:
        self.cfg = cfg
        self.publisher = publisher
        self.quarantine = quarantine
        self.classifier = classifier
        self.cpu_pool = cpu_pool
        self.workers = max(1, workers)
        #: set once the pool's workers are up; batches before that are normalized here
        self._pool_ready = threading.Event()
        if cpu_pool is None:
            self._pool_ready.set()
        else:
            threading.Thread(
                target=_start_workers,
                args=(cpu_pool, self.workers, self._pool_ready),
                name="normalizer-pool-start",
                daemon=True,
            ).start()
        self.raw_store = AttachmentStore(cfg.data_dir / "raw")
        self.attachments = AttachmentStore(cfg.data_dir / "attachments")
        self.packs = PackStore(cfg.data_dir / "raw" / "packs")

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
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
        # Worker processes start from a fork server: forking this process itself, with the
        # channel and store threads running, could copy a lock some thread holds (logging,
        # SQLite) into a child that then waits on it forever. Each worker holds the read end
        # of a pipe whose write end only this process has: they exit when it is gone.
        pool: ProcessPoolExecutor | None = None
        lifeline: Connection | None = None
        if workers > 1:
            ctx = forkserver_context(normalizer_modules(cfg))
            reader, lifeline = ctx.Pipe(duplex=False)
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=ctx,
                initializer=die_with_parent,
                initargs=(reader,),
            )
        try:
            yield cls(
                cfg,
                publisher,
                QuarantineStore(engine),
                classifier=load_classifier(cfg),
                cpu_pool=pool,
                workers=workers,
            )
        finally:
            publisher.close()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            if lifeline is not None:
                lifeline.close()
            engine.dispose()

    def context(self, settings: ChannelSettings) -> NormalizeContext:
        """The batch's context; each message gets a copy naming its own raw payload."""
        return NormalizeContext(
            channel_name=settings.name,
            channel_kind=settings.kind,
            ingested_at=datetime.now(UTC),
            raw_uri="",
            raw_sha256="",
            office=self.cfg.office,
            settings=settings_dict(settings),
            attachment_base_uri=self.attachments.base_uri,
            classifier=self.classifier,
        )

    def _submit(self, settings: ChannelSettings, messages: Sequence[RawMessage]) -> _Normalizing:
        """Start archiving and normalizing a batch; the pool's share runs in the background.

        The archive is content-addressed, so each payload's URI is known from its hash before
        its bytes are written: one blob file for a payload normalized on its own, one pack
        (``ingest.packs``) per chunk of several. Whoever normalizes a chunk archives it first (a
        pool worker for large batches); ``result`` flushes once, so the whole batch is durable
        before the caller publishes anything.
        """
        plugin = self.cfg.plugin(settings)
        base = self.context(settings)
        todo = [raw for raw in messages if raw.transport_error is None]
        chunks: list[tuple[list[tuple[RawMessage, NormalizeContext]], Archive]] = []
        uris: dict[int, str] = {}
        for part in self._chunks(plugin, todo):
            shas = [raw.sha256 for raw in part]
            pack = pack_name(shas) if len(set(shas)) > 1 and not plugin.cpu_bound else None
            jobs = []
            for raw, sha in zip(part, shas, strict=True):
                uri = self.raw_store.uri_for(sha) if pack is None else self.packs.uri_for(pack, sha)
                uris[id(raw)] = uri
                jobs.append((raw, replace(base, raw_uri=uri, raw_sha256=sha)))
            chunks.append((jobs, Archive(self.raw_store, self.attachments, self.packs, pack)))
        for raw in messages:
            if raw.transport_error is not None:  # not normalized, but quarantined: keep it too
                uris[id(raw)] = self.raw_store.put(raw.payload, sync=False).uri
        futures = self._submit_chunks(plugin, chunks)
        return _Normalizing(self, plugin, list(messages), uris, chunks, futures)

    def _submit_chunks(
        self,
        plugin: ChannelPlugin,
        chunks: list[tuple[list[tuple[RawMessage, NormalizeContext]], Archive]],
    ) -> list[Future[list[list[ChunkOutcome]]]] | None:
        """The chunks queued in the pool, or None: one chunk, no pool, or no workers up yet."""
        pool = self.cpu_pool
        if pool is None or len(chunks) < 2 or not self._pool_ready.is_set():
            return None
        try:
            return [
                pool.submit(normalize_chunk, plugin, jobs, arc, keep_reports=False)
                for jobs, arc in chunks
            ]
        except BrokenProcessPool as exc:
            self._pool_broke(exc)
            return None

    def _pool_broke(self, exc: BaseException) -> None:
        """A worker died (OOM killer…): go on without the pool."""
        if self.cpu_pool is not None:
            log.error("normalizer pool broke (%s); normalizing in-process from now on", exc)
        self.cpu_pool = None

    def _chunks(self, plugin: ChannelPlugin, todo: list[RawMessage]) -> list[list[RawMessage]]:
        """How a batch is split: one chunk in this process, one per worker, or one per file.

        OCR-like kinds send each file as its own task. Other kinds only go parallel for large
        batches, in one chunk per worker: a task costs a round trip to a worker process (the
        classifier travels as its file's path, read once per worker), which is more than
        normalizing a few messages in place.
        """
        if not todo:
            return []
        if self.cpu_pool is None or len(todo) < 2:
            return [todo]
        if plugin.cpu_bound:
            return [[raw] for raw in todo]
        if len(todo) < PARALLEL_MIN:
            return [todo]
        size = -(-len(todo) // self.workers)
        if not self._pool_ready.is_set():  # small, so the pool can take over soon (_Normalizing)
            size = min(size, STARTING_CHUNK)
        return [todo[i : i + size] for i in range(0, len(todo), size)]

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
        return self.deliver(self.prepare(channel_name, messages), quarantine=quarantine)

    def prepare(self, channel_name: str, messages: Sequence[RawMessage]) -> Prepared:
        """Archive and normalize a batch, publishing nothing (``deliver`` does that).

        Apart so that the runtime can normalize the next page while this one is published, and
        so that a publish retried after a queue outage does not normalize the batch again.
        """
        return self.start_prepare(channel_name, messages).result()

    def start_prepare(self, channel_name: str, messages: Sequence[RawMessage]) -> Preparing:
        """``prepare`` in the background: the batch's chunks are queued in the worker pool now,
        and ``result()`` waits for them. The runtime queues the next page this way as soon as
        it is fetched, so the pool never waits for a fetch."""
        return Preparing(channel_name, self._submit(self.cfg.channel(channel_name), messages))

    def deliver(self, prepared: Prepared, *, quarantine: bool = True) -> ProcessResult:
        """Publish a prepared batch's reports, then quarantine its rejections.

        Raises PublishFailed when the queue did not confirm (nothing is quarantined then: the
        whole batch is redone).
        """
        channel_name = prepared.channel_name
        settings = self.cfg.channel(channel_name)
        result = ProcessResult()
        pending_rejections: list[tuple[RawMessage, str, Rejection]] = []
        sealed: list[Sealed] = []
        blobs_written = False
        for raw, raw_uri, outcomes in prepared.outcomes:
            for outcome in outcomes:
                if isinstance(outcome, Normalized):  # not archived by normalize_chunk
                    outcome = Sealed.of(outcome.report)
                if isinstance(outcome, Sealed):  # its attachment bytes are written already
                    blobs_written = blobs_written or outcome.has_attachments
                    sealed.append(outcome)
                else:
                    pending_rejections.append((raw, raw_uri, outcome))
        if blobs_written:
            self.attachments.sync()  # the attachments a report names exist before it is published
        if sealed:
            try:
                self.publisher.publish([s.envelope for s in sealed])
            except PublishError as exc:
                raise PublishFailed(self.cfg.redact(str(exc))) from exc
        result.published = PublishedReports(sealed)
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
