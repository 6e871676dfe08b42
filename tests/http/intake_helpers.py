"""The intake service on a real uvicorn on loopback, with a recording submit (or the pipeline)."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from ingest.config import AppConfig, load_config
from ingest.http import create_app
from ingest.normalizing import normalize_safely, offline_context
from ingest.pipeline import ProcessResult, PublishFailed
from normalizers.base import Normalized, RawMessage, Rejection

SMS_SECRET = "sms-secret-0123456789"
TWILIO_TOKEN = "twilio-token-abcdef"
KANNEL_KEY = "kannel-key-xyz"
WEB_KEY = "web-key-123"
FB_SECRET = "fb-app-secret"
FB_VERIFY = "fb-verify-token"

ENV = {
    "SMS_SECRET": SMS_SECRET,
    "TWILIO_TOKEN": TWILIO_TOKEN,
    "KANNEL_KEY": KANNEL_KEY,
    "WEB_KEY": WEB_KEY,
    "FB_SECRET": FB_SECRET,
    "FB_VERIFY": FB_VERIFY,
}

CONFIG = """\
office:
  name: Diskominfo Uji
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
  categories:
    - {name: Infrastruktur, keywords: [jalan rusak]}
    - {name: Kesehatan, keywords: [puskesmas]}
data_dir: ./var
queue: {url: embedded}
channels:
  - name: sms
    kind: sms
    gateway: json
    secret: "${SMS_SECRET}"
    codes: {JLN: Infrastruktur}
    rate_limit_per_minute: 5
  - name: sms-header
    kind: sms
    gateway: json
    auth: header
    secret: "${SMS_SECRET}"
  - name: twilio
    kind: sms
    gateway: twilio
    secret: "${TWILIO_TOKEN}"
  - name: kannel
    kind: sms
    gateway: kannel
    auth: header
    secret: "${KANNEL_KEY}"
    part_timeout: 0.5
  - name: sms-open
    kind: sms
    gateway: json
    secret: ""
  - name: web
    kind: web
    max_attachment_bytes: 4096
    max_request_bytes: 65536
    max_attachments: 2
    rate_limit_per_minute: 1000
  - name: web-locked
    kind: web
    api_key: "${WEB_KEY}"
  - name: fb
    kind: facebook
    page_id: "1234"
    access_token: "token-not-used"
    app_secret: "${FB_SECRET}"
    verify_token: "${FB_VERIFY}"
"""


def sign(body: bytes, secret: str = SMS_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Recorder:
    """A stand-in for Pipeline.process: normalizes with the channel's real plugin and records."""

    def __init__(self, cfg: AppConfig) -> None:
        self.cfg = cfg
        self.calls: list[tuple[str, list[RawMessage]]] = []
        self.fail = False

    def __call__(self, channel: str, messages: Sequence[RawMessage]) -> ProcessResult:
        if self.fail:
            raise PublishFailed("queue down (test)")
        self.calls.append((channel, list(messages)))
        settings = self.cfg.channel(channel)
        plugin = self.cfg.plugin(settings)
        result = ProcessResult()
        for raw in messages:
            for i, outcome in enumerate(
                normalize_safely(plugin, raw, offline_context(self.cfg, settings, raw))
            ):
                if isinstance(outcome, Normalized):
                    result.published.append(outcome.report)
                else:
                    assert isinstance(outcome, Rejection)
                    result.quarantined.append((i + 1, outcome))
        return result

    def reports(self, channel: str | None = None) -> list[Any]:
        out = []
        for name, messages in self.calls:
            if channel in (None, name):
                for raw in messages:
                    out.append(raw)
        return out


class Served:
    def __init__(self, base: str, app: FastAPI, recorder: Recorder, cfg: AppConfig) -> None:
        self.base = base
        self.app = app
        self.recorder = recorder
        self.cfg = cfg
        self.client = httpx.Client(base_url=base, timeout=10)


def run_server(app: FastAPI) -> tuple[str, Callable[[], None]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn exited at start"
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()

    return f"http://127.0.0.1:{port}", stop


def write_config(folder: Path, text: str = CONFIG) -> AppConfig:
    path = folder / "channels.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=ENV)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    cfg = write_config(tmp_path)
    recorder = Recorder(cfg)
    ready = {"ok": True}
    app = create_app(cfg, recorder, ready=lambda: ready["ok"])
    app.state.test_ready = ready
    base, stop = run_server(app)
    s = Served(base, app, recorder, cfg)
    try:
        yield s
    finally:
        s.client.close()
        stop()
