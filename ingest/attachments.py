"""Content-addressed attachment store on the local filesystem.

Bytes are kept under ``root/ab/<sha256>``: the same file attached twice is stored once, and
the path is derivable from the hash alone, which is what lets a pure normalizer name an
attachment's ``uri`` before the bytes are written (see ``NormalizeContext.attachment_uri``).
Writes go to a temporary file first and are renamed into place, so a crash never leaves a
half-written attachment under its final name.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from normalizers.base import blob_path


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    uri: str
    path: Path


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self.base_uri = root.resolve().as_uri()

    def path_for(self, sha256: str) -> Path:
        return self.root / blob_path(sha256)

    def put(self, data: bytes, *, sync: bool = True) -> StoredBlob:
        """Store bytes held in memory (the hash is known first, so the blob is written next to
        its final name: no temporary file in the root, no rename across directories)."""
        sha = hashlib.sha256(data).hexdigest()
        final = os.path.join(self._root, blob_path(sha))
        blob = StoredBlob(sha256=sha, size=len(data), uri=self.uri_for(sha), path=Path(final))
        if os.path.exists(final):  # content-addressed: the same bytes are already kept
            return blob
        tmp = f"{final}.{os.getpid()}-{threading.get_ident()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(tmp, flags, 0o600)
        except FileNotFoundError:  # the first blob of its hash prefix
            os.makedirs(os.path.dirname(final), exist_ok=True)
            fd = os.open(tmp, flags, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return blob

    def uri_for(self, sha256: str) -> str:
        """Where the blob with this hash is (or will be) kept."""
        return f"{self.base_uri}/{blob_path(sha256)}"

    def sync(self) -> None:
        """Make every blob written with ``sync=False`` durable, in one flush.

        One ``fsync`` per file costs a journal commit each (about 1-2 ms here, the largest cost
        of a batch); a single ``syncfs`` of the store's filesystem after the batch costs one.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
            if syncfs is None or syncfs(fd) != 0:
                os.sync()
        finally:
            os.close(fd)

    def put_stream(self, chunks: Iterable[bytes], *, sync: bool = True) -> StoredBlob:
        """Store a stream of chunks without holding it in memory; returns where it is kept.

        With ``sync=False`` the caller promises to call :meth:`sync` before relying on it.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                if sync:
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return StoredBlob(sha256=sha, size=size, uri=self.uri_for(sha), path=final)
