"""``aduan run`` stores in a process of its own (ingest.storeproc), which never outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.config import load_config
from ingest.storeproc import StoreProcess
from sinks.db import make_engine, migrate
from sinks.repository import count_reports
from tests.core.test_delivery import ADUAN, Backend, stored, write_book, write_config


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = {int(c) for c in task.read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


def stored_so_far(store_url: str) -> int:
    """Rows stored yet; 0 while `aduan run` is still creating the database."""
    try:
        return stored(store_url)[0]
    except sa.exc.OperationalError:  # the file exists before its tables do
        return 0


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def test_store_runs_beside_the_pollers_and_dies_with_them(tmp_path: Path) -> None:
    n = 60
    write_book(tmp_path, n)
    backend = Backend("embedded", "embedded", f"sqlite:///{tmp_path / 'var' / 'aduan.db'}")
    cfg = write_config(tmp_path, backend, batch_size=25, poll=30)
    proc = subprocess.Popen(
        [*ADUAN, "run", "-c", str(cfg)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # the kill below reaches the parent only, as the OOM killer would
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if (tmp_path / "var" / "aduan.db").exists() and stored_so_far(backend.store_url) == n:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.2)
        assert stored(backend.store_url) == (n, n, n)
        children = descendants(proc.pid)
        assert children, "the store should run in a child process"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in children if alive(pid)]
        assert not left, f"processes outlived a killed `aduan run`: {left}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_finish_stores_everything_queued_then_exits(tmp_path: Path) -> None:
    from ingest.adapters.csvbook import CsvSettings, read_rows, row_message
    from ingest.pipeline import Pipeline

    write_book(tmp_path, 40)
    backend = Backend("embedded", "embedded", f"sqlite:///{tmp_path / 'var' / 'aduan.db'}")
    cfg = load_config(write_config(tmp_path, backend, batch_size=25), env={})
    cfg.data_dir.mkdir(parents=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    store = StoreProcess(cfg)
    store.start()
    book = tmp_path / "buku.csv"
    channel = cfg.channel("buku")
    assert isinstance(channel, CsvSettings)
    messages = [row_message(book, line, values) for line, values in read_rows(book, channel)]
    with Pipeline.open(cfg, migrate=False) as pipeline:
        result = pipeline.process("buku", messages)
    assert len(result.published) == 40
    assert store.finish(timeout=60) == 0
    assert count_reports(engine) == 40
    engine.dispose()


def test_start_does_not_wait_and_a_failed_start_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend("embedded", "embedded", f"sqlite:///{tmp_path / 'var' / 'aduan.db'}")
    cfg = load_config(write_config(tmp_path, backend, batch_size=25), env={})
    store = StoreProcess(cfg)
    entered, release = threading.Event(), threading.Event()

    def slow_fork_server() -> None:  # a fork server still importing its preload
        entered.set()
        release.wait(10)
        raise OSError("fork server gone")

    monkeypatch.setattr(store._process, "start", slow_fork_server)
    began = time.monotonic()
    store.start()
    assert time.monotonic() - began < 1.0  # the caller went on at once
    assert entered.wait(5)
    release.set()
    assert not store.is_alive()  # what `aduan run` watches: it shuts down instead of crashing
    assert store.exitcode is None
    with pytest.raises(RuntimeError, match="did not start: fork server gone"):
        store.finish(timeout=5)
    store.stop(timeout=1)  # nothing to stop: returns quietly
