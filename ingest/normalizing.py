"""Running a channel's normalizer safely, inside or outside the pipeline.

Kept apart from ``ingest.pipeline`` so that the offline ``aduan normalize`` needs neither a queue
nor a store.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ingest.attachments import AttachmentStore
from ingest.config import AppConfig
from ingest.packs import PackStore
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import (
    Classifier,
    NormalizeContext,
    Normalized,
    Outcome,
    RawMessage,
    Rejection,
)
from normalizers.record import Report, mask_niks_in_text
from sinks.envelope import Envelope

log = logging.getLogger("aduan.normalize")


def settings_dict(settings: ChannelSettings) -> dict[str, Any]:
    """A channel's settings as normalizers see them: secrets left out, never handed on."""
    return {
        k: v
        for k, v in settings.model_dump(mode="json").items()
        if not (isinstance(v, str) and v == "**********")
    }


def normalize_safely(
    plugin: ChannelPlugin, raw: RawMessage, ctx: NormalizeContext
) -> list[Outcome]:
    """Run a normalizer; a crash becomes a Rejection so one bad payload never stalls a channel."""
    try:
        return list(plugin.normalize(raw, ctx))
    except Exception as exc:  # a normalizer bug must not lose the message
        where = traceback.extract_tb(exc.__traceback__)[-1]
        reason = (
            f"normalizer error: {type(exc).__name__}: {exc} "
            f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}; please report this)"
        )
        return [Rejection(mask_niks_in_text(reason), raw.external_id)]


@dataclass(frozen=True)
class Archive:
    """Where a chunk's raw payloads and attachment bytes go (written without fsync: the
    pipeline makes them durable with one flush before it publishes anything)."""

    raw: AttachmentStore
    attachments: AttachmentStore
    packs: PackStore | None = None
    #: the pack that holds the chunk's payloads (their contexts name it); None: one blob each
    pack: str | None = None


@dataclass(frozen=True, slots=True)
class Sealed:
    """A report ready for the queue, as ``normalize_chunk`` hands it to the pipeline.

    From a pool worker only the envelope travels back (``report`` is None): pickling the
    report's tree of models, unpickling it and serializing it again in the fetching process
    cost about three times what the worker spends serializing it once. Normalized in the
    fetching process, the report is kept too, so nothing is decoded again to be shown.
    """

    envelope: Envelope
    #: the report names attachments (their bytes are written: flush before publishing)
    has_attachments: bool
    report: Report | None = None

    @classmethod
    def of(cls, report: Report, *, keep: bool = True) -> Sealed:
        return cls(Envelope.of(report), bool(report.attachments), report if keep else None)

    def decoded(self) -> Report:
        return self.report if self.report is not None else self.envelope.report()


#: what ``normalize_chunk`` makes of one message's outcomes
ChunkOutcome = Normalized | Sealed | Rejection


def normalize_chunk(
    plugin: ChannelPlugin,
    jobs: list[tuple[RawMessage, NormalizeContext]],
    archive: Archive | None = None,
    *,
    keep_reports: bool = True,
) -> list[list[ChunkOutcome]]:
    """Normalize several messages; a module-level function so a process pool can run it.

    With ``archive``, each raw payload is archived first (under the URI its context already
    names), each report's attachment bytes are written and each report is sealed for the queue
    (``Sealed``; without the report itself unless ``keep_reports``): done in the worker, writing
    and serializing cost no time in the process that fetches, and the bytes do not travel back
    through a pipe.
    """
    results: list[list[ChunkOutcome]] = []
    if archive is not None and archive.pack is not None and archive.packs is not None:
        archive.packs.write(archive.pack, (raw.payload for raw, _ in jobs))
    for raw, ctx in jobs:
        if archive is not None and archive.pack is None:
            archive.raw.put(raw.payload, sync=False)
        outcomes: list[ChunkOutcome] = list(normalize_safely(plugin, raw, ctx))
        if archive is not None:
            for i, outcome in enumerate(outcomes):
                if isinstance(outcome, Normalized):
                    for data in outcome.blobs.values():
                        archive.attachments.put(data, sync=False)
                    outcomes[i] = Sealed.of(outcome.report, keep=keep_reports)
        results.append(outcomes)
    return results


def load_classifier(cfg: AppConfig) -> Classifier | None:
    """The office's category classifier, if the extractors are installed and can load one."""
    try:
        from ingest.classifier import load_classifier as _load
    except ImportError:
        return None
    try:
        loaded: Classifier | None = _load(cfg.office, cfg.data_dir / "models")
    except Exception as exc:  # a broken model must not stop intake: keyword rules still apply
        log.error("classifier could not be loaded, keyword rules only: %s", exc)
        return None
    return loaded


def offline_context(cfg: AppConfig, settings: ChannelSettings, raw: RawMessage) -> NormalizeContext:
    """A context for normalizing outside the pipeline (no queue, no archive)."""
    base = NormalizeContext(
        channel_name=settings.name,
        channel_kind=settings.kind,
        ingested_at=datetime.now(UTC),
        raw_uri=f"file://{raw.filename or 'stdin'}",
        raw_sha256=raw.sha256,
        office=cfg.office,
        settings=settings_dict(settings),
        attachment_base_uri=(cfg.data_dir / "attachments").resolve().as_uri(),
    )
    return replace(base, classifier=load_classifier(cfg))
