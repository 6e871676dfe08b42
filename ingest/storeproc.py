"""The store consumer of ``aduan run``, in a process of its own.

Pollers and the store used to share one process. Both are busy at once when a mailbox is being
read: the store parses, validates and inserts while the poller archives raw payloads, one short
system call after another. Under one interpreter lock the poller then waits for the lock after
each call, and archiving a message took ten times as long as on its own. Two processes keep the
one command (``aduan run``) an office starts, and give the store its own lock and core.

Nothing about delivery changes: the child is a plain ``StoreConsumer`` (ack after commit). It
stops after its current batch when asked, on SIGTERM/SIGINT, or when its parent is gone (a
SIGKILLed ``aduan run`` leaves no orphan consuming behind it).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as ProcessEvent
from types import FrameType

from ingest.config import AppConfig
from ingest.forking import forkserver_context, normalizer_modules

log = logging.getLogger("aduan.store")


class StoreProcess:
    """Start, watch and stop the store consumer child of ``aduan run``."""

    def __init__(self, cfg: AppConfig, *, verbose: bool = False) -> None:
        ctx = forkserver_context(normalizer_modules(cfg))  # never fork a threaded process
        self._stop = ctx.Event()
        self._finish = ctx.Event()
        # only this process holds the sending end: the child reads EOF once we are gone, however
        # we went (a parent pid would not do: the child's parent is the fork server, which
        # lives as long as the child does)
        self._reader, self._lifeline = ctx.Pipe(duplex=False)
        self._process: BaseProcess = ctx.Process(
            target=_main,
            args=(cfg, verbose, self._stop, self._finish, self._reader),
            name="aduan-store",
            daemon=True,
        )
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

    def start(self) -> None:
        """Start the child without waiting for it.

        A start waits until the fork server has imported its preload (about a second on a
        fresh ``aduan run``); meanwhile the caller fetches and normalizes the first batches,
        which the store takes from the queue once it is up.
        """
        self._starter = threading.Thread(target=self._start, name="store-start", daemon=True)
        self._starter.start()

    def _start(self) -> None:
        try:
            self._process.start()
            self._reader.close()  # the child has its own copy now
        except BaseException as exc:  # `finish` raises it; `is_alive` says False
            log.error("the store process did not start: %s", exc)
            self._start_error = exc

    def _started(self) -> None:
        """Wait for ``start`` to be over; raise what it failed with."""
        if self._starter is not None:
            self._starter.join()
        if self._start_error is not None:
            raise RuntimeError(f"the store process did not start: {self._start_error}")

    def is_alive(self) -> bool:
        """False too when the child never started (``aduan run`` then shuts down)."""
        try:
            self._started()
        except RuntimeError:
            return False
        return self._process.is_alive()

    @property
    def exitcode(self) -> int | None:
        """None while running, and when the child never started."""
        try:
            self._started()
        except RuntimeError:
            return None
        return self._process.exitcode

    def finish(self, timeout: float | None = None) -> int | None:
        """Store everything queued so far, then exit; returns the child's exit code."""
        self._started()
        self._finish.set()
        self._wake()
        self._process.join(timeout)
        return self._process.exitcode

    def _wake(self) -> None:
        """Have the child look at its events now rather than at its next poll."""
        with contextlib.suppress(OSError):  # the child is gone already
            self._lifeline.send(None)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current batch (it is committed and acked, or neither)."""
        self._stop.set()
        try:
            self._started()
        except RuntimeError:
            return  # never started: nothing to stop
        self._wake()
        self._process.join(timeout)
        if self._process.is_alive():
            log.error("store process did not stop within %.0f s; terminating it", timeout)
            self._process.terminate()
            self._process.join(5)


def _main(
    cfg: AppConfig,
    verbose: bool,
    stop: ProcessEvent,
    finish: ProcessEvent,
    lifeline: Connection,
) -> None:
    from ingest.cli.common import setup_logging
    from ingest.forking import freeze_heap
    from sinks.db import make_engine
    from sinks.store import StoreConsumer

    setup_logging(cfg, verbose)  # the same format and secret redaction as the parent
    halt = threading.Event()  # set when the consumer should stop after its current batch
    finishing = threading.Event()  # set when it should stop once the queue is empty

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()
        halt.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch() -> None:
        while not halt.is_set():
            if stop.is_set():
                halt.set()
                return
            if finish.is_set():
                finishing.set()
            try:
                if lifeline.poll(0.1):
                    lifeline.recv()  # a wake-up call to look at the events; EOFError if gone
            except (EOFError, OSError):  # aduan run died (SIGKILL, OOM): do not outlive it
                log.warning("store process: aduan run is gone; stopping")
                stop.set()
                halt.set()
                return

    threading.Thread(target=watch, name="store-watch", daemon=True).start()
    engine = make_engine(cfg.store_url)
    try:
        consumer = StoreConsumer(
            cfg.queue_url, cfg.data_dir, engine, batch_size=cfg.store_batch_size
        )
        freeze_heap()
        consumer.run(halt, finishing)
    finally:
        halt.set()
        engine.dispose()
