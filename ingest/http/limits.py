"""Limits of the intake service: body size, requests per sender, and the recent-id cache.

All of it lives in the app instance (per process), never at module level. Behind several
worker processes each keeps its own counts: the limits are a guard against a runaway gateway or
a flooding sender, not an accounting system.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


def _json_error(status: int, detail: str, headers: dict[str, str] | None = None) -> list[Message]:
    body = json.dumps({"detail": detail}).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ] + [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return [
        {"type": "http.response.start", "status": status, "headers": raw_headers},
        {"type": "http.response.body", "body": body},
    ]


class BodyLimitMiddleware:
    """Answers 413 when a request body is larger than the limit of its path.

    A declared ``Content-Length`` over the limit is refused before reading anything; a chunked
    body is counted as it streams and refused as soon as it passes the limit, so no endpoint
    ever buffers more than the limit.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            for message in _json_error(413, f"request body over the limit of {limit} bytes"):
                await send(message)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            for message in _json_error(413, f"request body over the limit of {limit} bytes"):
                await send(message)


class RateLimiter:
    """At most ``per_minute`` requests per key in any sliding 60-second window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def check(self, key: str, per_minute: int) -> float | None:
        """None when allowed (and counted); else the seconds to wait (for Retry-After)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
                while len(self._hits) > self._max_keys:
                    self._hits.popitem(last=False)
            self._hits.move_to_end(key)
            while hits and now - hits[0] >= 60.0:
                hits.popleft()
            if len(hits) >= per_minute:
                return max(1.0, 60.0 - (now - hits[0]))
            hits.append(now)
            return None


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class RecentCache:
    """The answers given to recently accepted messages, by (channel, id): a gateway's duplicate
    delivery gets the same answer without publishing again. Bounded, least recently used out.

    Only an optimisation: the report id is deterministic, so a duplicate that misses the cache
    (another process, a restart) is still stored once.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, channel: str, key: str) -> Any | None:
        with self._lock:
            value = self._items.get((channel, key))
            if value is not None:
                self._items.move_to_end((channel, key))
            return value

    def put(self, channel: str, key: str, value: Any) -> None:
        with self._lock:
            self._items[(channel, key)] = value
            self._items.move_to_end((channel, key))
            while len(self._items) > self._size:
                self._items.popitem(last=False)
