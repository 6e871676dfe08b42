"""X (Twitter) channel: recent search for the office's hashtags and mentions (``kind: twitter``).

Why it is built this way:

* **Checkpoint = since_id, one page per batch.** A sweep asks for everything newer than
  ``since_id`` and walks ``next_token`` pages (newest first, older and older). Each ``fetch``
  returns ONE page as one ``RawMessage`` whose payload is the response body byte for byte. The
  state after a middle page keeps ``since_id`` unchanged and records ``next_token`` and the
  sweep's newest id; only the state after the *last* page moves ``since_id`` to that newest id.
  Tweets posted during a sweep are newer than its first page, so the next sweep gets them.
* **Crash mid-sweep.** The runtime saves a batch's state only once the queue confirmed the page,
  so after a crash the adapter resumes from the saved ``next_token``: the page being fetched when
  it crashed is fetched again (the record id is deterministic, so downstream it is the same
  record, not a double) and nothing older is skipped. If X rejects that token (tokens expire),
  the sweep is re-run from ``since_id``: some pages are read twice (idempotent downstream, at the
  cost of read budget), none are lost. If ``since_id`` itself is refused (the channel was off for
  more than the 7 days recent search covers) the sweep restarts from the oldest time the API
  allows and a warning says tweets before it could not be read.
* **First run** starts ``lookback_days`` back (at most 7: the API's limit). A sweep that finds
  nothing while there is no ``since_id`` yet remembers when it started, so the next one does not
  re-read the same window.
* **Rate limits.** A 429 waits until ``x-rate-limit-reset`` if that is within
  ``max_rate_limit_wait`` (logged, and interrupted by shutdown); otherwise the fetch gives up
  until the next poll. ``x-rate-limit-remaining`` running low spreads the remaining requests
  over the rest of the window instead of running into the wall. 5xx and connection errors are
  retried with exponential backoff (tenacity). 401/403 raise ``ChannelUnhealthy``: no retry
  fixes a revoked token or a plan without search access.
* **Monthly read budget.** Tweets read are counted in the state (it is saved with each page, so
  the count survives restarts), a warning is logged at 80 % of ``monthly_read_cap`` and the
  channel stops at the cap. The month is the UTC calendar month.
* **Photos** are downloaded into the attachment store when ``download_media`` is on; their store
  facts travel in ``RawMessage.meta["media"]`` for the (pure) normalizer.

The X API host is hard-coded in tweepy; tests mount a transport adapter on ``client.session``
through the ``client_factory`` parameter of :class:`TwitterAdapter`.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import requests
import tweepy
from pydantic import Field, SecretStr, field_validator, model_validator
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from ingest.adapter import AdapterContext, BaseAdapter, Batch, ChannelUnhealthy, State
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import RawMessage
from normalizers.twitter import normalize

log = logging.getLogger(__name__)

_HASHTAG = re.compile(r"^\w{1,139}$")
_HANDLE = re.compile(r"^\w{1,15}$")
#: recent search covers 7 days; stay a little inside so a slow request is not refused
_WINDOW = timedelta(days=7) - timedelta(minutes=2)
_EXPANSIONS = ["author_id", "attachments.media_keys", "geo.place_id", "referenced_tweets.id"]
_TWEET_FIELDS = [
    "id",
    "text",
    "created_at",
    "author_id",
    "lang",
    "entities",
    "geo",
    "referenced_tweets",
    "in_reply_to_user_id",
    "attachments",
    "conversation_id",
    "note_tweet",
]
_USER_FIELDS = ["id", "name", "username"]
_MEDIA_FIELDS = ["media_key", "type", "url", "preview_image_url", "width", "height", "alt_text"]
_PLACE_FIELDS = ["id", "full_name", "name", "country", "country_code", "geo", "place_type"]


class TwitterSettings(ChannelSettings):
    """A ``kind: twitter`` entry of channels.yaml."""

    bearer_token: SecretStr | None = Field(
        default=None, description="app-only auth (Bearer token of the X project's app)"
    )
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    hashtags: list[str] = Field(default_factory=list, description="e.g. [laporpengaduan]")
    mentions: list[str] = Field(
        default_factory=list, description="account handles, e.g. [kominfo_oi]"
    )
    query: str | None = Field(
        default=None, description="a free X search query, OR-ed with the rest"
    )
    exclude_retweets: bool = True
    exclude_own_tweets: bool = Field(
        default=True,
        description="leave out tweets by the accounts in mentions (the office's own posts "
        "use its hashtags too, and are not complaints)",
    )
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2,3}$")] = None
    lookback_days: Annotated[int, Field(ge=1, le=7)] = 7
    max_results: Annotated[int, Field(ge=10, le=100)] = 100
    monthly_read_cap: Annotated[int | None, Field(gt=0)] = None
    download_media: bool = False
    media_max_bytes: Annotated[int, Field(gt=0)] = 20 * 1024 * 1024
    max_rate_limit_wait: Annotated[
        float, Field(ge=0, description="longest wait (s) for a rate-limit reset inside a fetch")
    ] = 900.0
    query_max_length: Annotated[
        int, Field(ge=1, description="512 on the Basic plan, 4096 on Pro")
    ] = 512
    request_timeout: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [t.strip().lstrip("#") for t in value]
        for tag in tags:
            if not _HASHTAG.match(tag):
                raise ValueError(f"hashtag {tag!r} must be letters, digits or _ (no spaces)")
        return tags

    @field_validator("mentions")
    @classmethod
    def _handles(cls, value: list[str]) -> list[str]:
        handles = [h.strip().lstrip("@") for h in value]
        for handle in handles:
            if not _HANDLE.match(handle):
                raise ValueError(f"handle {handle!r} must be 1-15 letters, digits or _")
        return handles

    @model_validator(mode="after")
    def _complete(self) -> TwitterSettings:
        user = [
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
        ]
        if self.bearer_token is None and not all(user):
            raise ValueError(
                "set bearer_token, or all four of consumer_key, consumer_secret, access_token "
                "and access_token_secret (from the app's Keys and tokens page on developer.x.com)"
            )
        if not (self.hashtags or self.mentions or (self.query and self.query.strip())):
            raise ValueError("nothing to search: set hashtags, mentions or query")
        if len(self.search_query()) > self.query_max_length:
            raise ValueError(
                f"the search query is {len(self.search_query())} characters, over "
                f"query_max_length {self.query_max_length}: split the hashtags over two channels"
            )
        return self

    def search_query(self) -> str:
        """The recent-search query: any of the hashtags/mentions/free query, then filters."""
        terms = [f"#{t}" for t in self.hashtags] + [f"@{h}" for h in self.mentions]
        if self.query and self.query.strip():
            free = self.query.strip()
            terms.append(f"({free})" if terms and " " in free else free)
        query = terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"
        if self.exclude_retweets:
            query += " -is:retweet"
        if self.exclude_own_tweets:
            query += "".join(f" -from:{h}" for h in self.mentions)
        if self.language:
            query += f" lang:{self.language}"
        return query


class _TimeoutSession(requests.Session):
    """tweepy passes no timeout; a hung connection must not hang the channel forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def default_client(settings: TwitterSettings) -> tweepy.Client:
    """A tweepy client answering raw ``requests.Response`` objects (the bytes are the payload)."""

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value is not None else None

    if settings.bearer_token is not None:
        client = tweepy.Client(bearer_token=secret(settings.bearer_token))
    else:
        client = tweepy.Client(
            consumer_key=secret(settings.consumer_key),
            consumer_secret=secret(settings.consumer_secret),
            access_token=secret(settings.access_token),
            access_token_secret=secret(settings.access_token_secret),
        )
    client.session = _TimeoutSession(settings.request_timeout)
    return client


ClientFactory = Callable[[TwitterSettings], tweepy.Client]
#: waits up to the given seconds; True when the runtime asked to stop meanwhile
Sleep = Callable[[float], bool]


class XApiUnavailable(RuntimeError):
    """The X API kept failing (5xx, network) after the retries; the next poll tries again."""


class _Stopped(Exception):
    """Shutdown was requested while waiting."""


@dataclass(frozen=True)
class _SweepState:
    since_id: str | None = None
    #: the lower bound used while there is no since_id yet (ISO 8601, UTC)
    start_time: str | None = None
    sweep_started_at: str | None = None
    sweep_newest_id: str | None = None
    next_token: str | None = None
    reads_this_month: int = 0
    month: str | None = None

    @classmethod
    def load(cls, state: State | None) -> _SweepState:
        s = dict(state or {})

        def opt(key: str) -> str | None:
            value = s.get(key)
            return str(value) if value not in (None, "") else None

        return cls(
            since_id=opt("since_id"),
            start_time=opt("start_time"),
            sweep_started_at=opt("sweep_started_at"),
            sweep_newest_id=opt("sweep_newest_id"),
            next_token=opt("next_token"),
            reads_this_month=int(s.get("reads_this_month") or 0),
            month=opt("month"),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "since_id": self.since_id,
            "start_time": self.start_time,
            "sweep_started_at": self.sweep_started_at,
            "sweep_newest_id": self.sweep_newest_id,
            "next_token": self.next_token,
            "reads_this_month": self.reads_this_month,
            "month": self.month,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _newer(a: str | None, b: str | None) -> str | None:
    """The newer of two tweet ids (ids are Snowflakes: numerically ordered by time)."""
    if a is None or b is None:
        return a or b
    return a if int(a) >= int(b) else b


class TwitterAdapter(BaseAdapter):
    """Walks recent-search sweeps page by page; see the module docstring for the guarantees."""

    def __init__(
        self,
        settings: TwitterSettings,
        ctx: AdapterContext,
        *,
        client_factory: ClientFactory = default_client,
        clock: Callable[[], float] = time.time,
        sleep: Sleep | None = None,
        retry_attempts: int = 4,
        backoff_base: float = 1.0,
    ) -> None:
        self.settings = settings
        self.ctx = ctx
        self.client = client_factory(settings)
        self.client.return_type = requests.Response
        self.query = settings.search_query()
        self._clock = clock
        self._sleep: Sleep = sleep if sleep is not None else ctx.stop.wait
        self._retry_attempts = retry_attempts
        self._backoff_base = backoff_base
        #: no request before this time (rate-limit pacing); in memory: a restart re-learns it
        self._not_before = 0.0

    # -- the Adapter protocol ------------------------------------------------------------------

    def fetch(self, state: State | None) -> Batch:
        now = self._now()
        st = self._roll_month(_SweepState.load(state), now)
        self._check_budget(st, now)
        try:
            fetched = self._fetch_page(st, now)
        except _Stopped:
            fetched = None
        if fetched is None:  # stopped, or rate-limited beyond max_rate_limit_wait
            return Batch([], st.dump(), more=False)
        st, response = fetched
        return self._page_batch(st, response)

    def close(self) -> None:
        self.client.session.close()

    # -- one page ------------------------------------------------------------------------------

    def _fetch_page(
        self, st: _SweepState, now: datetime
    ) -> tuple[_SweepState, requests.Response] | None:
        if st.next_token is None:
            st = self._begin_sweep(st, now)
        for _ in range(3):  # at most one next_token and one since_id fallback
            try:
                response = self._request(st)
            except tweepy.BadRequest as exc:
                if st.next_token is not None:
                    log.warning(
                        "twitter channel %s: X refused the saved next_token (%s); re-running the "
                        "sweep from since_id %s (pages read again are the same records)",
                        self.ctx.channel_name,
                        _api_text(exc),
                        st.since_id,
                    )
                    st = self._begin_sweep(replace(st, next_token=None, sweep_newest_id=None), now)
                    continue
                if st.since_id is not None and "since_id" in str(exc):
                    oldest = _iso(now - _WINDOW)
                    log.warning(
                        "twitter channel %s: since_id %s is older than recent search reaches "
                        "(the channel was off for over 7 days); restarting from %s, tweets "
                        "before it cannot be read",
                        self.ctx.channel_name,
                        st.since_id,
                        oldest,
                    )
                    st = replace(st, since_id=None, start_time=oldest)
                    continue
                raise ChannelUnhealthy(
                    f"twitter channel {self.ctx.channel_name}: X rejected the search query "
                    f"{self.query!r} ({_api_text(exc)}); fix hashtags/mentions/query in "
                    "channels.yaml"
                ) from exc
            if response is None:
                return None
            return st, response
        raise ChannelUnhealthy(  # pragma: no cover - only if X keeps refusing every fallback
            f"twitter channel {self.ctx.channel_name}: X refused the sweep after falling back "
            "to a fresh sweep; check the query and the saved state"
        )

    def _begin_sweep(self, st: _SweepState, now: datetime) -> _SweepState:
        start_time = None
        if st.since_id is None:
            oldest = now - _WINDOW
            start = now - timedelta(days=self.settings.lookback_days)
            if st.start_time is not None:
                start = _parse_iso(st.start_time)
            start_time = _iso(max(start, oldest))
        return replace(st, start_time=start_time, sweep_started_at=_iso(now), sweep_newest_id=None)

    def _request(self, st: _SweepState) -> requests.Response | None:
        """One search request, rate-limit aware; None when the fetch should give up for now."""
        params: dict[str, Any] = {
            "max_results": self._page_size(st),
            "expansions": _EXPANSIONS,
            "tweet_fields": _TWEET_FIELDS,
            "user_fields": _USER_FIELDS,
            "media_fields": _MEDIA_FIELDS,
            "place_fields": _PLACE_FIELDS,
        }
        if st.since_id is not None:
            params["since_id"] = st.since_id
        elif st.start_time is not None:
            params["start_time"] = st.start_time
        if st.next_token is not None:
            params["next_token"] = st.next_token
        for _ in range(3):
            if not self._wait_for_window():
                return None
            try:
                response: requests.Response = self._retrying(
                    lambda: self.client.search_recent_tweets(
                        self.query, user_auth=self.settings.bearer_token is None, **params
                    )
                )
            except tweepy.TooManyRequests as exc:
                reset = exc.reset_time or _int_header(exc.response, "x-rate-limit-reset")
                self._not_before = float(reset) + 1 if reset else self._clock() + 60
                log.warning(
                    "twitter channel %s: rate limited by X (429) until %s",
                    self.ctx.channel_name,
                    _iso(datetime.fromtimestamp(self._not_before, UTC)),
                )
                continue
            except tweepy.Unauthorized as exc:
                raise ChannelUnhealthy(
                    f"twitter channel {self.ctx.channel_name}: X answered 401 Unauthorized "
                    f"({_api_text(exc)}): the token is invalid, revoked or regenerated; put "
                    "the app's current bearer token (or user keys) in channels.yaml/env and "
                    "restart the channel"
                ) from exc
            except tweepy.Forbidden as exc:
                raise ChannelUnhealthy(
                    f"twitter channel {self.ctx.channel_name}: X answered 403 Forbidden "
                    f"({_api_text(exc)}): the app's plan or project does not allow recent "
                    "search, or the app is suspended; attach the app to a project with search "
                    "access (Basic or higher) in the X developer portal, then restart the channel"
                ) from exc
            self._pace(response)
            return response
        log.warning(
            "twitter channel %s: still rate limited after waiting; trying at the next poll",
            self.ctx.channel_name,
        )
        return None

    def _retrying(self, call: Callable[[], requests.Response]) -> requests.Response:
        def before_sleep(rs: Any) -> None:
            log.warning(
                "twitter channel %s: X API failed (%s); retry %d of %d in %.1fs",
                self.ctx.channel_name,
                rs.outcome.exception() if rs.outcome else "?",
                rs.attempt_number,
                self._retry_attempts - 1,
                rs.next_action.sleep if rs.next_action else 0.0,
            )

        def sleep(seconds: float) -> None:
            if self._sleep(seconds):
                raise _Stopped

        retrying = Retrying(
            sleep=sleep,
            stop=stop_after_attempt(self._retry_attempts),
            wait=wait_exponential(multiplier=self._backoff_base, max=60),
            retry=retry_if_exception_type(
                (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout)
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(call)
        except (tweepy.TwitterServerError, requests.ConnectionError, requests.Timeout) as exc:
            raise XApiUnavailable(
                f"twitter channel {self.ctx.channel_name}: X API still failing after "
                f"{self._retry_attempts} attempts ({exc}); the next poll tries again"
            ) from exc

    # -- rate limits ---------------------------------------------------------------------------

    def _wait_for_window(self) -> bool:
        """Wait until a request is allowed; False when it is too far off or we must stop."""
        delay = self._not_before - self._clock()
        if delay <= 0:
            return True
        if delay > self.settings.max_rate_limit_wait:
            log.warning(
                "twitter channel %s: next request allowed in %.0fs, beyond max_rate_limit_wait "
                "%.0fs; trying at the next poll",
                self.ctx.channel_name,
                delay,
                self.settings.max_rate_limit_wait,
            )
            return False
        log.info(
            "twitter channel %s: waiting %.1fs for the X rate limit", self.ctx.channel_name, delay
        )
        if self._sleep(delay):
            raise _Stopped
        return True

    def _pace(self, response: requests.Response) -> None:
        """Spread the requests left in the rate-limit window over its remaining time."""
        remaining = _int_header(response, "x-rate-limit-remaining")
        limit = _int_header(response, "x-rate-limit-limit")
        reset = _int_header(response, "x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        now = self._clock()
        if remaining <= 0:
            self._not_before = reset + 1.0
        elif remaining < max(2, (limit or 0) // 10):
            self._not_before = now + max(0.0, reset - now) / remaining
        else:
            self._not_before = 0.0

    # -- the month's read budget ---------------------------------------------------------------

    def _roll_month(self, st: _SweepState, now: datetime) -> _SweepState:
        month = f"{now:%Y-%m}"
        return st if st.month == month else replace(st, month=month, reads_this_month=0)

    def _check_budget(self, st: _SweepState, now: datetime) -> None:
        cap = self.settings.monthly_read_cap
        if cap is not None and st.reads_this_month >= cap:
            first = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
            raise ChannelUnhealthy(
                f"twitter channel {self.ctx.channel_name}: monthly read cap reached "
                f"({st.reads_this_month} of {cap} tweets read in {st.month}); raise "
                f"monthly_read_cap in channels.yaml or wait until {first:%Y-%m-%d} 00:00 UTC"
            )

    def _page_size(self, st: _SweepState) -> int:
        cap = self.settings.monthly_read_cap
        size = self.settings.max_results
        if cap is not None:
            size = min(size, max(10, cap - st.reads_this_month))
        return size

    def _count_reads(self, st: _SweepState, count: int) -> _SweepState:
        cap = self.settings.monthly_read_cap
        reads = st.reads_this_month + count
        if cap is not None and st.reads_this_month < 0.8 * cap <= reads:
            log.warning(
                "twitter channel %s: %d of the monthly read cap of %d tweets used (80%%) in %s; "
                "the channel stops at the cap",
                self.ctx.channel_name,
                reads,
                cap,
                st.month,
            )
        return replace(st, reads_this_month=reads)

    # -- turning a response into a batch -------------------------------------------------------

    def _page_batch(self, st: _SweepState, response: requests.Response) -> Batch:
        body = response.content
        try:
            page = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise XApiUnavailable(
                f"twitter channel {self.ctx.channel_name}: X answered {response.status_code} "
                f"with a body that is not JSON ({exc}); the next poll tries again"
            ) from exc
        page = page if isinstance(page, dict) else {}
        data = page.get("data") if isinstance(page.get("data"), list) else []
        meta = page.get("meta") if isinstance(page.get("meta"), dict) else {}
        assert isinstance(data, list)
        assert isinstance(meta, dict)
        token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
        newest = meta.get("newest_id")
        if newest is None and data:
            newest = max((str(t["id"]) for t in data if isinstance(t, dict) and "id" in t), key=int)

        used_token = st.next_token
        st = self._count_reads(st, len(data))
        sweep_newest = _newer(st.sweep_newest_id, str(newest) if newest is not None else None)
        if token:
            st = replace(st, sweep_newest_id=sweep_newest, next_token=token)
        else:
            start_time = st.start_time
            if sweep_newest is None and st.since_id is None and st.sweep_started_at is not None:
                # nothing found yet: next time start where this sweep started, not look back again
                start_time = _iso(_parse_iso(st.sweep_started_at) - timedelta(seconds=30))
            st = replace(
                st,
                since_id=sweep_newest or st.since_id,
                start_time=None if sweep_newest or st.since_id else start_time,
                sweep_started_at=None,
                sweep_newest_id=None,
                next_token=None,
            )

        messages: list[RawMessage] = []
        if data or page.get("errors"):
            raw_meta: dict[str, Any] = {"query": self.query, "next_token": used_token}
            if self.settings.download_media:
                raw_meta["media"] = self._download_media(page)
            messages.append(
                RawMessage(payload=body, content_type="application/json", meta=raw_meta)
            )
        return Batch(messages, st.dump(), more=token is not None)

    def _download_media(self, page: Mapping[str, Any]) -> dict[str, Any]:
        includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
        assert isinstance(includes, dict)
        media = includes.get("media") if isinstance(includes.get("media"), list) else []
        assert isinstance(media, list)
        out: dict[str, Any] = {}
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                continue
            url, key = item.get("url"), item.get("media_key")
            if not isinstance(url, str) or not isinstance(key, str):
                continue
            stored = self._download(url)
            if stored is not None:
                out[key] = stored
        return out

    def _download(self, url: str) -> dict[str, Any] | None:
        limit = self.settings.media_max_bytes

        def chunks(resp: requests.Response) -> Any:
            seen = 0
            for chunk in resp.iter_content(64 * 1024):
                seen += len(chunk)
                if seen > limit:
                    raise ValueError(f"larger than media_max_bytes ({limit})")
                yield chunk

        try:
            with self.client.session.get(url, stream=True) as resp:
                resp.raise_for_status()
                content_type = resp.headers.get("content-type", "image/jpeg").split(";")[0]
                blob = self.ctx.attachments.put_stream(chunks(resp))
        except (requests.RequestException, ValueError, OSError) as exc:
            log.warning(
                "twitter channel %s: photo %s not downloaded (%s); the record links to it instead",
                self.ctx.channel_name,
                url,
                exc,
            )
            return None
        return {
            "sha256": blob.sha256,
            "size": blob.size,
            "content_type": content_type,
            "uri": blob.uri,
            "filename": posixpath.basename(urlsplit(url).path) or blob.sha256,
            "url": url,
        }

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)


def _int_header(response: Any, name: str) -> int | None:
    headers = getattr(response, "headers", None) or {}
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _api_text(exc: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in exc.api_messages) or str(exc).splitlines()[0]


def make_adapter(settings: ChannelSettings, ctx: AdapterContext) -> TwitterAdapter:
    if not isinstance(settings, TwitterSettings):
        raise TypeError(f"twitter adapter needs TwitterSettings, got {type(settings).__name__}")
    return TwitterAdapter(settings, ctx)


PLUGIN = ChannelPlugin(
    kind="twitter",
    settings=TwitterSettings,
    normalize=normalize,
    adapter=make_adapter,
)
