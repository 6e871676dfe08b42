"""``aduan run``: poll every enabled channel on its schedule and feed the pipeline.

Each channel runs in its own thread, so a slow or broken channel never holds up another. The
loop for one channel is the whole delivery guarantee of the system:

    state = checkpoint.load()
    batch = adapter.fetch(state)           # transport errors: back off, try again
    prepared = pipeline.prepare(batch)     # archive the raw payloads, normalize
    pipeline.deliver(prepared)             # retried until the queue confirms (or we stop)
    checkpoint.save(batch.state)           # only now does the bookmark move
    adapter.commit(batch)                  # server-side marking (\\Seen, move to processed/)

A SIGKILL anywhere re-runs at most the last batch, which the store absorbs (ids are
deterministic). A channel kind that declares ``prefetch`` has its next page fetched and
normalized while the current one is published; that changes nothing above: the page is only
used if the saved checkpoint is exactly the state it was fetched from, and the adapter is never
used by two threads at once (``commit`` and ``close`` wait for a fetch in flight).

SIGTERM/SIGINT set ``stop``: a worker finishes or abandons its current step
without saving a checkpoint it has not earned.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_when_event_set,
    wait_random_exponential,
)

from ingest.adapter import Adapter, AdapterContext, Batch, ChannelUnhealthy, State
from ingest.config import AppConfig
from ingest.pipeline import Pipeline, Preparing, PublishFailed
from ingest.registry import ChannelSettings
from sinks.state import CheckpointStore

log = logging.getLogger("aduan.runtime")


@dataclass
class Metrics:
    """Per-runtime Prometheus metrics (own registry: no process-global state)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        labels = ["channel"]
        self.fetched = Counter(
            "aduan_messages_fetched", "raw messages fetched", labels, registry=self.registry
        )
        self.published = Counter(
            "aduan_reports_published",
            "reports confirmed by the queue",
            labels,
            registry=self.registry,
        )
        self.quarantined = Counter(
            "aduan_messages_quarantined", "items quarantined", labels, registry=self.registry
        )
        self.errors = Counter(
            "aduan_channel_errors", "fetch or publish errors", labels, registry=self.registry
        )
        self.healthy = Gauge(
            "aduan_channel_healthy", "1 when the channel is polling", labels, registry=self.registry
        )


@dataclass
class ChannelStatus:
    name: str
    healthy: bool = True
    message: str = ""
    last_ok: float | None = None


def _transient(exc: BaseException) -> bool:
    """Fetch errors worth retrying: everything but a channel that needs a person."""
    return not isinstance(exc, ChannelUnhealthy)


def _publish_failed(exc: BaseException) -> bool:
    return isinstance(exc, PublishFailed)


def _log_retry(what: str, channel: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "channel %s: %s failed (attempt %d): %s; retrying in %.1fs",
            channel,
            what,
            state.attempt_number,
            exc,
            wait,
        )

    return before_sleep


def _canonical(state: State) -> str:
    """A state as the checkpoint store gives it back (JSON: tuples come back as lists)."""
    return json.dumps(state, sort_keys=True, default=str)


@dataclass(frozen=True)
class _Ahead:
    """The next page, fetched and normalized while the current one is published."""

    #: canonical JSON of the state it is fetched from
    started_from: str
    #: set once the fetch is over: from then on the adapter is free for ``commit``
    fetched: threading.Event
    future: Future[tuple[Batch, Preparing | None]]


class ChannelWorker(threading.Thread):
    """Polls one channel until ``stop`` is set or the channel turns unhealthy."""

    def __init__(
        self,
        settings: ChannelSettings,
        adapter: Adapter,
        pipeline: Pipeline,
        checkpoints: CheckpointStore,
        stop: threading.Event,
        metrics: Metrics,
        *,
        max_backoff: float = 60.0,
        prefetch: bool = False,
    ) -> None:
        super().__init__(name=f"channel-{settings.name}", daemon=True)
        self.prefetch = prefetch
        #: the next page, being fetched and normalized
        self._ahead: _Ahead | None = None
        self._fetcher: ThreadPoolExecutor | None = None
        self.settings = settings
        self.adapter = adapter
        self.pipeline = pipeline
        self.checkpoints = checkpoints
        self.stop = stop
        self.metrics = metrics
        self.max_backoff = max_backoff
        self.status = ChannelStatus(settings.name)

    def _retrying(self, what: str, retry_on: Callable[[BaseException], bool]) -> Retrying:
        """Exponential backoff with full jitter, capped at ``max_backoff``, until stopped."""
        return Retrying(
            retry=retry_if_exception(retry_on),
            wait=wait_random_exponential(multiplier=0.5, max=self.max_backoff),
            stop=stop_when_event_set(self.stop),
            sleep=self._sleep,
            before_sleep=_log_retry(what, self.settings.name),
            reraise=True,
        )

    def _sleep(self, seconds: float) -> None:
        """Backoff sleep that a stop request cuts short."""
        self.stop.wait(seconds)

    def run_once(self) -> Batch | None:
        """One fetch → publish → checkpoint step. Returns the batch, or None if stopped."""
        name = self.settings.name
        state = self.checkpoints.load(name)
        batch, preparing = self._prefetched(state)
        if batch is None:
            batch = self._retrying("fetch", _transient)(self._fetch, state)
        if batch.messages:
            self.metrics.fetched.labels(name).inc(len(batch.messages))
            if preparing is None:
                preparing = self.pipeline.start_prepare(name, batch.messages)
            if self.prefetch and batch.more:
                self._fetch_ahead(batch.state)  # its normalization queues behind this page's
            prepared = preparing.result()
            try:
                result = self._retrying("publish", _publish_failed)(self.pipeline.deliver, prepared)
            except PublishFailed:
                return None  # stopped while the queue was down: checkpoint stays where it was
            self.metrics.published.labels(name).inc(len(result.published))
            self.metrics.quarantined.labels(name).inc(len(result.quarantined))
            log.info(
                "channel %s: %d fetched, %d published, %d quarantined",
                name,
                len(batch.messages),
                len(result.published),
                len(result.quarantined),
            )
        self.checkpoints.save(name, batch.state)
        self._settle()  # the adapter is used by one thread at a time
        try:
            self.adapter.commit(batch)
        except Exception as exc:  # bookkeeping only: the reports are safe already
            log.warning("channel %s: post-commit step failed: %s", name, exc)
        self.status.last_ok = time.time()
        return batch

    def _fetch_ahead(self, state: State) -> None:
        if self._fetcher is None:
            self._fetcher = ThreadPoolExecutor(1, thread_name_prefix=f"fetch-{self.settings.name}")
        fetched = threading.Event()
        future = self._fetcher.submit(self._fetch_and_prepare, state, fetched)
        self._ahead = _Ahead(_canonical(state), fetched, future)

    def _fetch_and_prepare(
        self, state: State, fetched: threading.Event
    ) -> tuple[Batch, Preparing | None]:
        """Fetch the next page and queue its normalization in the pool, while this one is
        published: the pool has the next page's work before it runs out of this page's.

        Archiving ahead is harmless: the archive is content-addressed, and a page that is not
        used after all (the checkpoint did not move as expected) is fetched and archived again.
        """
        try:
            batch = self._fetch(state)
        finally:
            fetched.set()  # the adapter is free again, whatever happened
        if not batch.messages or self.stop.is_set():
            return batch, None
        return batch, self.pipeline.start_prepare(self.settings.name, batch.messages)

    def _settle(self) -> None:
        """Wait until a fetch in flight has finished (its result stays for ``_prefetched``)."""
        if self._ahead is not None:
            self._ahead.fetched.wait()

    def _prefetched(self, state: State | None) -> tuple[Batch | None, Preparing | None]:
        """The page fetched (and normalized) ahead, if it starts exactly where the saved
        checkpoint says."""
        if self._ahead is None:
            return None, None
        ahead, self._ahead = self._ahead, None
        try:
            batch, preparing = ahead.future.result()
        except Exception as exc:  # fetched again below, with the usual retries
            log.debug("channel %s: fetch ahead failed: %s", self.settings.name, exc)
            return None, None
        if state is None or _canonical(state) != ahead.started_from:
            return None, None  # the checkpoint did not move as expected (publish failed): refetch
        return batch, preparing

    def close(self) -> None:
        """Close the adapter once no fetch is in flight."""
        self._settle()
        if self._ahead is not None:  # let a normalization ahead finish before the pool goes
            wait([self._ahead.future])
        self._ahead = None
        if self._fetcher is not None:
            self._fetcher.shutdown(wait=True)
            self._fetcher = None
        self.adapter.close()

    def _fetch(self, state: State | None) -> Batch:
        try:
            return self.adapter.fetch(state)
        except ChannelUnhealthy:
            raise
        except Exception:
            self.metrics.errors.labels(self.settings.name).inc()
            raise

    def run(self) -> None:
        name = self.settings.name
        self.metrics.healthy.labels(name).set(1)
        try:
            while not self.stop.is_set():
                try:
                    batch = self.run_once()
                except ChannelUnhealthy as exc:
                    self.status.healthy = False
                    self.status.message = str(exc)
                    self.metrics.healthy.labels(name).set(0)
                    log.error("channel %s stopped: %s", name, exc)
                    return
                except Exception as exc:  # stop was requested mid-retry, or a bug: log, go on
                    if self.stop.is_set():
                        return
                    log.exception("channel %s: unexpected error: %s", name, exc)
                    self.stop.wait(self.max_backoff)
                    continue
                if batch is None or batch.more:
                    continue
                interval = self.settings.poll_interval
                delay = interval * (1 + random.uniform(-self.settings.jitter, self.settings.jitter))
                self.stop.wait(max(0.0, delay))
        finally:
            try:
                self.close()
            except Exception as exc:
                log.warning("channel %s: close failed: %s", name, exc)


class Runtime:
    """All pollers (and, in the embedded default, the store consumer) of one process."""

    def __init__(
        self,
        cfg: AppConfig,
        pipeline: Pipeline,
        checkpoints: CheckpointStore,
        *,
        max_backoff: float = 60.0,
    ) -> None:
        self.cfg = cfg
        self.max_backoff = max_backoff
        self.pipeline = pipeline
        self.checkpoints = checkpoints
        self.stop = threading.Event()
        self.metrics = Metrics()
        self.workers: list[ChannelWorker] = []

    def build_workers(self, only: Sequence[str] | None = None) -> list[ChannelWorker]:
        workers = []
        for settings in self.cfg.enabled_channels:
            if only and settings.name not in only:
                continue
            plugin = self.cfg.plugin(settings)
            if plugin.adapter is None:
                log.info(
                    "channel %s (%s) is push-only: served by `aduan serve`",
                    settings.name,
                    settings.kind,
                )
                continue
            ctx = AdapterContext(
                channel_name=settings.name,
                data_dir=self.cfg.data_dir,
                office=self.cfg.office,
                base_dir=self.cfg.source.resolve().parent,
                stop=self.stop,
            )
            adapter = plugin.adapter(settings, ctx)
            workers.append(
                ChannelWorker(
                    settings,
                    adapter,
                    self.pipeline,
                    self.checkpoints,
                    self.stop,
                    self.metrics,
                    prefetch=plugin.prefetch,
                )
            )
        return workers

    def start(self, only: Sequence[str] | None = None) -> None:
        self.workers = self.build_workers(only)
        for w in self.workers:
            w.start()

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        for w in self.workers:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            w.join(remaining)

    def request_stop(self) -> None:
        self.stop.set()

    def run_until_idle(self) -> int:
        """Drain every polling channel once (until no batch says ``more``); for demos/imports."""
        count = 0
        for w in self.build_workers():
            try:
                while not self.stop.is_set():
                    batch = w.run_once()
                    if batch is None:
                        break
                    count += len(batch.messages)
                    if not batch.more:
                        break
            finally:
                w.close()
        return count
