"""The one small interface every channel adapter implements.

An adapter is a stream in the Singer/Airbyte sense: it knows its transport's paging and what its
bookmark (checkpoint) looks like, and nothing else. ``fetch(state)`` returns a batch of raw
messages and the state *after* that batch. The runtime publishes the batch and saves the new
state only once the queue confirmed every message, so the bookmark never runs ahead of what is
safely on the queue. ``commit`` is the adapter's chance to do server-side bookkeeping (mark an
email ``\\Seen``, move a file to ``processed/``) strictly after that point.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ingest.attachments import AttachmentStore
from normalizers.base import RawMessage
from normalizers.office import OfficeProfile

#: A checkpoint: JSON-serialisable, opaque to everyone but its adapter.
State = Mapping[str, Any]


@dataclass(frozen=True)
class Batch:
    """What one ``fetch`` produced.

    ``more`` tells the runtime to fetch again at once (another page of the same sweep) instead of
    sleeping until the next poll.
    """

    messages: Sequence[RawMessage]
    state: State
    more: bool = False


class ChannelUnhealthy(Exception):
    """The channel cannot go on without a person (revoked token, 401/403, over budget).

    The runtime stops polling that channel, keeps the others running, and shows the message:
    it must say what to do.
    """


class Adapter(Protocol):
    def fetch(self, state: State | None) -> Batch:
        """Fetch the next batch after ``state`` (None: the channel has never run)."""
        ...

    def commit(self, batch: Batch) -> None:
        """Called after the batch is confirmed by the queue and its state is saved."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class AdapterContext:
    """What the runtime gives an adapter when it builds one."""

    channel_name: str
    data_dir: Path
    office: OfficeProfile
    #: the folder of channels.yaml: relative paths in a channel's settings are resolved against it
    base_dir: Path = field(default_factory=Path.cwd)
    #: set when the runtime is shutting down: an adapter that blocks (IMAP IDLE, waiting for a
    #: file to settle) must wake up within a second or so and return what it has.
    stop: threading.Event = field(default_factory=threading.Event)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def attachments(self) -> AttachmentStore:
        """The content-addressed store where adapters that download media put the bytes."""
        return AttachmentStore(self.data_dir / "attachments")

    def resolve(self, path: str | Path) -> Path:
        """A settings path, relative to channels.yaml's folder unless absolute."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()


class BaseAdapter:
    """Convenience base: no-op ``commit`` and ``close``."""

    def commit(self, batch: Batch) -> None:
        del batch

    def close(self) -> None:
        return None
