"""``POST /intake/sms[/{channel}]``: what SMS gateways post, for ``kind: sms`` channels.

Three dialects, chosen per channel by ``gateway``:

* ``json``: the project's JSON ``{"id", "from", "to", "text", "received_at"}``, plus for a part
  of a concatenated SMS either ``"udh": "<hex>"`` or ``"concat": {"ref", "part", "total"}``;
* ``twilio``: form fields ``MessageSid``, ``From``, ``To``, ``Body``, signed in
  ``X-Twilio-Signature`` (base64 HMAC-SHA1 of the URL and the sorted parameters with the auth
  token). Behind a reverse proxy set ``http.public_url`` so the URL we sign is the one Twilio
  called;
* ``kannel``: Kannel/Gammu-style parameters in the query or a form body (``from``, ``to``,
  ``text``, ``id``, ``time``, ``udh`` or ``ref``/``part``/``total``), or Kannel's ``post-url``
  (the text as the body, the rest in ``X-Kannel-*`` headers). Kannel's ``get-url`` works too:
  ``GET /intake/sms/{channel}?from=%p&to=%P&text=%a&id=%I&time=%t&udh=%u&key=<secret>``
  (the one GET that changes state, because that is how Kannel calls).

A message the normalizer rejects (empty, keyword only) is answered 200 ``quarantined``: it is
kept with its reason for a person to look at, and the gateway must not send it again.

Authentication (``auth``): ``hmac`` wants ``X-Aduan-Signature: sha256=<hex HMAC-SHA256 of the
raw body>``; ``header`` wants ``X-Aduan-Secret: <secret>`` (Kannel, which cannot add headers,
may put ``key=<secret>`` in the URL instead). Missing proof answers 401, wrong proof 403.

The request becomes the SMS envelope of ``normalizers.sms`` (the gateway's own fields kept
under ``params``), which is what gets archived and normalized.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request

from ingest.adapters.sms import SmsSettings
from ingest.http.app import Intake, error
from ingest.http.limits import retry_after
from ingest.http.parts import Part
from ingest.webhooks import hmac_sha256_matches
from normalizers.base import RawMessage
from normalizers.sms import envelope_id

SIGNATURE_HEADER = "X-Aduan-Signature"
SECRET_HEADER = "X-Aduan-Secret"  # noqa: S105 - a header name
TWILIO_HEADER = "X-Twilio-Signature"
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_TEXT = 20_000


class Concat(BaseModel):
    """Where a part belongs in a concatenated SMS (from the UDH)."""

    model_config = ConfigDict(extra="forbid")
    ref: Annotated[str | int, Field(description="the message's reference number")]
    part: Annotated[int, Field(ge=1, le=255)]
    total: Annotated[int, Field(ge=1, le=255)]

    @model_validator(mode="after")
    def _part_within_total(self) -> Concat:
        if self.part > self.total:
            raise ValueError("part is larger than total")
        return self


class SmsJson(BaseModel):
    """The project's SMS JSON, as a gateway (or a script around Gammu) posts it."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: Annotated[str | int | None, Field(description="the gateway's message id")] = None
    sender: Annotated[str, Field(alias="from", min_length=1, max_length=64)]
    to: Annotated[str | None, Field(max_length=64)] = None
    text: Annotated[str, Field(max_length=MAX_TEXT)]
    received_at: Annotated[
        str | int | float | None, Field(description="RFC 3339, or seconds since the epoch")
    ] = None
    udh: Annotated[str | None, Field(max_length=64, description="hex user data header")] = None
    concat: Concat | None = None


class SmsAnswer(BaseModel):
    status: Annotated[str, Field(description="published | quarantined | buffered")]
    external_id: str
    id: str | None = Field(default=None, description="the report id (published)")
    reason: str | None = Field(default=None, description="why it was quarantined")
    part: int | None = None
    total: int | None = None


class Parsed(BaseModel):
    envelope: dict[str, Any]
    concat: Concat | None = None


def parse_udh(value: str) -> Concat | None:
    """The concatenation element of a UDH (8- or 16-bit reference), if it has one."""
    try:
        data = bytes.fromhex(value.strip())
    except ValueError:
        data = value.encode("latin-1", errors="replace")  # Kannel's %u: the raw bytes
    if not data:
        return None
    end = min(len(data), 1 + data[0])
    i = 1
    while i + 1 < end:
        iei, length = data[i], data[i + 1]
        body = data[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3 and len(body) == 3:
            return _concat(str(body[0]), body[2], body[1])
        if iei == 0x08 and length == 4 and len(body) == 4:
            return _concat(str(body[0] << 8 | body[1]), body[3], body[2])
        i += 2 + length
    return None


def _concat(ref: str, part: Any, total: Any) -> Concat:
    try:
        return Concat(ref=ref, part=int(part), total=int(total))
    except (ValidationError, ValueError, TypeError):
        raise error(
            422, "multipart SMS: part and total must be numbers 1..255, part at most total"
        ) from None


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """What Twilio puts in X-Twilio-Signature for a POST to ``url`` with form ``params``."""
    data = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )


async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=0, max_fields=100)
    except Exception as exc:  # python-multipart / starlette parse errors
        raise error(400, f"the form body cannot be read: {type(exc).__name__}") from None


def _public_url(request: Request, public: str | None) -> str:
    if not public:
        return str(request.url)
    url = public.rstrip("/") + request.url.path
    return url + (f"?{request.url.query}" if request.url.query else "")


async def check_auth(
    settings: SmsSettings, request: Request, body: bytes, public_url: str | None
) -> None:
    """Raise 401 (no proof), 403 (wrong proof) or 503 (no secret configured)."""
    if settings.auth == "none" and settings.gateway != "twilio":
        return
    if settings.secret is None or not settings.secret.get_secret_value():
        raise error(
            503,
            f"channel {settings.name!r} has no secret: set 'secret' in its entry in channels.yaml "
            "(or auth: none behind a firewall)",
        )
    secret = settings.secret.get_secret_value()
    if settings.gateway == "twilio":
        given = request.headers.get(TWILIO_HEADER)
        if not given:
            raise error(401, f"missing {TWILIO_HEADER}")
        form = await _form(request)
        params = [(k, str(v)) for k, v in form.multi_items()]
        expected = twilio_signature(secret, _public_url(request, public_url), params)
        if not secrets.compare_digest(expected.encode(), given.strip().encode()):
            raise error(403, f"{TWILIO_HEADER} does not match (check the auth token and URL)")
        return
    if settings.auth == "hmac":
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            raise error(401, f"missing {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body>")
        if not hmac_sha256_matches(secret.encode(), body, given, prefix="sha256="):
            raise error(403, f"{SIGNATURE_HEADER} does not match the body")
        return
    given = request.headers.get(SECRET_HEADER)
    if given is None and settings.gateway == "kannel":
        given = request.query_params.get("key")
    if not given:
        raise error(401, f"missing {SECRET_HEADER}")
    if not secrets.compare_digest(given.encode(), secret.encode()):
        raise error(403, f"{SECRET_HEADER} is wrong")


def _parse_json(body: bytes) -> Parsed:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise error(400, "the body is not valid JSON") from None
    if not isinstance(doc, dict):
        raise error(422, "the body must be a JSON object with from and text")
    try:
        sms = SmsJson.model_validate(doc)
    except ValidationError as exc:
        raise error(422, _problems(exc)) from None
    concat = sms.concat or (parse_udh(sms.udh) if sms.udh else None)
    params = {k: v for k, v in doc.items() if k not in {"id", "from", "to", "text", "received_at"}}
    envelope = {
        "id": None if sms.id is None else str(sms.id),
        "from": sms.sender.strip(),
        "to": sms.to,
        "text": sms.text,
        "received_at": sms.received_at,
        "gateway": "json",
        "params": params,
    }
    return Parsed(envelope=envelope, concat=concat)


def _first(params: dict[str, str], *names: str) -> str | None:
    for name in names:
        value = params.get(name)
        if value is not None and value != "":
            return value
    return None


async def _parse_twilio(request: Request) -> Parsed:
    form = await _form(request)
    params = {k: str(v) for k, v in form.items()}
    sender = _first(params, "From")
    if sender is None or "Body" not in params:
        raise error(422, "a Twilio message needs the From and Body fields")
    envelope = {
        "id": _first(params, "MessageSid", "SmsSid", "SmsMessageSid"),
        "from": sender,
        "to": _first(params, "To"),
        "text": params["Body"][:MAX_TEXT],
        "received_at": None,
        "gateway": "twilio",
        "params": params,
    }
    return Parsed(envelope=envelope)


async def _parse_kannel(request: Request, body: bytes) -> Parsed:
    params: dict[str, str] = {k: v for k, v in request.query_params.items() if k != "key"}
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await _form(request)
        params.update({k: str(v) for k, v in form.items() if k != "key"})
    elif body:  # Kannel post-url: the text is the body, the rest comes in X-Kannel-* headers
        try:
            params.setdefault("text", body.decode("utf-8"))
        except UnicodeDecodeError:
            raise error(400, "the body is not UTF-8 text") from None
        for header, name in (
            ("x-kannel-from", "from"),
            ("x-kannel-to", "to"),
            ("x-kannel-time", "time"),
            ("x-kannel-udh", "udh"),
            ("x-kannel-smsc-id", "id"),
        ):
            if header in request.headers:
                params.setdefault(name, request.headers[header])
    sender = _first(params, "from", "sender", "phone", "msisdn")
    text = _first(params, "text", "message", "body", "msg")
    if sender is None:
        raise error(422, "the message needs a sender (from, sender, phone or msisdn)")
    when: str | int | None = _first(params, "time", "timestamp", "received_at")
    if isinstance(when, str) and when.isdigit():
        when = int(when)
    concat = None
    if _first(params, "ref") is not None and _first(params, "part") is not None:
        concat = _concat(params["ref"], params.get("part"), params.get("total"))
    elif _first(params, "udh") is not None:
        concat = parse_udh(params["udh"])
    envelope = {
        "id": _first(params, "id", "msgid", "message_id", "smsc_id"),
        "from": sender,
        "to": _first(params, "to", "receiver"),
        "text": (text or "")[:MAX_TEXT],
        "received_at": when,
        "gateway": "kannel",
        "params": params,
    }
    return Parsed(envelope=envelope, concat=concat)


def envelope_message(envelope: dict[str, Any]) -> RawMessage:
    """The raw message the pipeline archives and normalizes for one SMS envelope."""
    envelope = {**envelope, "id": envelope_id(envelope)}
    return RawMessage(
        payload=json.dumps(envelope, ensure_ascii=False, sort_keys=True, default=str).encode(),
        content_type="application/json",
        external_id=envelope["id"],
        received_at=datetime.now(UTC),
        meta={"source": "http", "gateway": envelope.get("gateway")},
    )


def _answer(settings: SmsSettings, status: int, answer: SmsAnswer) -> Response:
    if settings.gateway == "twilio":  # Twilio reads TwiML; an empty Response sends no reply
        return Response(
            TWIML_EMPTY,
            status_code=status,
            media_type="application/xml",
            headers={"X-Aduan-Status": answer.status},
        )
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=status)


def _result_answer(result: Any, external_id: str) -> SmsAnswer:
    published = list(getattr(result, "published", []) or [])
    if published:
        return SmsAnswer(status="published", external_id=external_id, id=str(published[0].id))
    quarantined = list(getattr(result, "quarantined", []) or [])
    reason = quarantined[0][1].reason if quarantined else None
    return SmsAnswer(status="quarantined", external_id=external_id, reason=reason)


_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SmsJson.model_json_schema(by_alias=True)},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        k: {"type": "string"}
                        for k in ("MessageSid", "From", "To", "Body", "from", "to", "text", "id")
                    },
                }
            },
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SmsAnswer, "description": "published or quarantined (kept)"},
    202: {"model": SmsAnswer, "description": "a part of a multipart SMS, stored"},
    400: {"description": "malformed body"},
    401: {"description": "no signature or secret"},
    403: {"description": "wrong signature or secret"},
    404: {"description": "no such SMS channel"},
    413: {"description": "body too large"},
    422: {"description": "missing or invalid fields"},
    429: {"description": "too many messages from this sender; see Retry-After"},
    503: {"description": "queue did not confirm; retry later"},
}


def sms_router(intake: Intake) -> APIRouter:
    router = APIRouter(tags=["sms"])
    public_url = intake.cfg.http.public_url

    async def receive(request: Request, channel: str | None) -> Response:
        chan = intake.pick("sms", channel)
        assert isinstance(chan, SmsSettings)
        if request.method == "GET" and chan.gateway != "kannel":
            raise error(405, "only gateway: kannel channels take GET (Kannel's get-url); POST")
        body = await request.body()
        if len(body) > chan.max_body_bytes:
            raise error(413, f"request body over the limit of {chan.max_body_bytes} bytes")
        await check_auth(chan, request, body, public_url)
        if chan.gateway == "twilio":
            parsed = await _parse_twilio(request)
        elif chan.gateway == "kannel":
            parsed = await _parse_kannel(request, body)
        else:
            parsed = _parse_json(body)
        envelope = parsed.envelope
        wait = intake.rates.check(
            f"sms\x00{chan.name}\x00{envelope['from']}", chan.rate_limit_per_minute
        )
        if wait is not None:
            raise error(429, "too many messages from this sender; retry later", retry_after(wait))
        # the id before defaulting the time: a redelivery without id or time hashes the same
        ext = envelope_id(envelope)
        envelope["id"] = ext
        if envelope.get("received_at") is None:
            envelope["received_at"] = _now()
        seen = intake.recent.get(chan.name, ext)
        if seen is not None:
            status, answer = seen
            response = _answer(chan, status, answer)
            response.headers["X-Aduan-Duplicate"] = "1"
            return response
        concat = parsed.concat
        if concat is not None and concat.total > 1:
            group = await run_in_threadpool(
                intake.parts.add,
                chan.name,
                Part(envelope["from"], str(concat.ref), concat.part, concat.total, envelope),
            )
            if not group.complete:
                answer = SmsAnswer(
                    status="buffered", external_id=ext, part=concat.part, total=concat.total
                )
                intake.recent.put(chan.name, ext, (202, answer))
                return _answer(chan, 202, answer)
            whole = group.envelope()
            message = envelope_message(whole)
            result = await intake.deliver(chan.name, [message])
            await run_in_threadpool(intake.parts.remove, group)
            answer = _result_answer(result, str(message.external_id))
            intake.recent.put(chan.name, str(message.external_id), (200, answer))
            intake.recent.put(chan.name, ext, (200, answer))
            return _answer(chan, 200, answer)
        message = envelope_message(envelope)
        result = await intake.deliver(chan.name, [message])
        answer = _result_answer(result, ext)
        intake.recent.put(chan.name, ext, (200, answer))
        return _answer(chan, 200, answer)

    @router.post("/intake/sms", openapi_extra=_OPENAPI, responses=_RESPONSES)
    async def intake_sms(request: Request) -> Response:
        """An SMS from the gateway of the only SMS channel."""
        return await receive(request, None)

    @router.post("/intake/sms/{channel}", openapi_extra=_OPENAPI, responses=_RESPONSES)
    async def intake_sms_channel(request: Request, channel: str) -> Response:
        """An SMS from the gateway of the SMS channel ``channel``."""
        return await receive(request, channel)

    @router.get("/intake/sms/{channel}", responses=_RESPONSES)
    async def intake_sms_get(request: Request, channel: str) -> Response:
        """Kannel's ``get-url`` (parameters in the query, ``key`` the secret)."""
        return await receive(request, channel)

    return router
