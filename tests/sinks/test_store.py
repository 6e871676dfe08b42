# mypy: disable-error-code="no-untyped-call"
"""Queue -> store, on the embedded default and on RabbitMQ + PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from kombu.messaging import Producer
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

import sinks.store
from normalizers.record import Report
from sinks import repository
from sinks.db import default_store_url, make_engine, migrate
from sinks.embedded import EmbeddedChannel
from sinks.models import UtcDateTime
from sinks.queue import (
    REASON_HEADER,
    STORE_QUEUE,
    PublishError,
    ReportPublisher,
    connect,
    dead_queue,
    declare_topology,
    reports_exchange,
    routing_key,
)
from sinks.store import StoreConsumer, store_reports
from sinks.tracking import is_valid_tracking_no
from tests.sinks.conftest import Backend, make_report


def publish(backend: Backend, reports: list) -> None:  # type: ignore[type-arg]
    publisher = ReportPublisher(backend.queue_url, backend.data_dir)
    try:
        publisher.publish(reports)
    finally:
        publisher.close()


def drain(backend: Backend) -> int:
    return StoreConsumer(backend.queue_url, backend.data_dir, backend.engine).drain(0.5)


def publish_raw(backend: Backend, body: bytes, key: str = "report.email.x") -> None:
    with connect(backend.queue_url, backend.data_dir) as conn:
        channel = conn.channel()
        declare_topology(channel)
        Producer(channel, exchange=reports_exchange()).publish(
            body,
            routing_key=key,
            content_type="application/json",
            content_encoding="utf-8",
            message_id="broken-1",
            retry=False,
        )


def dead_letters(backend: Backend, expect: int, timeout: float = 5.0) -> list[tuple[bytes, dict]]:  # type: ignore[type-arg]
    got: list[tuple[bytes, dict]] = []  # type: ignore[type-arg]
    with connect(backend.queue_url, backend.data_dir) as conn:
        channel = conn.channel()
        declare_topology(channel)
        queue = dead_queue().bind(channel)
        deadline = time.monotonic() + timeout
        while len(got) < expect and time.monotonic() < deadline:
            message = queue.get(no_ack=False)
            if message is None:
                time.sleep(0.05)
                continue
            body = message.body
            got.append((body.encode() if isinstance(body, str) else body, dict(message.headers)))
            message.ack()
    return got


def test_routing_key_follows_the_contract() -> None:
    assert routing_key(make_report(1)) == "report.email.infrastruktur"
    assert routing_key(make_report(2, category=None)) == "report.email.uncategorized"
    assert routing_key(make_report(3, category="a.b")) == "report.email.a_b"
    assert len(routing_key(make_report(4, category="x" * 400)).encode()) == 255


ATTACHMENT = {
    "filename": "foto.jpg",
    "content_type": "image/jpeg",
    "size": 1234,
    "sha256": "cd" * 32,
    "uri": "file:///var/lib/aduan/attachments/cd/cd/foto.jpg",
}


def test_publish_drain_stores_every_field(backend: Backend) -> None:
    reports = [make_report(i) for i in range(30)]
    reports[7] = make_report(7, attachments=[ATTACHMENT, {**ATTACHMENT, "filename": "b.jpg"}])
    publish(backend, reports)
    assert drain(backend) == 30
    assert repository.count_reports(backend.engine) == 30
    stored = repository.list_reports(backend.engine, limit=100)
    assert {s.id for s in stored} == {r.id for r in reports}
    one = next(s for s in stored if s.id == reports[7].id)
    # every contract field round-trips
    assert one.model_dump(include=set(type(reports[7]).model_fields)) == reports[7].model_dump()
    assert one.status == "menunggu_verifikasi"
    assert is_valid_tracking_no(one.tracking_no)
    assert [h.status for h in one.status_history] == ["menunggu_verifikasi"]
    assert len({s.tracking_no for s in stored}) == 30
    with backend.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT channel_kind, reporter_email, location_district, category, received_at "
                "FROM reports WHERE id = :id"
            ),
            {"id": str(reports[7].id)},
        ).one()
        attachments = conn.execute(
            sa.text(
                "SELECT filename, size FROM attachments WHERE report_id = :id ORDER BY position"
            ),
            {"id": str(reports[7].id)},
        ).all()
    assert row[:4] == ("email", "warga7@example.com", "Banyuasin III", "infrastruktur")
    assert [tuple(a) for a in attachments] == [("foto.jpg", 1234), ("b.jpg", 1234)]


def test_redelivery_and_republish_store_once(backend: Backend) -> None:
    reports = [make_report(i) for i in range(5)]
    publish(backend, reports)
    publish(backend, reports[:3])  # the runtime retried a batch it did not know was confirmed
    assert drain(backend) == 5
    publish(backend, reports)
    assert drain(backend) == 0
    assert repository.count_reports(backend.engine) == 5
    with backend.engine.connect() as conn:
        history = conn.execute(sa.text("SELECT count(*) FROM status_history")).scalar_one()
    assert history == 5


def test_invalid_message_is_dead_lettered_with_reason_and_others_stored(backend: Backend) -> None:
    publish(backend, [make_report(1)])
    publish_raw(backend, b"{not json")
    publish_raw(backend, b'{"schema_version": "1", "text": "tanpa channel"}')
    publish(backend, [make_report(2)])
    assert drain(backend) == 2
    dead = dead_letters(backend, expect=2)
    assert sorted(body for body, _ in dead) == sorted(
        [b"{not json", b'{"schema_version": "1", "text": "tanpa channel"}']
    )
    for _, headers in dead:
        assert headers[REASON_HEADER].startswith("invalid record: ValidationError")
    # acked: nothing is redelivered to the store queue
    assert drain(backend) == 0
    assert dead_letters(backend, expect=1, timeout=0.5) == []


def test_row_the_database_refuses_is_dead_lettered(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    too_long = make_report(2, reporter={"handle": "@" + "x" * 300})  # column is VARCHAR(200)
    expected = "DataError"
    if backend.name == "embedded":
        # SQLite ignores VARCHAR lengths; make that row break a NOT NULL constraint instead
        real_row = sinks.store._row

        def row_with_null_text(report: Report, seq: int, dup: str | None) -> dict[str, Any]:
            row = real_row(report, seq, dup)
            if report.id == too_long.id:
                row["text"] = None
            return row

        monkeypatch.setattr(sinks.store, "_row", row_with_null_text)
        expected = "IntegrityError"
    publish(backend, [make_report(1), too_long, make_report(3)])
    assert drain(backend) == 2
    dead = dead_letters(backend, expect=1)
    assert len(dead) == 1
    assert dead[0][0] == too_long.to_json().encode()
    assert dead[0][1][REASON_HEADER].startswith(f"store refused the record: {expected}")
    assert repository.count_reports(backend.engine) == 2
    assert drain(backend) == 0  # acked after dead-lettering: not redelivered


def test_duplicate_of_same_text_same_reporter_within_seven_days(backend: Backend) -> None:
    first = make_report(1, reporter={"phone": "+6281234567890"}, text="Lampu jalan mati!")
    again = make_report(
        2,
        reporter={"phone": "+6281234567890", "name": "Budi"},
        text="lampu   JALAN mati",
        received_at=first.received_at + timedelta(days=3),
    )
    other_person = make_report(3, reporter={"phone": "+6289999999999"}, text="Lampu jalan mati")
    much_later = make_report(
        4,
        reporter={"phone": "+6281234567890"},
        text="Lampu jalan mati",
        received_at=first.received_at + timedelta(days=30),
    )
    publish(backend, [first])
    drain(backend)
    publish(backend, [again, other_person, much_later])
    drain(backend)
    by_id = {s.id: s for s in repository.list_reports(backend.engine)}
    assert by_id[again.id].duplicate_of == str(first.id)
    assert by_id[first.id].duplicate_of is None
    assert by_id[other_person.id].duplicate_of is None
    assert by_id[much_later.id].duplicate_of is None


def test_run_consumes_until_stopped(backend: Backend) -> None:
    consumer = StoreConsumer(backend.queue_url, backend.data_dir, backend.engine, batch_size=7)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    publish(backend, [make_report(i) for i in range(20)])
    deadline = time.monotonic() + 20
    while repository.count_reports(backend.engine) < 20 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert repository.count_reports(backend.engine) == 20


def test_finishing_returns_once_the_queue_is_empty_with_everything_stored(
    backend: Backend,
) -> None:
    """``aduan run --until-idle``'s end: the producers are done, so the consumer stores what is
    queued (more than one batch, some published while it runs) and returns by itself."""
    publish(backend, [make_report(i) for i in range(30)])
    consumer = StoreConsumer(backend.queue_url, backend.data_dir, backend.engine, batch_size=7)
    stop, finish = threading.Event(), threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop, finish), daemon=True)
    thread.start()
    publish(backend, [make_report(i) for i in range(30, 45)])
    finish.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "a finishing consumer did not return on an empty queue"
    assert not stop.is_set()
    assert repository.count_reports(backend.engine) == 45


def test_finishing_returns_only_when_the_queue_says_it_is_empty(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet moment is not enough: a broker may still hold ready messages (say, on their way
    to this consumer). Here the queue claims to be non-empty three times first."""
    publish(backend, [make_report(i) for i in range(10)])
    consumer = StoreConsumer(backend.queue_url, backend.data_dir, backend.engine, batch_size=500)
    finish = threading.Event()
    finish.set()
    asked: list[bool] = []
    real_empty = sinks.store._queue_empty

    def slow_to_empty(channel: Any) -> bool:
        asked.append(real_empty(channel))
        return len(asked) > 3 and asked[-1]

    monkeypatch.setattr(sinks.store, "_queue_empty", slow_to_empty)
    consumer.run(threading.Event(), finish)
    assert len(asked) == 4
    assert asked == [True] * 4  # it really was empty: everything had been stored
    assert repository.count_reports(backend.engine) == 10


def test_stopping_stores_the_deliveries_in_hand_and_hands_back_the_rest(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop between two deliveries: what was delivered is stored and acked, not handed back
    for the next consumer to fetch again; what was not delivered stays queued."""
    publish(backend, [make_report(i) for i in range(60)])
    consumer = StoreConsumer(backend.queue_url, backend.data_dir, backend.engine, batch_size=500)
    stop = threading.Event()
    real_drain = StoreConsumer._drain
    real_deliver_ready = EmbeddedChannel.deliver_ready

    def drain_then_stop(conn: Any, timeout: float) -> bool:
        got = real_drain(conn, timeout)
        stop.set()  # the first delivery starts a batch; the stop comes before it is full
        return got

    def deliver_some_then_stop(channel: EmbeddedChannel, queue: str, limit: int) -> int:
        # the embedded queue hands over what is ready in one call: a few, then the stop
        got = real_deliver_ready(channel, queue, min(limit, 5))
        stop.set()
        return got

    monkeypatch.setattr(consumer, "_drain", drain_then_stop)
    monkeypatch.setattr(EmbeddedChannel, "deliver_ready", deliver_some_then_stop)
    consumer.run(stop)
    first = repository.count_reports(backend.engine)
    assert 1 <= first < 60
    monkeypatch.undo()
    assert drain(backend) == 60 - first
    assert repository.count_reports(backend.engine) == 60


def test_concurrent_store_calls_issue_distinct_tracking_numbers(backend: Backend) -> None:
    batches = [[make_report(i * 100 + j) for j in range(20)] for i in range(4)]
    errors: list[BaseException] = []

    def work(batch: list) -> None:  # type: ignore[type-arg]
        try:
            store_reports(backend.engine, batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = repository.list_reports(backend.engine, limit=200)
    assert len(stored) == 80
    assert len({s.tracking_no for s in stored}) == 80


def test_publish_to_unreachable_broker_raises_publish_error_quickly(tmp_path: Path) -> None:
    publisher = ReportPublisher("amqp://guest:guest@127.0.0.1:1//", tmp_path)
    started = time.monotonic()
    with pytest.raises(PublishError, match="Check that the broker is running"):
        publisher.publish([make_report(1)])
    assert time.monotonic() - started < 30  # bounded (connect timeout), not an endless retry
    publisher.close()


def test_publisher_reconnects_after_a_failure(backend: Backend) -> None:
    publisher = ReportPublisher(backend.queue_url, backend.data_dir)
    try:
        publisher.publish([make_report(1)])
        assert publisher._conn is not None
        publisher._conn.release()  # the connection breaks under it
        with pytest.raises(PublishError):
            publisher.publish([make_report(2)])
        publisher.publish([make_report(2)])  # the next call reconnects
    finally:
        publisher.close()
    assert drain(backend) == 2


def test_transient_db_error_is_not_acked_and_is_retried(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = sinks.store.store_reports
    failures: list[int] = []

    def flaky(engine: Any, reports: Any) -> list[str]:
        if not failures:
            failures.append(len(reports))
            raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))
        return real_store(engine, reports)

    monkeypatch.setattr(sinks.store, "store_reports", flaky)
    publish(backend, [make_report(i) for i in range(10)])
    consumer = StoreConsumer(backend.queue_url, backend.data_dir, backend.engine)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while repository.count_reports(backend.engine) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert failures and failures[0] > 0  # the first attempt really failed
    assert repository.count_reports(backend.engine) == 10  # nothing lost: redelivered, stored
    assert dead_letters(backend, expect=1, timeout=0.3) == []  # and nothing dead-lettered


def test_amqp_publish_fails_when_no_queue_takes_the_message(amqp_url: str, tmp_path: Path) -> None:
    # mandatory publishing is an AMQP feature (the embedded queue lives in one file and routes
    # through the bindings stored beside the messages)
    engine = make_engine(default_store_url(tmp_path))
    migrate(engine)
    backend = Backend("rabbitmq+sqlite", amqp_url, "", tmp_path, engine)
    publisher = ReportPublisher(amqp_url, tmp_path)
    try:
        publisher.publish([make_report(1)])
        assert publisher._conn is not None
        publisher._conn.default_channel.queue_delete(STORE_QUEUE)  # an admin deletes the queue
        with pytest.raises(PublishError, match="no queue is bound"):
            publisher.publish([make_report(2)])
        publisher.publish([make_report(2)])  # reconnect re-declares the topology
    finally:
        publisher.close()
    assert drain(backend) == 1  # report 1 went with the deleted queue; report 2 arrived
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "warns"),
    [
        ("filesystem://", True),
        ("sqla+sqlite:///x.db", True),
        ("memory://", True),
        ("embedded", False),
        ("amqp://guest:guest@127.0.0.1:5672//", False),
    ],
)
def test_connect_warns_about_transports_that_lose_unacked_messages(
    url: str, warns: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="sinks.queue"):
        conn = connect(url, tmp_path)
    assert ("loses a message" in caplog.text) is warns
    options: dict[str, Any] = conn.transport_options or {}
    if url == "embedded":
        assert options["database"] == str(tmp_path / "queue.sqlite3")
    if url.startswith("amqp"):
        assert options["confirm_publish"] is True


# --- the SQLite fast paths store exactly what SQLAlchemy's general path stores -----------------

TEXTS = [
    "Jalan di depan Pasar Pangkalan Balai rusak parah.",
    "Lampu   JALAN mati!! (sejak_3 hari)",
    "lampu jalan mati",
    "Café ﬁasco — air PDAM tidak mengalir 😡",
    "Ｆｕｌｌｗｉｄｔｈ ＴＥＫＳ dan Straße İstanbul ǅ",
    "NIK saya 3201234567890123, KTP hilang.",
    "baris satu\n\nbaris dua\twith tab",
]
ZONES = [
    UTC,
    timezone(timedelta(hours=7)),
    timezone(timedelta(hours=-3, minutes=-30)),
    ZoneInfo("Asia/Jakarta"),
    ZoneInfo("America/New_York"),
]


def varied_reports(count: int, seed: int = 20261123) -> list[Report]:
    """Reports that exercise every column: non-ASCII and ASCII texts (some repeated by the same
    reporter: duplicates), every contact kind, coordinates, booleans, zones, attachments."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 1, tzinfo=UTC)

    def moment() -> datetime:
        when = base + timedelta(
            seconds=rng.randint(0, 40 * 86400), microseconds=rng.randrange(10**6)
        )
        return when.astimezone(rng.choice(ZONES))

    reports = []
    for i in range(count):
        text = rng.choice(TEXTS) + (f" nomor {i}" if rng.random() < 0.6 else "")
        reporter = rng.choice(
            [
                {"name": f"Warga {i}", "email": f"Warga{i % 7}@Example.com"},
                {"phone": "+6281234567890"},
                {"handle": "@warga_banyuasin", "address": "Jl. Merdeka 1"},
                {},
                {"name": "Siti", "email": "siti@example.com", "phone": "+6289876543210"},
            ]
        )
        lat = rng.choice([None, rng.uniform(-90, 90), -2.9, 0.0])
        location: dict[str, Any] = {
            "text": rng.choice([None, "Pangkalan Balai"]),
            "district": "Banyuasin III",
        }
        if lat is not None:
            location.update(lat=lat, lon=rng.uniform(-180, 180))
        attachments = [
            {**ATTACHMENT, "filename": f"f{i}-{k}.jpg", "size": rng.randrange(10**7)}
            for k in range(rng.choice([0, 0, 0, 1, 3]))
        ]
        reports.append(
            make_report(
                i,
                text=text,
                reporter=reporter,
                received_at=moment(),
                ingested_at=moment(),
                occurred_at=rng.choice([None, moment()]),
                due_at=rng.choice([None, moment()]),
                location=location,
                attachments=attachments,
                signature_present=rng.choice([None, True, False]),
                confidence=rng.choice([0.0, 0.5, 1.0, rng.random()]),
                severity=rng.choice([None, "ringan", "sedang", "berat"]),
                category=rng.choice([None, "infrastruktur", "a.b"]),
                language=rng.choice([None, "id", "en"]),
                subject=rng.choice([None, "Laporan", "Ümlaut"]),
                in_reply_to=rng.choice([None, "<x@y>"]),
            )
        )
    return reports


def _typed(value: Any) -> Any:
    """A value with the type of every cell kept (1 == 1.0 == True in Python)."""
    if isinstance(value, list | tuple):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _tables(engine: Any) -> dict[str, list[Any]]:
    with engine.connect() as conn:
        return {
            table: _typed(
                [list(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY rowid")]
            )
            for table in ("reports", "attachments", "status_history", "counters")
        }


def test_sqlite_fast_path_sends_sqlite3_what_sqlalchemy_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_executemany``'s plan and UtcDateTime's SQLite bind processor against SQLAlchemy's
    own executemany and bind-processor composition: the same statements reach sqlite3 with
    the same values, type for type, and the stored tables are equal cell for cell."""
    reports = varied_reports(360)
    # overlapping batches (redeliveries), a batch of stored ids only, and a batch of one
    batches = [reports[:150], reports[100:300], reports[:10], reports[300:359], reports[359:]]
    now = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)  # "now" frozen: rows comparable
    monkeypatch.setattr(sinks.store, "utcnow", lambda: now)

    def run(name: str) -> tuple[list[Any], dict[str, list[Any]]]:
        engine = make_engine(default_store_url(tmp_path / name))
        migrate(engine)
        calls: list[Any] = []

        def record(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            calls.append((statement, many, _typed(params), context.compiled is None))

        sa.event.listen(engine, "before_cursor_execute", record)
        stored = [store_reports(engine, batch) for batch in batches]
        sa.event.remove(engine, "before_cursor_execute", record)
        assert [len(s) for s in stored] == [150, 150, 0, 59, 1]
        tables = _tables(engine)
        engine.dispose()
        return calls, tables

    with monkeypatch.context() as general:
        general.setattr(sinks.store, "_driver_rows", lambda *args: None)
        general.setattr(UtcDateTime, "bind_processor", sa.types.TypeDecorator.bind_processor)
        expected_calls, expected_tables = run("general")
    calls, tables = run("fast")

    # the fast path was taken (else this test compares SQLAlchemy with itself)
    def driver_inserts(found: list[Any]) -> set[str]:
        return {s.split(" (")[0] for s, _, _, raw in found if raw and s.startswith("INSERT")}

    assert driver_inserts(calls) == {
        "INSERT INTO reports",
        "INSERT INTO attachments",
        "INSERT INTO status_history",
    }
    assert driver_inserts(expected_calls) == set()
    assert [c[:3] for c in calls] == [c[:3] for c in expected_calls]
    assert tables == expected_tables
    assert sum(1 for row in tables["reports"] if row[4][1] is not None) > 10  # duplicate_of


def test_sqlite_datetime_binding_is_sqlalchemys_composition() -> None:
    dialect = sqlite_dialect.dialect()
    adapted: Any = UtcDateTime().dialect_impl(dialect)
    fast: Any = adapted.bind_processor(dialect)
    general: Any = sa.types.TypeDecorator.bind_processor(adapted, dialect)
    assert fast.__qualname__.startswith("UtcDateTime.")  # the fused processor is in use
    assert general.__qualname__.startswith("TypeDecorator.")

    class Later(datetime):
        pass

    rng = random.Random(7)
    zones = [*ZONES, *(timezone(timedelta(minutes=m)) for m in range(-1439, 1440, 97))]
    values: list[Any] = [
        None,
        datetime(2026, 1, 1),  # naive: refused by both
        date(2026, 1, 1),
        "2026-01-01",
        Later(2026, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # before year 1 in UTC
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),  # after 9999
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 8, 2, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
    ]
    for _ in range(20000):
        naive = datetime.min + timedelta(
            days=rng.randrange(1, 3_652_058), microseconds=rng.randrange(86_400 * 10**6)
        )
        values.append(naive.replace(tzinfo=rng.choice(zones), fold=rng.randint(0, 1)))

    def outcome(process: Any, value: Any) -> Any:
        try:
            return _typed(process(value))
        except Exception as exc:
            return type(exc), str(exc)

    for value in values:
        assert outcome(fast, value) == outcome(general, value), value
    # other dialects keep SQLAlchemy's composition
    pg = postgresql_dialect.dialect()
    pg_processor: Any = UtcDateTime().dialect_impl(pg).bind_processor(pg)
    assert pg_processor.__qualname__.startswith("TypeDecorator.")


def test_text_key_of_ascii_text_is_the_definition() -> None:
    ascii_chars = [chr(c) for c in range(128)]
    texts = [a + b + "x" + a for a in ascii_chars for b in ascii_chars]
    rng = random.Random(11)
    texts += ["".join(rng.choices(ascii_chars, k=rng.randint(0, 60))) for _ in range(20000)]
    texts += [r.text for r in varied_reports(200)] + TEXTS + ["", "   ", "__", "a_b-C d"]
    fast = sinks.store.text_key.__wrapped__
    for text in texts:
        assert fast(text) == sinks.store._text_key(text), repr(text)
    assert sum(t.isascii() for t in texts) > 20000  # the fast branch was exercised
