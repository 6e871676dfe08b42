"""The waiting room of multipart SMS parts, on disk.

Some gateways post the parts of a concatenated SMS (UDH reference, part number, total) one by
one. A part is answered 202 once it is written here (fsynced, atomically renamed), *before* the
whole message is on the queue: answering 503 until every part arrived would make the gateway
retry the early parts for as long as the last one is late, and some gateways give up after a
few tries. So "nothing accepted is lost" means, for a part:

* it is on disk before it is acknowledged, and the directory survives a restart (the buffer has
  no memory of its own: the files are the state);
* when all parts are there, the whole message is submitted and the parts are deleted only after
  the queue confirmed it; if the queue is down the parts stay and the next delivery of any part,
  or the sweeper, tries again;
* when the other parts never come (``part_timeout``), or too many messages are waiting
  (``max_pending_parts``, oldest first), what arrived is published anyway: the text shows
  ``[…]`` where parts are missing and the envelope lists them (``missing``), so a person sees it.

A part that arrives after its message was published alone starts a new group (a second, partial
report): rare, visible, and better than a silent drop.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MISSING_MARK = "[…]"


@dataclass(frozen=True)
class Part:
    sender: str
    ref: str
    number: int
    total: int
    envelope: dict[str, Any]


@dataclass(frozen=True)
class Group:
    channel: str
    key: str
    total: int
    parts: list[dict[str, Any]]  # the stored part records, by part number
    first_at: float

    @property
    def numbers(self) -> list[int]:
        return [int(p["number"]) for p in self.parts]

    @property
    def complete(self) -> bool:
        return set(self.numbers) >= set(range(1, self.total + 1))

    def envelope(self) -> dict[str, Any]:
        """The whole message (or what arrived of it) as one SMS envelope."""
        by_number = {int(p["number"]): p["envelope"] for p in self.parts}
        missing = [n for n in range(1, self.total + 1) if n not in by_number]
        present = [by_number[n] for n in sorted(by_number)]
        first = present[0]
        text = "".join(
            str(by_number[n].get("text") or "") if n in by_number else MISSING_MARK
            for n in range(1, self.total + 1)
        )
        envelope: dict[str, Any] = {
            # the first part's id names the message, whatever order the parts came in
            "id": first.get("id"),
            "from": first.get("from"),
            "to": first.get("to"),
            "text": text,
            "received_at": first.get("received_at"),
            "gateway": first.get("gateway"),
            "total": self.total,
            "parts": [
                {
                    "part": n,
                    "id": by_number[n].get("id"),
                    "received_at": by_number[n].get("received_at"),
                    "params": by_number[n].get("params"),
                }
                for n in sorted(by_number)
            ],
        }
        if missing:
            envelope["missing"] = missing
        return envelope


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PartBuffer:
    """Parts by channel and message, one JSON file per part under ``root``."""

    def __init__(self, root: Path, clock: Any = time.time) -> None:
        self.root = root
        self._clock = clock
        self._lock = threading.Lock()

    @staticmethod
    def group_key(sender: str, ref: str, total: int) -> str:
        return hashlib.sha256(f"{sender}\x00{ref}\x00{total}".encode()).hexdigest()[:32]

    def add(self, channel: str, part: Part) -> Group:
        """Store one part durably; returns its group as it now stands."""
        key = self.group_key(part.sender, part.ref, part.total)
        folder = self.root / channel / key
        record = {
            "number": part.number,
            "total": part.total,
            "ref": part.ref,
            "sender": part.sender,
            "buffered_at": self._clock(),
            "envelope": part.envelope,
        }
        with self._lock:
            fresh = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{part.number:03d}.json"
            if not target.exists():  # a duplicate part keeps the first copy (and its time)
                tmp = folder / f".{part.number:03d}.tmp"
                with tmp.open("w", encoding="utf-8") as fh:
                    json.dump(record, fh, ensure_ascii=False)
                    fh.flush()
                    os.fsync(fh.fileno())
                tmp.replace(target)
                _fsync_dir(folder)
                if fresh:
                    _fsync_dir(folder.parent)
            group = self._read(channel, folder)
        assert group is not None
        return group

    def _read(self, channel: str, folder: Path) -> Group | None:
        parts: list[dict[str, Any]] = []
        for path in sorted(folder.glob("[0-9]*.json")):
            try:
                parts.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a torn write never got renamed into place; ignore leftovers
        if not parts:
            return None
        return Group(
            channel=channel,
            key=folder.name,
            total=int(parts[0]["total"]),
            parts=parts,
            first_at=min(float(p["buffered_at"]) for p in parts),
        )

    def groups(self, channel: str | None = None) -> Iterator[Group]:
        """Every waiting group (of one channel), oldest first."""
        with self._lock:
            found: list[Group] = []
            if not self.root.is_dir():
                return iter(())
            for chan_dir in sorted(self.root.iterdir()):
                if not chan_dir.is_dir() or (channel is not None and chan_dir.name != channel):
                    continue
                for folder in chan_dir.iterdir():
                    if folder.is_dir():
                        group = self._read(chan_dir.name, folder)
                        if group is not None:
                            found.append(group)
        return iter(sorted(found, key=lambda g: g.first_at))

    def remove(self, group: Group) -> None:
        """Forget a group: only after its message was confirmed by the queue."""
        with self._lock:
            shutil.rmtree(self.root / group.channel / group.key, ignore_errors=True)

    def due(self, timeout_of: Any, max_of: Any) -> list[Group]:
        """Groups to publish incomplete: waited longer than their channel's timeout, or beyond
        the channel's bound on waiting messages (oldest first)."""
        now = self._clock()
        due: list[Group] = []
        by_channel: dict[str, list[Group]] = {}
        for group in self.groups():
            by_channel.setdefault(group.channel, []).append(group)
        for channel, groups in by_channel.items():
            timeout = float(timeout_of(channel))
            bound = int(max_of(channel))
            overflow = max(0, len(groups) - bound)
            for i, group in enumerate(groups):
                if i < overflow or now - group.first_at >= timeout:
                    due.append(group)
        return due
