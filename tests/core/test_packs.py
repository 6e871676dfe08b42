"""Packs: a chunk's raw payloads in one zip, each named by a jar URL that reads it back."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.packs import PackStore, pack_name, read_archived


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


PAYLOADS = [b"From: a@contoh.id\r\n\r\nsatu\r\n", b"", b"\x00\xffbiner", "ñ é".encode()]


def test_every_payload_reads_back_through_its_uri(tmp_path: Path) -> None:
    store = PackStore(tmp_path / "packs")
    name = pack_name([_sha(p) for p in PAYLOADS])
    path = store.write(name, PAYLOADS)
    assert path == store.path_for(name) == tmp_path / "packs" / name[:2] / f"{name}.zip"
    for data in PAYLOADS:
        uri = store.uri_for(name, _sha(data))
        assert uri.startswith(f"jar:{(tmp_path / 'packs').resolve().as_uri()}/")
        assert uri.endswith(f".zip!/{_sha(data)}")
        assert read_archived(uri) == data
    with zipfile.ZipFile(path) as pack:  # an ordinary zip: members stored as they are
        assert pack.testzip() is None
        assert pack.namelist() == [_sha(p) for p in PAYLOADS]
        assert {i.compress_type for i in pack.infolist()} == {zipfile.ZIP_STORED}
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it


def test_the_name_follows_the_members_and_a_payload_is_kept_once(tmp_path: Path) -> None:
    shas = [_sha(p) for p in PAYLOADS]
    assert pack_name(shas) == pack_name(list(shas))
    assert pack_name(shas) != pack_name(shas[::-1])
    assert pack_name(shas + shas[:1]) == pack_name(shas)
    store = PackStore(tmp_path)
    name = pack_name(shas + shas[:1])
    with zipfile.ZipFile(store.write(name, PAYLOADS + PAYLOADS[:1])) as pack:
        assert pack.namelist() == shas


def test_the_same_chunk_again_keeps_the_pack_written_first(tmp_path: Path) -> None:
    store = PackStore(tmp_path)
    name = pack_name([_sha(p) for p in PAYLOADS])
    first = store.write(name, PAYLOADS)
    before = first.stat()
    again = store.write(name, iter(()))  # not even read: the pack is there already
    assert again == first
    after = first.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert read_archived(store.uri_for(name, _sha(PAYLOADS[0]))) == PAYLOADS[0]


def test_a_write_that_fails_leaves_nothing_under_the_name(tmp_path: Path) -> None:
    store = PackStore(tmp_path)

    def broken() -> Iterator[bytes]:
        yield PAYLOADS[0]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write("ab" * 32, broken())
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    store.write("ab" * 32, PAYLOADS)  # and the next attempt writes it whole
    assert read_archived(store.uri_for("ab" * 32, _sha(PAYLOADS[2]))) == PAYLOADS[2]


def test_plain_blob_uris_still_read(tmp_path: Path) -> None:
    blob = tmp_path / "ab" / "abcd"
    blob.parent.mkdir()
    blob.write_bytes(b"lama")
    assert read_archived(blob.as_uri()) == b"lama"


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        ("https://example.org/x.eml", ValueError),
        ("jar:https://example.org/x.zip!/ab", ValueError),
        ("jar:file:///tmp/x.zip", ValueError),
        ("jar:file:///tmp/x.zip!/", ValueError),
    ],
)
def test_uris_it_cannot_read_are_refused_clearly(uri: str, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"cannot read|not a jar URL"):
        read_archived(uri)


def test_a_missing_member_is_a_key_error(tmp_path: Path) -> None:
    store = PackStore(tmp_path)
    store.write("cd" * 32, PAYLOADS[:1])
    with pytest.raises(KeyError):
        read_archived(store.uri_for("cd" * 32, "ef" * 32))
