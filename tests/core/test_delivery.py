"""The delivery guarantee, end to end: nothing lost, nothing doubled.

The pipeline (pollers and store consumer) is SIGKILLed at random points while it ingests N
complaints, restarted, killed again…, then allowed to finish: the store must hold exactly N
reports, none twice. On the embedded default (one process, SQLite + durable SQLite queue) and on
the split deployment over the real RabbitMQ + PostgreSQL (pollers and store in two processes).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from sinks.db import make_engine, migrate
from sinks.state import CheckpointStore
from sinks.store import StoreConsumer

from ingest.config import load_config
from ingest.pipeline import Pipeline
from ingest.runtime import Runtime
from tests.core.tcpproxy import TcpProxy

ADUAN = [sys.executable, "-m", "ingest.cli"]


@dataclass(frozen=True)
class Backend:
    name: str
    queue_url: str
    store_url: str

    @property
    def split(self) -> bool:
        return self.queue_url != "embedded"


@pytest.fixture(params=["embedded", "rabbitmq+postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "embedded":
        yield Backend("embedded", "embedded", f"sqlite:///{tmp_path / 'var' / 'aduan.db'}")
    else:
        amqp = request.getfixturevalue("amqp_url")
        pg = request.getfixturevalue("pg_url")
        yield Backend(request.param, amqp, pg)


def write_book(folder: Path, n: int) -> None:
    lines = ["No,Tanggal,Nama,Isi"]
    lines += [
        f"K-{i:05d},03/11/2026 08:{i % 60:02d},Warga {i},Keluhan warga nomor {i}: jalan rusak di RT {i % 17}"
        for i in range(n)
    ]
    (folder / "buku.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_config(folder: Path, backend: Backend, *, batch_size: int, poll: float = 0.2) -> Path:
    cfg = folder / "channels.yaml"
    cfg.write_text(
        f"""\
office:
  name: Diskominfo Uji
  region: {{province: Sumatera Selatan, regency: Ogan Ilir}}
data_dir: ./var
queue: {{url: "{backend.queue_url}"}}
store: {{url: "{backend.store_url}", batch_size: 20}}
channels:
  - name: buku
    kind: csv
    path: buku.csv
    poll_interval: {poll}
    batch_size: {batch_size}
    columns: {{id: "No", received_at: Tanggal, name: Nama, text: Isi}}
""",
        encoding="utf-8",
    )
    return cfg


def stored(store_url: str) -> tuple[int, int, int]:
    """(rows, distinct external ids, distinct tracking numbers) in the store."""
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT count(*), count(DISTINCT external_id), count(DISTINCT tracking_no) FROM reports"
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2])
    finally:
        engine.dispose()


def rows_done(store_url: str) -> int:
    engine = make_engine(store_url)
    try:
        state = CheckpointStore(engine).load("buku")
        return int(state["rows_done"]) if state else 0
    finally:
        engine.dispose()


def start(cfg: Path, backend: Backend) -> list[subprocess.Popen[bytes]]:
    commands = [["run", "--only", "pollers"], ["store"]] if backend.split else [["run"]]
    return [
        subprocess.Popen(
            [*ADUAN, *cmd, "-c", str(cfg)],
            cwd=cfg.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for cmd in commands
    ]


@pytest.mark.slow
def test_sigkill_at_random_points_loses_and_doubles_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    n = 400
    write_book(tmp_path, n)
    cfg = write_config(tmp_path, backend, batch_size=7)
    # migrate once up front so the first kill can land anywhere, even during the first batch
    engine = make_engine(backend.store_url)
    migrate(engine)
    engine.dispose()

    rng = random.Random(20261123)
    progress = []
    for round_ in range(6):
        before = rows_done(backend.store_url)
        if before == n:
            break
        procs = start(cfg, backend)
        if round_ % 2 == 0:
            time.sleep(rng.uniform(0.2, 3.0))  # anywhere, startup included
        else:  # once work is visibly flowing, somewhere in the middle of it
            deadline = time.monotonic() + 60
            while rows_done(backend.store_url) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.25))  # the whole book takes about a second
        for proc in procs:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
        for proc in procs:
            proc.wait(timeout=30)
        progress.append(rows_done(backend.store_url))
    # The kills landed while work was in flight (otherwise this test would prove nothing).
    assert any(0 < done < n for done in progress), progress

    final = subprocess.run(
        [*ADUAN, "run", "--until-idle", "-c", str(cfg)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert final.returncode == 0, final.stderr
    if backend.split:  # the store process was killed too: let it drain what the pollers queued
        engine = make_engine(backend.store_url)
        StoreConsumer(backend.queue_url, tmp_path / "var", engine).drain(idle_timeout=2.0)
        engine.dispose()
    assert stored(backend.store_url) == (n, n, n)


@pytest.mark.slow
def test_queue_down_pollers_retry_without_advancing_then_deliver(
    tmp_path: Path, amqp_url: str, pg_url: str
) -> None:
    """With RabbitMQ unreachable the checkpoint stays put; once it is back, everything arrives."""
    url = urlsplit(amqp_url)
    assert url.port is not None
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port)
    try:
        via_proxy = url._replace(
            netloc=f"{url.username}:{url.password}@127.0.0.1:{proxy.port}"
        ).geturl()
        n = 30
        write_book(tmp_path, n)
        backend = Backend("rabbitmq+postgresql", via_proxy, pg_url)
        cfg = load_config(write_config(tmp_path, backend, batch_size=10), env={})
        engine = make_engine(pg_url)
        migrate(engine)
        checkpoints = CheckpointStore(engine)
        proxy.cut()
        with Pipeline.open(cfg, migrate=False) as pipeline:
            runtime = Runtime(cfg, pipeline, checkpoints, max_backoff=1.0)
            runtime.start()
            try:
                time.sleep(4)
                assert checkpoints.load("buku") is None, (
                    "checkpoint advanced while the queue was down"
                )
                assert runtime.metrics.fetched.labels("buku")._value.get() >= 10
                proxy.restore()
                deadline = time.monotonic() + 60
                while rows_done(pg_url) < n and time.monotonic() < deadline:
                    time.sleep(0.2)
            finally:
                runtime.request_stop()
                runtime.join(timeout=30)
        assert rows_done(pg_url) == n
        StoreConsumer(via_proxy, tmp_path / "var", engine).drain(idle_timeout=2.0)
        assert stored(pg_url) == (n, n, n)
        engine.dispose()
    finally:
        proxy.close()


def test_demo_twice_stores_no_duplicates(tmp_path: Path) -> None:
    """The README's demo: run it twice, the store holds each sample report once."""
    root = Path(__file__).resolve().parents[2]
    cfg = root / "samples" / "demo.yaml"
    env = dict(os.environ)
    text = cfg.read_text(encoding="utf-8").replace(
        "data_dir: ../var/demo", f"data_dir: {tmp_path / 'var'}"
    )
    (tmp_path / "demo.yaml").write_text(text, encoding="utf-8")
    for folder in ("buku", "callcenter", "kotak"):
        (tmp_path / folder).symlink_to(root / "samples" / folder)
    for new in (13 if shutil.which("tesseract") else 12, 0):
        out = subprocess.run(
            [*ADUAN, "run", "--until-idle", "-c", str(tmp_path / "demo.yaml")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        # the command ends its process itself (no interpreter teardown): its last words and
        # log lines are all out, and multiprocessing still cleaned up after itself
        assert out.stderr.endswith(f"; {new} new report(s) stored\n"), out.stderr
        assert ("INFO aduan.runtime: channel buku-pengaduan:" in out.stderr) == (new > 0)
        assert "leaked" not in out.stderr and "Traceback" not in out.stderr, out.stderr
    listed = subprocess.run(
        [*ADUAN, "reports", "list", "-c", str(tmp_path / "demo.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    rows, distinct, tracking = stored(f"sqlite:///{tmp_path / 'var' / 'aduan.db'}")
    # 10 book rows, 2 call transcripts, 1 scanned form (OCR: needs tesseract, required in CI)
    expected = 13 if shutil.which("tesseract") else 12
    assert rows == distinct == tracking == expected
    assert listed.stdout.count("ADU-") == expected
