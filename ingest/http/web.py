"""``POST /intake/web[/{channel}]`` and the walk-in form page, for ``kind: web`` channels.

A complaint typed by staff (a walk-in, a letter) or sent by a public web form: JSON
(``application/json``) or a form (``multipart/form-data`` with attachments, or
``application/x-www-form-urlencoded``). The request is checked here, so the person typing gets
a clear 4xx at once, and then becomes the envelope of ``normalizers.web``. Before anything is
archived or logged, a typed NIK is masked (only ``nik_masked`` is kept) and NIKs written inside
the free-text fields are masked too.

Idempotency: the ``Idempotency-Key`` header, else the ``id`` field, becomes ``external_id``;
without either, a hash of the typed content (and the attachments' hashes) does, so a double
click stores one report. A client that may legitimately send the same text twice (a public form
used by many people) should send a key.

The form page (``GET /intake/web/form``) is for staff at the front desk: it has no CSRF token,
because it is meant to be reachable only from the office network (or behind the reverse proxy's
login). Set ``api_key`` on the channel to make every submission prove itself; the page then asks
for it ("Kunci akses"). Do not expose the page to the public internet without one of those.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from ingest.adapters.web import WebSettings
from ingest.http.app import Intake, error
from ingest.http.limits import retry_after
from normalizers.base import RawMessage
from normalizers.extract.nik import mask_niks
from normalizers.record import mask_nik
from normalizers.sms import sender_phone

IDEMPOTENCY_HEADER = "Idempotency-Key"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FREE_TEXT = ("name", "address", "subject", "text", "location")
#: the magic numbers of the types we accept: the declared type must match the bytes
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
_FIELDS = (
    "id", "name", "email", "phone", "address", "nik", "subject", "text", "location",
    "occurred_at", "received_at", "category",
)  # fmt: skip

Short = Annotated[str | None, Field(max_length=300)]


class WebComplaint(BaseModel):
    """The fields a person can type (all but ``text`` optional)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: Annotated[str | None, Field(max_length=200, description="idempotency key")] = None
    name: Short = None
    email: Short = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    address: Annotated[str | None, Field(max_length=1000)] = None
    nik: Annotated[str | None, Field(max_length=40, description="16 digits; stored masked")] = None
    subject: Short = None
    text: Annotated[str, Field(min_length=1, max_length=20_000)]
    location: Annotated[str | None, Field(max_length=1000)] = None
    occurred_at: datetime | None = None
    received_at: datetime | None = Field(
        default=None, description="when the letter or visit came in (default: now)"
    )
    category: Short = None


class WebAnswer(BaseModel):
    status: Annotated[str, Field(description="published | quarantined")]
    external_id: str
    id: str | None = None
    reason: str | None = None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
    )


def _check(settings: WebSettings, data: WebComplaint, intake: Intake) -> dict[str, Any]:
    """The envelope fields, checked and with NIKs masked; 422 naming the field otherwise."""
    fields: dict[str, Any] = {}
    for name in _FREE_TEXT:
        value = getattr(data, name)
        fields[name] = mask_niks(value) if value else None
    if not (fields["text"] or "").strip():
        raise error(422, "text: the complaint text is empty")
    if data.nik:
        digits = re.sub(r"[\s.-]", "", data.nik)
        if not (len(digits) == 16 and digits.isdigit()):
            raise error(422, "nik: a NIK has 16 digits")
        fields["nik_masked"] = mask_nik(digits)
    if data.email:
        if not _EMAIL.match(data.email):
            raise error(422, "email: not an e-mail address")
        fields["email"] = data.email.lower()
    if data.phone:
        phone = sender_phone(data.phone)
        if phone is None:
            raise error(422, "phone: not a phone number (e.g. 0812-3456-7890, +65 6123 4567)")
        fields["phone"] = phone
    if data.category:
        names = {c.name.lower(): c.name for c in intake.cfg.office.categories}
        if names and data.category.lower() not in names:
            raise error(422, f"category: one of {', '.join(sorted(names.values()))}")
        fields["category"] = names.get(data.category.lower(), data.category)
    tz = intake.cfg.office.tz
    for when in ("occurred_at", "received_at"):
        moment: datetime | None = getattr(data, when)
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)  # typed in the office, in its time
            fields[when] = moment.isoformat()
    del settings
    return fields


async def _attachments(settings: WebSettings, files: list[UploadFile]) -> list[dict[str, Any]]:
    if len(files) > settings.max_attachments:
        raise error(413, f"at most {settings.max_attachments} attachments")
    out = []
    allowed = {t.lower() for t in settings.allowed_types}
    for upload in files:
        ctype = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
        name = upload.filename or "lampiran"
        if ctype not in allowed:
            raise error(
                415, f"attachment {name!r}: type {ctype} not allowed ({', '.join(sorted(allowed))})"
            )
        data = await upload.read(settings.max_attachment_bytes + 1)
        if len(data) > settings.max_attachment_bytes:
            raise error(413, f"attachment {name!r} is over {settings.max_attachment_bytes} bytes")
        if not data:
            raise error(422, f"attachment {name!r} is empty")
        magic = _MAGIC.get(ctype)
        looks_webp = ctype == "image/webp" and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        if (magic is not None and not data.startswith(magic)) or (
            ctype == "image/webp" and not looks_webp
        ):
            raise error(415, f"attachment {name!r}: the content is not {ctype}")
        out.append(
            {
                "filename": name[-200:],
                "content_type": ctype,
                "data": base64.b64encode(data).decode("ascii"),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return out


class Submission(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    fields: dict[str, Any]
    uploads: list[UploadFile] = Field(default_factory=list)
    from_page: bool = False
    form_key: str | None = None


async def _read(request: Request, settings: WebSettings) -> Submission:
    """The typed fields and uploads of a JSON or form body."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            doc = json.loads(await request.body())
        except (UnicodeDecodeError, ValueError):
            raise error(400, "the body is not valid JSON") from None
        if not isinstance(doc, dict):
            raise error(422, "the body must be a JSON object with at least 'text'")
        return Submission(fields=doc)
    if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            form = await request.form(
                max_files=settings.max_attachments + 1, max_fields=len(_FIELDS) + 10
            )
        except Exception as exc:  # starlette/python-multipart limits and parse errors
            raise error(400, f"the form cannot be read: {getattr(exc, 'detail', exc)}") from None
        fields: dict[str, Any] = {}
        uploads: list[UploadFile] = []
        from_page = False
        form_key: str | None = None
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:  # a browser sends an empty part when no file was chosen
                    uploads.append(value)
            elif key == "_form":
                from_page = True
            elif key == "api_key":
                form_key = value
            elif value.strip():
                fields[key] = value
        return Submission(fields=fields, uploads=uploads, from_page=from_page, form_key=form_key)
    raise error(415, "send application/json, multipart/form-data or a url-encoded form")


def _authorized(settings: WebSettings, request: Request, form_key: str | None) -> None:
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value()
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else form_key
    if not given:
        raise error(401, "missing Authorization: Bearer <api key>")
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise error(403, "wrong api key")


def _content_id(fields: dict[str, Any], attachments: list[dict[str, Any]]) -> str:
    basis = {k: v for k, v in fields.items() if v is not None and k != "received_at"}
    basis["attachments"] = [a["sha256"] for a in attachments]
    text = json.dumps(basis, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang='id'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:42rem;"
        f"margin:1rem auto;padding:0 1rem}}label{{display:block;margin-top:.7rem}}"
        f"input,textarea,select{{width:100%;padding:.3rem}}"
        f"button{{margin-top:1rem;padding:.5rem 1rem}}"
        f"</style></head><body>{body}</body></html>",
        status_code=status,
    )


def form_page(settings: WebSettings, intake: Intake, action: str) -> HTMLResponse:
    """The walk-in form, labelled in Bahasa Indonesia (staff-only: see the module docstring)."""

    def field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        return (
            f"<label for='{name}'>{html.escape(label)}</label>"
            f"<input id='{name}' name='{name}' type='{kind}' {extra}>"
        )

    categories = "".join(
        f"<option>{html.escape(c.name)}</option>" for c in intake.cfg.office.categories
    )
    key = field("api_key", "Kunci akses", "password", "required") if settings.api_key else ""
    accept = ",".join(settings.allowed_types)
    body = (
        f"<h1>Formulir Pengaduan — {html.escape(intake.cfg.office.name)}</h1>"
        f"<form method='post' action='{html.escape(action)}' enctype='multipart/form-data'>"
        "<input type='hidden' name='_form' value='1'>"
        + field("name", "Nama pelapor")
        + field("nik", "NIK (16 digit)", "text", "inputmode='numeric' maxlength='20'")
        + field("phone", "Nomor HP", "tel")
        + field("email", "Email", "email")
        + field("address", "Alamat")
        + field("subject", "Perihal")
        + "<label for='text'>Isi pengaduan</label>"
        "<textarea id='text' name='text' rows='8' required></textarea>"
        + field("location", "Lokasi kejadian")
        + field("occurred_at", "Waktu kejadian", "datetime-local")
        + (
            f"<label for='category'>Kategori</label><select id='category' name='category'>"
            f"<option value=''>(pilih)</option>{categories}</select>"
            if categories
            else ""
        )
        + f"<label for='attachments'>Lampiran (foto/PDF, maks. {settings.max_attachments} "
        f"berkas, {settings.max_attachment_bytes // (1024 * 1024)} MB per berkas)</label>"
        f"<input id='attachments' name='attachments' type='file' multiple accept='{accept}'>"
        + key
        + "<button type='submit'>Kirim pengaduan</button></form>"
    )
    return _page("Formulir Pengaduan", body)


_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": WebComplaint.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        **{f: {"type": "string"} for f in _FIELDS},
                        "attachments": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
    }
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WebAnswer, "description": "published (or quarantined, kept)"},
    400: {"description": "malformed body"},
    401: {"description": "api key missing"},
    403: {"description": "api key wrong"},
    404: {"description": "no such web channel"},
    413: {"description": "body or attachment too large"},
    415: {"description": "unsupported body or attachment type"},
    422: {"description": "a field is missing or invalid"},
    429: {"description": "too many submissions from this address; see Retry-After"},
    503: {"description": "queue did not confirm; retry later"},
}


def web_router(intake: Intake) -> APIRouter:
    router = APIRouter(tags=["web"])

    async def receive(request: Request, channel: str | None) -> Response:
        chan = intake.pick("web", channel)
        assert isinstance(chan, WebSettings)
        sub = await _read(request, chan)
        link = request.url.path.rstrip("/") + "/form"
        if not sub.from_page:
            return await accept(request, chan, sub, link)
        try:
            return await accept(request, chan, sub, link)
        except HTTPException as exc:  # the person at the desk gets a page, not JSON
            body = (
                "<h1>Pengaduan belum terkirim</h1>"
                f"<p>{html.escape(str(exc.detail))}</p>"
                f"<p><a href='{html.escape(link)}'>Kembali ke formulir</a></p>"
            )
            page = _page("Pengaduan belum terkirim", body, exc.status_code)
            page.headers.update(exc.headers or {})
            return page

    async def accept(request: Request, chan: WebSettings, sub: Submission, link: str) -> Response:
        from_page = sub.from_page
        _authorized(chan, request, sub.form_key)
        client = request.client.host if request.client else "unknown"
        wait = intake.rates.check(f"web\x00{chan.name}\x00{client}", chan.rate_limit_per_minute)
        if wait is not None:
            raise error(429, "too many submissions; retry later", retry_after(wait))
        try:
            data = WebComplaint.model_validate(sub.fields)
        except ValidationError as exc:
            raise error(422, mask_niks(_problems(exc))) from None
        fields = _check(chan, data, intake)
        attachments = await _attachments(chan, sub.uploads)
        key = request.headers.get(IDEMPOTENCY_HEADER) or data.id
        ext = key.strip()[:200] if key and key.strip() else _content_id(fields, attachments)
        seen = intake.recent.get(chan.name, ext)
        if seen is not None:
            response = _respond(seen, from_page, link)
            response.headers["X-Aduan-Duplicate"] = "1"
            return response
        envelope = {
            "id": ext,
            **{k: v for k, v in fields.items() if v is not None},
            "received_at": fields.get("received_at") or datetime.now(UTC).isoformat(),
            "source": "form" if from_page else "api",
            "attachments": [
                {k: a[k] for k in ("filename", "content_type", "data")} for a in attachments
            ],
        }
        message = RawMessage(
            payload=json.dumps(envelope, ensure_ascii=False, sort_keys=True).encode("utf-8"),
            content_type="application/json",
            external_id=ext,
            received_at=datetime.now(UTC),
            meta={"source": "http", "client": client},
        )
        result = await intake.deliver(chan.name, [message])
        published = list(getattr(result, "published", []) or [])
        if published:
            answer = WebAnswer(status="published", external_id=ext, id=str(published[0].id))
        else:
            quarantined = list(getattr(result, "quarantined", []) or [])
            reason = quarantined[0][1].reason if quarantined else None
            answer = WebAnswer(status="quarantined", external_id=ext, reason=reason)
        intake.recent.put(chan.name, ext, answer)
        return _respond(answer, from_page, link)

    @router.post("/intake/web", openapi_extra=_OPENAPI, responses=_RESPONSES)
    async def intake_web(request: Request) -> Response:
        """A complaint for the only web channel."""
        return await receive(request, None)

    @router.post("/intake/web/{channel}", openapi_extra=_OPENAPI, responses=_RESPONSES)
    async def intake_web_channel(request: Request, channel: str) -> Response:
        """A complaint for the web channel ``channel``."""
        return await receive(request, channel)

    @router.get("/intake/web/form", response_class=HTMLResponse)
    async def web_form() -> HTMLResponse:
        """The walk-in form page of the only web channel (staff-only, no CSRF token)."""
        chan = intake.pick("web", None)
        assert isinstance(chan, WebSettings)
        if not chan.form_page:
            raise error(404, "the form page is turned off for this channel (form_page: false)")
        return form_page(chan, intake, "/intake/web")

    @router.get("/intake/web/{channel}/form", response_class=HTMLResponse)
    async def web_form_channel(channel: str) -> HTMLResponse:
        """The walk-in form page of the web channel ``channel``."""
        chan = intake.pick("web", channel)
        assert isinstance(chan, WebSettings)
        if not chan.form_page:
            raise error(404, "the form page is turned off for this channel (form_page: false)")
        return form_page(chan, intake, f"/intake/web/{chan.name}")

    return router


def _respond(answer: WebAnswer, from_page: bool, link: str) -> Response:
    if from_page:
        if answer.status == "published":
            body = (
                "<h1>Terima kasih</h1><p>Pengaduan telah diterima dan menunggu verifikasi.</p>"
                "<p>Nomor referensi: "
                f"<code>{html.escape(answer.id or answer.external_id)}</code></p>"
            )
        else:
            body = (
                "<h1>Pengaduan disimpan untuk diperiksa</h1>"
                f"<p>{html.escape(answer.reason or '')}</p>"
            )
        again = f"<p><a href='{html.escape(link)}'>Isi formulir lagi</a></p>"
        return _page("Pengaduan diterima", body + again)
    return JSONResponse(answer.model_dump(exclude_none=True))
