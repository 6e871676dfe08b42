"""Shared enrichment of a normalizer's draft from its text (issue 3).

``build_report`` calls ``enrich`` on every draft. It fills only what the normalizer left empty
(a field the source itself carried always wins): the reporter's phone, e-mail and masked NIK,
the place, the incident time, the language, category and severity, and the SLA deadline; and it
masks NIKs in ``text``. Pure (no I/O; the gazetteer and holiday tables are read-only package
data loaded once) and total: an odd draft is returned with what could be filled, never an
exception, because a failed enrichment must not cost the complaint itself.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from normalizers.base import NormalizeContext
from normalizers.extract.classify import rule_category, severity_of
from normalizers.extract.dates import find_occurred_at
from normalizers.extract.emails import first_email
from normalizers.extract.language import detect_language
from normalizers.extract.nik import find_niks, mask_niks
from normalizers.extract.phone import first_phone
from normalizers.extract.places import find_place
from normalizers.extract.sla import due_at
from normalizers.record import mask_nik, mask_niks_in_text

__all__ = ["enrich"]

log = logging.getLogger(__name__)

_LOCATION_FIELDS = ("village", "district", "regency", "province")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _section(draft: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The nested dict ``draft[name]`` (created when missing); None when it is not a dict."""
    value = draft.get(name)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return None  # a model instance or garbage: leave it to validation
    value = dict(value)
    draft[name] = value
    return value


def _aware(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None:
        return value
    return None


def enrich(draft: dict[str, Any], ctx: NormalizeContext) -> dict[str, Any]:
    """Return ``draft`` with fields extracted from its text where the normalizer left them empty."""
    text = draft.get("text")
    if not isinstance(text, str) or not text.strip():
        return draft
    draft = dict(draft)
    steps = (_contact, _place, _when, _language, _category, _deadline)
    for step in steps:
        try:
            step(draft, ctx)
        except Exception as exc:  # enrichment must never cost the complaint
            log.warning(
                "enrichment step %s failed for %s: %s",
                step.__name__.strip("_"),
                draft.get("external_id"),
                mask_niks_in_text(str(exc)),
            )
    return draft


def _contact(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    del ctx
    text: str = draft["text"]
    niks = find_niks(text)
    draft["text"] = mask_niks(text)
    reporter = _section(draft, "reporter")
    if reporter is None:
        return
    if _empty(reporter.get("nik_masked")):
        if niks:
            reporter["nik_masked"] = mask_nik(niks[0])
    else:
        # a normalizer that handed over a raw NIK: mask it rather than reject the report
        raw = str(reporter["nik_masked"])
        digits = "".join(c for c in raw if c.isdigit())
        if len(digits) == 16:
            reporter["nik_masked"] = mask_nik(digits)
    if _empty(reporter.get("phone")):
        phone = first_phone(text)
        if phone is not None:
            reporter["phone"] = phone
    if _empty(reporter.get("email")):
        email = first_email(text)
        if email is not None:
            reporter["email"] = email


def _place(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    location = _section(draft, "location")
    if location is None or not all(_empty(location.get(f)) for f in _LOCATION_FIELDS):
        return
    region = ctx.office.region
    place = None
    written = location.get("text")
    if isinstance(written, str) and written.strip():
        # the source's own place phrase (a Graph place, a form's "Lokasi:") is the best clue
        place = find_place(written, region.province, region.regency)
    if place is None:
        place = find_place(draft["text"], region.province, region.regency)
    if place is None:
        return
    for field in _LOCATION_FIELDS:
        value = getattr(place, field)
        if value is not None:
            location[field] = value
    if _empty(location.get("text")):
        location["text"] = place.text


def _when(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    if not _empty(draft.get("occurred_at")):
        return
    received = _aware(draft.get("received_at"))
    if received is None:
        return
    found = find_occurred_at(draft["text"], received, ctx.office.tz)
    if found is not None:
        draft["occurred_at"] = found


def _language(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    del ctx
    if _empty(draft.get("language")):
        code = detect_language(draft["text"])
        if code is not None:
            draft["language"] = code


def _category(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    if not _empty(draft.get("category")) and not _empty(draft.get("severity")):
        return
    text: str = draft["text"]
    subject = draft.get("subject")
    if isinstance(subject, str) and subject.strip():
        text = f"{subject}\n{text}"
    category: str | None = None
    severity: str | None = None
    ruled = rule_category(text, ctx.office.categories)
    if ruled is not None:
        category, severity = ruled
    if ctx.classifier is not None and (category is None or severity is None):
        guessed, guessed_severity = ctx.classifier.classify(text)
        names = {c.name for c in ctx.office.categories}
        if category is None and guessed is not None and (not names or guessed in names):
            category = guessed
        if severity is None:
            if category is not None and category != guessed:
                severity = severity_of(text, category)
            else:
                severity = guessed_severity
    if severity is None and category is not None:
        severity = severity_of(text, category)
    if _empty(draft.get("category")) and category is not None:
        draft["category"] = category
    if _empty(draft.get("severity")) and severity is not None:
        draft["severity"] = severity


def _deadline(draft: dict[str, Any], ctx: NormalizeContext) -> None:
    if not _empty(draft.get("due_at")):
        return
    received = _aware(draft.get("received_at"))
    if received is None:
        return
    severity = draft.get("severity")
    deadline = due_at(received, ctx.office.sla, ctx.office.tz, str(severity) if severity else None)
    if deadline is not None:
        draft["due_at"] = deadline
