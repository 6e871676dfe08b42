from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from sinks.state import CheckpointStore, QuarantineStore


def test_checkpoints_save_load_overwrite(engine: Engine) -> None:
    store = CheckpointStore(engine)
    assert store.load("inbox") is None
    store.save("inbox", {"uidvalidity": 7, "last_uid": 41})
    store.save("inbox", {"uidvalidity": 7, "last_uid": 42, "seen": ["a", "b"]})
    store.save("twitter", {"since_id": "1860"})
    assert store.load("inbox") == {"uidvalidity": 7, "last_uid": 42, "seen": ["a", "b"]}
    assert store.load("twitter") == {"since_id": "1860"}


def test_quarantine_put_list_get_replay(engine: Engine) -> None:
    store = QuarantineStore(engine)
    when = datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC)
    first = store.put(
        channel_name="inbox",
        channel_kind="email",
        reason="text empty after cleaning",
        external_id="m1@x",
        raw_uri="file:///raw/1.eml",
        raw_sha256="ab" * 32,
        content_type="message/rfc822",
        filename=None,
        meta={"uid": 5},
        received_at=when,
    )
    second = store.put(
        channel_name="forms",
        channel_kind="form",
        reason="ocr failed",
        external_id=None,
        raw_uri="file:///raw/2.pdf",
        raw_sha256="cd" * 32,
        content_type="application/pdf",
        filename="scan.pdf",
        meta={},
        received_at=None,
    )
    assert [i.id for i in store.list()] == [first, second]
    assert [i.id for i in store.list("forms")] == [second]
    item = store.get(first)
    assert item is not None
    assert (item.reason, item.meta, item.received_at) == (
        "text empty after cleaning",
        {"uid": 5},
        when,
    )
    store.mark_replayed(first, ["r-1", "r-2"])
    assert [i.id for i in store.list()] == [second]
    replayed = store.get(first)
    assert replayed is not None and replayed.replayed_at is not None
    assert replayed.replay_report_ids == ["r-1", "r-2"]
    assert {i.id for i in store.list(include_replayed=True)} == {first, second}
    assert store.get(9999) is None
