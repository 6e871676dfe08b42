"""The report record, version 1: the contract in ``shared/contracts/report-record.md``.

This model is the single source of truth in code. ``schema/report.v1.json`` is generated from it
(``python -m normalizers.record > schema/report.v1.json``) and a test fails when they differ, so
downstream consumers can rely on the committed schema.

Validation here is a last line of defence, not the place where extraction happens: normalizers
are expected to hand over E.164 phones and masked NIKs already, but the record refuses anything
that would break the contract (a naive datetime, an unmasked 16-digit NIK in ``text``, an id that
does not match ``channel.name`` and ``external_id``).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

#: Fixed namespace for report ids. Changing it would change every id ever issued: never do it.
REPORT_NAMESPACE = uuid.UUID("5c0f3a52-6c1e-5d0b-9a8e-3d5f2a1b7c40")

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_NIK_MASKED = re.compile(r"^\d{4}\*{8}\d{4}$")
# Sixteen digits standing alone (optionally grouped by spaces, dots or dashes in fours) are
# treated as a NIK for masking purposes: privacy errs on the side of masking.
_NIK_IN_TEXT = re.compile(r"(?<![\d*])(\d{4})([ .-]?)(\d{4})\2(\d{4})\2(\d{4})(?![\d*])")


class ChannelKind(StrEnum):
    """The media a report can come from (contract: ``channel.kind``)."""

    EMAIL = "email"
    TWITTER = "twitter"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TRANSCRIPT = "transcript"
    FORM = "form"
    SMS = "sms"
    WEB = "web"
    WHATSAPP = "whatsapp"
    CSV = "csv"


class Severity(StrEnum):
    """SP4N-LAPOR! weight of a complaint."""

    RINGAN = "ringan"
    SEDANG = "sedang"
    BERAT = "berat"


def report_id(channel_name: str, external_id: str) -> uuid.UUID:
    """The deterministic id of a report: the idempotency key in the queue and the store."""
    if type(channel_name) is str and type(external_id) is str:
        return _report_id(channel_name, external_id)
    # a str subclass may format itself differently from its value: never from the cache
    return uuid.uuid5(REPORT_NAMESPACE, f"{channel_name}:{external_id}")


_NAMESPACE_BYTES = REPORT_NAMESPACE.bytes
#: RFC 4122 variant and version 5 bits, as ``uuid.UUID(bytes=…, version=5)`` sets them
_V5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V5_SET = (0x8000 << 48) | (5 << 76)


def _report_id_int(channel_name: str, external_id: str) -> int:
    """``report_id(...).int`` without building a UUID: the same SHA-1 of the namespace and
    name and the same bits ``uuid.uuid5`` sets, for checking an id a record already carries
    (the store does it for every report it reads; building the UUID was most of the cost)."""
    name = f"{channel_name}:{external_id}"
    digest = hashlib.sha1(_NAMESPACE_BYTES + bytes(name, "utf-8")).digest()  # noqa: S324
    return (int.from_bytes(digest[:16], "big") & _V5_CLEAR) | _V5_SET


@lru_cache(maxsize=256)
def _report_id(channel_name: str, external_id: str) -> uuid.UUID:
    """Cached because a validation asks twice in a row (``_derive_id``, then ``_check_id``).

    The id is a pure function of the two strings and a UUID is immutable; a small bound
    suffices since each report's pair is asked for only while it is being validated.
    """
    return uuid.uuid5(REPORT_NAMESPACE, f"{channel_name}:{external_id}")


def mask_nik(nik: str) -> str:
    """Mask a 16-digit NIK: first 4 and last 4 digits kept, the 8 between replaced by ``*``."""
    digits = re.sub(r"\D", "", nik)
    if len(digits) != 16:
        raise ValueError("a NIK has exactly 16 digits")
    return f"{digits[:4]}{'*' * 8}{digits[-4:]}"


_ASCII_DIGITS = b"0123456789"
_NON_ASCII_BYTES = bytes(range(0x80, 0x100))


def may_hold_digits(text: str, wanted: int) -> bool:
    """False only when ``text`` holds fewer than ``wanted`` digits as ``re`` sees them (``\\d``).

    A pattern that needs that many digits (a NIK, a phone) cannot match then, and asking this
    costs a fraction of a microsecond where a regex scan costs several: ``re`` tries a pattern
    that opens with a look-behind at every position of the text, while ``bytes.translate`` runs
    in C at memory speed. ``\\d`` is any Unicode decimal digit, so every non-ASCII character
    counts as a possible digit: the answer is an upper bound, never an undercount.
    """
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_DIGITS)) >= wanted
    ascii_part = text.encode("utf-8", "surrogatepass").translate(None, _NON_ASCII_BYTES)
    digits = len(ascii_part) - len(ascii_part.translate(None, _ASCII_DIGITS))
    return digits + len(text) - len(ascii_part) >= wanted


def mask_niks_in_text(text: str) -> str:
    """Mask every 16-digit run in ``text`` (grouped or not) as the contract's NIK rule says."""
    if not may_hold_digits(text, 16):
        return text  # the common case: scanning for nothing costs ~8 us a message
    return _NIK_IN_TEXT.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(5)}", text)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone (naive datetimes are ambiguous)")
    return value.astimezone(UTC)


#: In UTC, as RFC 3339 with "Z" (``2026-11-03T01:15:00Z``, microseconds when there are some):
#: pydantic-core writes a UTC datetime exactly so, without a Python call per field (a test
#: holds it to ``isoformat`` with "Z"). The published schema keeps saying "string", as it did
#: when a Python serializer wrote these.
UtcDatetime = Annotated[
    datetime,
    AfterValidator(_utc),
    WithJsonSchema({"type": "string"}, mode="serialization"),
]


def _e164(value: str | None) -> str | None:
    if value is not None and not _E164.match(value):
        raise ValueError("phone must be in E.164 form, e.g. +6281234567890")
    return value


def _nik_masked(value: str | None) -> str | None:
    if value is not None and not _NIK_MASKED.match(value):
        raise ValueError("nik_masked must be 4 digits, 8 '*', 4 digits (use mask_nik())")
    return value


def _lower(value: str | None) -> str | None:
    return value.strip().lower() if value is not None else None


_BLANKS = re.compile(r"[ \t\u00a0]+")
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def _clean_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    # Each substitution runs only when it could change something (the text of an enriched
    # draft is usually clean already, and a regex pass costs microseconds): without a tab, a
    # no-break space or two spaces in a row, _BLANKS only puts " " for " "; without a space
    # beside a line break, _LINE_EDGES only puts "\n" for "\n".
    if "\t" in value or "\u00a0" in value or "  " in value:
        value = _BLANKS.sub(" ", value)
    if " \n" in value or "\n " in value:
        value = _LINE_EDGES.sub("\n", value)
    if "\n\n\n" in value:
        value = _BLANK_LINES.sub("\n\n", value)
    value = value.strip()
    if not value:
        raise ValueError("text is empty after cleaning: reject the message instead")
    return mask_niks_in_text(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(_Strict):
    kind: ChannelKind
    name: Annotated[str, Field(min_length=1)]


class Reporter(_Strict):
    name: str | None = None
    email: Annotated[str | None, AfterValidator(_lower)] = None
    phone: Annotated[str | None, AfterValidator(_e164)] = None
    handle: str | None = None
    address: str | None = None
    nik_masked: Annotated[str | None, AfterValidator(_nik_masked)] = None


class Location(_Strict):
    text: str | None = None
    village: str | None = None
    district: str | None = None
    regency: str | None = None
    province: str | None = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None


class Attachment(_Strict):
    filename: str
    content_type: str
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    uri: str


class RawRef(_Strict):
    uri: str
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Report(_Strict):
    """One complaint, as every channel produces it after normalization."""

    schema_version: Literal["1"] = "1"
    id: uuid.UUID = Field(
        default=None,  # type: ignore[assignment]  # filled in by the validator below
        description='UUIDv5 of "{channel.name}:{external_id}" under the project namespace',
    )
    channel: Channel
    external_id: Annotated[str, Field(min_length=1)]
    received_at: UtcDatetime
    ingested_at: UtcDatetime
    reporter: Reporter = Field(default_factory=Reporter)
    subject: str | None = None
    text: Annotated[str, AfterValidator(_clean_text)]
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2}$")] = None
    location: Location = Field(default_factory=Location)
    occurred_at: UtcDatetime | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    category: str | None = None
    severity: Severity | None = None
    due_at: UtcDatetime | None = None
    in_reply_to: str | None = None
    signature_present: bool | None = None
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    raw: RawRef

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") is None:
            channel = data.get("channel")
            name = (
                channel.get("name") if isinstance(channel, dict) else getattr(channel, "name", None)
            )
            ext = data.get("external_id")
            if isinstance(name, str) and isinstance(ext, str):
                data = {**data, "id": report_id(name, ext)}
        return data

    @model_validator(mode="after")
    def _check_id(self) -> Report:
        if self.id.int == _report_id_int(self.channel.name, self.external_id):
            return self
        expected = report_id(self.channel.name, self.external_id)
        if self.id != expected:
            raise ValueError(
                f"id {self.id} does not match channel.name and external_id (expected {expected})"
            )
        return self

    def to_json(self) -> str:
        """The wire form: what the queue carries and ``aduan normalize`` prints."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> Report:
        return cls.model_validate_json(data)


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of the record (what consumers validate against)."""
    schema = Report.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/aduan/aduan/schema/report.v1.json"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover - regeneration helper
    import sys

    sys.stdout.write(json_schema_text())
