"""The webhook router, mounted on our own FastAPI app served by uvicorn on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fb_fake import (
    APP_SECRET,
    FIXTURES,
    IG_USER_ID,
    MEDIA,
    NOW,
    PAGE_ID,
    TOKEN,
    FakeGraph,
    adapter_context,
    drain,
    norm_context,
    standard_page_routes,
)
from pydantic import SecretStr

from ingest.adapters.facebook import (
    FACEBOOK_PLUGIN,
    INSTAGRAM_PLUGIN,
    FacebookAdapter,
    FacebookSettings,
    InstagramSettings,
)
from ingest.attachments import AttachmentStore
from ingest.registry import ChannelSettings
from ingest.webhooks.facebook import webhook_router
from normalizers.base import Normalized, RawMessage
from normalizers.facebook import normalize

VERIFY = "verify-me-please"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[RawMessage]] = []
        self.fail = False

    def __call__(self, messages: Sequence[RawMessage]) -> None:
        if self.fail:
            raise ConnectionError("queue down")
        self.calls.append(list(messages))


class Served:
    def __init__(self, base: str, recorder: Recorder) -> None:
        self.base = base
        self.recorder = recorder


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: ChannelSettings, attachments: AttachmentStore | None = None) -> Served:
        recorder = Recorder()
        app = FastAPI()
        plugin = FACEBOOK_PLUGIN if settings.kind == "facebook" else INSTAGRAM_PLUGIN
        assert plugin.webhook is not None
        router = (
            plugin.webhook(settings, recorder)
            if attachments is None
            else webhook_router(settings, recorder, attachments=attachments)
        )
        app.include_router(router, prefix=f"/webhooks/{settings.name}")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        return Served(f"http://127.0.0.1:{port}/webhooks/{settings.name}", recorder)

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


def fb(**over: Any) -> FacebookSettings:
    values: dict[str, Any] = {
        "name": "fb-test",
        "kind": "facebook",
        "page_id": PAGE_ID,
        "access_token": SecretStr(TOKEN),
        "app_secret": SecretStr(APP_SECRET),
        "verify_token": SecretStr(VERIFY),
        **over,
    }
    return FacebookSettings(**values)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_verification_echoes_the_challenge(serve: Any) -> None:
    served = serve(fb())
    ok = httpx.get(
        served.base,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = httpx.get(
        served.base,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "guess",
            "hub.challenge": "1158201444",
        },
    )
    assert bad.status_code == 403 and "1158201444" not in bad.text


def test_signed_delivery_is_submitted_whole(serve: Any) -> None:
    served = serve(fb())
    body = (FIXTURES / "webhook_feed.json").read_bytes()
    response = httpx.post(
        served.base,
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
    )
    assert response.status_code == 200
    [[raw]] = served.recorder.calls
    assert raw.payload == body
    assert raw.meta["source"] == "webhook"
    assert raw.content_type == "application/json"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("sha256=" + "0" * 64, 403),
        ("sha1=0123456789abcdef0123456789abcdef01234567", 403),
        ("signed-with-another-secret", 403),
    ],
)
def test_unsigned_or_badly_signed_delivery_is_refused(
    serve: Any, header: str | None, status: int
) -> None:
    served = serve(fb())
    body = (FIXTURES / "webhook_feed.json").read_bytes()
    if header == "signed-with-another-secret":
        header = sign(body, "not-the-app-secret")
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Hub-Signature-256"] = header
    response = httpx.post(served.base, content=body, headers=headers)
    assert response.status_code == status
    assert served.recorder.calls == []


def test_a_body_changed_after_signing_is_refused(serve: Any) -> None:
    served = serve(fb())
    body = (FIXTURES / "webhook_feed.json").read_bytes()
    tampered = body.replace(b"genangan", b"GENANGAN")
    response = httpx.post(
        served.base, content=tampered, headers={"X-Hub-Signature-256": sign(body)}
    )
    assert response.status_code == 403
    assert served.recorder.calls == []


def test_queue_failure_answers_503_so_facebook_retries(serve: Any) -> None:
    served = serve(fb())
    served.recorder.fail = True
    body = (FIXTURES / "webhook_messaging.json").read_bytes()
    response = httpx.post(served.base, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 503


def test_unconfigured_webhook_says_what_to_do(serve: Any) -> None:
    served = serve(fb(app_secret=None, verify_token=None))
    body = b'{"object": "page", "entry": []}'
    response = httpx.post(served.base, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 503
    assert "app_secret" in response.text
    challenge = httpx.get(
        served.base, params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    )
    assert challenge.status_code == 503


def _normalize(raw: RawMessage, settings: ChannelSettings, tmp_path: Path) -> list[Normalized]:
    plain = settings.model_dump(mode="json")
    out = normalize(raw, norm_context(raw, plain, settings.kind, tmp_path, settings.name))
    return [o for o in out if isinstance(o, Normalized)]


def test_webhook_and_polling_give_the_same_report_ids(
    serve: Any, graph: FakeGraph, tmp_path: Path
) -> None:
    settings = fb(graph_url=graph.base_url, app_secret=None, retry_backoff=0.0)
    standard_page_routes(graph)
    polled = drain(
        FacebookAdapter(settings, adapter_context(tmp_path), now=lambda: NOW).fetch,
        None,
        settings.model_dump(mode="json"),
        "facebook",
        tmp_path,
    )
    by_ext = {n.report.external_id: n.report for n in polled.normalized}

    served = serve(fb())
    pushed: list[Normalized] = []
    for name in ("webhook_feed.json", "webhook_messaging.json"):
        body = (FIXTURES / name).read_bytes()
        assert (
            httpx.post(
                served.base, content=body, headers={"X-Hub-Signature-256": sign(body)}
            ).status_code
            == 200
        )
        [[raw]] = served.recorder.calls[-1:]
        pushed.extend(_normalize(raw, fb(), tmp_path))

    # reactions, the page's own comment and its echoed Messenger reply make no report
    assert sorted(n.report.external_id for n in pushed) == sorted(
        ["2002_3004", "m_501_3", f"{PAGE_ID}_2002"]
    )
    for n in pushed:
        twin = by_ext[n.report.external_id]
        assert n.report.id == twin.id
        assert n.report.received_at == twin.received_at
        assert n.report.reporter.handle == twin.reporter.handle
        assert n.report.text == twin.text
    comment = next(n.report for n in pushed if n.report.external_id == "2002_3004")
    assert comment.in_reply_to == by_ext["2002_3004"].in_reply_to == f"{PAGE_ID}_2002"


def test_instagram_webhook_comment_matches_the_polled_one(serve: Any, tmp_path: Path) -> None:
    settings = InstagramSettings(
        name="ig-test",
        kind="instagram",
        ig_user_id=IG_USER_ID,
        username="diskominfo_oi",
        access_token=SecretStr(TOKEN),
        app_secret=SecretStr(APP_SECRET),
        verify_token=SecretStr(VERIFY),
    )
    served = serve(settings)
    body = (FIXTURES / "webhook_instagram.json").read_bytes()
    assert (
        httpx.post(
            served.base, content=body, headers={"X-Hub-Signature-256": sign(body)}
        ).status_code
        == 200
    )
    [[raw]] = served.recorder.calls
    [report] = [n.report for n in _normalize(raw, settings, tmp_path)]
    assert report.external_id == "17950000000000003"
    assert report.in_reply_to == "17950000000000001"
    assert report.reporter.handle == "@warga_tanjungraja"
    assert report.channel.kind == "instagram"


def test_not_json_is_refused(serve: Any) -> None:
    served = serve(fb())
    body = b"hub=1&x=2"
    response = httpx.post(served.base, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 400
    assert served.recorder.calls == []


def test_fixture_webhooks_are_valid_json() -> None:
    for name in ("webhook_feed.json", "webhook_messaging.json", "webhook_instagram.json"):
        assert json.loads((FIXTURES / name).read_text())["entry"]


def test_webhook_media_is_downloaded_when_given_the_store(
    serve: Any, graph: FakeGraph, tmp_path: Path
) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    served = serve(fb(), store)
    text = (FIXTURES / "webhook_feed.json").read_text().replace("http://FAKE", graph.base_url)
    body = text.encode()
    response = httpx.post(served.base, content=body, headers={"X-Hub-Signature-256": sign(body)})
    assert response.status_code == 200
    [[raw]] = served.recorder.calls
    assert raw.payload == body
    post = next(
        n.report
        for n in _normalize(raw, fb(), tmp_path)
        if n.report.external_id == f"{PAGE_ID}_2002"
    )
    [photo] = post.attachments
    assert photo.sha256 == hashlib.sha256(MEDIA["lubang.jpg"]).hexdigest()
    assert store.path_for(photo.sha256).read_bytes() == MEDIA["lubang.jpg"]
