# mypy: disable-error-code="no-untyped-call"
# (kombu ships partial annotations: its API functions are untyped)
"""The store consumer: queue -> verification store, at-least-once in, exactly-once as rows.

A batch of messages is inserted in one transaction and acknowledged only after the commit, so a
crash at any point leads to a redelivery, and a redelivery is absorbed by the report id
(INSERT ... ON CONFLICT DO NOTHING). What cannot be stored — a body that is not a valid record,
or a row the database refuses for good — is published to the dead-letter exchange with the reason
in the ``x-aduan-reason`` header before its ack: nothing is dropped silently. A database or broker
that is down is transient: nothing is acked, and the consumer reconnects with backoff.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from kombu.connection import Connection
from kombu.message import Message
from kombu.messaging import Consumer, Producer
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from tenacity import Retrying, retry_if_exception, stop_when_event_set, wait_exponential

from normalizers.record import Report
from sinks.db import JsonText, write_connection
from sinks.models import (
    AttachmentRow,
    CounterRow,
    ReportRow,
    ReportStatus,
    StatusHistoryRow,
    utcnow,
)
from sinks.queue import (
    REASON_HEADER,
    STORE_QUEUE,
    connect,
    dead_exchange,
    declare_topology,
    store_queue,
)
from sinks.tracking import make_tracking_no

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=7)
STORE_ACTOR = "aduan-store"
TRACKING_COUNTER = "tracking"
POLL_SECONDS = 0.2

_REPORTS = ReportRow.__table__  # type: ignore[attr-defined]
_ATTACHMENTS = AttachmentRow.__table__  # type: ignore[attr-defined]
_HISTORY = StatusHistoryRow.__table__  # type: ignore[attr-defined]
_COUNTERS = CounterRow.__table__  # type: ignore[attr-defined]

#: a new report's status (an enum's ``.value`` is a slow property; this is read per row)
_RECEIVED: str = ReportStatus.MENUNGGU_VERIFIKASI.value

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)

#: ASCII byte -> what ``text_key`` makes of it: A-Z folded to a-z, the other word characters
#: of ``\w`` (a-z, 0-9, _) kept, every other byte a space (only ASCII texts are translated)
_ASCII_WORDS = bytes(
    b + 32 if 65 <= b <= 90 else b if b < 128 and (chr(b).isalnum() or b == 95) else 32
    for b in range(256)
)


@lru_cache(maxsize=1024)
def text_key(text: str) -> str:
    """Same complaint, same key: case, accents-as-composed, punctuation and spacing ignored.

    Cached (bounded; pure): a batch asks for each report's key up to three times.
    """
    if text.isascii():
        # the same key in one C pass instead of a regex substitution (~15 µs a complaint): on
        # ASCII, NFKC changes nothing, casefold only lowers A-Z and ``\w`` is [A-Za-z0-9_], so
        # the words between runs of other characters (which ``_ASCII_WORDS`` turns into spaces,
        # and nothing else is whitespace) are the same, joined by single spaces as below
        words = text.encode("ascii").translate(_ASCII_WORDS).split()
        return hashlib.sha256(b" ".join(words)).hexdigest()
    return _text_key(text)


def _text_key(text: str) -> str:
    """``text_key`` for any text (the definition)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return hashlib.sha256(" ".join(_NOT_WORD.sub(" ", folded).split()).encode()).hexdigest()


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def is_transient_db_error(exc: BaseException) -> bool:
    """Errors that say "the database is not there right now", not "this row is wrong"."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError
        | sa_exc.ProgrammingError,  # e.g. schema missing: the operator must migrate, not us drop
    )


def _row(report: Report, seq: int, duplicate_of: str | None) -> dict[str, Any]:
    now = utcnow()
    r, loc = report.reporter, report.location
    return {
        "id": str(report.id),
        "seq": seq,
        "tracking_no": make_tracking_no(seq, now),
        "status": _RECEIVED,
        "duplicate_of": duplicate_of,
        "verified_by": None,
        "verified_at": None,
        "stored_at": now,
        "schema_version": report.schema_version,
        "channel_kind": report.channel.kind.value,
        "channel_name": report.channel.name,
        "external_id": report.external_id,
        "received_at": report.received_at,
        "ingested_at": report.ingested_at,
        "reporter_name": r.name,
        "reporter_email": r.email,
        "reporter_phone": r.phone,
        "reporter_handle": r.handle,
        "reporter_address": r.address,
        "reporter_nik_masked": r.nik_masked,
        "subject": report.subject,
        "text": report.text,
        "text_key": text_key(report.text),
        "language": report.language,
        "location_text": loc.text,
        "location_village": loc.village,
        "location_district": loc.district,
        "location_regency": loc.regency,
        "location_province": loc.province,
        "location_lat": loc.lat,
        "location_lon": loc.lon,
        "occurred_at": report.occurred_at,
        "category": report.category,
        "severity": report.severity.value if report.severity else None,
        "due_at": report.due_at,
        "in_reply_to": report.in_reply_to,
        "signature_present": report.signature_present,
        "confidence": report.confidence,
        "raw_uri": report.raw.uri,
        "raw_sha256": report.raw.sha256,
        "record": JsonText(report.to_json()),
    }


def _contacts(report: Report) -> set[tuple[str, str]]:
    r = report.reporter
    return {(k, v) for k, v in (("p", r.phone), ("e", r.email), ("h", r.handle)) if v}


@dataclass
class _Earlier:
    id: str
    received_at: Any
    contacts: set[tuple[str, str]]


def _find_duplicates(conn: sa.Connection, reports: Sequence[tuple[str, Report]]) -> dict[str, str]:
    """report id -> id of an earlier report with the same text and the same reporter contact.

    ``reports``: (``str(report.id)``, report) pairs.
    """
    contacts_of = {rid: _contacts(r) for rid, r in reports}
    keys = {text_key(r.text) for rid, r in reports if contacts_of[rid]}
    if not keys:
        return {}
    by_key: dict[str, list[_Earlier]] = {}
    earliest = min(r.received_at for _, r in reports) - DUPLICATE_WINDOW
    rows = conn.execute(
        sa.select(
            _REPORTS.c.id,
            _REPORTS.c.text_key,
            _REPORTS.c.received_at,
            _REPORTS.c.reporter_phone,
            _REPORTS.c.reporter_email,
            _REPORTS.c.reporter_handle,
        ).where(_REPORTS.c.text_key.in_(keys), _REPORTS.c.received_at >= earliest)
    )
    for row in rows:
        contacts = {
            (k, v)
            for k, v in (
                ("p", row.reporter_phone),
                ("e", row.reporter_email),
                ("h", row.reporter_handle),
            )
            if v
        }
        by_key.setdefault(row.text_key, []).append(_Earlier(row.id, row.received_at, contacts))
    found: dict[str, str] = {}
    for rid, report in sorted(reports, key=lambda pair: pair[1].received_at):
        contacts = contacts_of[rid]
        if not contacts:
            continue
        key = text_key(report.text)
        candidates = [
            e
            for e in by_key.get(key, [])
            if e.id != rid
            and e.contacts & contacts
            and report.received_at - DUPLICATE_WINDOW <= e.received_at <= report.received_at
        ]
        if candidates:
            found[rid] = min(candidates, key=lambda e: e.received_at).id
        by_key.setdefault(key, []).append(_Earlier(rid, report.received_at, contacts))
    return found


def _reports_insert(dialect: str) -> Any:
    """New reports; one whose id is stored already (a redelivery) is skipped."""
    return _insert(dialect)(_REPORTS).on_conflict_do_nothing(index_elements=["id"])


def _attachments_insert(dialect: str) -> Any:
    return sa.insert(_ATTACHMENTS)


def _history_insert(dialect: str) -> Any:
    return sa.insert(_HISTORY)


@dataclass(frozen=True)
class _DriverRows:
    """An INSERT as SQLAlchemy compiles it for SQLite, and the parameter tuple SQLAlchemy
    would hand sqlite3 for a row: its values in the statement's parameter order, each run
    through the bind processor SQLAlchemy runs for that parameter (none for most columns)."""

    sql: str
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def params(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        values, processors = self.values, self.processors
        if not processors:
            return [values(row) for row in rows]
        out: list[tuple[Any, ...]] = []
        for row in rows:
            cells = list(values(row))
            for i, process in processors:
                cells[i] = process(cells[i])
            out.append(tuple(cells))
        return out


@lru_cache(maxsize=16)
def _driver_rows(
    dialect: sa.Dialect, build: Callable[[str], Any], keys: tuple[str, ...]
) -> _DriverRows | None:
    """The plan for ``build``'s statement with rows of ``keys``; None where it does not apply.

    Compiled as ``Connection.execute`` compiles an executemany (the sorted keys of the first
    row, ``for_executemany``), and cached, as SQLAlchemy caches its compilation.
    """
    compiled = build(dialect.name).compile(
        dialect=dialect, column_keys=sorted(keys), for_executemany=True
    )
    names = compiled.positiontup
    if not names or len(names) < 2:
        return None  # a named paramstyle, or a single parameter (itemgetter returns no tuple)
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    order = [binds[name].key for name in names]
    if set(order) != set(keys) or len(order) != len(keys):
        return None  # defaults or missing values: SQLAlchemy's general path handles them
    processors = []
    for i, name in enumerate(names):
        process = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process))
    return _DriverRows(str(compiled), operator.itemgetter(*order), tuple(processors))


def _executemany(
    conn: sa.Connection, build: Callable[[str], Any], rows: list[dict[str, Any]]
) -> None:
    """``conn.execute(build(dialect), rows)``, on SQLite without SQLAlchemy's per-row work.

    Why: for an executemany SQLAlchemy assembles each row's parameters in Python, parameter by
    parameter (about 70 µs for a report's 41 columns, more than sqlite3 takes to insert the
    row). sqlite3 gets the same here: SQLAlchemy's own SQL for the statement and, per row, the
    values SQLAlchemy's bind processors make (``_DriverRows``). Other dialects (psycopg
    pipelines the plain executemany) keep SQLAlchemy's path.
    """
    dialect = conn.dialect
    plan = _driver_rows(dialect, build, tuple(rows[0])) if dialect.name == "sqlite" else None
    if plan is None:
        conn.execute(build(dialect.name), rows)
    else:
        conn.exec_driver_sql(plan.sql, plan.params(rows))


def store_reports(engine: Engine, reports: Sequence[Report]) -> list[str]:
    """Insert the reports not stored yet, in one transaction; returns the ids newly stored."""
    unique: dict[str, Report] = {}
    for report in reports:
        unique.setdefault(str(report.id), report)
    if not unique:
        return []
    with write_connection(engine) as conn, conn.begin():
        insert = _insert(conn.dialect.name)
        conn.execute(
            insert(_COUNTERS)
            .values(name=TRACKING_COUNTER, value=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        # the row lock on the counter serializes concurrent store consumers (SQLite: BEGIN
        # IMMEDIATE already did), so the existence check below cannot be raced
        last = conn.execute(
            sa.select(_COUNTERS.c.value)
            .where(_COUNTERS.c.name == TRACKING_COUNTER)
            .with_for_update()
        ).scalar_one()
        existing = set(
            conn.execute(sa.select(_REPORTS.c.id).where(_REPORTS.c.id.in_(list(unique)))).scalars()
        )
        fresh = [(rid, r) for rid, r in unique.items() if rid not in existing]
        if not fresh:
            return []
        duplicates = _find_duplicates(conn, fresh)
        rows = [
            _row(report, last + i, duplicates.get(rid))
            for i, (rid, report) in enumerate(fresh, start=1)
        ]
        # no RETURNING: under the counter lock the existence check above is authoritative, and
        # a plain executemany lets psycopg pipeline the rows (several times faster on PG)
        _executemany(conn, _reports_insert, rows)
        attachments = [
            {
                "report_id": rid,
                "position": i,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": a.sha256,
                "uri": a.uri,
            }
            for rid, r in fresh
            for i, a in enumerate(r.attachments)
        ]
        if attachments:
            _executemany(conn, _attachments_insert, attachments)
        now = utcnow()
        _executemany(
            conn,
            _history_insert,
            [
                {
                    "report_id": rid,
                    "status": _RECEIVED,
                    "at": now,
                    "by": STORE_ACTOR,
                    "reason": "received",
                }
                for rid, _ in fresh
            ],
        )
        conn.execute(
            sa.update(_COUNTERS)
            .where(_COUNTERS.c.name == TRACKING_COUNTER)
            .values(value=last + len(fresh))
        )
    return [rid for rid, _ in fresh]


class StoreConsumer:
    """Consumes ``aduan.store`` into the database."""

    def __init__(
        self, queue_url: str, data_dir: Path, engine: Engine, *, batch_size: int = 100
    ) -> None:
        self._url = queue_url
        self._data_dir = Path(data_dir)
        self._engine = engine
        self._batch_size = max(1, batch_size)

    def run(self, stop: threading.Event, finish: threading.Event | None = None) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff after broker or DB errors.

        Once ``finish`` is set too, return as soon as the queue is empty: the producers are done
        and confirmed, so an empty queue means everything is stored. Waiting for a quiet spell
        instead cost a fixed fraction of a second at the end of every ``aduan run --until-idle``.
        """
        retrying = Retrying(
            retry=retry_if_exception(self._recoverable),
            wait=wait_exponential(multiplier=0.5, max=30),
            stop=stop_when_event_set(stop),
            sleep=lambda seconds: _wait(stop, seconds),
            reraise=True,
            before_sleep=lambda state: log.warning(
                "store consumer: %s; reconnecting (attempt %d)",
                state.outcome.exception() if state.outcome else "error",
                state.attempt_number,
            ),
        )
        try:
            retrying(self._session, stop.is_set, None, finish.is_set if finish else None)
        except Exception as exc:
            if stop.is_set() and self._recoverable(exc):
                return
            raise

    def drain(self, idle_timeout: float = 1.0) -> int:
        """Consume until the queue stayed empty ``idle_timeout`` seconds; returns rows stored."""
        return self._session(lambda: False, idle_timeout)

    def _recoverable(self, exc: BaseException) -> bool:
        if is_transient_db_error(exc):
            return True
        conn = connect(self._url, self._data_dir)
        errors = (*conn.connection_errors, *conn.channel_errors, OSError)
        return isinstance(exc, errors)

    def _session(
        self,
        stopped: Callable[[], bool],
        idle_timeout: float | None,
        finishing: Callable[[], bool] | None = None,
    ) -> int:
        stored = 0
        pending: list[Message] = []
        conn = connect(self._url, self._data_dir, consumer=True)
        try:
            conn.ensure_connection(max_retries=1, interval_start=0)  # retries belong to callers
            channel = conn.channel()
            declare_topology(channel)
            dead_channel = conn.channel()
            dead = Producer(dead_channel, exchange=dead_exchange())
            consumer = Consumer(
                channel,
                queues=[store_queue()],
                on_message=pending.append,
                prefetch_count=self._batch_size,
                no_ack=False,
            )
            # embedded: every message ready now in one call, instead of one per drain_events
            deliver_ready = getattr(channel, "deliver_ready", None)
            with consumer:
                idle_since = time.monotonic()
                while not stopped():
                    got = False
                    if len(pending) < self._batch_size:
                        if deliver_ready is not None:
                            got = deliver_ready(STORE_QUEUE, self._batch_size - len(pending)) > 0
                        if not got:
                            # a short wait while a batch is forming or the end is near, a
                            # longer one when idle
                            short = pending or (finishing is not None and finishing())
                            got = self._drain(conn, 0.01 if short else POLL_SECONDS)
                    if pending and (len(pending) >= self._batch_size or not got):
                        batch, pending[:] = list(pending), []
                        stored += self._flush(batch, channel, dead)
                        idle_since = time.monotonic()
                    elif got or pending:
                        idle_since = time.monotonic()
                    elif self._done(channel, idle_since, idle_timeout, finishing):
                        break
                if pending:  # stopped with deliveries in hand: store them rather than hand back
                    batch, pending[:] = list(pending), []
                    stored += self._flush(batch, channel, dead)
            return stored
        finally:
            try:
                conn.release()
            except Exception:  # a broken connection may fail to close
                log.debug("closing the store consumer connection failed", exc_info=True)

    @staticmethod
    def _done(
        channel: Any,
        idle_since: float,
        idle_timeout: float | None,
        finishing: Callable[[], bool] | None,
    ) -> bool:
        """Nothing came and nothing is in hand: finished, or idle long enough to return?"""
        if finishing is not None and finishing() and _queue_empty(channel):
            return True
        return idle_timeout is not None and time.monotonic() - idle_since >= idle_timeout

    @staticmethod
    def _drain(conn: Connection, timeout: float) -> bool:
        try:
            conn.drain_events(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _flush(self, batch: list[Message], channel: Any, dead: Producer) -> int:
        good: list[tuple[Message, Report]] = []
        for message in batch:
            try:
                good.append((message, Report.from_json(message.body)))
            except (ValidationError, ValueError, UnicodeDecodeError) as exc:
                self._dead_letter(dead, message, f"invalid record: {_short(exc)}")
                message.ack()
        stored = 0
        if good:
            try:
                stored = len(store_reports(self._engine, [r for _, r in good]))
            except Exception as exc:
                if is_transient_db_error(exc):
                    raise
                log.warning("batch insert failed (%s); storing one by one", _short(exc))
                stored = self._one_by_one(good, dead)
                good = []
            self._ack([m for m, _ in good], channel)
        return stored

    def _one_by_one(self, good: list[tuple[Message, Report]], dead: Producer) -> int:
        stored = 0
        for message, report in good:
            try:
                stored += len(store_reports(self._engine, [report]))
            except Exception as exc:
                if is_transient_db_error(exc):
                    raise
                self._dead_letter(dead, message, f"store refused the record: {_short(exc)}")
            message.ack()
        return stored

    @staticmethod
    def _ack(messages: list[Message], channel: Any) -> None:
        if not messages:
            return
        ack_many = getattr(channel, "ack_many", None)
        if ack_many is not None:  # embedded: one SQLite transaction for the batch
            ack_many([m.delivery_tag for m in messages])
        else:
            # AMQP: one basic.ack(multiple) for everything up to the newest delivery; every
            # earlier delivery on this channel is in this batch or was acked already
            newest = max(messages, key=lambda m: int(m.delivery_tag))
            newest.ack(multiple=True)
        for m in messages:
            m._state = "ACK"  # kombu's own bookkeeping of the message

    @staticmethod
    def _dead_letter(dead: Producer, message: Message, reason: str) -> None:
        log.error("dead-lettering message %s: %s", message.properties.get("message_id"), reason)
        headers = dict(message.headers or {})
        headers[REASON_HEADER] = reason[:1000]
        original_key = (message.delivery_info or {}).get("routing_key") or "unknown"
        dead.publish(
            message.body,
            routing_key=str(original_key),
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            delivery_mode=2,
            message_id=message.properties.get("message_id"),
            retry=False,
        )


def _queue_empty(channel: Any) -> bool:
    """No message ready in the store queue (those delivered to us and unacked do not count)."""
    return int(channel.queue_declare(queue=STORE_QUEUE, passive=True).message_count) == 0


def _wait(stop: threading.Event, seconds: float) -> None:
    stop.wait(seconds)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]
