"""``kind: web``: a complaint typed by staff (walk-ins, letters) or sent by a public web form.

The payload is the envelope the HTTP intake writes after checking the request (so what is
archived is exactly what was accepted, with any NIK already masked)::

    {"id": "idempotency key or content hash", "received_at": "…", "name": "…", "email": "…",
     "phone": "…", "address": "…", "nik_masked": "3201********0001", "subject": "…",
     "text": "…", "location": "…", "occurred_at": "…", "category": "…",
     "attachments": [{"filename": "…", "content_type": "image/jpeg", "data": "<base64>"}]}

The attachments travel inside the envelope (base64) rather than beside it, so the archived raw
payload alone is enough to replay a quarantined complaint. A typed field always wins over what
the shared enrichment would guess from the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report
from normalizers.extract.phone import normalize_phone
from normalizers.record import mask_nik

__all__ = ["normalize"]


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _when(value: Any, ctx: NormalizeContext) -> datetime | None:
    text = _str(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=ctx.office.tz)


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One web-intake envelope -> one report (attachments as blobs), or a rejection."""
    try:
        doc = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Rejection(f"not a web-intake envelope: the payload is not JSON ({exc})")]
    if not isinstance(doc, dict):
        return [Rejection("not a web-intake envelope: expected a JSON object")]
    ext = _str(doc.get("id")) or raw.external_id
    if ext is None:
        return [Rejection("web-intake envelope without an id")]
    text = _str(doc.get("text"))
    if text is None:
        return [Rejection("empty complaint: the text field is empty", ext)]
    nik = _str(doc.get("nik_masked"))
    if nik is not None and "*" not in nik:
        try:
            nik = mask_nik(nik)  # never trust an unmasked NIK to stay unmasked
        except ValueError:
            return [Rejection("NIK must have 16 digits", ext)]
    phone_typed = _str(doc.get("phone"))
    phone = normalize_phone(phone_typed) if phone_typed else None
    if phone_typed and phone is None and phone_typed.startswith("+"):
        phone = phone_typed if phone_typed[1:].isdigit() else None
    blobs: dict[str, bytes] = {}
    attachments: list[dict[str, Any]] = []
    for i, item in enumerate(doc.get("attachments") or []):
        if not isinstance(item, dict) or not isinstance(item.get("data"), str):
            return [Rejection(f"attachment {i + 1} has no data", ext)]
        try:
            data = base64.b64decode(item["data"], validate=True)
        except (binascii.Error, ValueError):
            return [Rejection(f"attachment {i + 1}: data is not valid base64", ext)]
        sha = hashlib.sha256(data).hexdigest()
        blobs[sha] = data
        attachments.append(
            {
                "filename": _str(item.get("filename")) or f"lampiran-{i + 1}",
                "content_type": _str(item.get("content_type")) or "application/octet-stream",
                "size": len(data),
                "sha256": sha,
                "uri": ctx.attachment_uri(sha),
            }
        )
    fields: dict[str, Any] = {
        "external_id": ext,
        "received_at": _when(doc.get("received_at"), ctx) or raw.received_at or ctx.ingested_at,
        "text": text,
        "subject": _str(doc.get("subject")),
        "reporter": {
            "name": _str(doc.get("name")),
            "email": _str(doc.get("email")),
            "phone": phone,
            "address": _str(doc.get("address")),
            "nik_masked": nik,
        },
        "location": {"text": _str(doc.get("location"))},
        "occurred_at": _when(doc.get("occurred_at"), ctx),
        "category": _str(doc.get("category")),
        "attachments": attachments,
    }
    return [build_report(fields, ctx, blobs=blobs)]
