"""Batches that arrive before the worker pool is up are normalized in place, not held up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ingest.config import load_config
from ingest.pipeline import PARALLEL_MIN, Pipeline
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


def test_the_first_batches_do_not_wait_for_the_pool(tmp_path: Path) -> None:
    config = email_config(tmp_path)
    cfg = load_config(config, env={})
    cfg.data_dir.mkdir(parents=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    pool = SlowPool()
    publisher = ReportPublisher(cfg.queue_url, cfg.data_dir)
    pipeline = Pipeline(cfg, publisher, QuarantineStore(engine), cpu_pool=pool, workers=2)
    try:
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
    finally:
        pool.release.set()
        pool.shutdown()
        publisher.close()
        engine.dispose()
