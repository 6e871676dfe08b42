"""Facebook page and Instagram account channels, polled through facebook-sdk's GraphAPI.

Sources (``sources`` in channels.yaml):

* Facebook: ``feed`` (posts on the page by visitors), ``comments`` (comments and replies on the
  page's recent posts), ``messenger`` (conversations and their messages);
* Instagram: ``comments`` (on the account's recent media, with replies) and ``mentions`` (media
  tagging the account).

Every ``fetch`` makes one Graph request and returns at most one raw message: the response page as
received, except that the access token is blanked out (real ``paging.next`` URLs carry it, and
raw payloads are archived). Bookkeeping pages (the list of posts, conversations or media, used
only to find what changed) and pages holding nothing new to report produce no message.
``more`` stays True until every source finished its sweep, so the runtime fetches again at once.

The checkpoint keeps, per source, where paging stands (the ``paging.next`` URL without its token)
and, per thread (post, conversation, media), the newest item handled: its time and the ids at that
time. The watermark travels to the normalizer in ``meta["after"]``, which skips what was handled, so
a page straddling the checkpoint does not produce a record twice and a new message in an old
conversation is picked up exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import mimetypes
import posixpath
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import facebook
import requests
from pydantic import Field, SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from ingest.adapter import AdapterContext, BaseAdapter, Batch, ChannelUnhealthy, State
from ingest.attachments import AttachmentStore
from ingest.registry import ChannelPlugin, ChannelSettings
from ingest.webhooks.facebook import webhook_router
from normalizers import facebook as fbnorm
from normalizers.base import RawMessage

log = logging.getLogger(__name__)

#: Graph API version used when channels.yaml does not say. Versions live about two years.
DEFAULT_GRAPH_VERSION = "v21.0"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/"
#: Graph error codes meaning "slow down": app, user, page (BUC) and per-call limits.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
#: Codes meaning the token or its permissions are gone: a person has to act.
_AUTH_CODES = frozenset({102, 190})
_PERMISSION_CODES = frozenset({10, *range(200, 300)})
#: "Unsupported get request" / "object does not exist": retrying does not help
_MISSING_CODE = 100

FEED_FIELDS = (
    "id,message,created_time,updated_time,from{id,name},"
    "attachments{type,media_type,media,url,subattachments},full_picture,place,permalink_url"
)
COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},attachment,permalink_url"
MESSAGE_FIELDS = (
    "id,message,created_time,from,to,"
    "attachments{id,mime_type,name,size,image_data,video_data,file_url}"
)
IG_COMMENT_FIELDS = (
    "id,text,timestamp,username,from,parent_id,replies{id,text,timestamp,username,from,parent_id}"
)
IG_TAG_FIELDS = "id,caption,timestamp,username,media_type,media_url,permalink"

T = TypeVar("T")
FacebookSource = Literal["feed", "comments", "messenger"]
InstagramSource = Literal["comments", "mentions"]
FACEBOOK_SOURCES: tuple[FacebookSource, ...] = ("feed", "comments", "messenger")
INSTAGRAM_SOURCES: tuple[InstagramSource, ...] = ("comments", "mentions")


# --- settings -------------------------------------------------------------------------------------


class GraphChannelSettings(ChannelSettings):
    """What Facebook and Instagram channels share."""

    access_token: SecretStr = Field(
        description="page access token (long-lived), e.g. ${FB_PAGE_TOKEN}"
    )
    app_secret: SecretStr | None = Field(
        default=None,
        description="the app's secret: enables appsecret_proof on every call and is required "
        "to verify webhook signatures (X-Hub-Signature-256)",
    )
    verify_token: SecretStr | None = Field(
        default=None, description="the token you typed in the app's webhook settings"
    )
    graph_version: Annotated[str, Field(pattern=r"^v\d+\.\d+$")] = DEFAULT_GRAPH_VERSION
    graph_url: str = Field(
        default=DEFAULT_GRAPH_URL, description="Graph API base URL (a proxy, or a test fake)"
    )
    page_size: Annotated[int, Field(gt=0, le=100)] = 25
    initial_lookback_days: Annotated[float, Field(gt=0)] = 7.0
    window_days: Annotated[float, Field(gt=0)] = Field(
        default=30.0, description="comments are polled on posts/media this recent"
    )
    download_media: bool = True
    max_media_bytes: Annotated[int, Field(gt=0)] = 25 * 1024 * 1024
    timeout: Annotated[float, Field(gt=0)] = 30.0
    max_attempts: Annotated[int, Field(ge=1)] = 5
    retry_backoff: Annotated[float, Field(ge=0)] = 2.0
    rate_limit_backoff: Annotated[float, Field(ge=0)] = 60.0
    rate_limit_max_wait: Annotated[float, Field(ge=0)] = 900.0


class FacebookSettings(GraphChannelSettings):
    kind: Literal["facebook"] = "facebook"
    page_id: Annotated[str, Field(min_length=1)]
    sources: list[FacebookSource] = Field(default_factory=lambda: list(FACEBOOK_SOURCES))
    feed_edge: Literal["feed", "visitor_posts", "tagged"] = Field(
        default="feed",
        description="where the feed source reads: the page timeline (posts by anyone), only "
        "visitors' posts, or posts tagging the page",
    )


class InstagramSettings(GraphChannelSettings):
    kind: Literal["instagram"] = "instagram"
    ig_user_id: Annotated[str, Field(min_length=1, description="the Instagram business account id")]
    username: str | None = Field(default=None, description="the account's own @username")
    sources: list[InstagramSource] = Field(default_factory=lambda: list(INSTAGRAM_SOURCES))


# --- the Graph client ----------------------------------------------------------------------------


class GraphUnavailable(Exception):
    """The Graph API kept failing after every retry; the next poll tries again."""


class GraphObjectMissing(GraphUnavailable):
    """Graph error 100 on a read: the object is gone (a deleted post) or the call is invalid."""


class _Interrupted(Exception):
    """The runtime is stopping: give up waiting and return what we have."""


@dataclass(frozen=True)
class GraphPage:
    body: bytes
    data: dict[str, Any]

    @property
    def items(self) -> list[dict[str, Any]]:
        found = self.data.get("data")
        return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []

    @property
    def next(self) -> str | None:
        paging = self.data.get("paging")
        nxt = paging.get("next") if isinstance(paging, dict) else None
        return nxt if isinstance(nxt, str) and nxt else None


class GraphClient(facebook.GraphAPI):  # type: ignore[misc]  # facebook-sdk ships no types
    """facebook-sdk's GraphAPI on a current Graph version, against a configurable base URL.

    Why a subclass: facebook-sdk 3.1.0 (the last release) validates ``version`` in its
    constructor against a list that ends at 3.1, and Graph versions that old were retired years
    ago. We construct it without a version and set ``self.version`` afterwards, which is the only
    way to talk to a live API with it. Its base URL is the module global ``FACEBOOK_GRAPH_URL``;
    mutating that would redirect every client in the process, so ``request`` is overridden to use
    this instance's ``base_url`` (also where ``appsecret_proof`` is added and the raw response
    bytes are kept, which the SDK's ``request`` throws away).
    """

    def __init__(
        self,
        access_token: str,
        *,
        version: str = DEFAULT_GRAPH_VERSION,
        base_url: str = DEFAULT_GRAPH_URL,
        app_secret: str | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(access_token=access_token, timeout=timeout, session=session)
        self.version = version
        self.base_url = base_url.rstrip("/") + "/"
        self.app_secret = app_secret

    def appsecret_proof(self) -> str | None:
        """HMAC-SHA256 of the token keyed by the app secret (Graph "Require App Secret")."""
        if not self.app_secret or not self.access_token:
            return None
        return hmac.new(
            self.app_secret.encode(), str(self.access_token).encode(), hashlib.sha256
        ).hexdigest()

    def _auth_args(self) -> list[tuple[str, str]]:
        args = [("access_token", str(self.access_token))] if self.access_token else []
        proof = self.appsecret_proof()
        if proof:
            args.append(("appsecret_proof", proof))
        return args

    def _redact(self, body: bytes) -> bytes:
        """Blank the token out of a response: real ``paging.next`` URLs carry it, and raw
        payloads are archived and shown to staff, where a page token must never appear."""
        for secret in filter(None, [self.access_token, self.appsecret_proof()]):
            for form in {str(secret), quote(str(secret), safe="")}:
                body = body.replace(form.encode(), b"REDACTED")
        return body

    def get_page(self, target: str, args: Mapping[str, Any] | None = None) -> GraphPage:
        """GET a Graph path (``v21.0/123/feed``) or a token-less ``paging.next`` reference."""
        path, query = strip_auth(target)
        params = [*query, *((k, str(v)) for k, v in (args or {}).items()), *self._auth_args()]
        response = self.session.request(
            "GET", self.base_url + path.lstrip("/"), params=params, timeout=self.timeout
        )
        return GraphPage(self._redact(response.content), _decode(response))

    def request(
        self,
        path: str,
        args: dict[str, Any] | None = None,
        post_args: dict[str, Any] | None = None,
        files: Any = None,
        method: str | None = None,
    ) -> Any:
        """The SDK's entry point (``get_object``, ``get_connections``…) on our base URL."""
        params = [*(args or {}).items(), *self._auth_args()]
        response = self.session.request(
            method or ("POST" if post_args is not None else "GET"),
            self.base_url + path.lstrip("/"),
            params=params,
            data=post_args,
            files=files,
            timeout=self.timeout,
        )
        return _decode(response)


def _decode(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("error"):
        raise facebook.GraphAPIError(data)
    if response.status_code >= 400 or not isinstance(data, dict):
        raise facebook.GraphAPIError(
            {
                "error": {
                    "message": f"HTTP {response.status_code} without a Graph JSON body",
                    "code": response.status_code,
                    "type": "Transport",
                }
            }
        )
    return data


def strip_auth(target: str) -> tuple[str, list[tuple[str, str]]]:
    """Path and query of a Graph URL without host, ``access_token`` and ``appsecret_proof``.

    Used both to follow ``paging.next`` against our own base URL and to keep the token out of
    the checkpoint (which is stored in plain files).
    """
    parts = urlsplit(target)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in {"access_token", "appsecret_proof"}
    ]
    return parts.path.lstrip("/"), query


def _token_free(url: str) -> str:
    path, query = strip_auth(url)
    return f"{path}?{urlencode(query)}" if query else path


def graph_error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


# --- media --------------------------------------------------------------------------------------


def download_media(
    session: requests.Session,
    refs: list[fbnorm.MediaRef],
    store: AttachmentStore,
    *,
    max_bytes: int,
    timeout: float,
) -> dict[str, dict[str, Any]]:
    """Fetch media into the attachment store; ``{url: {sha256, size, content_type, filename}}``.

    A file that fails or is too big is skipped with a warning: the report still goes out (without
    that attachment), and the remote URL stays in the archived raw payload.
    """
    got: dict[str, dict[str, Any]] = {}
    for ref in refs:
        try:
            with session.get(ref.url, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                ctype = (response.headers.get("content-type") or "").split(";")[0].strip()
                seen = 0

                def chunks(resp: requests.Response = response) -> Iterator[bytes]:
                    nonlocal seen
                    for chunk in resp.iter_content(64 * 1024):
                        seen += len(chunk)
                        if seen > max_bytes:
                            raise ValueError(f"larger than max_media_bytes ({max_bytes})")
                        yield chunk

                blob = store.put_stream(chunks())
        except (requests.RequestException, ValueError, OSError) as exc:
            log.warning("media not downloaded (%s): %s", exc, _host(ref.url))
            continue
        path_type = mimetypes.guess_type(urlsplit(ref.url).path)[0]
        got[ref.url] = {
            "sha256": blob.sha256,
            "size": blob.size,
            "content_type": ref.content_type or ctype or path_type or "application/octet-stream",
            "filename": ref.filename or posixpath.basename(urlsplit(ref.url).path) or "media",
        }
    return got


def _host(url: str) -> str:
    return urlsplit(url).netloc


# --- the adapter ---------------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _time(value: Any) -> datetime | None:
    return fbnorm.parse_time(value)


def _item_time(item: Mapping[str, Any]) -> datetime | None:
    return _time(item.get("created_time") or item.get("timestamp"))


def _top(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest time on a page and the ids carrying it (a watermark candidate)."""
    timed = [(t, str(i.get("id"))) for i in items if (t := _item_time(i)) is not None]
    if not timed:
        return None
    newest = max(t for t, _ in timed)
    return {"time": _iso(newest), "ids": sorted(i for t, i in timed if t == newest)}


def _later(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The later of two watermarks (same time: the union of their ids)."""
    if not a:
        return dict(b) if b else None
    if not b:
        return dict(a)
    ta, tb = _time(a.get("time")), _time(b.get("time"))
    if ta is None or tb is None:
        return dict(a if ta is not None else b)
    if ta == tb:
        return {"time": a["time"], "ids": sorted({*a.get("ids", []), *b.get("ids", [])})}
    return dict(a if ta > tb else b)


def _oldest(items: list[dict[str, Any]]) -> datetime | None:
    times = [t for i in items if (t := _item_time(i)) is not None]
    return min(times) if times else None


class GraphAdapter(BaseAdapter):
    """One Facebook page or Instagram account; see the module docstring for the sweep."""

    #: Sweeps whose checkpoint is a timeline watermark (newest first, stop at the watermark)
    TIMELINES: Mapping[str, tuple[str, str]] = {}

    def __init__(
        self,
        settings: GraphChannelSettings,
        ctx: AdapterContext,
        *,
        owner_id: str,
        session: requests.Session | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.ctx = ctx
        self.owner_id = owner_id
        self.now = now
        secret = settings.app_secret.get_secret_value() if settings.app_secret else None
        self.graph = GraphClient(
            settings.access_token.get_secret_value(),
            version=settings.graph_version,
            base_url=settings.graph_url,
            app_secret=secret,
            timeout=settings.timeout,
            session=session,
        )
        self._media_session = requests.Session()

    def close(self) -> None:
        self.graph.session.close()
        self._media_session.close()

    # -- plumbing --

    @property
    def _stop(self) -> threading.Event:
        return self.ctx.stop

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        n = state.attempt_number
        s = self.settings
        if exc is not None and graph_error_code(exc) in RATE_LIMIT_CODES:
            return float(min(s.rate_limit_backoff * 2 ** (n - 1), s.rate_limit_max_wait))
        return float(min(s.retry_backoff * 2 ** (n - 1), 300.0))

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            log.info("%s: Graph API backing off %.1fs", self.ctx.channel_name, seconds)
        if self._stop.wait(seconds):
            raise _Interrupted

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, requests.RequestException):
            return True
        if isinstance(exc, facebook.GraphAPIError):
            code = graph_error_code(exc)
            return code not in {*_AUTH_CODES, *_PERMISSION_CODES, _MISSING_CODE}
        return False

    def _call(self, fn: Callable[[], T]) -> T:
        retrying = Retrying(
            retry=retry_if_exception(self._retryable),
            wait=self._wait,
            stop=stop_after_attempt(self.settings.max_attempts),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except facebook.GraphAPIError as exc:
            code = graph_error_code(exc)
            if code in _AUTH_CODES:
                raise ChannelUnhealthy(
                    f"re-authorization required for channel {self.ctx.channel_name!r}: the "
                    f"access token was rejected (Graph OAuthException {code}: {exc.message}). "
                    "Generate a new long-lived page access token (Meta Business Suite or the "
                    "Graph API Explorer with pages_read_engagement, pages_messaging and "
                    "pages_read_user_content; instagram_manage_comments for Instagram), put it "
                    "in the environment variable channels.yaml reads access_token from, and "
                    "restart the channel."
                ) from None
            if code in _PERMISSION_CODES:
                raise ChannelUnhealthy(
                    f"channel {self.ctx.channel_name!r} lacks a permission (Graph error {code}: "
                    f"{exc.message}). Grant it to the app and issue a new page access token."
                ) from None
            if code == _MISSING_CODE:
                raise GraphObjectMissing(
                    f"Graph API refused the request (error 100: {exc.message})"
                ) from exc
            raise GraphUnavailable(
                f"Graph API still failing after {self.settings.max_attempts} attempts "
                f"(error {code}: {exc.message}); the next poll retries"
            ) from exc
        except requests.RequestException as exc:
            # "from None": a requests error's text holds the URL, and with it the access token
            raise GraphUnavailable(
                f"Graph API unreachable after {self.settings.max_attempts} attempts "
                f"({exc.__class__.__name__}); check the network, the next poll retries"
            ) from None

    def _get(self, target: str, args: Mapping[str, Any] | None = None) -> GraphPage:
        return self._call(lambda: self.graph.get_page(target, args))

    def _get_own(self, target: str, args: Mapping[str, Any] | None = None) -> GraphPage:
        """A read on the page/account itself: "no such object" there needs a person."""
        try:
            return self._get(target, args)
        except GraphObjectMissing as exc:
            what = "page_id" if self.settings.kind == "facebook" else "ig_user_id"
            raise ChannelUnhealthy(
                f"channel {self.ctx.channel_name!r}: the Graph API does not let this token read "
                f"{self.owner_id} ({exc}). Check {what} in channels.yaml, that the token is a "
                f"token of that page, and graph_version (now {self.settings.graph_version})."
            ) from None

    def _edge(self, node: str, edge: str) -> str:
        return f"{self.settings.graph_version}/{node}/{edge}"

    def _message(self, page: GraphPage, meta: dict[str, Any]) -> RawMessage | None:
        """The page as a raw message, or None when it holds nothing to report."""
        meta = {"page_id": self.owner_id, **meta}
        if isinstance(self.settings, InstagramSettings) and self.settings.username:
            meta["username"] = self.settings.username
        raw = RawMessage(page.body, "application/json", meta=meta)
        plain = self.settings.model_dump(mode="json")
        wanted = fbnorm.items(raw, plain, self.settings.kind)
        if not wanted:
            return None
        if self.settings.download_media:
            refs = fbnorm.media_wanted(raw, plain, self.settings.kind)
            if refs:
                media = download_media(
                    self._media_session,
                    refs,
                    self.ctx.attachments,
                    max_bytes=self.settings.max_media_bytes,
                    timeout=self.settings.timeout,
                )
                if media:
                    raw = RawMessage(page.body, "application/json", meta={**meta, "media": media})
        return raw

    # -- the sweep --

    def sources(self) -> list[str]:
        return list(getattr(self.settings, "sources", []))

    def fetch(self, state: State | None) -> Batch:
        st: dict[str, Any] = json.loads(json.dumps(dict(state or {})))
        now = self.now()
        st.setdefault("origin", _iso(now - timedelta(days=self.settings.initial_lookback_days)))
        queue = st.get("queue")
        if not queue:
            queue = self.sources()
            st["queue"] = queue
        if not queue:
            return Batch([], st, more=False)
        source = queue[0]
        sub: dict[str, Any] = st.setdefault(source, {})
        try:
            message, done = self._step(source, sub, st, now)
        except _Interrupted:
            return Batch([], dict(state or {}), more=False)
        if done:
            queue.pop(0)
        return Batch([message] if message else [], st, more=bool(queue))

    def _step(
        self, source: str, sub: dict[str, Any], st: dict[str, Any], now: datetime
    ) -> tuple[RawMessage | None, bool]:
        if source in self.TIMELINES:
            return self._timeline_step(source, sub, st)
        return self._thread_step(source, sub, st, now)

    def _timeline_step(
        self, source: str, sub: dict[str, Any], st: dict[str, Any]
    ) -> tuple[RawMessage | None, bool]:
        edge, fields = self.TIMELINES[source]
        if source == "feed" and isinstance(self.settings, FacebookSettings):
            edge = self.settings.feed_edge
        mark: dict[str, Any] = sub.get("mark") or {"time": st["origin"], "ids": []}
        if sub.get("next"):
            page = self._get_own(sub["next"])
        else:
            args: dict[str, Any] = {"fields": fields, "limit": self.settings.page_size}
            mark_time = _time(mark["time"])
            if self.settings.kind == "facebook" and mark_time is not None:
                args["since"] = int(mark_time.timestamp())
            page = self._get_own(self._edge(self.owner_id, edge), args)
        items = page.items
        sub["top"] = _later(sub.get("top"), _top(items))
        message = self._message(page, {"source": source, "after": mark})
        oldest = _oldest(items)
        mark_time = _time(mark["time"])
        if page.next and items and (oldest is None or mark_time is None or oldest >= mark_time):
            sub["next"] = _token_free(page.next)
            return message, False
        sub["mark"] = _later(mark, sub.pop("top", None))
        sub.pop("next", None)
        return message, True

    # thread sources: "comments" (posts or IG media) and "messenger" (conversations)

    def _listing(self, source: str, now: datetime) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _changed(
        self, source: str, item: dict[str, Any], sub: dict[str, Any], now: datetime
    ) -> tuple[bool, bool, str | None]:
        """(changed?, keep listing?, the marker to remember) for one listed container."""
        raise NotImplementedError

    def _child(self, source: str, thread_id: str) -> tuple[str, dict[str, Any], str, bool]:
        """(path, args, meta key, stop early at the watermark?) of a thread's items."""
        raise NotImplementedError

    def _thread_step(
        self, source: str, sub: dict[str, Any], st: dict[str, Any], now: datetime
    ) -> tuple[RawMessage | None, bool]:
        """Listing first (which containers changed), then the changed threads, page by page."""
        if not sub.get("active"):
            # floor: what the previous sweep covered (first sweep: the look-back start)
            floor = sub.get("mark") or st["origin"]
            sub.update(active=True, listing=True, seen=[], pending=[], cur=None, floor=floor)
            sub.pop("list_next", None)
        sub.setdefault("threads", {})
        if sub["listing"]:
            self._list_step(source, sub, now)
            if sub["listing"] or sub["pending"]:
                return None, False
            return None, self._finish(sub)
        if sub.get("cur") is None:
            thread_id, marker = sub["pending"].pop(0)
            sub["cur"] = {"id": thread_id, "u": marker}
        message = self._read_thread(source, sub, st, sub["cur"])
        if sub["cur"] is None and not sub["pending"]:
            return message, self._finish(sub)
        return message, False

    def _list_step(self, source: str, sub: dict[str, Any], now: datetime) -> None:
        if sub.get("list_next"):
            page = self._get_own(sub["list_next"])
        else:
            path, args = self._listing(source, now)
            page = self._get_own(path, args)
        keep = True
        for item in page.items:
            changed, keep, marker = self._changed(source, item, sub, now)
            if not keep:
                break
            sub["seen"].append(str(item.get("id")))
            if changed:
                sub["pending"].append([str(item["id"]), marker])
        if keep and page.next:
            sub["list_next"] = _token_free(page.next)
            return
        sub.pop("list_next", None)
        sub["listing"] = False
        self._end_listing(source, sub, sub["threads"])

    def _end_listing(self, source: str, sub: dict[str, Any], threads: dict[str, Any]) -> None:
        """Forget threads that will not be polled again (hook)."""

    def _finish(self, sub: dict[str, Any]) -> bool:
        for key in ("active", "listing", "seen", "pending", "cur", "list_next", "floor"):
            sub.pop(key, None)
        if "sweep_mark" in sub:
            sub["mark"] = sub.pop("sweep_mark")
        return True

    def _read_thread(
        self, source: str, sub: dict[str, Any], st: dict[str, Any], cur: dict[str, Any]
    ) -> RawMessage | None:
        threads: dict[str, Any] = sub["threads"]
        thread_id = cur["id"]
        known = threads.get(thread_id, {})
        after = known.get("after") or {"time": self._thread_floor(sub, st), "ids": []}
        path, args, key, early = self._child(source, thread_id)
        try:
            page = self._get(cur["next"]) if cur.get("next") else self._get(path, args)
        except GraphObjectMissing:
            log.warning(
                "%s: %s %s vanished (deleted?); skipped", self.ctx.channel_name, key, thread_id
            )
            threads.pop(thread_id, None)
            sub["cur"] = None
            return None
        items = page.items
        cur["top"] = _later(cur.get("top"), _top(items))
        message = self._message(
            page, {"source": self._child_source(source), key: thread_id, "after": after}
        )
        oldest = _oldest(items)
        floor = _time(after["time"])
        stop_here = early and oldest is not None and floor is not None and oldest < floor
        if page.next and items and not stop_here:
            cur["next"] = _token_free(page.next)
            return message
        threads[thread_id] = {"u": cur.get("u"), "after": _later(after, cur.get("top"))}
        sub["cur"] = None
        return message

    def _thread_floor(self, sub: dict[str, Any], st: dict[str, Any]) -> str:
        return str(st["origin"])

    def _child_source(self, source: str) -> str:
        return source


class FacebookAdapter(GraphAdapter):
    TIMELINES: Mapping[str, tuple[str, str]] = {"feed": ("feed", FEED_FIELDS)}

    def __init__(self, settings: FacebookSettings, ctx: AdapterContext, **kw: Any) -> None:
        super().__init__(settings, ctx, owner_id=settings.page_id, **kw)

    def _child_source(self, source: str) -> str:
        return "messages" if source == "messenger" else "comments"

    def _listing(self, source: str, now: datetime) -> tuple[str, dict[str, Any]]:
        if source == "messenger":
            return self._edge(self.owner_id, "conversations"), {
                "fields": "id,updated_time",
                "limit": self.settings.page_size,
            }
        since = now - timedelta(days=self.settings.window_days)
        return self._edge(self.owner_id, "feed"), {
            "fields": "id,created_time,updated_time",
            "limit": 100,
            "since": int(since.timestamp()),
        }

    def _changed(
        self, source: str, item: dict[str, Any], sub: dict[str, Any], now: datetime
    ) -> tuple[bool, bool, str | None]:
        updated = _time(item.get("updated_time"))
        marker = item.get("updated_time")
        known = sub["threads"].get(str(item.get("id")), {})
        seen_u = _time(known.get("u"))
        if source == "messenger":
            floor = _time(sub.get("floor"))
            if updated is not None and floor is not None and updated <= floor:
                return False, False, marker
            if updated is not None and "sweep_mark" not in sub:
                sub["sweep_mark"] = _iso(updated)
            return seen_u is None or updated is None or updated > seen_u, True, marker
        created = _time(item.get("created_time"))
        if created is not None and created < now - timedelta(days=self.settings.window_days):
            return False, False, marker
        return seen_u is None or updated is None or updated > seen_u, True, marker

    def _child(self, source: str, thread_id: str) -> tuple[str, dict[str, Any], str, bool]:
        if source == "messenger":
            return (
                self._edge(thread_id, "messages"),
                {"fields": MESSAGE_FIELDS, "limit": self.settings.page_size},
                "conversation_id",
                True,
            )
        return (
            self._edge(thread_id, "comments"),
            {
                "fields": COMMENT_FIELDS,
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": self.settings.page_size,
            },
            "post_id",
            True,
        )

    def _thread_floor(self, sub: dict[str, Any], st: dict[str, Any]) -> str:
        # a conversation not remembered (new, or pruned) is new since the last sweep's listing
        return str(sub.get("floor") or st["origin"])

    def _end_listing(self, source: str, sub: dict[str, Any], threads: dict[str, Any]) -> None:
        if source == "comments":  # posts out of the window are never polled again
            seen = set(sub.get("seen", []))
            for key in [k for k in threads if k not in seen]:
                del threads[key]
        elif len(threads) > 2000:  # keep the most recently updated conversations
            ordered = sorted(threads, key=lambda k: str(threads[k].get("u") or ""))
            for key in ordered[: len(threads) - 2000]:
                del threads[key]


class InstagramAdapter(GraphAdapter):
    TIMELINES: Mapping[str, tuple[str, str]] = {"mentions": ("tags", IG_TAG_FIELDS)}

    def __init__(self, settings: InstagramSettings, ctx: AdapterContext, **kw: Any) -> None:
        super().__init__(settings, ctx, owner_id=settings.ig_user_id, **kw)

    def _child_source(self, source: str) -> str:
        return "ig_comments"

    def _listing(self, source: str, now: datetime) -> tuple[str, dict[str, Any]]:
        return self._edge(self.owner_id, "media"), {
            "fields": "id,timestamp,comments_count",
            "limit": self.settings.page_size,
        }

    def _changed(
        self, source: str, item: dict[str, Any], sub: dict[str, Any], now: datetime
    ) -> tuple[bool, bool, str | None]:
        created = _time(item.get("timestamp"))
        if created is not None and created < now - timedelta(days=self.settings.window_days):
            return False, False, None
        count = item.get("comments_count")
        marker = str(count) if count is not None else None
        known = sub["threads"].get(str(item.get("id")), {})
        if count == 0 and not known:
            return False, True, marker
        return known.get("u") != marker or marker is None, True, marker

    def _child(self, source: str, thread_id: str) -> tuple[str, dict[str, Any], str, bool]:
        # replies are nested under their comment, so a new reply can sit on an old comment:
        # read every page (the watermark in meta still keeps old items out)
        return (
            self._edge(thread_id, "comments"),
            {"fields": IG_COMMENT_FIELDS, "limit": self.settings.page_size},
            "media_id",
            False,
        )

    def _end_listing(self, source: str, sub: dict[str, Any], threads: dict[str, Any]) -> None:
        seen = set(sub.get("seen", []))
        for key in [k for k in threads if k not in seen]:
            del threads[key]


def facebook_adapter(settings: ChannelSettings, ctx: AdapterContext) -> FacebookAdapter:
    if not isinstance(settings, FacebookSettings):
        raise TypeError(f"expected FacebookSettings, got {type(settings).__name__}")
    return FacebookAdapter(settings, ctx)


def instagram_adapter(settings: ChannelSettings, ctx: AdapterContext) -> InstagramAdapter:
    if not isinstance(settings, InstagramSettings):
        raise TypeError(f"expected InstagramSettings, got {type(settings).__name__}")
    return InstagramAdapter(settings, ctx)


FACEBOOK_PLUGIN = ChannelPlugin(
    kind="facebook",
    settings=FacebookSettings,
    normalize=fbnorm.normalize,
    adapter=facebook_adapter,
    webhook=webhook_router,
)
INSTAGRAM_PLUGIN = ChannelPlugin(
    kind="instagram",
    settings=InstagramSettings,
    normalize=fbnorm.normalize,
    adapter=instagram_adapter,
    webhook=webhook_router,
)
