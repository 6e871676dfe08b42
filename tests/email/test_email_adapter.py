"""The IMAP adapter against a real Dovecot (started per test on a loopback port)."""

from __future__ import annotations

import json
import logging
import mailbox
import pickle
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from email_dovecot import PASSWORD, USER, Dovecot, complaint

from ingest.adapter import AdapterContext, Batch, ChannelUnhealthy, State
from ingest.adapters.email import PLUGIN, EmailSettings, ImapAdapter, read_files
from ingest.registry import get_plugin
from normalizers.base import NormalizeContext, Normalized, RawMessage
from normalizers.office import DEFAULT_OFFICE


def make(
    dovecot: Dovecot, tmp_path: Path, stop: threading.Event | None = None, **overrides: Any
) -> ImapAdapter:
    fields: dict[str, Any] = {
        "name": "inbox",
        "kind": "email",
        "host": "127.0.0.1",
        "port": dovecot.port,
        "tls": "none",
        "username": USER,
        "password": PASSWORD,
        "idle_timeout": 0,
        "timeout": 10,
        "reconnect_attempts": 6,
    }
    fields.update(overrides)
    ctx = AdapterContext(
        channel_name="inbox",
        data_dir=tmp_path,
        office=DEFAULT_OFFICE,
        stop=stop or threading.Event(),
    )
    adapter = PLUGIN.adapter(EmailSettings(**fields), ctx) if PLUGIN.adapter else None
    assert isinstance(adapter, ImapAdapter)
    return adapter


class Store:
    """What the runtime plus the verification store do with a batch, in miniature."""

    def __init__(self) -> None:
        self.reports: dict[str, Any] = {}
        self.published = 0
        self.quarantined: list[RawMessage] = []

    def take(self, batch: Batch) -> None:
        for raw in batch.messages:
            self.published += 1
            if raw.transport_error:
                self.quarantined.append(raw)
                continue
            ctx = NormalizeContext(
                channel_name="inbox",
                channel_kind="email",
                ingested_at=datetime.now(UTC),
                raw_uri="file:///raw",
                raw_sha256=raw.sha256,
            )
            for outcome in PLUGIN.normalize(raw, ctx):
                assert isinstance(outcome, Normalized), outcome
                self.reports[str(outcome.report.id)] = outcome.report


def drain(adapter: ImapAdapter, state: State | None, store: Store) -> tuple[State, list[Batch]]:
    batches: list[Batch] = []
    while True:
        batch = adapter.fetch(state)
        batches.append(batch)
        store.take(batch)
        state = json.loads(json.dumps(batch.state))  # what the runtime persists
        adapter.commit(batch)
        if not batch.more:
            assert state is not None
            return state, batches


def subjects(batch: Batch) -> list[str]:
    out = []
    for m in batch.messages:
        line = next(x for x in m.payload.split(b"\r\n") if x.startswith(b"Subject:"))
        out.append(line.decode().split(": ", 1)[1])
    return out


def test_plugin_is_registered() -> None:
    assert get_plugin("email") is PLUGIN
    assert PLUGIN.read_files is read_files


def test_batches_oldest_first_untouched_mailbox(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(*(complaint(i) for i in range(1, 6)))
    adapter = make(dovecot, tmp_path, batch_size=2)
    store = Store()
    state, batches = drain(adapter, None, store)
    adapter.close()
    assert [subjects(b) for b in batches] == [
        ["Pengaduan 1", "Pengaduan 2"],
        ["Pengaduan 3", "Pengaduan 4"],
        ["Pengaduan 5"],
    ]
    assert [b.more for b in batches] == [True, True, False]
    assert state["last_uid"] == 5 and state["folder"] == "INBOX"
    first = batches[0].messages[0]
    assert first.received_at is not None and first.received_at.tzinfo is not None
    # raw messages cross process boundaries (the runtime's CPU pool): they must pickle
    assert pickle.loads(pickle.dumps(batches[0].messages)) == list(batches[0].messages)
    assert first.meta["uid"] == 1 and first.transport_error is None
    assert len(store.reports) == 5
    with dovecot.client() as imap:  # mark: none leaves every message unseen
        imap.select_folder("INBOX", readonly=True)
        assert sorted(imap.search(["UNSEEN"])) == [1, 2, 3, 4, 5]


def test_restart_in_the_middle_no_loss_no_double(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(*(complaint(i) for i in range(1, 8)))
    store = Store()
    first = make(dovecot, tmp_path, batch_size=3)
    confirmed = first.fetch(None)
    store.take(confirmed)
    saved = json.loads(json.dumps(confirmed.state))
    # a second batch is fetched and published but the process dies before its state is saved
    lost = first.fetch(saved)
    store.take(lost)
    first.close()

    second = make(dovecot, tmp_path, batch_size=3)
    state, _ = drain(second, saved, store)
    second.close()
    assert state["last_uid"] == 7
    assert store.published == 3 + 3 + 4  # at-least-once: the unconfirmed batch came again
    assert len(store.reports) == 7  # ... and the store keeps each complaint once


def test_idle_returns_as_soon_as_mail_arrives(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1))
    adapter = make(dovecot, tmp_path, idle_timeout=30)
    state, _ = drain(adapter, None, Store())

    def later() -> None:
        time.sleep(0.7)
        dovecot.append(complaint(2))

    sender = threading.Thread(target=later)
    sender.start()
    started = time.monotonic()
    batch = adapter.fetch(state)
    waited = time.monotonic() - started
    sender.join()
    adapter.close()
    assert subjects(batch) == ["Pengaduan 2"]
    assert waited < 30  # woken by the server's EXISTS, not by the timeout
    assert batch.state["last_uid"] == 2


def test_reidles_periodically_and_still_sees_mail(
    dovecot: Dovecot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = make(dovecot, tmp_path, idle_timeout=10, reidle_interval=0.5)
    timer = threading.Timer(1.6, dovecot.append, args=(complaint(1),))
    timer.start()
    with caplog.at_level(logging.DEBUG, logger="ingest.adapters.email"):
        batch = adapter.fetch(None)
    timer.join()
    adapter.close()
    assert subjects(batch) == ["Pengaduan 1"]
    idles = [r for r in caplog.records if r.getMessage().startswith("email channel inbox: IDLE")]
    assert len(idles) >= 3  # IDLE re-issued every half second before the mail came


def test_stop_event_ends_idle(dovecot: Dovecot, tmp_path: Path) -> None:
    stop = threading.Event()
    adapter = make(dovecot, tmp_path, stop=stop, idle_timeout=60)
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    started = time.monotonic()
    batch = adapter.fetch(None)
    adapter.close()
    assert batch.messages == [] and batch.more is False
    assert time.monotonic() - started < 60


def test_poll_fallback_without_idle(tmp_path: Path) -> None:
    from email_dovecot import need_tool, remove_server_dir, server_dir

    server = Dovecot(
        root=server_dir(tmp_path / "noidle"),
        binary=need_tool("dovecot"),
        extra="imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS MOVE\n",
    )
    try:
        server.start()
        adapter = make(server, tmp_path, idle_timeout=60)
        started = time.monotonic()
        empty = adapter.fetch(None)
        assert empty.messages == [] and time.monotonic() - started < 60
        assert "IDLE" not in adapter._capabilities
        server.append(complaint(1))
        assert subjects(adapter.fetch(empty.state)) == ["Pengaduan 1"]
        adapter.close()
    finally:
        server.stop(graceful=False)
        remove_server_dir(server.root)


def test_uidvalidity_change_rescans_without_doubles(dovecot: Dovecot, tmp_path: Path) -> None:
    folder = "Pengaduan"
    dovecot.append(*(complaint(i) for i in range(1, 4)), folder=folder)
    store = Store()
    adapter = make(dovecot, tmp_path, folder=folder)
    state, _ = drain(adapter, None, store)
    old_validity = state["uidvalidity"]
    # the folder is recreated (a migration, a restore): same mail, new UIDs and UIDVALIDITY
    with dovecot.client() as imap:
        imap.delete_folder(folder)
        imap.create_folder(folder)
    dovecot.append(*(complaint(i) for i in (1, 2, 3, 4)), folder=folder)

    batch = adapter.fetch(state)
    store.take(batch)
    adapter.close()
    assert batch.state["uidvalidity"] != old_validity
    assert subjects(batch) == ["Pengaduan 4"]  # the three already seen are not re-emitted
    assert batch.state["last_uid"] == 4
    assert len(store.reports) == 4


def test_uidvalidity_change_beyond_memory_store_dedupes(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(*(complaint(i) for i in range(1, 4)), folder="Arsip")
    store = Store()
    adapter = make(dovecot, tmp_path, folder="Arsip", dedupe_memory=0)
    state, _ = drain(adapter, None, store)
    assert state["seen"] == []
    with dovecot.client() as imap:
        imap.delete_folder("Arsip")
        imap.create_folder("Arsip")
    dovecot.append(*(complaint(i) for i in (1, 2, 3, 4)), folder="Arsip")
    state2, batches = drain(adapter, state, store)
    adapter.close()
    assert sum(len(b.messages) for b in batches) == 4  # nothing lost
    assert len(store.reports) == 4  # nothing doubled
    assert state2["uidvalidity"] != state["uidvalidity"]


def test_oversized_message_quarantined_with_header_only(dovecot: Dovecot, tmp_path: Path) -> None:
    big = complaint(2, body="LAMPIRAN-BESAR " * 8000)
    dovecot.append(complaint(1), big, complaint(3))
    adapter = make(dovecot, tmp_path, max_message_bytes=20_000)
    batch = adapter.fetch(None)
    adapter.close()
    assert [m.meta["uid"] for m in batch.messages] == [1, 2, 3]
    over = batch.messages[1]
    assert over.transport_error is not None and "max_message_bytes" in over.transport_error
    assert b"Subject: Pengaduan 2" in over.payload and b"LAMPIRAN-BESAR" not in over.payload
    assert over.meta["size"] > 20_000
    assert batch.messages[0].transport_error is None and batch.messages[2].transport_error is None
    assert batch.state["last_uid"] == 3  # the checkpoint moves past it


def test_oversized_message_body_never_downloaded(dovecot: Dovecot, tmp_path: Path) -> None:
    big = complaint(2, body="LAMPIRAN-BESAR " * 8000)
    dovecot.append(complaint(1), big)
    adapter = make(dovecot, tmp_path, max_message_bytes=20_000)
    sent: list[bytes] = []
    client = adapter._with_reconnect(lambda c: c)
    original = client._imap.send
    client._imap.send = lambda data: (sent.append(data), original(data))[1]
    batch = adapter.fetch(None)
    adapter.close()
    assert batch.messages[1].transport_error is not None
    fetches = [line for line in sent if b" FETCH " in line]
    assert len(fetches) == 2, fetches  # the body of 1, the header of 2
    assert b"BODY.PEEK[]" in fetches[0] and fetches[0].split(b" FETCH ")[1].startswith(b"1 ")
    assert b"BODY.PEEK[HEADER]" in fetches[1] and fetches[1].split(b" FETCH ")[1].startswith(b"2 ")


def test_oversized_message_missed_by_search_still_quarantined(
    dovecot: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose SEARCH LARGER finds nothing: the size that comes with the body decides."""
    big = complaint(2, body="LAMPIRAN-BESAR " * 8000)
    dovecot.append(complaint(1), big)
    adapter = make(dovecot, tmp_path, max_message_bytes=20_000)
    client = adapter._with_reconnect(lambda c: c)
    search = client.search
    monkeypatch.setattr(
        client, "search", lambda criteria: [] if "LARGER" in criteria else search(criteria)
    )
    batch = adapter.fetch(None)
    adapter.close()
    over = batch.messages[1]
    assert over.transport_error is not None and "max_message_bytes" in over.transport_error
    assert over.payload.startswith(b"From:") and over.payload.endswith(b"\r\n\r\n")
    assert b"Subject: Pengaduan 2" in over.payload and b"LAMPIRAN-BESAR" not in over.payload
    assert batch.messages[0].transport_error is None


def test_oversized_message_in_a_rescan(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1), folder="Besar")
    store = Store()
    adapter = make(dovecot, tmp_path, folder="Besar", max_message_bytes=20_000)
    state, _ = drain(adapter, None, store)
    with dovecot.client() as imap:
        imap.delete_folder("Besar")
        imap.create_folder("Besar")
    dovecot.append(complaint(1), complaint(2, body="LAMPIRAN-BESAR " * 8000), folder="Besar")
    batch = adapter.fetch(state)
    adapter.close()
    assert [m.meta["uid"] for m in batch.messages] == [2]  # 1 was seen before the renumbering
    over = batch.messages[0]
    assert over.transport_error is not None and b"LAMPIRAN-BESAR" not in over.payload


def test_uid_set() -> None:
    from ingest.adapters.imap_fetch import uid_set as _uid_set

    assert _uid_set([7]) == "7"
    assert _uid_set([3, 1, 2, 5, 7, 8, 9, 11]) == "1:3,5,7:9,11"
    assert _uid_set([4, 4, 5]) == "4:5"


def test_imaplib_trace_only_when_its_logger_shows_it(
    dovecot: Dovecot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """imaplib's trace (on by IMAPClient's default) formats every body it reads; off unless the
    imapclient.imaplib logger is at DEBUG, where it still shows the conversation."""
    dovecot.append(complaint(1))
    quiet = make(dovecot, tmp_path)
    assert quiet._with_reconnect(lambda c: c._imap.debug) == 0
    quiet.close()
    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    traced = make(dovecot, tmp_path)
    traced.fetch(None)
    traced.close()
    assert any("FETCH" in r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib")


def test_reconnects_after_server_kicks_us_mid_idle(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(0))
    adapter = make(dovecot, tmp_path, idle_timeout=20)
    state = adapter.fetch(None).state  # connected, mailbox read

    kicked: list[bool] = []

    def disrupt() -> None:
        time.sleep(0.6)
        kicked.append(dovecot.kick())
        time.sleep(0.3)
        dovecot.append(complaint(1))

    thread = threading.Thread(target=disrupt)
    thread.start()
    batch = adapter.fetch(state)
    thread.join()
    adapter.close()
    assert kicked == [True]
    assert subjects(batch) == ["Pengaduan 1"]
    assert "Killed with signal" in dovecot.log()


def test_reconnects_with_backoff_after_server_restart(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1), complaint(2))
    adapter = make(dovecot, tmp_path, batch_size=1)
    store = Store()
    batch = adapter.fetch(None)
    store.take(batch)
    dovecot.stop(wait_port=True)  # the server goes away mid-sweep

    restarter = threading.Timer(1.0, dovecot.start)
    restarter.start()
    batch2 = adapter.fetch(batch.state)  # fails, backs off, reconnects
    restarter.join()
    store.take(batch2)
    adapter.close()
    assert subjects(batch2) == ["Pengaduan 2"]
    assert len(store.reports) == 2


def test_login_failure_is_unhealthy(dovecot: Dovecot, tmp_path: Path) -> None:
    adapter = make(dovecot, tmp_path, password="salah")
    with pytest.raises(ChannelUnhealthy, match="refused the login"):
        adapter.fetch(None)


def test_xoauth2_login(tmp_path: Path) -> None:
    from email_dovecot import make_jwt, need_tool, oauth2_config, remove_server_dir, server_dir

    secret = b"kunci-uji-yang-cukup-panjang-32b!"
    root = server_dir(tmp_path / "oauth")
    server = Dovecot(root=root, binary=need_tool("dovecot"), extra=oauth2_config(root, secret))
    try:
        server.start()
        server.append(complaint(1))
        token = make_jwt(secret, USER)
        adapter = make(server, tmp_path, password=None, oauth2_token=token)
        assert subjects(adapter.fetch(None)) == ["Pengaduan 1"]
        adapter.close()
        assert "method=XOAUTH2" in server.log()
        forged = make(server, tmp_path, password=None, oauth2_token=make_jwt(b"x" * 32, USER))
        with pytest.raises(ChannelUnhealthy, match="OAuth2"):
            forged.fetch(None)
    finally:
        server.stop(graceful=False)
        remove_server_dir(root)


def test_mark_seen_after_commit(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1), complaint(2))
    adapter = make(dovecot, tmp_path, mark="seen")
    batch = adapter.fetch(None)
    with dovecot.client() as imap:  # BODY.PEEK: fetching alone does not mark
        imap.select_folder("INBOX", readonly=True)
        assert sorted(imap.search(["UNSEEN"])) == [1, 2]
    adapter.commit(batch)
    adapter.close()
    with dovecot.client() as imap:
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["UNSEEN"]) == []


def test_mark_move_after_commit(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1), complaint(2))
    with dovecot.client() as imap:
        imap.create_folder("Diproses")
    adapter = make(dovecot, tmp_path, mark="move", move_to="Diproses")
    batch = adapter.fetch(None)
    adapter.commit(batch)
    assert adapter.fetch(batch.state).messages == []
    adapter.close()
    with dovecot.client() as imap:
        assert imap.select_folder("INBOX")[b"EXISTS"] == 0
        assert imap.select_folder("Diproses")[b"EXISTS"] == 2


def test_tls_verify_false(dovecot_tls: Dovecot, tmp_path: Path) -> None:
    dovecot_tls.append(complaint(1))
    adapter = make(dovecot_tls, tmp_path, tls="implicit", tls_verify=False)
    assert subjects(adapter.fetch(None)) == ["Pengaduan 1"]
    adapter.close()


def test_tls_with_ca_file(dovecot_tls: Dovecot, tmp_path: Path) -> None:
    dovecot_tls.append(complaint(1))
    adapter = make(dovecot_tls, tmp_path, tls="implicit", tls_ca_file=str(dovecot_tls.cert))
    assert subjects(adapter.fetch(None)) == ["Pengaduan 1"]
    adapter.close()


def test_starttls_with_ca_file(dovecot_starttls: Dovecot, tmp_path: Path) -> None:
    dovecot_starttls.append(complaint(1))
    adapter = make(
        dovecot_starttls, tmp_path, tls="starttls", tls_ca_file=str(dovecot_starttls.cert)
    )
    assert subjects(adapter.fetch(None)) == ["Pengaduan 1"]
    adapter.close()
    # Dovecot counts loopback as secure and would accept a plaintext login, so check its log:
    # both logins (the test's APPEND and the adapter) went over the upgraded connection.
    logins = [line for line in dovecot_starttls.log().splitlines() if "Login: user=" in line]
    assert len(logins) == 2
    assert all(", TLS" in line for line in logins), logins


def test_tls_untrusted_certificate_is_unhealthy(dovecot_tls: Dovecot, tmp_path: Path) -> None:
    adapter = make(dovecot_tls, tmp_path, tls="implicit")
    with pytest.raises(ChannelUnhealthy, match="tls_ca_file"):
        adapter.fetch(None)


def test_settings_validation() -> None:
    base = {"name": "inbox", "kind": "email", "host": "imap.example.go.id", "username": "u"}
    with pytest.raises(ValueError, match="password"):
        EmailSettings(**base)
    with pytest.raises(ValueError, match="move_to"):
        EmailSettings(**base, password="p", mark="move")
    settings = EmailSettings(**base, oauth2_token="tok")
    assert settings.effective_port == 993 and settings.tls_verify is True
    assert settings.max_message_bytes == 25 * 1024 * 1024
    assert EmailSettings(**base, password="p", tls="starttls").effective_port == 143


def test_read_files_maildir_and_mbox(dovecot: Dovecot, tmp_path: Path) -> None:
    dovecot.append(complaint(1), complaint(2, body="X" * 5000))
    settings = EmailSettings(
        name="inbox",
        kind="email",
        host="x",
        username="u",
        password="p",
        max_message_bytes=3000,
    )
    from_maildir = list(read_files(dovecot.maildir, settings))
    assert len(from_maildir) == 2
    assert [m.transport_error is None for m in from_maildir] == [True, False]

    box_path = tmp_path / "arsip.mbox"
    box = mailbox.mbox(str(box_path))
    for i in (1, 2, 3):
        box.add(mailbox.mboxMessage(complaint(i)))
    box.flush()
    box.close()
    from_mbox = list(read_files(box_path, settings))
    assert [m.payload.count(b"Pengaduan") for m in from_mbox] == [1, 1, 1]
    store = Store()
    store.take(Batch(messages=from_mbox, state={}))
    assert len(store.reports) == 3

    eml = tmp_path / "satu.eml"
    eml.write_bytes(complaint(9))
    only: Callable[[], list[RawMessage]] = lambda: list(read_files(eml, settings))  # noqa: E731
    assert len(only()) == 1
    with pytest.raises(FileNotFoundError, match="mbox"):
        list(read_files(tmp_path / "nope", settings))
