"""Channel kinds are plugins, found through the ``aduan.channels`` entry point group.

A third party adds a channel by installing a package that declares, in its own pyproject::

    [project.entry-points."aduan.channels"]
    whatsapp = "aduan_whatsapp:PLUGIN"

where ``PLUGIN`` is a :class:`ChannelPlugin`. Nothing is registered at import time (no module
state): :func:`load_plugins` reads the entry points each time it is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ingest.adapter import Adapter, AdapterContext
from normalizers.base import Normalizer, RawMessage

ENTRY_POINT_GROUP = "aduan.channels"


class ChannelSettings(BaseModel):
    """The fields every channel has in ``channels.yaml``; a kind subclasses it with its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    kind: str
    enabled: bool = True
    poll_interval: Annotated[float, Field(gt=0, description="seconds between polls")] = 300.0
    jitter: Annotated[float, Field(ge=0, le=1, description="fraction of the interval")] = 0.1


AdapterFactory = Callable[[ChannelSettings, AdapterContext], Adapter]
#: Reads local files (an mbox, a Maildir, a CSV book) into raw messages for `aduan import`.
FileReader = Callable[[Path, ChannelSettings], Iterator[RawMessage]]
#: Hands pushed messages to the pipeline; returns once the queue confirmed them (or raises).
Submit = Callable[[Sequence[RawMessage]], Any]
#: Builds the HTTP routes (a FastAPI APIRouter) of a channel that can be pushed to.
WebhookFactory = Callable[[ChannelSettings, Submit], Any]


@dataclass(frozen=True)
class ChannelPlugin:
    """A channel kind: its settings model, its pure normalizer and (if it polls) its adapter.

    A push-only kind (SMS and web intake arrive over HTTP) has ``adapter = None``.
    """

    kind: str
    settings: type[ChannelSettings]
    normalize: Normalizer
    adapter: AdapterFactory | None = None
    #: for `aduan import --channel NAME PATH` (backfill from local files)
    read_files: FileReader | None = None
    #: for channels pushed to over HTTP (mounted by `aduan serve`)
    webhook: WebhookFactory | None = None
    #: normalization is CPU-heavy (OCR): the runtime runs it in a process pool over all cores
    cpu_bound: bool = False
    #: ``fetch`` has no side effects and pages by its state alone (an IMAP UID, a row count):
    #: the runtime may fetch the next page while the current one is processed
    prefetch: bool = False


class UnknownKind(LookupError):
    pass


def _load(ep_name: str, ep_value: str, loader: Callable[[], object]) -> ChannelPlugin:
    try:
        plugin = loader()
    except ImportError as exc:
        raise ImportError(f"channel kind {ep_name!r} ({ep_value}) failed to import: {exc}") from exc
    if not isinstance(plugin, ChannelPlugin):
        raise TypeError(f"entry point {ep_name!r} ({ep_value}) is not a ChannelPlugin")
    return plugin


def available_kinds() -> list[str]:
    """Names of the installed channel kinds, without importing them."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_plugins() -> Mapping[str, ChannelPlugin]:
    """All installed channel kinds, by kind. A broken plugin fails loudly, naming its package."""
    return {
        ep.name: _load(ep.name, ep.value, ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)
    }


def get_plugin(kind: str, plugins: Mapping[str, ChannelPlugin] | None = None) -> ChannelPlugin:
    """The plugin of one kind; only that kind's module is imported."""
    if plugins is not None:
        if kind in plugins:
            return plugins[kind]
        known = ", ".join(sorted(plugins)) or "none installed"
        raise UnknownKind(f"unknown channel kind {kind!r} (known: {known})")
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        return _load(ep.name, ep.value, ep.load)
    known = ", ".join(available_kinds()) or "none installed"
    raise UnknownKind(f"unknown channel kind {kind!r} (known: {known})")
