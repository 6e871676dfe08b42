# mypy: disable-error-code="no-untyped-call"
# (kombu ships partial annotations: its API functions are untyped)
"""A durable, serverless kombu transport on SQLite: the default queue when no broker is set up.

Why not kombu's own ``filesystem://`` or ``sqla+sqlite://``: both remove a message from storage
the moment a consumer reads it and keep the "unacknowledged" copy only in the consumer's memory,
so a SIGKILL (OOM killer, power cut of a container, ``kill -9`` by an impatient operator) between
read and ack loses the report. A complaint that vanishes silently is the one failure this pipeline
must not have.

Here a read only *leases* the row (``claimed_by`` = a token naming the process, ``claimed_at``);
the row is deleted by the ack. A lease is released by a reject with requeue, by a graceful close,
when the claiming process is gone (checked on connect and periodically) or when it is older than
``visibility_timeout``. Delivery is therefore at-least-once, which the store absorbs: it is
idempotent on the report id.

Exchanges, queues and bindings are kept in the same file, so a publisher process routes to queues
that a consumer process declared. WAL mode and a busy timeout let several processes (the pollers
and the store) share the file.

Use it with ``kombu.Connection(transport=EmbeddedTransport, transport_options={"database": path})``;
kombu's global alias table is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from queue import Empty
from typing import Any

import pydantic_core
from kombu.transport import virtual

DEFAULT_VISIBILITY_TIMEOUT = 300.0
DEFAULT_CLAIM_BATCH = 32
SWEEP_INTERVAL = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    payload TEXT NOT NULL,
    delivery_tag TEXT,
    claimed_by TEXT,
    claimed_at REAL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, claimed_by, id);
CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS exchanges (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    durable INTEGER NOT NULL,
    auto_delete INTEGER NOT NULL,
    arguments TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bindings (
    queue TEXT NOT NULL,
    exchange TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    arguments TEXT NOT NULL,
    PRIMARY KEY (queue, exchange, routing_key)
);
"""


def open_database(path: str | Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open (and create) the queue file with the settings several processes need."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA journal_mode = WAL")
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError("synchronous must be one of OFF, NORMAL, FULL, EXTRA")
    db.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    with _immediate(db):
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
    return db


@contextlib.contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the lock up front (no deadlock on upgrade)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _loads(payload: str) -> Any:
    """``json.loads(payload)``, parsed by pydantic-core's JSON reader where it can.

    Why: a payload (kombu's message, the record in base64 inside) is ~2 KB, which ``json``
    takes ~10 µs to read and pydantic-core ~3 µs. What the two make of a document both accept
    is the same (same types, values, key order; floats are correctly rounded by both); a
    document pydantic-core refuses (lone surrogates, nesting deeper than its limit, anything
    malformed) is left to ``json``, whose result or error it then is. Payloads are written by
    ``json.dumps`` (``_put``, ``publish_many``); tests/sinks/test_embedded.py compares both
    readers over many generated ones.
    """
    try:
        return pydantic_core.from_json(payload, cache_strings="keys")
    except (ValueError, TypeError):
        return json.loads(payload)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def release_dead_claims(db: sqlite3.Connection, visibility_timeout: float) -> int:
    """Make rows leased by processes that no longer exist (or leased too long ago) visible."""
    host = socket.gethostname()
    released = 0
    tokens = [
        row[0]
        for row in db.execute(
            "SELECT DISTINCT claimed_by FROM messages WHERE claimed_by IS NOT NULL"
        )
    ]
    for token in tokens:
        parts = str(token).split("|")
        mine = len(parts) == 3 and parts[0] == host and parts[1].isdigit()
        if mine and not _process_alive(int(parts[1])):
            cur = db.execute(
                "UPDATE messages SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?",
                (token,),
            )
            released += cur.rowcount
    cur = db.execute(
        "UPDATE messages SET claimed_by = NULL, claimed_at = NULL "
        "WHERE claimed_by IS NOT NULL AND claimed_at < ?",
        (time.time() - visibility_timeout,),
    )
    return released + cur.rowcount


class EmbeddedChannel(virtual.Channel):
    """One SQLite connection; leases rows on read, deletes them on ack."""

    from_transport_options = (  # type: ignore[assignment]
        *virtual.Channel.from_transport_options,
        "visibility_timeout",
    )
    visibility_timeout = DEFAULT_VISIBILITY_TIMEOUT

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        options = connection.client.transport_options
        self._db = open_database(
            connection.database_path, synchronous=str(options.get("synchronous", "FULL"))
        )
        self._token = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"
        self._claim_batch = int(options.get("claim_batch", DEFAULT_CLAIM_BATCH))
        self._buffer: dict[str, deque[tuple[int, dict[str, Any]]]] = {}
        self._batch_depth = 0
        self._single = False
        self._last_sweep = 0.0
        self._lock = threading.RLock()
        connection.load_topology(self)

    # --- publishing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Publish several messages in one transaction: all are committed, or none."""
        with self._lock:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._batch_depth = 1
            try:
                yield
            except BaseException:
                self._batch_depth = 0
                self._db.execute("ROLLBACK")
                raise
            self._batch_depth = 0
            self._db.execute("COMMIT")

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        tag = message.get("properties", {}).get("delivery_tag")
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (queue, payload, delivery_tag, created_at) "
                "VALUES (?, ?, ?, ?)",
                (queue, json.dumps(message), tag, time.time()),
            )

    def publish_many(
        self,
        exchange: str,
        messages: Sequence[tuple[bytes, str, dict[str, Any]]],
        *,
        content_type: str,
        content_encoding: str,
    ) -> None:
        """Publish (body, routing key, properties) triples in one transaction: the rows
        ``Producer.publish`` would write one by one, with each routing key looked up once.

        Why: kombu's path for one message (producer, exchange, delivery tag, an INSERT) costs
        about 90 µs, most of the publishing process's share of a report.
        """
        routes: dict[str, list[str]] = {}
        rows: list[tuple[str, str, str, float]] = []
        now = time.time()
        for body, key, properties in messages:
            message = self.prepare_message(
                body, 0, content_type, content_encoding, {}, dict(properties)
            )
            self._inplace_augment_message(message, exchange, key)
            queues = routes.get(key)
            if queues is None:
                queues = routes[key] = list(self._lookup(exchange, key))
            payload = json.dumps(message)
            tag = message["properties"]["delivery_tag"]
            rows.extend((queue, payload, tag, now) for queue in queues)
        with self.batch(), self._lock:
            self._db.executemany(
                "INSERT INTO messages (queue, payload, delivery_tag, created_at) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )

    # --- consuming ----------------------------------------------------------------------------

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        """Synchronous get: lease exactly one row (nothing held back from other consumers)."""
        self._single = True
        try:
            return super().basic_get(queue, no_ack=no_ack, **kwargs)
        finally:
            self._single = False

    def _claim(self, queue: str, want: int = 0) -> None:
        """Lease the next ready rows of ``queue`` into the buffer: ``claim_batch`` of them, or
        ``want`` when more will be handed over at once (``deliver_ready``), within prefetch."""
        limit = 1 if self._single else max(self._claim_batch, want)
        estimate = self.qos.can_consume_max_estimate()
        if estimate:
            limit = max(1, min(limit, estimate))
        with self._lock:
            now = time.time()
            if now - self._last_sweep > SWEEP_INTERVAL:
                self._last_sweep = now
                with _immediate(self._db):
                    release_dead_claims(self._db, self.visibility_timeout)
            rows = self._db.execute(
                "UPDATE messages SET claimed_by = ?, claimed_at = ?, deliveries = deliveries + 1 "
                "WHERE id IN (SELECT id FROM messages WHERE queue = ? AND claimed_by IS NULL "
                "ORDER BY id LIMIT ?) RETURNING id, payload, deliveries",
                (self._token, now, queue, limit),
            ).fetchall()
        buf = self._buffer.setdefault(queue, deque())
        for row_id, payload, deliveries in sorted(rows):
            message = _loads(payload)
            props = message.setdefault("properties", {})
            props["delivery_tag"] = f"{row_id}:{deliveries}"
            if deliveries > 1:
                message["redelivered"] = True
                props.setdefault("delivery_info", {})["redelivered"] = True
            buf.append((row_id, message))

    def _get(self, queue: str, timeout: float | None = None) -> dict[str, Any]:
        buf = self._buffer.get(queue)
        if not buf:
            self._claim(queue)
            buf = self._buffer.get(queue)
        if not buf:
            raise Empty()
        return buf.popleft()[1]

    def deliver_ready(self, queue: str, limit: int) -> int:
        """Hand up to ``limit`` ready messages of ``queue`` to its consumer; returns how many.

        What ``limit`` calls of ``Connection.drain_events`` would deliver from the queue, in
        the same order and through the same callback (kombu's ``Message``, the QoS
        bookkeeping, the ``Consumer`` and its ``on_message``), within the same prefetch
        limit, only without kombu's polling loop around each message (the transport's and
        channel's round-robin cycles and timeouts), and with one lease statement for what is
        handed over instead of one per ``claim_batch`` rows: about 20 µs a message less for
        the store consumer. Rows are leased only to be handed over now (or, as by ``_get``,
        up to ``claim_batch`` into the buffer). 0 means nothing is ready now (or nobody
        consumes ``queue`` on this channel): wait with ``drain_events``, as before.
        """
        callback = self.connection._callbacks.get(queue) if self._consumers else None
        if callback is None or queue not in self._active_queues:
            return 0
        delivered = 0
        while delivered < limit and self.qos.can_consume():
            buf = self._buffer.get(queue)
            if not buf:
                self._claim(queue, want=limit - delivered)
                buf = self._buffer.get(queue)
                if not buf:
                    break
            callback(buf.popleft()[1])
            delivered += 1
        return delivered

    @staticmethod
    def _row_id(delivery_tag: Any) -> int:
        return int(str(delivery_tag).split(":", 1)[0])

    def basic_ack(self, delivery_tag: Any, multiple: bool = False) -> None:
        if multiple:
            # AMQP meaning: every delivery up to and including this one, in delivery order
            tags: list[Any] = []
            for tag in list(self.qos._delivered):
                tags.append(tag)
                if tag == delivery_tag:
                    break
            self.ack_many(tags if delivery_tag in tags else [*tags, delivery_tag])
            return
        with self._lock:
            self._db.execute(
                "DELETE FROM messages WHERE id = ? AND claimed_by = ?",
                (self._row_id(delivery_tag), self._token),
            )
        super().basic_ack(delivery_tag)

    def ack_many(self, delivery_tags: list[Any]) -> None:
        """Acknowledge several deliveries in one transaction (the store acks per batch)."""
        with self._lock, _immediate(self._db):
            self._db.executemany(
                "DELETE FROM messages WHERE id = ? AND claimed_by = ?",
                [(self._row_id(tag), self._token) for tag in delivery_tags],
            )
        for tag in delivery_tags:
            virtual.Channel.basic_ack(self, tag)

    def basic_reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        if not requeue:
            with self._lock:
                self._db.execute(
                    "DELETE FROM messages WHERE id = ? AND claimed_by = ?",
                    (self._row_id(delivery_tag), self._token),
                )
        super().basic_reject(delivery_tag, requeue=requeue)

    def _restore(self, message: Any) -> None:
        """Requeue = release the lease (the row never left the table)."""
        with self._lock:
            self._db.execute(
                "UPDATE messages SET claimed_by = NULL, claimed_at = NULL "
                "WHERE id = ? AND claimed_by = ?",
                (self._row_id(message.delivery_tag), self._token),
            )

    def _release_buffered(self, queue: str | None = None) -> None:
        queues = [queue] if queue is not None else list(self._buffer)
        ids = [row_id for q in queues for row_id, _ in self._buffer.pop(q, ())]
        if ids:
            with self._lock:
                self._db.executemany(
                    "UPDATE messages SET claimed_by = NULL, claimed_at = NULL "
                    "WHERE id = ? AND claimed_by = ?",
                    [(i, self._token) for i in ids],
                )

    def basic_cancel(self, consumer_tag: str) -> None:
        queue = self._tag_to_queue.get(consumer_tag)
        super().basic_cancel(consumer_tag)
        if queue is not None and queue not in self._active_queues:
            self._release_buffered(queue)

    def close(self) -> None:
        if self.closed:
            return
        try:
            # kombu restores each unacked delivery on its own; in autocommit mode that is one
            # transaction, one fsync, each (about half a second for a 500-message prefetch)
            with self._lock, _immediate(self._db):
                super().close()  # cancels consumers, restores unacked deliveries
                self._release_buffered()
                self._db.execute(
                    "UPDATE messages SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?",
                    (self._token,),
                )
        finally:
            self._db.close()

    # --- queues, exchanges, bindings (persisted so other processes see them) -------------------

    def _new_queue(self, queue: str, **kwargs: Any) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO queues (name) VALUES (?)", (queue,))

    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM queues WHERE name = ?", (queue,)).fetchone()
        return row is not None

    def _size(self, queue: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM messages WHERE queue = ? AND claimed_by IS NULL", (queue,)
            ).fetchone()
        return int(row[0])

    def _purge(self, queue: str) -> int:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM messages WHERE queue = ? AND claimed_by IS NULL", (queue,)
            )
        return int(cur.rowcount)

    def _delete(self, queue: str, *args: Any, **kwargs: Any) -> None:
        with self._lock, _immediate(self._db):
            self._db.execute("DELETE FROM messages WHERE queue = ?", (queue,))
            self._db.execute("DELETE FROM bindings WHERE queue = ?", (queue,))
            self._db.execute("DELETE FROM queues WHERE name = ?", (queue,))

    def exchange_declare(
        self,
        exchange: str | None = None,
        type: str = "direct",  # kombu's signature
        durable: bool = False,
        auto_delete: bool = False,
        arguments: dict[str, Any] | None = None,
        nowait: bool = False,
        passive: bool = False,
    ) -> None:
        if passive and exchange and exchange not in self.state.exchanges:
            self.connection.load_topology(self)
        super().exchange_declare(
            exchange, type, durable, auto_delete, arguments, nowait=nowait, passive=passive
        )
        if not passive and exchange:
            with self._lock:
                self._db.execute(
                    "INSERT OR IGNORE INTO exchanges VALUES (?, ?, ?, ?, ?)",
                    (
                        exchange,
                        type or "direct",
                        int(durable),
                        int(auto_delete),
                        json.dumps(arguments or {}),
                    ),
                )

    def queue_bind(
        self,
        queue: str,
        exchange: str | None = None,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO bindings VALUES (?, ?, ?, ?)",
                (queue, exchange or "amq.direct", routing_key, json.dumps(arguments or {})),
            )

    def queue_unbind(
        self,
        queue: str,
        exchange: str | None = None,
        routing_key: str = "",
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().queue_unbind(queue, exchange, routing_key, arguments, **kwargs)
        with self._lock:
            self._db.execute(
                "DELETE FROM bindings WHERE queue = ? AND exchange = ? AND routing_key = ?",
                (queue, exchange or "amq.direct", routing_key),
            )

    def _lookup(self, exchange: str, routing_key: str, default: Any = None) -> list[str]:
        found: list[str] = super()._lookup(exchange, routing_key, default)
        if not found and exchange:
            # another process may have bound a queue since we loaded the topology
            self.connection.load_topology(self)
            found = super()._lookup(exchange, routing_key, default)
        return found

    def topology_rows(
        self,
    ) -> tuple[list[tuple[str, str, int, int, str]], list[tuple[str, str, str, str]]]:
        with self._lock:
            exchanges = self._db.execute(
                "SELECT name, type, durable, auto_delete, arguments FROM exchanges"
            ).fetchall()
            bindings = self._db.execute(
                "SELECT queue, exchange, routing_key, arguments FROM bindings"
            ).fetchall()
        return exchanges, bindings

    def release_dead_claims(self) -> int:
        with self._lock, _immediate(self._db):
            return release_dead_claims(self._db, self.visibility_timeout)


class EmbeddedTransport(virtual.Transport):
    """kombu transport class; the file comes from ``transport_options["database"]``."""

    Channel = EmbeddedChannel
    polling_interval = 0.05
    driver_type = "sqlite"
    driver_name = "aduan-embedded"
    connection_errors = (  # type: ignore[assignment]
        *virtual.Transport.connection_errors,
        sqlite3.OperationalError,
    )
    channel_errors = (  # type: ignore[assignment]
        *virtual.Transport.channel_errors,
        sqlite3.OperationalError,
    )
    implements = virtual.Transport.implements.extend(exchange_type=frozenset(["direct", "topic"]))

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        database = client.transport_options.get("database")
        if not database:
            raise ValueError(
                'EmbeddedTransport needs transport_options={"database": "<path>/queue.sqlite3"}'
            )
        self.database_path = str(database)
        self._swept = False

    def establish_connection(self) -> Any:
        result = super().establish_connection()
        if not self._swept:
            # a fresh process: leases held by consumers that died are released right away
            self._swept = True
            for channel in self._avail_channels:
                channel.release_dead_claims()
        return result

    def load_topology(self, channel: EmbeddedChannel) -> None:
        exchanges, bindings = channel.topology_rows()
        state: dict[str, Any] = self.state.exchanges  # type: ignore[assignment]
        for name, type_, durable, auto_delete, arguments in exchanges:
            if name not in state:
                state[name] = {
                    "type": type_,
                    "durable": bool(durable),
                    "auto_delete": bool(auto_delete),
                    "arguments": json.loads(arguments),
                    "table": [],
                }
        for queue, exchange, routing_key, arguments in bindings:
            if exchange in state and not self.state.has_binding(queue, exchange, routing_key):
                virtual.Channel.queue_bind(
                    channel, queue, exchange, routing_key, json.loads(arguments)
                )

    def driver_version(self) -> str:
        return sqlite3.sqlite_version
