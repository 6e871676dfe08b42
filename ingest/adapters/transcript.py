"""``kind: transcript``: call-center transcripts dropped into a folder, one file per call.

The transport is the generic watch folder (``ingest.adapters.folder``); this module only says
which files are transcripts and where call metadata comes from: a sidecar ``<name>.json`` or a
row of a CSV call log (``call_log``) matched by file name or call id. Parsing is the
normalizer's job (``normalizers.transcript``).

Example ``channels.yaml`` entry::

    - name: callcenter
      kind: transcript
      path: /srv/callcenter/transcripts
      complete_when: marker        # the dialer writes call-0001.vtt.done when finished
      call_log: /srv/callcenter/calls.csv
      agent_channel: ch_0          # Amazon Transcribe channel identification
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from ingest.adapter import Adapter, AdapterContext
from ingest.adapters.folder import CsvIndex, FolderAdapter, FolderSettings, read_dropped_files
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import RawMessage
from normalizers.transcript import normalize

TRANSCRIPT_SUFFIXES = [".vtt", ".srt", ".json", ".txt", ".csv"]
_CONTENT_TYPES = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".txt": "text/plain",
    ".csv": "text/csv",
}
#: call-log columns that can name the transcript file of a row
CALL_LOG_KEYS = ("file", "filename", "file_name", "transcript", "call_id", "callid", "id",
                 "id_panggilan", "contact_id")  # fmt: skip


class TranscriptSettings(FolderSettings, ChannelSettings):
    kind: Literal["transcript"] = "transcript"
    suffixes: list[str] = Field(default_factory=lambda: list(TRANSCRIPT_SUFFIXES))
    call_log: Annotated[
        Path | None,
        Field(description="CSV of calls (call_id/file, start, caller number, agent, duration)"),
    ] = None
    agent_channel: str = Field(default="ch_0", description="Transcribe channel of the agent")
    caller_channel: str = Field(default="ch_1", description="Transcribe channel of the caller")
    agent_labels: list[str] = Field(
        default_factory=list, description="extra speaker labels that mean the agent"
    )
    caller_labels: list[str] = Field(
        default_factory=list, description="extra speaker labels that mean the caller"
    )


def _content_type(rel: Path) -> str:
    return _CONTENT_TYPES.get(rel.suffix.lower(), "text/plain")


def _as_settings(settings: ChannelSettings | TranscriptSettings) -> TranscriptSettings:
    if isinstance(settings, TranscriptSettings):
        return settings
    return TranscriptSettings.model_validate(settings.model_dump())


def make_folder_adapter(settings: TranscriptSettings, ctx: AdapterContext) -> FolderAdapter:
    call_log = ctx.resolve(settings.call_log) if settings.call_log else None
    return FolderAdapter(
        settings,
        ctx,
        content_type=_content_type,
        sidecar_suffixes=(".json",),
        meta_lookup=CsvIndex(call_log, CALL_LOG_KEYS) if call_log else None,
        exclude=[call_log] if call_log else [],
    )


def make_adapter(settings: ChannelSettings, ctx: AdapterContext) -> Adapter:
    return make_folder_adapter(_as_settings(settings), ctx)


def read_files(path: Path, settings: ChannelSettings) -> Iterator[RawMessage]:
    """Transcripts under ``path`` for ``aduan import``."""
    return read_dropped_files(path, _as_settings(settings), make_folder_adapter, settings.name)


PLUGIN = ChannelPlugin(
    kind="transcript",
    settings=TranscriptSettings,
    normalize=normalize,
    adapter=make_adapter,
    read_files=read_files,
)

__all__ = [
    "PLUGIN",
    "TranscriptSettings",
    "make_adapter",
    "make_folder_adapter",
    "read_files",
]
