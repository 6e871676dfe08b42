"""End to end: uvicorn on loopback + the real Pipeline on the embedded queue + the store.

What a 200 promises is checked where it matters: after the store consumer drained the queue,
the report is a row, once, however often the gateway delivered it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import sqlalchemy as sa
from intake_helpers import SMS_SECRET, run_server, sign, write_config

from ingest.cli.serve import queue_ready
from ingest.http import create_app
from ingest.pipeline import Pipeline
from sinks.db import make_engine
from sinks.state import QuarantineStore
from sinks.store import StoreConsumer

CONFIG = """\
office:
  name: Diskominfo Uji
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
data_dir: ./var
queue: {url: embedded}
channels:
  - {name: sms, kind: sms, gateway: json, secret: "${SMS_SECRET}"}
  - {name: web, kind: web}
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


def post_sms(client: httpx.Client, doc: Mapping[str, object]) -> httpx.Response:
    body = json.dumps(doc).encode()
    return client.post(
        "/intake/sms",
        content=body,
        headers={"content-type": "application/json", "x-aduan-signature": sign(body)},
    )


def test_sms_and_web_reach_the_store_once(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, CONFIG)
    sms = {
        "id": "gw-e2e-1",
        "from": "0812-3456-7890",
        "to": "1708",
        "text": "LAPOR jalan rusak di depan Pasar Indralaya",
        "received_at": "2026-11-23T09:00:00+07:00",
    }
    with Pipeline.open(cfg) as pipeline:
        app = create_app(cfg, pipeline.process, ready=lambda: queue_ready(cfg))
        base, stop = run_server(app)
        try:
            with httpx.Client(base_url=base, timeout=20) as client:
                assert client.get("/readyz").status_code == 200
                first = post_sms(client, sms)
                assert first.status_code == 200, first.text
                assert first.json()["status"] == "published"
                assert post_sms(client, sms).json() == first.json()  # duplicate: same answer
                keyword_only = post_sms(
                    client, {"id": "gw-e2e-2", "from": "081234567890", "text": "lapor"}
                )
                assert keyword_only.json()["status"] == "quarantined"
                web = client.post(
                    "/intake/web",
                    data={
                        "text": "Lampu jalan padam sejak kemarin",
                        "name": "Budi",
                        "nik": "3201014507900001",
                    },
                    files=[("attachments", ("foto.png", PNG, "image/png"))],
                )
                assert web.status_code == 200, web.text
        finally:
            stop()
        # a restarted service has no answer cache: the gateway's redelivery is published again
        app2 = create_app(cfg, pipeline.process)
        base2, stop2 = run_server(app2)
        try:
            with httpx.Client(base_url=base2, timeout=20) as client:
                again = post_sms(client, sms)
                assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        finally:
            stop2()

    engine = make_engine(cfg.store_url)
    try:
        StoreConsumer(cfg.queue_url, cfg.data_dir, engine).drain(idle_timeout=1.0)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT id, channel_kind, external_id, text, reporter_phone, reporter_nik_masked "
                    "FROM reports ORDER BY channel_kind"
                )
            ).all()
        assert (rows[0].channel_kind, rows[0].external_id) == ("sms", "gw-e2e-1")
        assert len(rows) == 2  # the SMS delivered three times is one row
        sms_row, web_row = rows
        assert sms_row.id == first.json()["id"]
        assert sms_row.text == "jalan rusak di depan Pasar Indralaya"
        assert sms_row.reporter_phone == "+6281234567890"
        assert web_row.reporter_nik_masked == "3201********0001"
        quarantined = QuarantineStore(engine).list()
        assert [q.external_id for q in quarantined] == ["gw-e2e-2"]
        assert "keyword only" in quarantined[0].reason
    finally:
        engine.dispose()
    # the attachment's bytes are in the content-addressed store, the raw payloads archived
    assert any(
        p.read_bytes() == PNG for p in (cfg.data_dir / "attachments").rglob("*") if p.is_file()
    )
    assert any((cfg.data_dir / "raw").rglob("*"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_aduan_serve_command(tmp_path: Path) -> None:
    cfg_path = tmp_path / "channels.yaml"
    cfg_path.write_text(CONFIG, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "SMS_SECRET": SMS_SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "serve", "-c", str(cfg_path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=base, timeout=20) as client:
            while True:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "aduan serve did not come up"
                time.sleep(0.2)
            assert client.get("/readyz").status_code == 200
            r = post_sms(client, {"id": "cli-1", "from": "081234567890", "text": "LAPOR sampah"})
            assert r.status_code == 200 and r.json()["status"] == "published"
            assert client.get("/intake/web/form").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert SMS_SECRET not in log
