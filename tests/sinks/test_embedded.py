# mypy: disable-error-code="no-untyped-call"
"""The embedded transport keeps every message until it is acknowledged, across crashes.

The crash test runs against kombu's own ``filesystem://`` too, where it must observe the loss:
that proves the test can tell a durable transport from a lossy one.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pydantic_core
import pytest
from kombu.message import Message
from kombu.messaging import Consumer, Producer

from tests.sinks.queue_worker import QUEUE, open_connection, publish

WORKER = Path(__file__).with_name("queue_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def get_one(kind: str, data_dir: Path, timeout: float = 5.0, **options: object) -> str | None:
    """Consume one message and ack it; None when none arrived within ``timeout``."""
    with open_connection(kind, data_dir, **options) as conn:
        queue = QUEUE.bind(conn.channel())
        queue.declare()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = queue.get(no_ack=False)
            if message is not None:
                message.ack()
                return str(message.properties["message_id"])
            time.sleep(0.05)
    return None


def crash_before_ack(kind: str, data_dir: Path) -> str | None:
    """Publish one message, let a consumer process take it and SIGKILL it before the ack;
    return what a fresh consumer then receives."""
    with open_connection(kind, data_dir) as conn:
        publish(conn, ["report-1"])
    worker = spawn(kind, str(data_dir), "hold")
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        assert line == "report-1", worker.stderr.read() if worker.stderr else line
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    return get_one(kind, data_dir, timeout=1.0)


def test_message_survives_consumer_sigkill_before_ack(tmp_path: Path) -> None:
    assert crash_before_ack("embedded", tmp_path) == "report-1"


def test_crash_test_detects_the_loss_on_kombu_filesystem_transport(tmp_path: Path) -> None:
    # the control: kombu's serverless transport deletes on read, so the same scenario loses it
    assert crash_before_ack("filesystem", tmp_path) is None


def test_published_messages_survive_process_restarts(tmp_path: Path) -> None:
    worker = spawn("embedded", str(tmp_path), "publish", "p", "25")
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    received = {get_one("embedded", tmp_path, timeout=2.0) for _ in range(25)}
    assert received == {f"p-{i}" for i in range(25)}
    assert get_one("embedded", tmp_path, timeout=0.3) is None


def test_two_publishers_two_consumers_no_loss_no_duplicates(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as conn:  # topology exists before consumers
        QUEUE.bind(conn.channel()).declare()
    consumers = [spawn("embedded", str(tmp_path), "consume", "0.5") for _ in range(2)]
    publishers = [spawn("embedded", str(tmp_path), "publish", p, "150") for p in ("a", "b")]
    for p in publishers:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    (tmp_path / "stop").touch()  # consumers finish once the queue stays empty
    seen: list[str] = []
    for c in consumers:
        out, err = c.communicate(timeout=60)
        assert c.returncode == 0, err
        seen.extend(out.split())
    assert sorted(seen) == sorted(f"{p}-{i}" for p in ("a", "b") for i in range(150))
    assert len(seen) == len(set(seen)) == 300


def test_reject_with_requeue_redelivers_and_without_requeue_drops(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as conn:
        publish(conn, ["m-1", "m-2"])
        queue = QUEUE.bind(conn.channel())
        first = queue.get(no_ack=False)
        assert first is not None and first.properties["message_id"] == "m-1"
        first.requeue()
        again = queue.get(no_ack=False)
        assert again is not None and again.properties["message_id"] == "m-1"
        assert again.delivery_info.get("redelivered") is True
        again.reject()
        second = queue.get(no_ack=False)
        assert second is not None and second.properties["message_id"] == "m-2"
        second.ack()
        assert queue.get(no_ack=False) is None


def test_graceful_close_releases_unacked_messages(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as conn:
        publish(conn, ["m-1"])
        message = QUEUE.bind(conn.channel()).get(no_ack=False)
        assert message is not None
    assert get_one("embedded", tmp_path, timeout=1.0) == "m-1"


def test_stale_lease_of_a_live_consumer_expires_after_visibility_timeout(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as holder:
        publish(holder, ["m-1"])
        held = QUEUE.bind(holder.channel()).get(no_ack=False)
        assert held is not None
        # same (live) process: only the visibility timeout can release the lease
        assert get_one("embedded", tmp_path, timeout=0.3, visibility_timeout=60) is None
        time.sleep(0.6)
        assert get_one("embedded", tmp_path, timeout=1.0, visibility_timeout=0.5) == "m-1"


def test_topology_declared_by_one_process_routes_for_another(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as conn:
        QUEUE.bind(conn.channel()).declare()
    with open_connection("embedded", tmp_path) as conn:
        # this connection declares only the exchange: the binding comes from the file
        channel = conn.channel()
        Producer(channel, exchange=QUEUE.exchange).publish(
            {"x": 1}, routing_key="report.sms.kesehatan", message_id="routed", retry=False
        )
    assert get_one("embedded", tmp_path, timeout=1.0) == "routed"


@pytest.mark.parametrize("routing_key", ["other.email.x", "report"])
def test_topic_routing_ignores_non_matching_keys(tmp_path: Path, routing_key: str) -> None:
    with open_connection("embedded", tmp_path) as conn:
        QUEUE.bind(conn.channel()).declare()
        Producer(conn.channel(), exchange=QUEUE.exchange).publish(
            {"x": 1}, routing_key=routing_key, message_id="nope", retry=False
        )
    assert get_one("embedded", tmp_path, timeout=0.3) is None


def test_ack_multiple_acknowledges_everything_delivered_up_to_the_tag(tmp_path: Path) -> None:
    with open_connection("embedded", tmp_path) as conn:
        publish(conn, ["m-1", "m-2", "m-3"])
        queue = QUEUE.bind(conn.channel())
        first, second, third = (queue.get(no_ack=False) for _ in range(3))
        assert first is not None and second is not None and third is not None
        second.ack(multiple=True)  # m-1 and m-2; m-3 stays unacked and comes back on close
    assert get_one("embedded", tmp_path, timeout=1.0) == "m-3"
    assert get_one("embedded", tmp_path, timeout=0.3) is None


def test_only_the_consumer_skips_the_flush_per_commit(tmp_path: Path) -> None:
    """Publishing must be on disk before a checkpoint moves (FULL); the store consumer's leases
    and acks may be undone by a power cut, which only means a redelivery (NORMAL)."""
    from sinks.queue import EMBEDDED, connect

    levels = {}
    for consumer in (False, True):
        with connect(EMBEDDED, tmp_path, consumer=consumer) as conn:
            channel = conn.channel()
            levels[consumer] = channel._db.execute("PRAGMA synchronous").fetchone()[0]
    assert levels == {False: 2, True: 1}  # 2 = FULL, 1 = NORMAL


def test_a_published_batch_is_the_rows_kombu_writes_one_message_at_a_time(tmp_path: Path) -> None:
    """``ReportPublisher`` on the embedded queue skips kombu's per-message path; what it stores
    must be exactly what ``Producer.publish`` stores (but for the random delivery tag)."""
    import json
    import sqlite3

    from kombu.messaging import Producer

    from sinks.queue import (
        EMBEDDED,
        ReportPublisher,
        connect,
        declare_topology,
        publish_one,
        reports_exchange,
    )
    from tests.sinks.conftest import make_report

    reports = [make_report(i) for i in range(6)]
    with connect(EMBEDDED, tmp_path / "kombu") as conn:
        channel = conn.channel()
        declare_topology(channel)
        producer = Producer(channel, exchange=reports_exchange())
        for report in reports:
            publish_one(producer, report)
    publisher = ReportPublisher(EMBEDDED, tmp_path / "batch")
    publisher.publish(reports)
    publisher.close()

    def rows(data_dir: Path) -> list[tuple[str, dict[str, object]]]:
        db = sqlite3.connect(data_dir / "queue.sqlite3")
        try:
            found = []
            for queue, payload, tag in db.execute(
                "SELECT queue, payload, delivery_tag FROM messages ORDER BY id"
            ):
                message = json.loads(payload)
                assert message["properties"].pop("delivery_tag") == tag
                found.append((queue, message))
            return found
        finally:
            db.close()

    expected = rows(tmp_path / "kombu")
    assert len(expected) == len(reports)
    assert rows(tmp_path / "batch") == expected


# --- the consumer's fast paths deliver what kombu's own path delivers -------------------------


def _same(a: object, b: object) -> bool:
    """Equal with the same types all the way down (NaN equal to NaN, -0.0 not to 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        return repr(a) == repr(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _random_json(rng: random.Random, depth: int = 0) -> object:
    def text() -> str:
        top = rng.choice([0x7F, 0xFFFF, 0x10FFFF])
        return "".join(chr(rng.randint(0, top)) for _ in range(rng.randint(0, 12)))

    def number() -> object:
        return rng.choice(
            [
                rng.randint(-(2**80), 2**80),
                rng.randint(-9, 9),
                struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0],  # any double
                rng.random() * 10 ** rng.randint(-320, 308),
                rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1.0]),
            ]
        )

    kind = rng.random()
    if depth > 4 or kind < 0.5:
        return rng.choice([None, True, False, number(), text()])
    if kind < 0.75:
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {text(): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_payload_reader_reads_what_json_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_loads`` (pydantic-core's reader, ``json`` for what it refuses) against ``json.loads``
    over payloads as the queue writes them (``json.dumps``): kombu messages with random
    headers, and random documents (unicode, lone surrogates, NaN/inf, big ints, any double)."""
    from sinks.embedded import _loads

    rng = random.Random(5)
    payloads = []
    for i in range(6000):
        message = {
            "body": base64.b64encode(rng.randbytes(rng.randint(0, 3000))).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {"x-aduan-reason": _random_json(rng), "n": i},
            "properties": {"delivery_mode": 2, "message_id": str(i), "priority": 0},
        }
        payloads.append(json.dumps(message))
        payloads.append(json.dumps(_random_json(rng)))
    payloads += [json.dumps(float("nan")), json.dumps([[[[1]]]] * 3), json.dumps("\ud800")]
    fast_reads = 0
    real_from_json = pydantic_core.from_json

    def counting(data: str, **kwargs: object) -> object:
        nonlocal fast_reads
        result = real_from_json(data, **kwargs)  # type: ignore[arg-type]
        fast_reads += 1
        return result

    monkeypatch.setattr("sinks.embedded.pydantic_core.from_json", counting)
    for payload in payloads:
        assert _same(_loads(payload), json.loads(payload)), payload[:200]
    assert fast_reads > len(payloads) // 2  # most went through the fast reader
    with pytest.raises(json.JSONDecodeError):  # what json raises, for what both refuse
        _loads("{not json")


def _publish_with_redeliveries(data_dir: Path) -> None:
    with open_connection("embedded", data_dir) as conn:
        publish(conn, [f"m-{i}" for i in range(70)])
        queue = QUEUE.bind(conn.channel())
        taken = [queue.get(no_ack=False) for _ in range(3)]
        for message in taken:  # delivered once and handed back: next comes a redelivery
            assert message is not None
            message.requeue()


def _consume_in_rounds(data_dir: Path, *, ready: bool) -> list[Any]:
    """Each round takes what the consumer may take (prefetch 25), through ``deliver_ready`` or
    kombu's ``drain_events``, records the messages, the QoS state and the leases, then acks."""
    seen: list[Any] = []
    got: list[Message] = []
    with open_connection("embedded", data_dir) as conn:
        channel = conn.channel()
        with Consumer(channel, [QUEUE], on_message=got.append, prefetch_count=25):
            while True:
                if ready:
                    delivered = channel.deliver_ready(QUEUE.name, 100)
                    assert delivered == len(got)
                else:
                    while True:
                        try:
                            conn.drain_events(timeout=0.05)
                        except TimeoutError:
                            break
                if not got:
                    break
                seen.append(
                    [
                        (
                            m.body,
                            m.delivery_tag,
                            m.content_type,
                            m.content_encoding,
                            m.headers,
                            m.properties,
                            m.delivery_info,
                            m.errors,
                            m.accept,
                            m._state,
                        )
                        for m in got
                    ]
                )
                seen.append(list(channel.qos._delivered))
                seen.append(
                    channel._db.execute(
                        "SELECT id, deliveries FROM messages WHERE claimed_by IS NOT NULL "
                        "ORDER BY id"
                    ).fetchall()
                )
                channel.ack_many([m.delivery_tag for m in got])
                got.clear()
        left = channel._db.execute("SELECT count(*) FROM messages").fetchone()[0]
    seen.append(left)
    return seen


def test_deliver_ready_delivers_what_drain_events_delivers(tmp_path: Path) -> None:
    for name in ("kombu", "ready"):
        _publish_with_redeliveries(tmp_path / name)
    expected = _consume_in_rounds(tmp_path / "kombu", ready=False)
    rounds = _consume_in_rounds(tmp_path / "ready", ready=True)
    assert [len(r) for r in expected[0::3][:-1]] == [25, 25, 20]
    assert sum(1 for m in expected[0] if m[6].get("redelivered")) == 3
    assert rounds == expected


def test_deliver_ready_needs_a_consumer_of_the_queue(tmp_path: Path) -> None:
    _publish_with_redeliveries(tmp_path)
    with open_connection("embedded", tmp_path) as conn:
        channel = conn.channel()
        assert channel.deliver_ready(QUEUE.name, 10) == 0
        got: list[Message] = []
        with Consumer(channel, [QUEUE], on_message=got.append, prefetch_count=5):
            assert channel.deliver_ready("another.queue", 10) == 0
            assert channel.deliver_ready(QUEUE.name, 3) == 3
            assert channel.deliver_ready(QUEUE.name, 10) == 2  # prefetch
            assert len(got) == 5
