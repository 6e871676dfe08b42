# mypy: disable-error-code="no-untyped-call"
# (kombu ships partial annotations: its API functions are untyped)
"""Publishing reports on the queue, with the conventions of the record contract.

``publish`` returns only once every message is safe with the broker (AMQP publisher confirms, or
committed to the embedded SQLite queue): the runtime advances a channel's checkpoint right after,
so "returned" must mean "will not be lost". It never retries forever itself; the runtime owns the
retry policy, and a failure surfaces as ``PublishError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue
from kombu.messaging import Producer

from normalizers.record import Report
from sinks.embedded import EmbeddedTransport
from sinks.envelope import Envelope as Envelope  # re-exported: the publisher takes them
from sinks.envelope import routing_key as routing_key

log = logging.getLogger(__name__)

EXCHANGE = "aduan.reports"
DEAD_EXCHANGE = "aduan.reports.dead"
STORE_QUEUE = "aduan.store"
DEAD_QUEUE = "aduan.reports.dead"
REASON_HEADER = "x-aduan-reason"
EMBEDDED = "embedded"
EMBEDDED_FILE = "queue.sqlite3"
CONNECT_TIMEOUT = 5.0
CONFIRM_TIMEOUT = 30.0

_LOSSY = ("filesystem://", "sqla+sqlite", "sqlalchemy+sqlite", "memory://")


def reports_exchange() -> Exchange:
    return Exchange(EXCHANGE, type="topic", durable=True)


def dead_exchange() -> Exchange:
    return Exchange(DEAD_EXCHANGE, type="topic", durable=True)


def store_queue() -> Queue:
    return Queue(STORE_QUEUE, exchange=reports_exchange(), routing_key="report.#", durable=True)


def dead_queue() -> Queue:
    return Queue(DEAD_QUEUE, exchange=dead_exchange(), routing_key="#", durable=True)


def connect(queue_url: str, data_dir: Path, *, consumer: bool = False) -> Connection:
    """A (not yet connected) kombu connection for ``queue.url`` from channels.yaml.

    ``consumer``: the store consumer's connection. On the embedded queue its writes are leases,
    acks and dead letters; a power cut can only undo the latest of them, in order, which turns
    into a redelivery that the store absorbs (it is idempotent on the report id). So they are
    not flushed to disk one by one (SQLite ``synchronous=NORMAL``: a flush per checkpoint, not
    per commit), while a publisher's commit, which lets a checkpoint move, always is.
    """
    if queue_url == EMBEDDED:
        options: dict[str, object] = {"database": str(Path(data_dir) / EMBEDDED_FILE)}
        if consumer:
            options["synchronous"] = "NORMAL"
        return Connection(transport=EmbeddedTransport, transport_options=options)
    if queue_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        return Connection(
            queue_url,
            connect_timeout=CONNECT_TIMEOUT,
            transport_options={"confirm_publish": True},
        )
    if queue_url.startswith(_LOSSY):
        log.warning(
            "queue.url %s loses a message that was read but not acknowledged when the "
            "consumer is killed; use queue.url: embedded or a RabbitMQ amqp:// URL",
            queue_url.split("://", 1)[0],
        )
    return Connection(queue_url, connect_timeout=CONNECT_TIMEOUT)


def declare_topology(channel: Any) -> None:
    """Exchanges and queues, idempotently (every process declares them before use)."""
    for queue in (store_queue(), dead_queue()):
        queue.bind(channel).declare()


class PublishError(Exception):
    """The broker did not confirm every message; nothing may be checkpointed. Retry later."""


def publish_one(producer: Producer, report: Report | Envelope) -> None:
    """One report through kombu's own path (what every transport but the embedded one gets)."""
    sealed = report if isinstance(report, Envelope) else Envelope.of(report)
    producer.publish(
        sealed.body,
        routing_key=sealed.routing_key,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=sealed.message_id,
        retry=False,
        mandatory=False,
    )


class ReportPublisher:
    """Publishes batches of reports; one connection, reopened after a failure."""

    def __init__(self, queue_url: str, data_dir: Path) -> None:
        self._url = queue_url
        self._data_dir = Path(data_dir)
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self._confirms = _BatchConfirms()

    def _ensure(self) -> Producer:
        if self._producer is not None:
            return self._producer
        conn = connect(self._url, self._data_dir)
        try:
            conn.ensure_connection(max_retries=1, interval_start=0)  # retries belong to callers
            channel = conn.channel()
            declare_topology(channel)
            producer = Producer(channel, exchange=reports_exchange())
        except BaseException:
            _quiet_close(conn)
            raise
        self._conn, self._producer = conn, producer
        self._confirms = _BatchConfirms()
        return producer

    def publish(self, reports: Sequence[Report | Envelope]) -> None:
        """Publish reports (or their envelopes, as pipeline workers make them)."""
        if not reports:
            return
        sealed = [r if isinstance(r, Envelope) else Envelope.of(r) for r in reports]
        try:
            producer = self._ensure()
            batch = getattr(producer.channel, "batch", None)
            if batch is not None:
                with batch():  # embedded: one SQLite transaction, committed on exit
                    self._send(producer, sealed)
            elif _is_pyamqp(producer.channel):
                self._confirms.send(producer.channel, sealed)
            else:
                self._send(producer, sealed)
        except Exception as exc:
            self._reset()
            where = "the embedded queue" if self._url == EMBEDDED else _redact(self._url)
            raise PublishError(
                f"publishing {len(reports)} report(s) to {where} failed: "
                f"{type(exc).__name__}: {exc}. Check that the broker is running and reachable; "
                "the batch will be retried and nothing was checkpointed"
            ) from exc

    @staticmethod
    def _send(producer: Producer, reports: Sequence[Envelope]) -> None:
        publish_many = getattr(producer.channel, "publish_many", None)
        if publish_many is not None:  # embedded: the same rows, without kombu's per-message path
            publish_many(
                reports_exchange().name,
                [
                    (e.body, e.routing_key, {"delivery_mode": 2, "message_id": e.message_id})
                    for e in reports
                ],
                content_type="application/json",
                content_encoding="utf-8",
            )
            return
        for report in reports:
            publish_one(producer, report)

    def _reset(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        if conn is not None:
            _quiet_close(conn)

    def close(self) -> None:
        self._reset()


def _is_pyamqp(channel: Any) -> bool:
    return hasattr(channel, "_basic_publish") and hasattr(channel, "confirm_select")


class _BatchConfirms:
    """Publisher confirms for a whole batch: publish all, then wait for the broker's acks.

    py-amqp's ``confirm_publish`` waits for one round trip per message; RabbitMQ numbers the
    publishes on a confirm-mode channel 1, 2, 3 … and acks them (often several at once with
    ``multiple``), so waiting once for the highest number is equivalent and many times faster.
    """

    def __init__(self) -> None:
        self._channel: Any = None
        self._seq = 0
        self._acked: set[int] = set()
        self._acked_upto = 0
        self._nacked: list[int] = []
        self._returned: list[str] = []

    def _attach(self, channel: Any) -> None:
        if self._channel is channel:
            return
        self._channel, self._seq, self._acked_upto = channel, 0, 0
        self._acked.clear()
        self._nacked.clear()
        self._returned.clear()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        if not channel._confirm_selected:
            channel._confirm_selected = True
            channel.confirm_select()

    def _on_ack(self, tag: int, multiple: bool) -> None:
        if multiple:
            self._acked_upto = max(self._acked_upto, tag)
        else:
            self._acked.add(tag)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._nacked.append(tag)

    def _on_return(self, exc: Any, exchange: str, routing_key: str, message: Any) -> None:
        # mandatory publish that no queue took (someone deleted the store queue or its binding)
        self._returned.append(routing_key)

    def _confirmed(self, first: int, last: int) -> bool:
        return all(t <= self._acked_upto or t in self._acked for t in range(first, last + 1))

    def send(self, channel: Any, reports: Sequence[Envelope]) -> None:
        self._attach(channel)
        first = self._seq + 1
        for report in reports:
            message = channel.prepare_message(
                report.body,
                priority=0,
                content_type="application/json",
                content_encoding="utf-8",
                properties={"delivery_mode": 2, "message_id": report.message_id},
            )
            channel._basic_publish(
                message, exchange=EXCHANGE, routing_key=report.routing_key, mandatory=True
            )
            self._seq += 1
        last = self._seq
        deadline = time.monotonic() + CONFIRM_TIMEOUT
        while not self._confirmed(first, last):
            if self._nacked:
                raise PublishError(f"the broker refused {len(self._nacked)} message(s)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"no confirmation from the broker in {CONFIRM_TIMEOUT:.0f} s")
            channel.connection.drain_events(timeout=remaining)
        if self._nacked:
            raise PublishError(f"the broker refused {len(self._nacked)} message(s)")
        if self._returned:
            keys = sorted(set(self._returned))
            self._returned.clear()
            raise PublishError(
                f"no queue is bound for routing key(s) {', '.join(keys)} on {EXCHANGE}; "
                f"the store queue {STORE_QUEUE} is missing (it is re-declared on reconnect)"
            )
        self._acked = {t for t in self._acked if t > last}


def _quiet_close(conn: Connection) -> None:
    try:
        conn.release()
    except Exception:  # closing a broken connection must not mask the real error
        log.debug("closing the queue connection failed", exc_info=True)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
