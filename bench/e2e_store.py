"""Reports/s from a normalized Report to a committed store row.

Two set-ups: RabbitMQ + PostgreSQL (a throw-away vhost and database on 127.0.0.1), and the
embedded default (SQLite queue + SQLite store in a temp dir). For each: ReportPublisher publishes
N reports in batches (confirmed), then StoreConsumer drains them into the store; beside it, a raw
kombu publish + consume + ack loop with bodies of the same size on the same transport, which is
the ceiling the sinks could reach if storing were free.

usage: .venv/bin/python bench/e2e_store.py [-n 5000] [--batch 100] [--only amqp|embedded]
"""

# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.message import Message
from kombu.messaging import Consumer, Producer

from normalizers.record import Report
from sinks.db import default_store_url, make_engine, migrate
from sinks.queue import ReportPublisher, connect
from sinks.store import StoreConsumer

IDLE = 0.5
BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def make_reports(n: int) -> list[Report]:
    return [
        Report.model_validate(
            {
                "channel": {"kind": "email", "name": "inbox"},
                "external_id": f"bench-{i}@example.go.id",
                "received_at": BASE + timedelta(seconds=i),
                "ingested_at": BASE + timedelta(seconds=i, milliseconds=5),
                "reporter": {"name": f"Warga {i}", "email": f"w{i}@example.com"},
                "subject": "Jalan rusak",
                "text": f"Jalan di depan Pasar Pangkalan Balai rusak parah sejak pekan lalu ({i}).",
                "language": "id",
                "location": {"text": "depan Pasar Pangkalan Balai", "district": "Banyuasin III"},
                "category": "infrastruktur",
                "severity": "sedang",
                "raw": {"uri": f"file:///var/lib/aduan/raw/{i}.eml", "sha256": "ab" * 32},
            }
        )
        for i in range(n)
    ]


def pipeline(
    queue_url: str, store_url: str, data_dir: Path, reports: list[Report], batch: int
) -> tuple[float, float]:
    engine = make_engine(store_url)
    migrate(engine)
    publisher = ReportPublisher(queue_url, data_dir)
    t0 = time.perf_counter()
    for i in range(0, len(reports), batch):
        publisher.publish(reports[i : i + batch])
    t1 = time.perf_counter()
    publisher.close()
    stored = StoreConsumer(queue_url, data_dir, engine, batch_size=100).drain(IDLE)
    t2 = time.perf_counter() - IDLE
    engine.dispose()
    assert stored == len(reports), f"stored {stored} of {len(reports)}"
    return t1 - t0, t2 - t1


def raw_kombu(queue_url: str, data_dir: Path, n: int, size: int) -> tuple[float, float]:
    exchange = Exchange("bench.raw", type="topic", durable=True)
    queue = Queue("bench.raw", exchange=exchange, routing_key="#", durable=True)
    body = b"x" * size
    # AMQP without publisher confirms: the ceiling, not a like-for-like durability guarantee
    raw = Connection(queue_url) if queue_url.startswith("amqp") else connect(queue_url, data_dir)
    with raw as conn:
        channel = conn.channel()
        queue.bind(channel).declare()
        producer = Producer(channel, exchange=exchange)
        t0 = time.perf_counter()
        for _ in range(n):
            producer.publish(body, routing_key="r", delivery_mode=2, retry=False)
        t1 = time.perf_counter()
        got = 0

        def on_message(message: Message) -> None:
            nonlocal got
            got += 1
            message.ack()

        with Consumer(conn.channel(), [queue], on_message=on_message, prefetch_count=100):
            while got < n:
                conn.drain_events(timeout=10)
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1


@contextmanager
def rabbit_and_postgres() -> Iterator[tuple[str, str]]:
    import psycopg

    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    tag = uuid.uuid4().hex[:10]
    vhost, db = f"aduan-bench-{tag}", f"aduan_bench_{tag}"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    admin = "host=127.0.0.1 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{db}"')
    try:
        yield (
            f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            f"postgresql+psycopg://postgres@127.0.0.1/{db}",
        )
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, check=False)
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100, help="reports per publish() call")
    parser.add_argument("--only", choices=["amqp", "embedded"])
    args = parser.parse_args()
    reports = make_reports(args.n)
    size = sum(len(r.to_json()) for r in reports) // len(reports)
    rows: list[tuple[str, str, int, float, float]] = []

    def record(setup: str, what: str, run: Callable[[], tuple[float, float]], n: int = 0) -> None:
        pub, con = run()
        rows.append((setup, what, n or args.n, pub, con))

    if args.only in (None, "amqp"):
        with rabbit_and_postgres() as (amqp, pg), tempfile.TemporaryDirectory() as tmp:
            record(
                "RabbitMQ+PostgreSQL",
                "aduan sinks",
                lambda: pipeline(amqp, pg, Path(tmp), reports, args.batch),
            )
            record(
                "RabbitMQ+PostgreSQL", "raw kombu", lambda: raw_kombu(amqp, Path(tmp), args.n, size)
            )
    if args.only in (None, "embedded"):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            record(
                "embedded (SQLite)",
                "aduan sinks",
                lambda: pipeline("embedded", default_store_url(d), d, reports, args.batch),
            )
        # one fsync'd commit per message: 2000 are enough for a rate and keep the run short
        raw_n = min(args.n, 2000)
        with tempfile.TemporaryDirectory() as tmp:
            record(
                "embedded (SQLite)",
                "raw kombu",
                lambda: raw_kombu("embedded", Path(tmp), raw_n, size),
                raw_n,
            )

    print(f"N={args.n} reports, ~{size} bytes each, publish batch {args.batch}, store batch 100")
    print(
        f"{'set-up':<22}{'path':<14}{'n':>6}{'publish/s':>11}{'consume/s':>11}{'end-to-end/s':>14}"
    )
    for setup, what, n, pub, con in rows:
        print(
            f"{setup:<22}{what:<14}{n:>6}{n / pub:>11.0f}{n / con:>11.0f}{n / (pub + con):>14.0f}"
        )
    print(
        "aduan sinks: publish = confirmed (AMQP confirms / SQLite commit); consume = rows committed"
    )
    print(
        "raw kombu: unconfirmed publish, consume + ack per message, nothing stored (the ceiling)."
    )


if __name__ == "__main__":
    main()
