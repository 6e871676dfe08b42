"""Real-time mode of the Facebook page and Instagram channels: the Graph webhook endpoint.

Facebook first verifies the callback with ``GET ?hub.mode=subscribe&hub.verify_token=…&
hub.challenge=…`` (we echo the challenge when the token matches), then POSTs change
notifications signed with ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body keyed by
the app secret>``. Only a body whose signature matches is accepted; it is handed over whole, as
received, as one raw message (``meta.source = "webhook"``), and goes through the same normalizer
as polled pages. Webhook and polling name an item by the same Graph object id, so an item seen
both ways gets one report id and is stored once.

We answer 200 only after ``submit`` returned, i.e. after the queue confirmed the message; if it
raises we answer 503 and Facebook delivers the batch again later.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool

from ingest.attachments import AttachmentStore
from ingest.registry import ChannelSettings, Submit
from ingest.webhooks import hmac_sha256_matches
from normalizers.base import RawMessage
from normalizers.facebook import media_wanted

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def _secret(value: Any) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value() or None
    return value if isinstance(value, str) and value else None


def _with_media(raw: RawMessage, settings: ChannelSettings, store: AttachmentStore) -> RawMessage:
    """Download the media of a delivery's report-worthy items, as the polling adapter does."""
    import requests

    from ingest.adapters.facebook import download_media  # here: that module imports this one

    plain = settings.model_dump(mode="json")
    refs = media_wanted(raw, plain, settings.kind)
    if not refs:
        return raw
    with requests.Session() as session:
        media = download_media(
            session,
            refs,
            store,
            max_bytes=int(getattr(settings, "max_media_bytes", 25 * 1024 * 1024)),
            timeout=float(getattr(settings, "timeout", 30.0)),
        )
    if not media:
        return raw
    return RawMessage(raw.payload, raw.content_type, meta={**raw.meta, "media": media})


def webhook_router(
    settings: ChannelSettings, submit: Submit, *, attachments: AttachmentStore | None = None
) -> APIRouter:
    """The routes of one channel: ``GET`` (verification) and ``POST`` (notifications).

    With ``attachments`` (the runtime's attachment store) the photos of pushed items are
    downloaded before the delivery is submitted, so a report first seen by the webhook carries
    them just like a polled one. Without it such reports list no attachments (the media URLs
    stay in the archived raw payload).
    """
    app_secret = _secret(getattr(settings, "app_secret", None))
    verify_token = _secret(getattr(settings, "verify_token", None))
    owner = getattr(settings, "page_id", None) or getattr(settings, "ig_user_id", None)
    name = settings.name
    router = APIRouter()
    not_configured = (
        f"webhook of channel {name!r} is not configured: set app_secret and verify_token in "
        "its entry in channels.yaml (the app secret from the Meta app dashboard, the verify "
        "token you type in the app's webhook settings)"
    )

    async def verify(request: Request) -> Response:
        params = request.query_params
        if verify_token is None or app_secret is None:
            return Response(not_configured, status_code=503, media_type="text/plain")
        token = params.get("hub.verify_token", "")
        if params.get("hub.mode") != "subscribe" or not secrets.compare_digest(
            token.encode(), verify_token.encode()
        ):
            return Response("verify token mismatch", status_code=403, media_type="text/plain")
        return Response(params.get("hub.challenge", ""), media_type="text/plain")

    async def notify(request: Request) -> Response:
        if app_secret is None:
            return Response(not_configured, status_code=503, media_type="text/plain")
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER)
        if header is None:
            return Response(f"missing {SIGNATURE_HEADER}", status_code=401, media_type="text/plain")
        if not hmac_sha256_matches(app_secret.encode(), body, header, prefix="sha256="):
            log.warning("%s: webhook POST with a bad signature refused", name)
            return Response("signature mismatch", status_code=403, media_type="text/plain")
        try:
            doc = json.loads(body)
        except ValueError:
            return Response("body is not JSON", status_code=400, media_type="text/plain")
        if not isinstance(doc, dict) or "entry" not in doc:
            return Response("not a Graph webhook payload", status_code=400)
        meta: dict[str, Any] = {"source": "webhook", "object": doc.get("object")}
        if owner:
            meta["page_id"] = owner
        raw = RawMessage(body, "application/json", meta=meta)
        if attachments is not None and getattr(settings, "download_media", True):
            raw = await run_in_threadpool(_with_media, raw, settings, attachments)
        try:
            await run_in_threadpool(submit, [raw])
        except Exception:
            log.exception("%s: webhook delivery not queued; Facebook will retry", name)
            return Response("queue unavailable, retry later", status_code=503)
        return Response("EVENT_RECEIVED", media_type="text/plain")

    for path in ("", "/"):
        router.add_api_route(path, verify, methods=["GET"], include_in_schema=path == "")
        router.add_api_route(path, notify, methods=["POST"], include_in_schema=path == "")
    return router
