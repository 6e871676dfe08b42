"""SMS/s through ``POST /intake/sms``: uvicorn on loopback, the real Pipeline, embedded queue.

Each request is a signed JSON SMS answered only after the queue confirmed it, so the figure is
what one gateway posting one message at a time gets end to end (HTTP + archive + normalize with
the shared enrichment + confirmed publish). ``-c`` concurrent clients show how far the single
submit lock lets it scale.

usage: .venv/bin/python bench/http_intake.py [-n 300] [-c 1]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import uvicorn

from ingest.config import load_config
from ingest.http import create_app
from ingest.pipeline import Pipeline

SECRET = "bench-secret"
CONFIG = """\
office:
  name: Diskominfo Bench
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
data_dir: ./var
queue: {url: embedded}
channels:
  - {name: sms, kind: sms, gateway: json, secret: bench-secret, rate_limit_per_minute: 1000000}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("-c", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "channels.yaml"
        path.write_text(CONFIG, encoding="utf-8")
        cfg = load_config(path, env={})
        with Pipeline.open(cfg) as pipeline:
            app = create_app(cfg, pipeline.process)
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.01)
            base = f"http://127.0.0.1:{port}"

            def one(i: int, client: httpx.Client) -> float:
                doc = {
                    "id": f"bench-{i}",
                    "from": f"0812{i % 10_000_000:08d}",
                    "text": f"LAPOR jalan rusak di Desa Tanjung Seteko nomor {i}, mohon diperbaiki",
                }
                body = json.dumps(doc).encode()
                sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                t0 = time.perf_counter()
                r = client.post(
                    "/intake/sms",
                    content=body,
                    headers={"content-type": "application/json", "x-aduan-signature": sig},
                )
                assert r.status_code == 200, r.text
                return time.perf_counter() - t0

            clients = [httpx.Client(base_url=base, timeout=30) for _ in range(args.c)]
            one(-1, clients[0])  # warm-up (loads the extractors)
            start = time.perf_counter()
            with ThreadPoolExecutor(args.c) as pool:
                latencies = list(pool.map(lambda i: one(i, clients[i % args.c]), range(args.n)))
            elapsed = time.perf_counter() - start
            for c in clients:
                c.close()
            server.should_exit = True
            thread.join(timeout=10)
    lat = sorted(latencies)
    print(f"{args.n} SMS, {args.c} client(s): {args.n / elapsed:.1f} SMS/s")
    print(
        f"latency ms: p50 {statistics.median(lat) * 1000:.1f}  "
        f"p95 {lat[int(len(lat) * 0.95) - 1] * 1000:.1f}  max {lat[-1] * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
