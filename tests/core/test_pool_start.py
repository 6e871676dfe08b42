"""Batches that arrive before the worker pool is up are normalized in place, not held up."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import ingest.pipeline as pipeline_module
from ingest.config import load_config
from ingest.pipeline import PARALLEL_MIN, STARTING_CHUNK, Pipeline
from normalizers.base import RawMessage
from sinks.db import make_engine, migrate
from sinks.queue import ReportPublisher
from sinks.state import QuarantineStore
from tests.core.test_pipeline_archive import _mail, email_config


class SlowPool(ThreadPoolExecutor):
    """A pool whose workers take until ``release`` to start (a fork server still importing)."""

    def __init__(self) -> None:
        super().__init__(2)
        self.release = threading.Event()
        self.tasks: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks.append(fn.__name__)
        if fn.__name__ == "_ready":
            return super().submit(lambda: self.release.wait(30) and fn())
        return super().submit(fn, *args, **kwargs)


@contextmanager
def pipeline_with(pool: SlowPool, tmp_path: Path) -> Iterator[Pipeline]:
    """A pipeline on the embedded defaults whose worker pool is ``pool``."""
    config = email_config(tmp_path)
    cfg = load_config(config, env={})
    cfg.data_dir.mkdir(parents=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    publisher = ReportPublisher(cfg.queue_url, cfg.data_dir)
    try:
        yield Pipeline(cfg, publisher, QuarantineStore(engine), cpu_pool=pool, workers=2)
    finally:
        pool.release.set()
        pool.shutdown()
        publisher.close()
        engine.dispose()


def test_the_first_batches_do_not_wait_for_the_pool(tmp_path: Path) -> None:
    pool = SlowPool()
    with pipeline_with(pool, tmp_path) as pipeline:
        n = PARALLEL_MIN + 2
        first = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(n)]
        queued = pipeline.start_prepare("kotak", first)  # the pool is not up: nothing queued
        result = pipeline.deliver(queued.result())
        assert len(result.published) == n
        assert pool.tasks == ["_ready", "_ready"]  # the start-up tasks only

        late = [
            RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(n, 2 * n)
        ]
        waiting = pipeline.start_prepare("kotak", late)  # still not up when queued...
        pool.release.set()
        assert pipeline._pool_ready.wait(10)
        result = pipeline.deliver(waiting.result())  # ...but up when it is needed: the pool
        assert len(result.published) == n
        assert pool.tasks == ["_ready", "_ready", "normalize_chunk", "normalize_chunk"]


def test_the_pool_takes_over_a_batch_as_soon_as_it_is_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch queued while the workers start is cut small; once they are up they get the
    chunks this process has not started, so they do not idle while it does the whole page."""
    pool = SlowPool()
    in_place: list[int] = []

    @functools.wraps(pipeline_module.normalize_chunk)
    def normalize_chunk(plugin: Any, jobs: Any, archive: Any = None, **options: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            in_place.append(len(jobs))
            pool.release.set()  # the workers come up while the first chunk is normalized here
            assert pipeline._pool_ready.wait(10)
        return original(plugin, jobs, archive, **options)

    original = pipeline_module.normalize_chunk
    monkeypatch.setattr(pipeline_module, "normalize_chunk", normalize_chunk)
    with pipeline_with(pool, tmp_path) as pipeline:
        n = 3 * STARTING_CHUNK + 7
        batch = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(n)]
        result = pipeline.deliver(pipeline.start_prepare("kotak", batch).result())
        assert in_place == [STARTING_CHUNK]
        assert pool.tasks == ["_ready", "_ready"] + ["normalize_chunk"] * 3
        assert [r.subject for r in result.published] == [f"Jalan rusak {i}" for i in range(n)]


def test_a_pool_that_breaks_after_taking_over_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool comes up while this process does the first chunk, then breaks: the chunks it
    had are done here, and only those (none lost, none twice, in order)."""
    pool = BrokenAfterStart()
    original = pipeline_module.normalize_chunk

    @functools.wraps(original)
    def normalize_chunk(plugin: Any, jobs: Any, archive: Any = None, **options: Any) -> Any:
        pool.release.set()  # up while the first chunk is normalized here
        assert pipeline._pool_ready.wait(10)
        return original(plugin, jobs, archive, **options)

    monkeypatch.setattr(pipeline_module, "normalize_chunk", normalize_chunk)
    with pipeline_with(pool, tmp_path) as pipeline:
        n = 3 * STARTING_CHUNK + 7
        batch = [RawMessage(payload=_mail(i), content_type="message/rfc822") for i in range(n)]
        result = pipeline.deliver(pipeline.start_prepare("kotak", batch).result())
        assert pool.tasks.count("normalize_chunk") == 3  # handed over, then broken
        assert pipeline.cpu_pool is None  # in-process from now on
        assert [r.subject for r in result.published] == [f"Jalan rusak {i}" for i in range(n)]


class BrokenAfterStart(SlowPool):
    """Starts (after ``release``), then every task fails as a dead worker makes it fail."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn.__name__ == "_ready":
            return super().submit(fn, *args, **kwargs)
        self.tasks.append(fn.__name__)
        broken: Future[Any] = Future()
        broken.set_exception(BrokenProcessPool("a worker died (test)"))
        return broken
