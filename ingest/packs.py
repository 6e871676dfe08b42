"""Raw payloads of a batch archived together, in one zip file (a "pack").

Why: on common filesystems creating a file costs more than writing its bytes (about 0.5 ms of
system time each on the reference VM, and the create waits behind other processes' journal
commits), and a mailbox batch is hundreds of small messages. One file per batch chunk instead
of one per message took about a quarter of the normalizer workers' time off the email run.

A pack is an ordinary zip (members stored, not compressed: payloads are read back rarely and
compressing them would cost more CPU than the files themselves) whose members are named by
their SHA-256, so ``unzip`` opens it. Each payload's URI is a jar URL, the usual way to name a
member of a zip::

    jar:file:///var/lib/aduan/raw/packs/ab/<pack>.zip!/<sha256>

A pack's name is the SHA-256 of its members' hashes, in order: the same chunk fetched again (a
batch redone after a crash) names the same pack, which is then kept, not written twice. Like
the blob store, a pack is written beside its final name and renamed into place, so a crash
never leaves a half-written pack under that name; durability comes from the pipeline's one
flush per batch (``AttachmentStore.sync``), before anything is published.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from normalizers.base import blob_path

#: zip's earliest date: members carry no time, so the same payloads make the same pack bytes
_EPOCH = (1980, 1, 1, 0, 0, 0)


def pack_name(sha256s: Sequence[str]) -> str:
    """The name of the pack that holds these payloads (their hashes, in order, duplicates once)."""
    return hashlib.sha256("\n".join(dict.fromkeys(sha256s)).encode("ascii")).hexdigest()


class PackStore:
    """Packs of raw payloads under ``root/ab/<name>.zip``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = os.fspath(root)
        self._base_uri = root.resolve().as_uri()

    def path_for(self, name: str) -> Path:
        return self.root / f"{blob_path(name)}.zip"

    def uri_for(self, name: str, sha256: str) -> str:
        """Where the payload with this hash is (or will be) kept, inside pack ``name``."""
        return f"jar:{self._base_uri}/{blob_path(name)}.zip!/{sha256}"

    def write(self, name: str, payloads: Iterable[bytes]) -> Path:
        """Write the pack (unless it exists: same name, same members); no fsync here."""
        final = os.path.join(self._root, f"{blob_path(name)}.zip")
        if os.path.exists(final):
            return Path(final)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        tmp = f"{final}.{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as pack:
                seen: set[str] = set()
                for data in payloads:
                    sha = hashlib.sha256(data).hexdigest()
                    if sha in seen:
                        continue
                    seen.add(sha)
                    member = zipfile.ZipInfo(sha, _EPOCH)
                    member.external_attr = 0o600 << 16
                    pack.writestr(member, data)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return Path(final)


def read_archived(uri: str) -> bytes:
    """The bytes an archive URI names: a ``file:`` blob or a ``jar:file:…!/member`` of a pack.

    Raises ValueError for any other kind of URI, FileNotFoundError / KeyError when the file or
    the member is not there.
    """
    if uri.startswith("jar:"):
        outer, sep, member = uri[4:].partition("!/")
        if not sep or not member:
            raise ValueError(f"not a jar URL of a pack member: {uri!r}")
        with zipfile.ZipFile(_file_path(outer, uri)) as pack:
            return pack.read(unquote(member))
    return _file_path(uri, uri).read_bytes()


def _file_path(uri: str, whole: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"cannot read an archived payload from {whole!r}: not a file URI")
    return Path(unquote(parsed.path))
