"""What every normalizer takes and gives.

A normalizer is a pure function ``normalize(raw, ctx) -> list[Outcome]``: one raw payload (an
``.eml``, one API response page, one transcript file…) becomes zero or more outcomes, each either
a ``Normalized`` report or a ``Rejection`` with a reason. Normalizers do no I/O: everything they
need from the outside world (time, the office profile, the raw archive reference, the classifier)
comes in through ``NormalizeContext``; bytes they want kept (attachments) go out as ``blobs`` that
the runtime writes to the content-addressed attachment store before publishing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from normalizers.office import DEFAULT_OFFICE, OfficeProfile
from normalizers.record import Report, mask_niks_in_text


@dataclass(frozen=True)
class RawMessage:
    """One payload as the transport delivered it, before any parsing.

    ``external_id`` is set when the transport knows the source id (an IMAP message's
    Message-ID is *not* known to the transport, so it stays None there; a file drop's SHA-256
    is). ``meta`` carries transport facts a normalizer may use (IMAP INTERNALDATE, a sidecar
    JSON of a call, the folder a file came from); it must be JSON-serialisable because
    quarantined messages keep it.
    """

    payload: bytes
    content_type: str
    external_id: str | None = None
    received_at: datetime | None = None
    filename: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    #: set by an adapter that could not deliver the payload whole (over the size limit, an
    #: unreadable file): the runtime quarantines it with this reason instead of normalizing it.
    transport_error: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


class Classifier(Protocol):
    """Category and severity for a text; loaded by the runtime, called by normalizers."""

    def classify(self, text: str) -> tuple[str | None, str | None]: ...


@dataclass(frozen=True)
class NormalizeContext:
    """Everything from outside that a normalizer may depend on."""

    channel_name: str
    channel_kind: str
    ingested_at: datetime
    raw_uri: str
    raw_sha256: str
    office: OfficeProfile = DEFAULT_OFFICE
    settings: Mapping[str, Any] = field(default_factory=dict)
    attachment_base_uri: str = "file:///var/lib/aduan/attachments"
    classifier: Classifier | None = None

    def attachment_uri(self, sha256: str) -> str:
        """Where the attachment store keeps the bytes with this hash (content-addressed)."""
        return f"{self.attachment_base_uri.rstrip('/')}/{blob_path(sha256)}"


def blob_path(sha256: str) -> str:
    """A blob's place under its store's root: ``ab/abcdef…`` (git's layout).

    One level of 256 folders: deeper sharding made nearly every new blob create a folder,
    which costs more than writing the blob on common filesystems. Older blobs kept under
    ``ab/cd/…`` stay where their records' URIs point.
    """
    return f"{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class Normalized:
    report: Report
    blobs: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """Why a payload (or one item of it) did not become a report. It is quarantined, never lost."""

    reason: str
    external_id: str | None = None


Outcome = Normalized | Rejection
Normalizer = Callable[[RawMessage, NormalizeContext], Sequence[Outcome]]

#: Enrichment hook: fills fields a normalizer left empty from the text (phone, NIK, places, dates,
#: category, severity, due_at). Pure. The default is the shared Indonesian extractors.
Enricher = Callable[[dict[str, Any], NormalizeContext], dict[str, Any]]


def build_report(
    fields: dict[str, Any],
    ctx: NormalizeContext,
    *,
    blobs: Mapping[str, bytes] | None = None,
    enrich: bool = True,
) -> Outcome:
    """Finish a normalizer's draft: enrich, stamp channel/raw/ingested_at, validate.

    A draft that cannot make a valid record becomes a ``Rejection`` naming the fields at fault,
    so one bad item never raises out of a normalizer.
    """
    draft: dict[str, Any] = {
        "channel": {"kind": ctx.channel_kind, "name": ctx.channel_name},
        "ingested_at": ctx.ingested_at,
        "raw": {"uri": ctx.raw_uri, "sha256": ctx.raw_sha256},
        **fields,
    }
    ext = draft.get("external_id")
    text = draft.get("text")
    if not isinstance(text, str) or not text.strip():
        return Rejection("empty text: nothing left to report after cleaning", ext)
    if enrich:
        # imported here: enrich pulls in the extractors, which import this module
        from normalizers.enrich import enrich as _enrich

        draft = _enrich(draft, ctx)
    try:
        return Normalized(Report.model_validate(draft), dict(blobs or {}))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
            for err in exc.errors()
        )
        return Rejection(mask_niks_in_text(f"invalid record: {problems}"), ext)
