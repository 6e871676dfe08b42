"""Fetching (and normalizing) the next page while the current one is published
(``ChannelPlugin.prefetch``).

The worker is driven step by step with a paged fake adapter and a fake pipeline, so the tests
can see which thread fetched what, and that the adapter is never used by two threads at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from ingest.adapter import Batch, State
from ingest.pipeline import Prepared, ProcessResult, PublishFailed
from ingest.registry import ChannelSettings
from ingest.runtime import ChannelWorker, Metrics
from normalizers.base import RawMessage

PAGES = 5
PER_PAGE = 3


class PagedAdapter:
    """Pages of PER_PAGE messages; the state is the next page number (and a tuple, which the
    checkpoint store's JSON turns into a list)."""

    def __init__(self) -> None:
        self.fetches: list[tuple[int, str]] = []  # (page, thread name)
        self.commits: list[int] = []
        self.commit_times: list[float] = []
        self.in_use = threading.Lock()
        self.overlaps = 0
        self.closed = False

    def _enter(self) -> None:
        if not self.in_use.acquire(blocking=False):
            self.overlaps += 1
            self.in_use.acquire()

    def fetch(self, state: State | None) -> Batch:
        self._enter()
        try:
            page = int(state["page"]) if state else 0
            self.fetches.append((page, threading.current_thread().name))
            time.sleep(0.02)
            messages = [
                RawMessage(payload=f"{page}-{i}".encode(), content_type="text/plain",
                           external_id=f"{page}-{i}", received_at=datetime.now(UTC))
                for i in range(PER_PAGE)
            ]  # fmt: skip
            return Batch(messages, {"page": page + 1, "seen": (page,)}, more=page + 1 < PAGES)
        finally:
            self.in_use.release()

    def commit(self, batch: Batch) -> None:
        self._enter()
        try:
            self.commits.append(int(batch.state["page"]) - 1)
            self.commit_times.append(time.monotonic())
        finally:
            self.in_use.release()

    def close(self) -> None:
        self._enter()
        self.closed = True
        self.in_use.release()


@dataclass(frozen=True)
class Done:
    prepared: Prepared

    def result(self) -> Prepared:
        return self.prepared


class FakePipeline:
    def __init__(
        self,
        fail_on: set[int] | None = None,
        stop: threading.Event | None = None,
        prepare_seconds: float = 0.0,
    ):
        self.published: list[str] = []
        #: (page, thread name, when the normalization ended)
        self.prepared: list[tuple[int, str, float]] = []
        self.fail_on = set(fail_on or ())
        self.stop = stop
        self.prepare_seconds = prepare_seconds

    def start_prepare(self, channel_name: str, messages: Sequence[RawMessage]) -> Done:
        """Normalizes at once, in the calling thread (the real one queues the work in a pool)."""
        page = int(str(messages[0].external_id).split("-")[0])
        time.sleep(self.prepare_seconds if page else 0.0)
        self.prepared.append((page, threading.current_thread().name, time.monotonic()))
        return Done(Prepared(channel_name, [(m, "file:///raw", []) for m in messages]))

    def deliver(self, prepared: Prepared) -> ProcessResult:
        time.sleep(0.05)  # long enough for the next page to be fetched meanwhile
        messages = [m for m, _, _ in prepared.outcomes]
        page = int(str(messages[0].external_id).split("-")[0])
        if page in self.fail_on:
            self.fail_on.discard(page)
            if self.stop is not None:
                self.stop.set()  # the queue stayed down until shutdown
            raise PublishFailed("queue down")
        self.published.extend(str(m.external_id) for m in messages)
        return ProcessResult()


class JsonCheckpoints:
    """Like sinks.state.CheckpointStore: what is loaded went through JSON."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def load(self, name: str) -> Mapping[str, Any] | None:
        text = self.saved.get(name)
        return None if text is None else cast(Mapping[str, Any], json.loads(text))

    def save(self, name: str, state: Mapping[str, Any]) -> None:
        self.saved[name] = json.dumps(state)


def worker(
    adapter: PagedAdapter, pipeline: FakePipeline, stop: threading.Event, prefetch: bool
) -> tuple[ChannelWorker, JsonCheckpoints]:
    checkpoints = JsonCheckpoints()
    settings = ChannelSettings(name="paged", kind="csv")
    w = ChannelWorker(
        settings, adapter, pipeline, checkpoints, stop, Metrics(),  # type: ignore[arg-type]
        max_backoff=0.05, prefetch=prefetch,
    )  # fmt: skip
    return w, checkpoints


def drain(w: ChannelWorker) -> None:
    while True:
        batch = w.run_once()
        if batch is None or not batch.more:
            return


EVERYTHING = [f"{p}-{i}" for p in range(PAGES) for i in range(PER_PAGE)]


@pytest.mark.parametrize("prefetch", [True, False])
def test_pages_are_published_once_in_order(prefetch: bool) -> None:
    adapter, pipeline, stop = PagedAdapter(), FakePipeline(), threading.Event()
    w, checkpoints = worker(adapter, pipeline, stop, prefetch)
    drain(w)
    w.close()
    assert pipeline.published == EVERYTHING
    assert [page for page, _ in adapter.fetches] == list(range(PAGES))  # each page fetched once
    assert adapter.commits == list(range(PAGES))
    assert json.loads(checkpoints.saved["paged"])["page"] == PAGES
    assert adapter.overlaps == 0 and adapter.closed
    ahead = [page for page, thread in adapter.fetches if thread.startswith("fetch-paged")]
    # pages 1..4 were fetched, and normalized, by the prefetch thread while the previous one
    # was published
    assert ahead == (list(range(1, PAGES)) if prefetch else [])
    assert [page for page, _, _ in pipeline.prepared] == list(range(PAGES))
    normalized_ahead = [p for p, thread, _ in pipeline.prepared if thread.startswith("fetch-")]
    assert normalized_ahead == ahead


def test_a_page_fetched_ahead_is_dropped_when_the_checkpoint_did_not_move() -> None:
    stop = threading.Event()
    adapter, pipeline = PagedAdapter(), FakePipeline(fail_on={1}, stop=stop)
    w, checkpoints = worker(adapter, pipeline, stop, prefetch=True)
    assert w.run_once() is not None  # page 0 published; page 1 fetched ahead
    assert w.run_once() is None  # page 1 never confirmed (stopped); page 2 fetched ahead
    assert json.loads(checkpoints.saved["paged"])["page"] == 1
    stop.clear()
    drain(w)  # restarts from the checkpoint: page 1 again, not the page 2 fetched ahead
    w.close()
    assert pipeline.published == EVERYTHING
    assert [page for page, _ in adapter.fetches] == [0, 1, 2, 1, 2, 3, 4]
    # page 2, normalized ahead of a publish that failed, was normalized again before its use
    assert [page for page, _, _ in pipeline.prepared] == [0, 1, 2, 1, 2, 3, 4]
    assert adapter.overlaps == 0


def test_a_slow_normalization_ahead_does_not_hold_up_the_commit() -> None:
    """The adapter is free once the page ahead is fetched: committing the current page (e.g.
    setting \\Seen) waits for that fetch, not for the normalization that follows it."""
    adapter, stop = PagedAdapter(), threading.Event()
    pipeline = FakePipeline(prepare_seconds=0.5)
    w, _ = worker(adapter, pipeline, stop, prefetch=True)
    assert w.run_once() is not None  # page 0 committed; page 1 fetched, being normalized
    assert adapter.commits == [0]
    assert pipeline.prepared[-1][0] == 0  # page 1's normalization had not ended yet
    w.close()  # waits for it
    [(page, thread, ended)] = pipeline.prepared[1:]
    assert (page, thread.startswith("fetch-")) == (1, True)
    assert adapter.commit_times[0] < ended
    assert adapter.overlaps == 0 and adapter.closed
