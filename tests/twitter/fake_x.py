"""A loopback fake of the X API v2 recent search (and the photo host), for the adapter tests.

It serves a small "world" (tests/twitter/fixtures/world.json: users, tweets, media, places in the
exact v2 shapes of the recorded corpus) the way the real endpoint does: newest first, filtered by
``since_id``/``start_time``, paged by ``max_results`` with opaque ``next_token``s that walk
towards older tweets, expansions and ``*.fields`` honoured, ``x-rate-limit-*`` headers on every
answer, problem documents for 400/401/403/429/503. Tests can script faults ahead of the normal
answers, add tweets while a sweep runs, expire the paging tokens and read every request made.

tweepy hard-codes ``https://api.twitter.com``: :class:`LoopbackTransport` is a requests transport
adapter that, mounted on ``client.session``, rewrites the URL to the fake and does a real HTTP
round trip to it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from ingest.adapters.twitter import TwitterSettings

FIXTURES = Path(__file__).parent / "fixtures"
TWEPOCH_MS = 1288834974657
DEFAULT_TWEET_FIELDS = {"id", "text", "edit_history_tweet_ids"}
DEFAULT_USER_FIELDS = {"id", "name", "username"}
DEFAULT_MEDIA_FIELDS = {"media_key", "type"}
DEFAULT_PLACE_FIELDS = {"id", "full_name"}


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def snowflake_time(tweet_id: str) -> datetime:
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWEPOCH_MS) / 1000, UTC)


def problem(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeX:
    """State of the fake API; the HTTP handler reads and updates it under ``lock``."""

    def __init__(self, bearer_token: str = "test-bearer", consumer_key: str = "test-ck") -> None:
        world = json.loads((FIXTURES / "world.json").read_text(encoding="utf-8"))
        self.now = parse_time(world["now"]).timestamp()
        self.users = {u["id"]: u for u in world["users"]}
        self.places = {p["id"]: p for p in world["places"]}
        self.media = {m["media_key"]: m for m in world["media"]}
        self.tweets: list[dict[str, Any]] = list(world["tweets"])
        self.bearer_token = bearer_token
        self.consumer_key = consumer_key
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.bodies: list[bytes] = []  # search bodies exactly as sent
        self.script: deque[Reply] = deque()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.rate_limit = 450
        self.rate_remaining: int | None = None  # None: counts down from rate_limit
        self.rate_reset_in = 900
        self.server: ThreadingHTTPServer | None = None

    # -- test controls -------------------------------------------------------------------------

    def add_tweet(self, author: str, text: str, minutes_after_now: float = 0.0) -> dict[str, Any]:
        """A new tweet by ``author`` (username), as if posted now (+minutes)."""
        author_id = next(u["id"] for u in self.users.values() if u["username"] == author)
        at = datetime.fromtimestamp(self.now, UTC) + timedelta(minutes=minutes_after_now)
        seq = len(self.tweets) + 1
        tweet_id = str(((int(at.timestamp() * 1000) - TWEPOCH_MS) << 22) | seq)
        tags = [
            {"start": m.start(), "end": m.end(), "tag": m.group(1)}
            for m in re.finditer(r"#(\w+)", text)
        ]
        tweet: dict[str, Any] = {
            "id": tweet_id,
            "text": text,
            "created_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": author_id,
            "lang": "in",
            "edit_history_tweet_ids": [tweet_id],
            "conversation_id": tweet_id,
        }
        if tags:
            tweet["entities"] = {"hashtags": tags}
        with self.lock:
            self.tweets.append(tweet)
        return tweet

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def searches(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/2/tweets/search/recent"]

    # -- the endpoint --------------------------------------------------------------------------

    def rate_headers(self) -> dict[str, str]:
        searches = len(self.searches())
        remaining = (
            self.rate_remaining
            if self.rate_remaining is not None
            else max(0, self.rate_limit - searches)
        )
        return {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(self.now) + self.rate_reset_in),
        }

    def authorized(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth == f"Bearer {self.bearer_token}"
        return auth.startswith("OAuth ") and f'oauth_consumer_key="{self.consumer_key}"' in auth

    def search(self, params: dict[str, str]) -> Reply:
        query = params.get("query", "")
        try:
            max_results = int(params.get("max_results", "10"))
        except ValueError:
            max_results = 0
        if not 10 <= max_results <= 100:
            return self.invalid(
                "max_results", "The `max_results` query parameter value is not between 10 and 100"
            )
        now = datetime.fromtimestamp(self.now, UTC)
        oldest = now - timedelta(days=7)
        since_id = params.get("since_id")
        if since_id is not None and snowflake_time(since_id) < oldest:
            return self.invalid(
                "since_id",
                f"Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created after "
                f"{oldest:%Y-%m-%dT%H:%MZ}. Please use a 'since_id' that is within the last 7 days.",
            )
        start_time = params.get("start_time")
        if start_time is not None and parse_time(start_time) < oldest:
            return self.invalid(
                "start_time",
                f"Invalid 'start_time':'{start_time}'. 'start_time' must be on or after "
                f"{oldest:%Y-%m-%dT%H:%MZ}",
            )
        until_id: str | None = None
        token = params.get("next_token")
        if token is not None:
            saved = self.tokens.get(token)
            if saved is None or saved["key"] != (query, since_id, start_time):
                return self.invalid(
                    "next_token", f"The `next_token` query parameter value [{token}] is not valid"
                )
            until_id = saved["until_id"]

        matches = sorted(
            (
                t
                for t in self.tweets
                if self.matches(query, t)
                and (since_id is None or int(t["id"]) > int(since_id))
                and (until_id is None or int(t["id"]) < int(until_id))
                and (start_time is None or parse_time(t["created_at"]) >= parse_time(start_time))
                and parse_time(t["created_at"]) <= now
            ),
            key=lambda t: int(t["id"]),
            reverse=True,
        )
        page, rest = matches[:max_results], matches[max_results:]
        if not page:
            return Reply(200, {"meta": {"result_count": 0}})
        body: dict[str, Any] = {"data": [self.shape(t, params) for t in page]}
        includes = self.includes(page, params)
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if rest:
            new_token = secrets.token_hex(20)
            self.tokens[new_token] = {
                "key": (query, since_id, start_time),
                "until_id": page[-1]["id"],
            }
            meta["next_token"] = new_token
        body["meta"] = meta
        return Reply(200, body)

    def invalid(self, parameter: str, message: str) -> Reply:
        return Reply(
            400,
            {
                "errors": [{"parameters": {parameter: ["..."]}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        )

    def matches(self, query: str, tweet: dict[str, Any]) -> bool:
        """Enough of the search language for the queries the adapter builds."""
        q = query
        for excluded in re.findall(r"-from:(\w+)", q):
            author = self.users.get(tweet.get("author_id", ""), {})
            if author.get("username", "").lower() == excluded.lower():
                return False
            q = q.replace(f"-from:{excluded}", "")
        refs = {r["type"] for r in tweet.get("referenced_tweets", [])}
        if "-is:retweet" in q:
            if "retweeted" in refs:
                return False
            q = q.replace("-is:retweet", "")
        lang = re.search(r"\blang:(\w+)", q)
        if lang:
            if tweet.get("lang") != lang.group(1):
                return False
            q = q.replace(lang.group(0), "")
        q = q.strip()
        if q.startswith("(") and q.endswith(")"):
            q = q[1:-1]
        text = tweet["text"].lower()
        for term in (t.strip().strip("()") for t in q.split(" OR ")):
            words = term.lower().split()
            if words and all(w in text for w in words):
                return True
        return False

    def shape(self, tweet: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        wanted = DEFAULT_TWEET_FIELDS | set(filter(None, params.get("tweet.fields", "").split(",")))
        return {k: v for k, v in tweet.items() if k in wanted}

    def includes(self, page: list[dict[str, Any]], params: dict[str, str]) -> dict[str, Any]:
        expansions = set(filter(None, params.get("expansions", "").split(",")))
        out: dict[str, Any] = {}

        def pick(obj: dict[str, Any], defaults: set[str], name: str) -> dict[str, Any]:
            wanted = defaults | set(filter(None, params.get(name, "").split(",")))
            return {k: v for k, v in obj.items() if k in wanted}

        referenced = [
            t
            for r in (ref for tw in page for ref in tw.get("referenced_tweets", []))
            for t in self.tweets
            if t["id"] == r["id"]
        ]
        if "attachments.media_keys" in expansions:
            keys = [k for t in page for k in t.get("attachments", {}).get("media_keys", [])]
            media = [
                pick(self.media[k], DEFAULT_MEDIA_FIELDS, "media.fields")
                for k in dict.fromkeys(keys)
            ]
            if media:
                out["media"] = media
        if "geo.place_id" in expansions:
            ids = [t["geo"]["place_id"] for t in page if "place_id" in t.get("geo", {})]
            places = [
                pick(self.places[i], DEFAULT_PLACE_FIELDS, "place.fields")
                for i in dict.fromkeys(ids)
            ]
            if places:
                out["places"] = places
        if "author_id" in expansions:
            ids = [t["author_id"] for t in page + referenced]
            out["users"] = [
                pick(self.users[i], DEFAULT_USER_FIELDS, "user.fields") for i in dict.fromkeys(ids)
            ]
        if "referenced_tweets.id" in expansions and referenced:
            out["tweets"] = [
                self.shape(t, params) for t in {t["id"]: t for t in referenced}.values()
            ]
        return out

    # -- serving -------------------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self.lock:
            self.requests.append(Request(method, parts.path, params, headers))
            if parts.path.startswith("/media/"):
                file = FIXTURES / parts.path.removeprefix("/media/")
                if not file.is_file():
                    return 404, {"content-type": "text/plain"}, b"not found"
                ctype = "image/png" if file.suffix == ".png" else "image/jpeg"
                return 200, {"content-type": ctype}, file.read_bytes()
            if parts.path != "/2/tweets/search/recent":
                return (
                    404,
                    {"content-type": "application/json"},
                    json.dumps(
                        problem(404, "Not Found Error", f"no fake for {parts.path}")
                    ).encode(),
                )
            rate = self.rate_headers()
            if self.script:
                reply = self.script.popleft()
            elif not self.authorized(headers):
                reply = Reply(401, problem(401, "Unauthorized", "Unauthorized"))
            else:
                reply = self.search(params)
            body = (
                json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode()
                if reply.body is not None
                else b""
            )
            if reply.status == 200:
                self.bodies.append(body)
            out_headers = {
                "content-type": "application/json; charset=utf-8",
                **rate,
                **reply.headers,
            }
            return reply.status, out_headers, body

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, headers, body = fake.handle(
                    "GET", self.path, {k.lower(): v for k, v in self.headers.items()}
                )
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def base_url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"


class LoopbackTransport(HTTPAdapter):
    """Sends what tweepy addresses to api.twitter.com (and photos on pbs.twimg.com) to the fake."""

    def __init__(self, base_url: str) -> None:
        super().__init__(max_retries=0)
        self.base = urlsplit(base_url)

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        rerouted = request.copy()
        url = urlsplit(str(request.url))
        path = (
            url.path if url.netloc == "api.twitter.com" else "/media/" + url.path.rsplit("/", 1)[-1]
        )
        rerouted.url = urlunsplit((self.base.scheme, self.base.netloc, path, url.query, ""))
        return super().send(rerouted, *args, **kwargs)

    def mount_on(self, session: requests.Session) -> None:
        session.mount("https://api.twitter.com", self)
        session.mount("https://pbs.twimg.com", self)


class SimSleep:
    """The adapter's waits, recorded; simulated time (the fake's clock) moves on instead."""

    def __init__(self, fake: FakeX) -> None:
        self.fake = fake
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.fake.now += seconds
        return False


def settings(**overrides: Any) -> TwitterSettings:
    values: dict[str, Any] = {
        "name": "x-kominfo",
        "kind": "twitter",
        "bearer_token": "test-bearer",
        "hashtags": ["laporpengaduan"],
        "mentions": ["kominfo_oi"],
        "max_results": 10,
        **overrides,
    }
    return TwitterSettings.model_validate(values)
