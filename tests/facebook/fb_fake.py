"""A loopback fake of the Graph API, serving this area's fixtures in the recorded shapes.

The fake behaves like the real API where the adapter depends on it: ``paging.next`` is an
absolute URL carrying ``access_token`` (so the adapter must strip it before keeping it),
a wrong token answers OAuthException 190, a wrong ``appsecret_proof`` is refused, errors can be
queued per path (rate limits, 5xx), and media URLs serve bytes.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ingest.adapter import AdapterContext, Batch
from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.facebook import normalize
from normalizers.office import DEFAULT_OFFICE

FIXTURES = Path(__file__).parent / "fixtures"
PAGE_ID = "112233445566778"
IG_USER_ID = "17841400000000001"
TOKEN = "EAAtestPageToken+with/odd=chars"
APP_SECRET = "s3cr3t-app"
VERSION = "v21.0"
#: the adapter's clock in the tests: the fixtures are a few days older than this
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

MEDIA = {
    "lubang.jpg": b"\xff\xd8\xff\xe0JPEG-lubang",
    "pju1.jpg": b"\xff\xd8\xff\xe0JPEG-pju1",
    "pju2.png": b"\x89PNG\r\n\x1a\nPNG-pju2",
    "genangan.jpg": b"\xff\xd8\xff\xe0JPEG-genangan",
    "air.jpg": b"\xff\xd8\xff\xe0JPEG-air",
    "sampah.jpg": b"\xff\xd8\xff\xe0JPEG-sampah",
    "safe_image.jpg": b"\xff\xd8\xff\xe0link-preview",
}


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return doc


@dataclass
class FakeGraph:
    """State of the fake; tests change ``routes``, ``token`` and ``errors`` between fetches."""

    token: str = TOKEN
    app_secret: str | None = None
    routes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, node_edge: str, *pages: str | dict[str, Any]) -> None:
        self.routes[f"/{VERSION}/{node_edge}"] = [
            fixture(p) if isinstance(p, str) else p for p in pages
        ]

    def fail(self, node_edge: str, status: int, body: Any, times: int = 1) -> None:
        self.errors.setdefault(f"/{VERSION}/{node_edge}", []).extend([(status, body)] * times)

    def calls(self, node_edge: str) -> int:
        return sum(1 for path, _ in self.requests if path == f"/{VERSION}/{node_edge}")

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        with self.lock:
            self.requests.append((path, query))
            if path.startswith("/media/"):
                name = path.rsplit("/", 1)[1]
                if name not in MEDIA:
                    return 404, "text/plain", b"not found"
                ctype = "image/png" if name.endswith(".png") else "image/jpeg"
                return 200, ctype, MEDIA[name]
            if query.get("access_token", [""])[0] != self.token:
                return _error(
                    400,
                    190,
                    "Error validating access token: Session has expired.",
                    "OAuthException",
                    subcode=463,
                )
            if self.app_secret is not None:
                proof = hmac.new(
                    self.app_secret.encode(), self.token.encode(), hashlib.sha256
                ).hexdigest()
                if query.get("appsecret_proof", [""])[0] != proof:
                    return _error(
                        400,
                        100,
                        "Invalid appsecret_proof provided in the API argument",
                        "GraphMethodException",
                    )
            queued = self.errors.get(path)
            if queued:
                status, body = queued.pop(0)
                if isinstance(body, bytes):
                    return status, "text/html", body
                return status, "application/json", json.dumps(body).encode()
            pages = self.routes.get(path)
            if pages is None:
                if path.endswith(("/comments", "/messages")):
                    pages = [{"data": []}]
                else:
                    return _error(
                        400,
                        100,
                        f"Unsupported get request. Object {path} does not exist",
                        "GraphMethodException",
                    )
            index = int(query.get("after", ["0"])[0])
            doc = copy.deepcopy(pages[index])
            paging = doc.setdefault("paging", {})
            paging.pop("next", None)
            if index + 1 < len(pages):
                keep = {k: v[0] for k, v in query.items() if k not in {"after", "appsecret_proof"}}
                keep["after"] = str(index + 1)
                # like the real API: an absolute URL with the access token in it
                paging["next"] = f"{self.base_url}{path}?{urlencode(keep)}"
            body = json.dumps(doc, ensure_ascii=False).replace("http://FAKE", self.base_url)
            return 200, "application/json; charset=UTF-8", body.encode()


def _error(
    status: int, code: int, message: str, kind: str, subcode: int | None = None
) -> tuple[int, str, bytes]:
    err: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        err["error_subcode"] = subcode
    return status, "application/json", json.dumps({"error": err}).encode()


@contextlib.contextmanager
def serve_fake_graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, ctype, body = fake.answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def standard_page_routes(fake: FakeGraph) -> None:
    """The page of the fixtures: a feed, comments on two posts, two recent conversations."""
    fake.route(f"{PAGE_ID}/feed", "feed_p1.json", "feed_p2.json")
    fake.route(f"{PAGE_ID}_2002/comments", "comments_2002_p1.json", "comments_2002_p2.json")
    fake.route(f"{PAGE_ID}_2001/comments", "comments_2001.json")
    fake.route(f"{PAGE_ID}/conversations", "conversations_p1.json", "conversations_p2.json")
    fake.route(
        "t_501/messages", "messages_t501_p1.json", "messages_t501_p2.json", "messages_t501_p3.json"
    )
    fake.route("t_502/messages", "messages_t502.json")


def adapter_context(tmp_path: Path, name: str = "fb-test") -> AdapterContext:
    return AdapterContext(channel_name=name, data_dir=tmp_path, office=DEFAULT_OFFICE)


def norm_context(
    raw: RawMessage, settings: dict[str, Any], kind: str, data_dir: Path, name: str = "fb-test"
) -> NormalizeContext:
    return NormalizeContext(
        channel_name=name,
        channel_kind=kind,
        ingested_at=NOW,
        raw_uri="file:///var/lib/aduan/raw/x",
        raw_sha256=raw.sha256,
        settings=settings,
        attachment_base_uri=(data_dir / "attachments").resolve().as_uri(),
    )


@dataclass
class Drained:
    batches: list[Batch]
    state: Any
    normalized: list[Normalized]
    rejected: list[Rejection]

    @property
    def messages(self) -> list[RawMessage]:
        return [m for b in self.batches for m in b.messages]

    @property
    def ids(self) -> list[str]:
        return [n.report.external_id for n in self.normalized]

    def by_id(self, ext: str) -> Normalized:
        return next(n for n in self.normalized if n.report.external_id == ext)


def drain(
    fetch: Callable[[Any], Batch],
    state: Any,
    settings: dict[str, Any],
    kind: str,
    data_dir: Path,
    limit: int = 200,
) -> Drained:
    """Fetch until the sweep is over, normalizing every message like the runtime would."""
    batches: list[Batch] = []
    for _ in range(limit):
        batch = fetch(state)
        batches.append(batch)
        state = json.loads(json.dumps(batch.state))  # what the runtime persists
        if not batch.more:
            break
    else:
        raise AssertionError("the sweep never ended")
    normalized: list[Normalized] = []
    rejected: list[Rejection] = []
    for batch in batches:
        for raw in batch.messages:
            for out in normalize(raw, norm_context(raw, settings, kind, data_dir)):
                if isinstance(out, Normalized):
                    normalized.append(out)
                else:
                    rejected.append(out)
    return Drained(batches, state, normalized, rejected)
