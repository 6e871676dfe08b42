"""The generic watch folder: complete files only, each once, moved after commit, bad ones aside."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.adapter import Batch
from ingest.adapters.folder import FolderAdapter

from .conftest import Clock

Make = Callable[..., FolderAdapter]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_file_still_being_written_is_not_read(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(settle_seconds=2.0)
    path = adapter.root / "call-slow.txt"
    path.write_bytes(b"")
    started = threading.Event()
    chunks = [f"Penelepon: potongan {i} dari laporan.\n".encode() for i in range(40)]

    def writer() -> None:
        with path.open("ab") as fh:
            for chunk in chunks:
                fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
                started.set()
                threading.Event().wait(0.02)

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(5)
    polls = 0
    while thread.is_alive():
        batch = adapter.fetch(None)
        assert batch.messages == [], "took a file that was still being written"
        polls += 1
    thread.join()
    assert polls > 0
    # the writer is done but the settle time has not passed: still not taken
    assert adapter.fetch(None).messages == []
    clock.advance(2.5)
    batch = adapter.fetch(None)
    assert len(batch.messages) == 1
    raw = batch.messages[0]
    assert raw.payload == b"".join(chunks)
    assert raw.external_id == sha(raw.payload)
    assert raw.filename == "call-slow.txt"
    assert raw.received_at is not None and raw.received_at.tzinfo is not None


def test_marker_mode_waits_for_done_file(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(complete_when="marker")
    drop(adapter.root, "a.vtt", b"WEBVTT\n")
    clock.advance(3600)
    assert adapter.fetch(None).messages == []
    drop(adapter.root, "a.vtt.done", b"")
    batch = adapter.fetch(None)
    assert [m.filename for m in batch.messages] == ["a.vtt"]
    adapter.commit(batch)
    assert sorted(p.name for p in (adapter.root / "processed").iterdir()) == ["a.vtt", "a.vtt.done"]
    assert not (adapter.root / "a.vtt").exists()


def test_sidecar_is_meta_and_moves_with_its_file(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(suffixes=[".txt", ".json"])
    drop(adapter.root, "call-1.txt", b"Penelepon: halo\n")
    drop(adapter.root, "call-1.json", json.dumps({"ani": "081234567890"}).encode())
    drop(adapter.root, "call-2.json", b'{"results": {"items": []}}')  # a transcript of its own
    clock.advance(10)
    batch = adapter.fetch(None)
    by_name = {m.filename: m for m in batch.messages}
    assert set(by_name) == {"call-1.txt", "call-2.json"}
    assert by_name["call-1.txt"].meta == {"ani": "081234567890"}
    assert by_name["call-2.json"].meta == {}
    adapter.commit(batch)
    assert sorted(p.name for p in (adapter.root / "processed").iterdir()) == [
        "call-1.json", "call-1.txt", "call-2.json",
    ]  # fmt: skip
    assert list(adapter.root.glob("*.*")) == []


def test_filters_and_subfolders(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(pattern="2026-*/*")
    drop(adapter.root, "2026-11-23/a.txt", b"a")
    drop(adapter.root, "2026-11-23/b.pdf", b"b")  # not a suffix of this channel
    drop(adapter.root, "other/c.txt", b"c")  # outside the pattern
    drop(adapter.root, "processed/2026-11-22/d.txt", b"d")  # already done
    drop(adapter.root, "quarantine/e.txt", b"e")
    drop(adapter.root, "2026-11-23/.hidden.txt", b"h")
    clock.advance(10)
    assert [m.filename for m in adapter.fetch(None).messages] == ["2026-11-23/a.txt"]


def test_batches_and_more(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(batch_size=2, after="keep")
    for i in range(5):
        drop(adapter.root, f"c{i}.txt", f"call {i}".encode())
    clock.advance(10)
    seen: list[str] = []
    state = None
    while True:
        batch = adapter.fetch(state)
        assert len(batch.messages) <= 2
        seen += [m.filename or "" for m in batch.messages]
        state = batch.state
        adapter.commit(batch)
        if not batch.more:
            break
    assert sorted(seen) == [f"c{i}.txt" for i in range(5)]
    assert adapter.fetch(state).messages == []


def test_keep_mode_state_is_bounded_and_notices_changes(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(after="keep")
    drop(adapter.root, "a.txt", b"first")
    drop(adapter.root, "b.txt", b"second")
    clock.advance(10)
    batch = adapter.fetch(None)
    adapter.commit(batch)
    state = batch.state
    assert {k: v["sha256"] for k, v in state["files"].items()} == {
        "a.txt": sha(b"first"), "b.txt": sha(b"second"),
    }  # fmt: skip
    assert (adapter.root / "a.txt").exists()  # kept in place
    assert adapter.fetch(state).messages == []
    (adapter.root / "b.txt").unlink()
    drop(adapter.root, "a.txt", b"first, corrected")
    clock.advance(10)
    batch = adapter.fetch(state)
    assert [(m.filename, m.external_id) for m in batch.messages] == [
        ("a.txt", sha(b"first, corrected"))
    ]
    assert set(batch.state["files"]) == {"a.txt"}  # b.txt is gone: pruned


def test_touched_but_unchanged_file_is_not_sent_again(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(after="keep")
    path = drop(adapter.root, "a.txt", b"same")
    clock.advance(10)
    state = adapter.fetch(None).state
    os.utime(path, (1_700_000_000, 1_700_000_000))
    batch = adapter.fetch(state)
    assert batch.messages == []
    assert batch.state["files"]["a.txt"]["mtime_ns"] == 1_700_000_000 * 10**9


def test_file_replaced_before_commit_is_not_moved(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter()
    drop(adapter.root, "a.txt", b"old")
    clock.advance(10)
    batch = adapter.fetch(None)
    drop(adapter.root, "a.txt", b"new content")  # the dialer rewrote it meanwhile
    adapter.commit(batch)
    assert (adapter.root / "a.txt").read_bytes() == b"new content"
    clock.advance(10)
    again = adapter.fetch(batch.state)
    assert [m.external_id for m in again.messages] == [sha(b"new content")]


def test_same_name_in_processed_is_not_overwritten(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter()
    drop(adapter.root, "processed/a.txt", b"yesterday")
    drop(adapter.root, "a.txt", b"today")
    clock.advance(10)
    batch = adapter.fetch(None)
    adapter.commit(batch)
    contents = sorted(p.read_bytes() for p in (adapter.root / "processed").iterdir())
    assert contents == [b"today", b"yesterday"]


def test_broken_link_is_quarantined_with_a_reason(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter()
    (adapter.root / "ghost.txt").symlink_to(adapter.root / "nowhere.txt")
    drop(adapter.root, "good.txt", b"ok")
    clock.advance(10)
    batch = adapter.fetch(None)
    by_name = {m.filename: m for m in batch.messages}
    assert set(by_name) == {"ghost.txt", "good.txt"}
    bad = by_name["ghost.txt"]
    assert bad.transport_error and "ghost.txt" in bad.transport_error
    assert by_name["good.txt"].transport_error is None
    quarantine = adapter.root / "quarantine"
    assert (quarantine / "ghost.txt").is_symlink()
    reason = (quarantine / "ghost.txt.reason.txt").read_text()
    assert "FileNotFoundError" in reason
    assert "ghost.txt" not in batch.state["files"]
    adapter.commit(batch)
    assert adapter.fetch(batch.state).messages == []  # quarantined once, not every poll


def _fetch_as_nobody(adapter: FolderAdapter) -> list[dict[str, str | None]]:
    """Run one fetch in a child process that dropped root, as a real service account would."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            os.close(read_fd)
            os.setgid(65534)
            os.setuid(65534)
            batch = adapter.fetch(None)
            out = [{"filename": m.filename, "error": m.transport_error} for m in batch.messages]
            os.write(write_fd, json.dumps(out).encode())
            code = 0
        except BaseException:
            import traceback

            os.write(write_fd, traceback.format_exc().encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data.decode(errors="replace")
    result: list[dict[str, str | None]] = json.loads(data)
    return result


def test_permission_denied_is_quarantined(make_adapter: Make, clock: Clock) -> None:
    # outside pytest's root-only tmp tree, so the unprivileged child can reach it
    folder = Path(tempfile.mkdtemp(prefix="aduan-drop-"))
    try:
        _permission_case(folder, make_adapter, clock)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _permission_case(folder: Path, make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(folder)
    secret = drop(folder, "locked.txt", b"Penelepon: rahasia")
    drop(folder, "open.txt", b"Penelepon: terbuka")
    secret.chmod(0o000)
    clock.advance(10)
    if os.geteuid() == 0:
        folder.chmod(0o777)
        (folder / "open.txt").chmod(0o644)
        messages = _fetch_as_nobody(adapter)
    else:
        messages = [
            {"filename": m.filename, "error": m.transport_error}
            for m in adapter.fetch(None).messages
        ]
    by_name = {m["filename"]: m["error"] for m in messages}
    assert by_name["open.txt"] is None
    assert by_name["locked.txt"] is not None and "PermissionError" in by_name["locked.txt"]
    assert (folder / "quarantine" / "locked.txt").exists()
    assert "PermissionError" in (folder / "quarantine" / "locked.txt.reason.txt").read_text()
    assert not (folder / "locked.txt").exists()


def _publish(queue: dict[str, bytes], batch: Batch) -> None:
    for raw in batch.messages:
        assert raw.external_id is not None
        queue.setdefault(raw.external_id, raw.payload)  # the store's idempotency key


@pytest.mark.parametrize("crash", ["before_state_saved", "before_commit"])
def test_restart_mid_folder_neither_loses_nor_doubles(
    make_adapter: Make, clock: Clock, crash: str
) -> None:
    adapter = make_adapter(batch_size=3)
    payloads = {f"call-{i:02}.txt": f"Penelepon: laporan nomor {i}\n".encode() for i in range(8)}
    for name, data in payloads.items():
        drop(adapter.root, name, data)
    clock.advance(10)
    queue: dict[str, bytes] = {}
    fetched: dict[str, int] = {}
    saved_state = None

    def fetch(a: FolderAdapter) -> Batch:
        batch = a.fetch(saved_state)
        for m in batch.messages:
            fetched[m.filename or ""] = fetched.get(m.filename or "", 0) + 1
        return batch

    # first batch goes through cleanly
    batch = fetch(adapter)
    _publish(queue, batch)
    saved_state = batch.state
    adapter.commit(batch)
    # second batch: the process dies part-way
    batch = fetch(adapter)
    assert len(batch.messages) == 3
    _publish(queue, batch)
    if crash == "before_commit":
        saved_state = batch.state  # state saved, files not moved yet
    del adapter
    # restart: a new adapter from the last saved state runs the folder to the end
    restarted = make_adapter(batch_size=3)
    for _ in range(10):
        batch = fetch(restarted)
        _publish(queue, batch)
        saved_state = batch.state
        restarted.commit(batch)
        if not batch.messages and not batch.more:
            break
    assert set(queue) == {sha(d) for d in payloads.values()}  # nothing lost
    assert sorted(queue.values()) == sorted(payloads.values())  # nothing doubled
    assert max(fetched.values()) <= 2  # at most the interrupted batch is fetched again
    if crash == "before_commit":
        assert max(fetched.values()) == 1  # the saved state already covered them
    processed = sorted(p.name for p in (restarted.root / "processed").iterdir())
    assert processed == sorted(payloads)
    assert [p.name for p in restarted.root.iterdir()] == ["processed"]
    assert restarted.fetch(saved_state).state["files"] == {}  # state shrinks back to nothing


def test_oversized_file_is_quarantined(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(max_bytes=10)
    drop(adapter.root, "big.txt", b"x" * 11)
    drop(adapter.root, "small.txt", b"x" * 10)
    clock.advance(10)
    batch = adapter.fetch(None)
    errors = {m.filename: m.transport_error for m in batch.messages}
    assert errors["small.txt"] is None
    assert errors["big.txt"] is not None and "max_bytes" in errors["big.txt"]
    assert (adapter.root / "quarantine" / "big.txt.reason.txt").exists()


def test_stop_cuts_a_sweep_short(make_adapter: Make, clock: Clock) -> None:
    adapter = make_adapter(after="keep")
    drop(adapter.root, "a.txt", b"a")
    clock.advance(10)
    adapter.ctx.stop.set()
    batch = adapter.fetch(None)
    assert batch.messages == [] and not batch.more
    assert batch.state["files"] == {}
