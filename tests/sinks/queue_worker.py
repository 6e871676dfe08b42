# mypy: disable-error-code="no-untyped-call"
"""Subprocess helper for the crash and concurrency tests (run as a script, never collected).

usage: queue_worker.py KIND DIR MODE [ARGS]
  KIND  embedded | filesystem
  MODE  hold              consume one message, print its message_id, then wait to be killed
        consume IDLE      consume and ack; stop after IDLE seconds without a message once
                          the file DIR/stop exists; print ids
        publish PREFIX N  publish N messages with ids PREFIX-0 .. PREFIX-(N-1)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.message import Message
from kombu.messaging import Consumer, Producer

from sinks.embedded import EmbeddedTransport

EXCHANGE = Exchange("t.ex", type="topic", durable=True)
QUEUE = Queue("t.q", exchange=EXCHANGE, routing_key="report.#", durable=True)


def open_connection(kind: str, data_dir: Path, **options: Any) -> Connection:
    if kind == "embedded":
        return Connection(
            transport=EmbeddedTransport,
            transport_options={"database": str(data_dir / "queue.sqlite3"), **options},
        )
    if kind == "filesystem":
        folder = data_dir / "fs"
        folder.mkdir(parents=True, exist_ok=True)
        (data_dir / "fs-processed").mkdir(parents=True, exist_ok=True)
        return Connection(
            "filesystem://",
            transport_options={
                "data_folder_in": str(folder),
                "data_folder_out": str(folder),
                "processed_folder": str(data_dir / "fs-processed"),
                "control_folder": str(data_dir / "fs-control"),
                "polling_interval": 0.05,
            },
        )
    raise SystemExit(f"unknown kind {kind}")


def publish(conn: Connection, ids: list[str]) -> None:
    channel = conn.channel()
    QUEUE.bind(channel).declare()
    producer = Producer(channel, exchange=EXCHANGE)
    for message_id in ids:
        producer.publish(
            {"id": message_id},
            routing_key="report.email.x",
            message_id=message_id,
            delivery_mode=2,
            retry=False,
        )


def main(argv: list[str]) -> None:
    kind, data_dir, mode = argv[0], Path(argv[1]), argv[2]
    with open_connection(kind, data_dir) as conn:
        if mode == "publish":
            prefix, count = argv[3], int(argv[4])
            publish(conn, [f"{prefix}-{i}" for i in range(count)])
            print("published", flush=True)
            return
        channel = conn.channel()
        got: list[Message] = []
        with Consumer(channel, [QUEUE], on_message=got.append, prefetch_count=10):
            if mode == "hold":
                while not got:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        continue
                print(got[0].properties["message_id"], flush=True)
                time.sleep(600)  # killed by the test before it could ack
                return
            idle = float(argv[3])
            last = time.monotonic()
            stop_file = data_dir / "stop"
            while True:
                try:
                    conn.drain_events(timeout=0.2)
                except TimeoutError:
                    # only an empty poll may end the loop, and only after the publishers are done
                    if stop_file.exists() and time.monotonic() - last >= idle:
                        break
                    continue
                for message in got:
                    print(message.properties["message_id"], flush=True)
                    message.ack()
                got.clear()
                last = time.monotonic()


if __name__ == "__main__":
    main(sys.argv[1:])
