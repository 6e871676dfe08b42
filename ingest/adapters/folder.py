"""A watch folder: the transport of every channel whose source drops one file per item.

Call-center transcripts and scanned complaint forms both arrive this way, so the mechanics live
here once and a channel only says which files are its own (``suffixes``) and what sits beside
them (``sidecar_suffixes``, a ``meta_lookup`` such as a CSV call log).

Guarantees:

* **Only complete files are read.** ``complete_when: stable`` takes a file once its size and
  mtime have not changed for ``settle_seconds`` (and re-checks both after reading, so a write
  that lands during the read defers the file); ``complete_when: marker`` waits for
  ``<name>.done``. A scanner or a speech-to-text job that writes slowly is never read half-way.
* **Each file once.** The checkpoint maps a file's relative path to its SHA-256 (with size and
  mtime, so an unchanged file is not re-hashed every poll). A file is fetched again until its
  batch is committed; the external id is the SHA-256, so a re-fetch after a crash is idempotent
  downstream. A file whose content changes under the same name is a new item.
* **Bounded state.** Entries whose file is gone (moved to ``processed/``, deleted) are pruned
  on the next fetch; with ``after: keep`` the state holds exactly the files in the folder.
* **Files move only after the queue confirmed.** ``commit`` moves a file (with its sidecar and
  marker) to ``processed/``, and only if its bytes are still the ones published. If the process
  died between saving the state and moving, the next fetch finishes the move.
* **Unreadable files are quarantined, not retried forever**: moved to ``quarantine/`` with a
  ``<name>.reason.txt``, and yielded with ``transport_error`` so the runtime's quarantine
  records them too.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ingest.adapter import AdapterContext, BaseAdapter, Batch, State
from normalizers.base import RawMessage
from normalizers.office import DEFAULT_OFFICE

log = logging.getLogger(__name__)

PROCESSED = "processed"
QUARANTINE = "quarantine"
MARKER_SUFFIX = ".done"
REASON_SUFFIX = ".reason.txt"
STATE_VERSION = 1

#: Metadata for one file from somewhere other than a sidecar (e.g. a CSV call log row).
MetaLookup = Callable[[Path], Mapping[str, Any] | None]


class FolderSettings(BaseModel):
    """The watch-folder fields of a channel's entry in ``channels.yaml``.

    A mixin: a file-drop kind declares ``class MySettings(FolderSettings, ChannelSettings)`` and
    may override the default ``suffixes``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[Path, Field(description="the folder the source drops files into")]
    suffixes: Annotated[
        list[str], Field(description="file name endings taken, e.g. ['.vtt', '.srt']")
    ] = Field(default_factory=list)
    pattern: Annotated[
        str | None, Field(description="optional glob on the relative path, e.g. 'cc-*/*.vtt'")
    ] = None
    recursive: bool = True
    complete_when: Literal["stable", "marker"] = "stable"
    settle_seconds: Annotated[float, Field(ge=0)] = 5.0
    after: Literal["move", "keep"] = "move"
    batch_size: Annotated[int, Field(gt=0, le=10_000)] = 50
    max_bytes: Annotated[
        int, Field(gt=0, description="larger files are quarantined, not loaded into memory")
    ] = 64 * 1024 * 1024


class FileTooLarge(OSError):
    """A file over ``max_bytes``: treated like an unreadable one (quarantined with the reason)."""


@dataclass(frozen=True)
class _Seen:
    sha256: str
    size: int
    mtime_ns: int

    def as_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns}

    @classmethod
    def from_json(cls, value: Any) -> _Seen | None:
        if isinstance(value, str):  # tolerate a bare "path -> sha256" map
            return cls(value, -1, -1)
        if isinstance(value, Mapping) and isinstance(value.get("sha256"), str):
            return cls(value["sha256"], int(value.get("size", -1)), int(value.get("mtime_ns", -1)))
        return None


def _load_seen(state: State | None) -> dict[str, _Seen]:
    files = (state or {}).get("files") or {}
    seen: dict[str, _Seen] = {}
    if isinstance(files, Mapping):
        for rel, value in files.items():
            entry = _Seen.from_json(value)
            if entry is not None:
                seen[str(rel)] = entry
    return seen


def _dump_seen(seen: Mapping[str, _Seen]) -> dict[str, Any]:
    return {"version": STATE_VERSION, "files": {k: v.as_json() for k, v in sorted(seen.items())}}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unique_target(target: Path, sha256: str) -> Path:
    """``target``, or a name with the hash in it when another file already has that name."""
    if not target.exists():
        return target
    return target.with_name(f"{target.stem}.{sha256[:12]}{target.suffix}")


class CsvIndex:
    """Rows of a CSV file (a call log, a scan log) keyed by file name, stem and id columns.

    A row matches a file when one of ``key_columns`` holds the file's relative path, its name or
    its stem (``call-0001.vtt`` matches a ``call_id`` of ``call-0001``). The file is re-read
    when it changes, so a log the switch appends to is picked up without a restart.
    """

    def __init__(self, path: Path, key_columns: Sequence[str]) -> None:
        self.path = path
        self.key_columns = [c.lower() for c in key_columns]
        self._stamp: tuple[int, int] | None = None
        self._rows: dict[str, dict[str, str]] = {}

    def _reload(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._rows, self._stamp = {}, None
            return
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        rows: dict[str, dict[str, str]] = {}
        with self.path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            sample = fh.read(4096)
            fh.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            for row in csv.DictReader(fh, dialect=dialect):
                clean = {str(k).strip(): (v or "").strip() for k, v in row.items() if k}
                for column, value in clean.items():
                    if column.lower() in self.key_columns and value:
                        rows.setdefault(value, clean)
                        rows.setdefault(Path(value).stem, clean)
        self._rows, self._stamp = rows, stamp

    def __call__(self, rel: Path) -> Mapping[str, Any] | None:
        self._reload()
        for key in (rel.as_posix(), rel.name, rel.stem, rel.name.split(".", 1)[0]):
            if key in self._rows:
                return self._rows[key]
        return None


class FolderAdapter(BaseAdapter):
    """Polls one folder; see the module docstring for the guarantees."""

    def __init__(
        self,
        settings: FolderSettings,
        ctx: AdapterContext,
        *,
        suffixes: Sequence[str] | None = None,
        content_type: Callable[[Path], str] | str = "application/octet-stream",
        sidecar_suffixes: Sequence[str] = (".json",),
        meta_lookup: MetaLookup | None = None,
        exclude: Sequence[Path] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.ctx = ctx
        self.root = ctx.resolve(settings.path)  # relative to channels.yaml
        self.suffixes = tuple(s.lower() for s in (suffixes or settings.suffixes))
        if not self.suffixes and not settings.pattern:
            raise ValueError(
                f"channel {ctx.channel_name!r}: set `suffixes` or `pattern` for the watch folder"
            )
        self._content_type = content_type
        self.sidecar_suffixes = tuple(sidecar_suffixes)
        self.meta_lookup = meta_lookup
        self.exclude = {p.resolve() for p in exclude}
        self.clock = clock

    # -- listing -------------------------------------------------------------------------------

    def _own(self, rel: Path) -> bool:
        name = rel.name.lower()
        if name.startswith(".") or name.endswith((MARKER_SUFFIX, REASON_SUFFIX, ".tmp", ".part")):
            return False
        if self.suffixes and not name.endswith(self.suffixes):
            return False
        return not (
            self.settings.pattern and not fnmatch.fnmatch(rel.as_posix(), self.settings.pattern)
        )

    def _walk(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        stack = [self.root]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    top = folder == self.root and entry.name in (PROCESSED, QUARANTINE)
                    if self.settings.recursive and not top and not entry.name.startswith("."):
                        stack.append(path)
                    continue
                yield path.relative_to(self.root)

    def sidecars(self, rel: Path) -> list[Path]:
        """Sidecar files of ``rel`` (``call.json`` or ``call.vtt.json`` beside ``call.vtt``)."""
        out: list[Path] = []
        for suffix in self.sidecar_suffixes:
            for candidate in (rel.with_name(rel.name + suffix), rel.with_suffix(suffix)):
                if candidate != rel and (self.root / candidate).is_file() and candidate not in out:
                    out.append(candidate)
        return out

    def marker(self, rel: Path) -> Path | None:
        for candidate in (rel.with_name(rel.name + MARKER_SUFFIX), rel.with_suffix(MARKER_SUFFIX)):
            if (self.root / candidate).exists():
                return candidate
        return None

    def candidates(self) -> list[Path]:
        """Files of this channel in the folder, oldest first, sidecars of others left out."""
        rels = [
            r
            for r in self._walk()
            if self._own(r) and (self.root / r).resolve() not in self.exclude
        ]
        names = set(rels)
        # "call.json" beside "call.vtt" is the call's sidecar, not an item of its own
        stems = {(r.parent, r.stem) for r in rels if r.suffix not in self.sidecar_suffixes}
        own = [
            rel
            for rel in rels
            if rel.suffix not in self.sidecar_suffixes
            or ((rel.parent, rel.stem) not in stems and rel.with_suffix("") not in names)
        ]

        def age(rel: Path) -> tuple[int, str]:
            try:
                return (os.lstat(self.root / rel).st_mtime_ns, rel.as_posix())
            except OSError:
                return (0, rel.as_posix())

        return sorted(own, key=age)

    # -- completeness --------------------------------------------------------------------------

    def _settled(self, path: Path) -> bool:
        st = path.stat()
        return self.clock() - st.st_mtime_ns / 1e9 >= self.settings.settle_seconds

    def complete(self, rel: Path) -> bool:
        """True when the writer is done with ``rel`` (and with its sidecars)."""
        if self.settings.complete_when == "marker":
            return self.marker(rel) is not None
        if not self._settled(self.root / rel):
            return False
        return all(self._settled(self.root / s) for s in self.sidecars(rel))

    # -- reading -------------------------------------------------------------------------------

    def content_type(self, rel: Path) -> str:
        ct = self._content_type
        return ct(rel) if callable(ct) else ct

    def meta(self, rel: Path) -> dict[str, Any]:
        """Sidecar JSON of ``rel``, else its row in the lookup (call log), else empty."""
        for sidecar in self.sidecars(rel):
            try:
                value = json.loads((self.root / sidecar).read_text(encoding="utf-8-sig"))
            except (OSError, ValueError):
                continue
            if isinstance(value, dict):
                return value
        if self.meta_lookup is not None:
            row = self.meta_lookup(rel)
            if row is not None:
                return dict(row)
        return {}

    def read(self, rel: Path) -> tuple[RawMessage, _Seen] | None:
        """The file as a raw message, or None if it changed while being read (try later)."""
        path = self.root / rel
        before = path.stat()
        if before.st_size > self.settings.max_bytes:
            raise FileTooLarge(
                f"{before.st_size} bytes is over max_bytes ({self.settings.max_bytes}); raise "
                "max_bytes in channels.yaml if such files are expected"
            )
        payload = path.read_bytes()
        after = path.stat()
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
            payload
        ) != after.st_size:
            return None
        sha = hashlib.sha256(payload).hexdigest()
        raw = RawMessage(
            payload=payload,
            content_type=self.content_type(rel),
            external_id=sha,
            received_at=datetime.fromtimestamp(after.st_mtime_ns / 1e9, UTC),
            filename=rel.as_posix(),
            meta=self.meta(rel),
        )
        return raw, _Seen(sha, after.st_size, after.st_mtime_ns)

    def quarantine(self, rel: Path, reason: str) -> RawMessage:
        """Move an unreadable file aside with a reason file; the message tells the runtime."""
        qdir = self.root / QUARANTINE / rel.parent
        qdir.mkdir(parents=True, exist_ok=True)
        source = self.root / rel
        moved_to = qdir / rel.name
        try:
            if source.exists() or source.is_symlink():
                moved_to = _unique_target(moved_to, hashlib.sha256(reason.encode()).hexdigest())
                shutil.move(str(source), str(moved_to))
        except OSError as exc:
            reason = f"{reason}; could not move it to {QUARANTINE}/ either: {exc}"
        log.warning("quarantined %s: %s", rel, reason)
        (qdir / (moved_to.name + REASON_SUFFIX)).write_text(
            f"{rel.as_posix()}: {reason}\n"
            "Fix the file (permissions, a broken link) and drop it into the folder again.\n",
            encoding="utf-8",
        )
        return RawMessage(
            payload=b"",
            content_type=self.content_type(rel),
            external_id=None,
            received_at=datetime.now(UTC),
            filename=rel.as_posix(),
            meta={"folder": str(self.root), "quarantined_to": str(moved_to)},
            transport_error=f"unreadable file {rel.as_posix()}: {reason}",
        )

    # -- the Adapter interface -----------------------------------------------------------------

    def fetch(self, state: State | None) -> Batch:
        seen = _load_seen(state)
        messages: list[RawMessage] = []
        present: set[str] = set()
        more = False
        for rel in self.candidates():
            key = rel.as_posix()
            present.add(key)
            if more or self.ctx.stop.is_set():
                continue  # batch full or stopping: only remember what is still here
            path = self.root / rel
            done = seen.get(key)
            try:
                st = path.stat()
                if done is not None and (done.size, done.mtime_ns) == (st.st_size, st.st_mtime_ns):
                    self._finish_if_moving(rel, done.sha256)
                    continue
                if not self.complete(rel):
                    continue
                if len(messages) >= self.settings.batch_size:
                    more = True
                    continue
                got = self.read(rel)
            except OSError as exc:  # permission denied, vanished, a broken link
                messages.append(self.quarantine(rel, f"{type(exc).__name__}: {exc}"))
                present.discard(key)
                continue
            if got is None:
                continue  # changed while being read: still being written
            raw, entry = got
            seen[key] = entry
            if done is not None and done.sha256 == entry.sha256:
                self._finish_if_moving(rel, entry.sha256)  # touched, not changed: published
                continue
            messages.append(raw)
        # prune: files no longer in the folder need no memory (bounded state)
        kept = {k: v for k, v in seen.items() if k in present}
        if self.ctx.stop.is_set():
            more = False
        return Batch(messages=messages, state=_dump_seen(kept), more=more)

    def _finish_if_moving(self, rel: Path, sha256: str) -> None:
        """A file the state calls done but that is still here: its commit did not run."""
        if self.settings.after != "move":
            return
        try:
            self._move_done(rel, sha256)
        except OSError as exc:  # already published: never quarantine it for a failed move
            log.warning("could not move %s to %s/: %s", rel, PROCESSED, exc)

    def _move_done(self, rel: Path, sha256: str) -> None:
        source = self.root / rel
        try:
            if _sha256_file(source) != sha256:
                return  # replaced since it was published: it will be fetched as a new file
        except OSError:
            return
        target_dir = self.root / PROCESSED / rel.parent
        target_dir.mkdir(parents=True, exist_ok=True)
        target = _unique_target(target_dir / rel.name, sha256)
        extras = [*self.sidecars(rel)]
        mark = self.marker(rel)
        if mark is not None:
            extras.append(mark)
        os.replace(source, target)
        for extra in extras:
            extra_target = _unique_target(target_dir / extra.name, sha256)
            try:
                os.replace(self.root / extra, extra_target)
            except FileNotFoundError:
                continue

    def commit(self, batch: Batch) -> None:
        """After the queue confirmed and the state was saved: move the files to processed/."""
        if self.settings.after != "move":
            return
        for raw in batch.messages:
            if raw.transport_error or raw.filename is None or raw.external_id is None:
                continue
            if (self.root / raw.filename).exists():
                self._move_done(Path(raw.filename), raw.external_id)

    def read_all(self) -> Iterator[RawMessage]:
        """Every file of the folder as it is now, for ``aduan import`` (no state, no moving)."""
        for rel in self.candidates():
            try:
                got = self.read(rel)
            except OSError as exc:
                yield RawMessage(
                    payload=b"",
                    content_type=self.content_type(rel),
                    filename=rel.as_posix(),
                    transport_error=f"unreadable file {rel.as_posix()}: {exc}",
                )
                continue
            if got is not None:
                yield got[0]


_S = TypeVar("_S", bound=FolderSettings)


def read_dropped_files(
    path: Path, conf: _S, build: Callable[[_S, AdapterContext], FolderAdapter], channel_name: str
) -> Iterator[RawMessage]:
    """Files under ``path`` (a folder or one file) for ``aduan import``: no state kept.

    Shared by every watch-folder kind so that a backfill reads files exactly as polling does.
    """
    folder = path if path.is_dir() else path.parent
    local = conf.model_copy(
        update={"path": folder, "pattern": None if path.is_dir() else path.name}
    )
    ctx = AdapterContext(channel_name=channel_name, data_dir=folder, office=DEFAULT_OFFICE)
    yield from build(local, ctx).read_all()
