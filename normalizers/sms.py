"""``kind: sms``: one SMS (whole, or reassembled from its parts) -> one report.

The payload is the project's SMS envelope, a JSON object the HTTP intake writes for every
gateway format it understands (so Twilio form fields and Kannel parameters are archived the
same way, the gateway's own fields kept under ``params``)::

    {"id": "gateway message id", "from": "+6281234567890", "to": "1708",
     "text": "LAPOR jalan rusak", "received_at": "2026-11-23T09:00:00+07:00",
     "gateway": "json", "total": 3, "missing": [2], "parts": [...], "params": {...}}

Only ``from`` and ``text`` are required. Decisions worth knowing:

* Keywords. Offices advertise "ketik LAPOR <isi>"; citizens write ``LAPOR isi``, ``lapor: isi``,
  ``LAPOR#KODE isi``, ``LAPOR#KODE#isi`` or ``LAPORKODE isi``. The keyword (and a code) is
  stripped from ``text``. A code glued to the keyword (``LAPORJALAN``) is only recognised when it
  is one of the channel's ``codes`` or an office category: otherwise ``Laporan saya…`` would
  lose its first word. A code maps to a category through ``codes`` (code -> category) or by
  naming an office category. A message without a keyword is a report too, unless the channel
  sets ``require_keyword``.
* An empty or keyword-only message is rejected with the reason (it is quarantined, not lost).
* The sender becomes ``reporter.phone`` in E.164: Indonesian numbers through the shared
  extractor; foreign numbers through ``phonenumbers``; an alphanumeric sender stays unknown.
* A multipart SMS that was flushed incomplete (some parts never arrived) carries ``missing``:
  its text shows ``[…]`` where parts are missing and ``confidence`` is the share of parts
  received, so staff see at a glance that the message is not whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import phonenumbers

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report
from normalizers.extract.phone import normalize_phone

__all__ = ["DEFAULT_KEYWORDS", "KeywordMatch", "envelope_id", "normalize", "parse_keyword"]

DEFAULT_KEYWORDS = ("LAPOR",)
_SEPARATORS = " \t\r\n#:;,.-_/*"


class KeywordMatch:
    """What the front of an SMS says: keyword, code, and the complaint after them."""

    __slots__ = ("code", "keyword", "text")

    def __init__(self, keyword: str | None, code: str | None, text: str) -> None:
        self.keyword = keyword
        self.code = code
        self.text = text

    def __repr__(self) -> str:
        return f"KeywordMatch({self.keyword!r}, {self.code!r}, {self.text!r})"


def parse_keyword(
    text: str, keywords: Sequence[str] = DEFAULT_KEYWORDS, codes: Sequence[str] = ()
) -> KeywordMatch:
    """Split ``LAPOR[#]KODE isi`` into its parts (any case); no keyword: the text as it is."""
    stripped = text.strip()
    upper = stripped.upper()
    known_codes = {c.upper() for c in codes}
    for keyword in sorted(
        {k.strip().upper() for k in keywords if k.strip()}, key=len, reverse=True
    ):
        if not upper.startswith(keyword):
            continue
        rest = stripped[len(keyword) :]
        if not rest or rest[0] in _SEPARATORS:
            code: str | None = None
            after = rest.lstrip(" \t\r\n:;,.-_/*")
            if after.startswith("#"):  # LAPOR#KODE isi / LAPOR # KODE # isi
                m = re.match(r"#\s*([A-Za-z0-9]+)", after)
                if m:
                    code = m.group(1).upper()
                    after = after[m.end() :]
            return KeywordMatch(keyword, code, after.lstrip(_SEPARATORS))
        m = re.match(r"([A-Za-z0-9]+)", rest)
        if m and m.group(1).upper() in known_codes:  # LAPORJALAN isi
            after = rest[m.end() :]
            if not after or after[0] in _SEPARATORS:
                return KeywordMatch(keyword, m.group(1).upper(), after.lstrip(_SEPARATORS))
    return KeywordMatch(None, None, stripped)


def envelope_id(doc: Mapping[str, Any]) -> str:
    """The gateway's message id; a hash of sender, recipient, time and text when it sent none."""
    given = doc.get("id")
    if isinstance(given, str | int) and str(given).strip():
        return str(given).strip()
    basis = json.dumps(
        [doc.get("from"), doc.get("to"), doc.get("received_at"), doc.get("text")],
        ensure_ascii=False,
        default=str,
    )
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


def sender_phone(sender: str, region: str = "ID") -> str | None:
    """E.164 of the sender, or None for an alphanumeric sender id or an invalid number."""
    phone = normalize_phone(sender)
    if phone is not None:
        return phone
    if not re.fullmatch(r"\+?[\d\s().-]{6,20}", sender.strip()):
        return None
    try:
        number = phonenumbers.parse(sender.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    formatted: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def _received(value: Any, ctx: NormalizeContext) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, ctx.office.tz)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ctx.office.tz)  # a gateway's local time is the office's
    return parsed


def _category(code: str | None, ctx: NormalizeContext) -> str | None:
    if code is None:
        return None
    codes = {str(k).upper(): v for k, v in (ctx.settings.get("codes") or {}).items()}
    names = {c.name.upper(): c.name for c in ctx.office.categories}
    mapped = codes.get(code)
    if isinstance(mapped, str) and mapped.upper() in names:
        return names[mapped.upper()]
    return names.get(code)


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One SMS envelope -> one report, or a rejection saying why not."""
    try:
        doc = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Rejection(f"not an SMS envelope: the payload is not JSON ({exc})", raw.external_id)]
    if not isinstance(doc, dict):
        return [Rejection("not an SMS envelope: expected a JSON object", raw.external_id)]
    ext = envelope_id(doc)
    sender = doc.get("from")
    if not isinstance(sender, str) or not sender.strip():
        return [Rejection("SMS without a sender ('from')", ext)]
    text = doc.get("text")
    if not isinstance(text, str) or not text.strip():
        return [Rejection("empty SMS: there is no complaint text", ext)]
    keywords = ctx.settings.get("keywords") or DEFAULT_KEYWORDS
    codes = [str(c) for c in (ctx.settings.get("codes") or {})]
    codes += [c.name for c in ctx.office.categories]
    match = parse_keyword(text, keywords, codes)
    if match.keyword is None and ctx.settings.get("require_keyword"):
        return [
            Rejection(
                f"SMS without the keyword ({', '.join(keywords)}): this channel only accepts "
                "messages that start with it",
                ext,
            )
        ]
    if not match.text.strip():
        return [Rejection(f"keyword only ({match.keyword}): the SMS has no complaint text", ext)]
    received = _received(doc.get("received_at"), ctx) or raw.received_at or ctx.ingested_at
    confidence = 1.0
    total, missing = doc.get("total"), doc.get("missing")
    if isinstance(total, int) and total > 0 and isinstance(missing, list) and missing:
        confidence = max(0.0, min(1.0, (total - len(missing)) / total))
    # the recipient (1708 or the office's number) stays in the archived envelope only
    fields: dict[str, Any] = {
        "external_id": ext,
        "received_at": received,
        "text": match.text,
        "reporter": {"phone": sender_phone(sender, str(ctx.settings.get("region") or "ID"))},
        "category": _category(match.code, ctx),
        "confidence": confidence,
    }
    return [build_report(fields, ctx)]
