"""``POST /intake/web`` and the walk-in form page through uvicorn on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from intake_helpers import WEB_KEY, Served

NIK = "3201014507900001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 100


def envelopes(s: Served) -> list[dict[str, Any]]:
    return [json.loads(raw.payload) for raw in s.recorder.reports()]


def complaint(**over: Any) -> dict[str, Any]:
    return {
        "name": "Siti Aminah",
        "phone": "0812-3456-7890",
        "email": "Siti@Example.ID",
        "address": "Jl. Merdeka 1, Indralaya",
        "nik": NIK,
        "subject": "Jalan berlubang",
        "text": f"Jalan di depan pasar berlubang besar. NIK saya {NIK}.",
        "location": "depan Pasar Indralaya",
        "occurred_at": "2026-11-20T08:30:00",
        "category": "infrastruktur",
        **over,
    }


def test_json_complaint_published_with_typed_fields(served: Served) -> None:
    r = served.client.post(
        "/intake/web/web", json=complaint(), headers={"Idempotency-Key": "loket-001"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published" and body["external_id"] == "loket-001"
    [(channel, [raw])] = served.recorder.calls
    assert channel == "web"
    # the NIK never reaches the archive: neither the typed field nor the one inside the text
    assert NIK.encode() not in raw.payload
    env = json.loads(raw.payload)
    assert env["nik_masked"] == "3201********0001"
    assert env["phone"] == "+6281234567890" and env["email"] == "siti@example.id"
    assert env["category"] == "Infrastruktur"
    assert env["occurred_at"] == "2026-11-20T08:30:00+07:00"


def test_record_built_from_the_envelope(served: Served) -> None:
    from ingest.normalizing import normalize_safely, offline_context
    from normalizers.base import Normalized

    served.client.post(
        "/intake/web/web", json=complaint(), headers={"Idempotency-Key": "loket-002"}
    )
    [(_, [raw])] = served.recorder.calls
    settings = served.cfg.channel("web")
    [out] = normalize_safely(
        served.cfg.plugin(settings), raw, offline_context(served.cfg, settings, raw)
    )
    assert isinstance(out, Normalized)
    r = out.report
    assert r.channel.kind == "web" and r.external_id == "loket-002"
    assert r.reporter.name == "Siti Aminah" and r.reporter.nik_masked == "3201********0001"
    assert r.reporter.phone == "+6281234567890"
    assert r.subject == "Jalan berlubang" and r.location.text == "depan Pasar Indralaya"
    assert NIK not in r.text and "3201********0001" in r.text


def test_multipart_with_attachments(served: Served) -> None:
    files = [
        ("attachments", ("foto.png", PNG, "image/png")),
        ("attachments", ("surat.pdf", PDF, "application/pdf")),
    ]
    data = {k: v for k, v in complaint(nik="").items() if v}
    r = served.client.post("/intake/web/web", data=data, files=files)
    assert r.status_code == 200, r.text
    [env] = envelopes(served)
    assert [a["filename"] for a in env["attachments"]] == ["foto.png", "surat.pdf"]
    assert base64.b64decode(env["attachments"][0]["data"]) == PNG
    # the normalizer turns them into attachment records and blobs
    from ingest.normalizing import normalize_safely, offline_context

    settings = served.cfg.channel("web")
    [(_, [raw])] = served.recorder.calls
    [out] = normalize_safely(
        served.cfg.plugin(settings), raw, offline_context(served.cfg, settings, raw)
    )
    sha = hashlib.sha256(PNG).hexdigest()
    assert out.blobs[sha] == PNG  # type: ignore[union-attr]
    assert out.report.attachments[0].sha256 == sha and out.report.attachments[0].size == len(PNG)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("files", "status", "needle"),
    [
        ([("attachments", ("big.png", PNG + b"\x00" * 5000, "image/png"))], 413, "over 4096 bytes"),
        (
            [("attachments", ("x.exe", b"MZ\x90\x00", "application/x-msdownload"))],
            415,
            "not allowed",
        ),
        ([("attachments", ("fake.png", b"GIF89a....", "image/png"))], 415, "not image/png"),
        ([("attachments", (f"f{i}.png", PNG, "image/png")) for i in range(3)], 413, "at most 2"),
    ],
)
def test_attachment_limits(served: Served, files: list[Any], status: int, needle: str) -> None:
    r = served.client.post("/intake/web/web", data={"text": "Lampu jalan mati"}, files=files)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]
    assert served.recorder.calls == []


def test_oversized_request_413(served: Served) -> None:
    blob = b"\x00" * 70_000  # over this channel's max_request_bytes (65536), not web-locked's
    r = served.client.post(
        "/intake/web/web",
        data={"text": "x"},
        files=[("attachments", ("a.png", PNG + blob, "image/png"))],
    )
    assert r.status_code == 413
    assert "over the limit of 65536 bytes" in r.json()["detail"]
    ok = served.client.post(
        "/intake/web/web-locked",
        data={"text": "Foto jalan", "api_key": WEB_KEY},
        files=[("attachments", ("a.png", PNG + blob, "image/png"))],
    )
    assert ok.status_code == 200, ok.text
    assert [name for name, _ in served.recorder.calls] == ["web-locked"]


def test_form_post_errors_are_pages(served: Served) -> None:
    r = served.client.post("/intake/web/web", data={"_form": "1", "text": "x", "nik": "123"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "belum terkirim" in r.text and "16 digits" in r.text
    assert "href='/intake/web/web/form'" in r.text


@pytest.mark.parametrize(
    ("body", "ctype", "status", "needle"),
    [
        (b"{broken", "application/json", 400, "not valid JSON"),
        (b'"just a string"', "application/json", 422, "JSON object"),
        (b"{}", "application/json", 422, "text"),
        (b'{"text": "   "}', "application/json", 422, "text"),
        (b'{"text": "x", "nik": "1234"}', "application/json", 422, "nik"),
        (b'{"text": "x", "email": "bukan-email"}', "application/json", 422, "email"),
        (b'{"text": "x", "phone": "12"}', "application/json", 422, "phone"),
        (b'{"text": "x", "category": "Olahraga"}', "application/json", 422, "category"),
        (b'{"text": "x", "occurred_at": "kemarin"}', "application/json", 422, "occurred_at"),
        (b'{"text": "x", "unknown": 1}', "application/json", 422, "unknown"),
        (b"text=x", "text/plain", 415, "application/json"),
    ],
)
def test_invalid_submissions(
    served: Served, body: bytes, ctype: str, status: int, needle: str
) -> None:
    r = served.client.post("/intake/web/web", content=body, headers={"content-type": ctype})
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]
    assert served.recorder.calls == []


def test_nik_never_echoed_in_errors(served: Served) -> None:
    r = served.client.post("/intake/web/web", json={"text": "x", "nik": NIK + "99"})
    assert r.status_code == 422
    assert NIK not in r.text


def test_idempotency_without_key_by_content(served: Served) -> None:
    a = served.client.post("/intake/web/web", json=complaint())
    b = served.client.post("/intake/web/web", json=complaint())
    c = served.client.post("/intake/web/web", json=complaint(text="Keluhan lain sama sekali"))
    assert a.json() == b.json() and b.headers["x-aduan-duplicate"] == "1"
    assert a.json()["external_id"] != c.json()["external_id"]
    assert len(served.recorder.calls) == 2


def test_idempotency_key_header_wins_over_id_field(served: Served) -> None:
    r = served.client.post(
        "/intake/web/web", json=complaint(id="field-id"), headers={"Idempotency-Key": "hdr-id"}
    )
    assert r.json()["external_id"] == "hdr-id"
    r = served.client.post("/intake/web/web", json=complaint(id="field-id", text="lain"))
    assert r.json()["external_id"] == "field-id"


def test_form_page_and_form_post(served: Served) -> None:
    page = served.client.get("/intake/web/web/form")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for label in ("Nama pelapor", "Isi pengaduan", "Lampiran", "Kirim pengaduan", "Infrastruktur"):
        assert label in page.text
    assert "action='/intake/web/web'" in page.text
    r = served.client.post(
        "/intake/web/web",
        data={"_form": "1", "text": "Sampah menumpuk di RT 3", "name": "Budi"},
        files=[("attachments", ("", b"", "application/octet-stream"))],
    )
    assert r.status_code == 200 and "Terima kasih" in r.text
    [env] = envelopes(served)
    assert env["source"] == "form" and env["attachments"] == []


def test_api_key_channel(served: Served) -> None:
    assert served.client.post("/intake/web/web-locked", json={"text": "x"}).status_code == 401
    assert (
        served.client.post(
            "/intake/web/web-locked", json={"text": "x"}, headers={"authorization": "Bearer nope"}
        ).status_code
        == 403
    )
    ok = served.client.post(
        "/intake/web/web-locked",
        json={"text": "Lampu mati"},
        headers={"authorization": f"Bearer {WEB_KEY}"},
    )
    assert ok.status_code == 200
    form = served.client.post(
        "/intake/web/web-locked", data={"text": "Lampu mati lagi", "api_key": WEB_KEY, "_form": "1"}
    )
    assert form.status_code == 200 and "Terima kasih" in form.text
    assert "Kunci akses" in served.client.get("/intake/web/web-locked/form").text
    for _, [raw] in served.recorder.calls:
        assert WEB_KEY.encode() not in raw.payload


def test_queue_down_is_503(served: Served) -> None:
    served.recorder.fail = True
    r = served.client.post("/intake/web/web", json=complaint())
    assert r.status_code == 503 and r.headers["retry-after"]


def test_webhook_channels_are_mounted(served: Served) -> None:
    r = served.client.get(
        "/webhooks/fb",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "fb-verify-token",
            "hub.challenge": "42",
        },
    )
    assert r.status_code == 200 and r.text == "42"
    r = served.client.post(
        "/webhooks/fb", content=b"{}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 401  # the Facebook router's own signature check
