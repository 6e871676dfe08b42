"""The X adapter against the loopback fake: paging, crash/resume, rate limits, auth, budget, media."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ingest.adapter import AdapterContext, Batch, ChannelUnhealthy, State
from ingest.adapters.twitter import PLUGIN, TwitterAdapter, TwitterSettings, XApiUnavailable
from ingest.registry import get_plugin
from normalizers.base import NormalizeContext, Normalized, RawMessage
from normalizers.office import DEFAULT_OFFICE
from normalizers.twitter import normalize

from .fake_x import FIXTURES, FakeX, Reply, SimSleep, problem, settings

MakeAdapter = Callable[..., TwitterAdapter]


def matching_ids(fake: FakeX, since_id: str | None = None) -> set[str]:
    """What a complete sweep must deliver: every original tweet the query matches."""
    query = settings().search_query()
    return {
        t["id"]
        for t in fake.tweets
        if fake.matches(query, t) and (since_id is None or int(t["id"]) > int(since_id))
    }


def records(messages: list[RawMessage]) -> list[Normalized]:
    out: list[Normalized] = []
    for raw in messages:
        ctx = NormalizeContext(
            channel_name="x-kominfo",
            channel_kind="twitter",
            ingested_at=datetime(2026, 11, 20, tzinfo=UTC),
            raw_uri="file:///raw",
            raw_sha256=raw.sha256,
        )
        for outcome in normalize(raw, ctx):
            assert isinstance(outcome, Normalized), outcome
            out.append(outcome)
    return out


def sweep(adapter: TwitterAdapter, state: State | None) -> tuple[list[Batch], State | None]:
    """Fetch until the sweep ends, saving each batch's state as the runtime would."""
    batches: list[Batch] = []
    for _ in range(50):
        batch = adapter.fetch(state)
        batches.append(batch)
        state = batch.state
        if not batch.more:
            return batches, state
    raise AssertionError("sweep did not end")


# -- settings and plugin ---------------------------------------------------------------------


def test_plugin_is_registered_under_its_kind() -> None:
    assert get_plugin("twitter") is PLUGIN
    assert PLUGIN.settings.__name__ == "TwitterSettings"


@pytest.mark.parametrize(
    ("overrides", "query"),
    [
        ({}, "(#laporpengaduan OR @kominfo_oi) -is:retweet -from:kominfo_oi"),
        ({"exclude_own_tweets": False}, "(#laporpengaduan OR @kominfo_oi) -is:retweet"),
        ({"hashtags": ["#LaporPak"], "mentions": []}, "#LaporPak -is:retweet"),
        (
            {"mentions": ["@kominfo_oi"], "hashtags": [], "language": "in"},
            "@kominfo_oi -is:retweet -from:kominfo_oi lang:in",
        ),
        (
            {"query": "banjir ogan ilir", "exclude_retweets": False},
            "(#laporpengaduan OR @kominfo_oi OR (banjir ogan ilir)) -from:kominfo_oi",
        ),
        ({"hashtags": [], "mentions": [], "query": "jalan rusak"}, "jalan rusak -is:retweet"),
    ],
)
def test_query_is_built_from_settings(overrides: dict[str, Any], query: str) -> None:
    assert settings(**overrides).search_query() == query


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bearer_token": None}, "bearer_token, or all four"),
        ({"bearer_token": None, "consumer_key": "a"}, "bearer_token, or all four"),
        ({"hashtags": [], "mentions": []}, "nothing to search"),
        ({"hashtags": ["lapor pengaduan"]}, "no spaces"),
        ({"mentions": ["a_handle_that_is_too_long"]}, "1-15"),
        ({"lookback_days": 8}, "lookback_days"),
        ({"max_results": 5}, "max_results"),
        ({"hashtags": [f"tag{i:03d}" for i in range(60)]}, "split the hashtags"),
    ],
)
def test_bad_settings_are_refused_with_a_hint(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**overrides)


# -- sweeps and checkpoints --------------------------------------------------------------------


def test_sweep_walks_every_page_once_and_moves_since_id_with_the_last(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    adapter = make_adapter()
    batches, state = sweep(adapter, None)

    assert [b.more for b in batches] == [True, True, False]
    assert [len(b.messages) for b in batches] == [1, 1, 1]
    # payload = the response body byte for byte, one page per message
    assert [b.messages[0].payload for b in batches] == fake.bodies
    assert all(b.messages[0].content_type == "application/json" for b in batches)
    # since_id is not moved by the middle pages, only by the last
    assert [b.state["since_id"] for b in batches[:-1]] == [None, None]
    newest = max(matching_ids(fake), key=int)
    assert state is not None
    assert state["since_id"] == newest
    assert state["next_token"] is None
    assert state["reads_this_month"] == len(matching_ids(fake))

    got = [n.report.external_id for b in batches for n in records(list(b.messages))]
    assert sorted(got) == sorted(matching_ids(fake))  # nothing lost, nothing twice
    # the first sweep looked back lookback_days; the rest of the sweep kept that window
    requests = fake.searches()
    first = requests[0].params
    assert first["start_time"] == "2026-11-13T12:02:00Z"  # 7 days, kept inside the API's limit
    assert "since_id" not in first
    assert [r.params.get("next_token") for r in requests[1:]] == [
        batches[0].state["next_token"],
        batches[1].state["next_token"],
    ]
    assert first["expansions"].split(",") == [
        "author_id",
        "attachments.media_keys",
        "geo.place_id",
        "referenced_tweets.id",
    ]
    assert {"created_at", "author_id", "entities", "geo", "referenced_tweets", "lang"} <= set(
        first["tweet.fields"].split(",")
    )
    assert first["query"] == "(#laporpengaduan OR @kominfo_oi) -is:retweet -from:kominfo_oi"
    assert first["max_results"] == "10"

    # the next sweep asks only for newer tweets
    fake.now += 300
    new = fake.add_tweet("budi_oi", "Banjir di Jl. Merdeka #laporpengaduan")
    batches, state = sweep(adapter, state)
    assert fake.searches()[-1].params["since_id"] == newest
    assert "start_time" not in fake.searches()[-1].params
    assert [n.report.external_id for b in batches for n in records(list(b.messages))] == [new["id"]]
    assert state is not None
    assert state["since_id"] == new["id"]


def test_crash_between_pages_resumes_without_loss_or_double(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    confirmed: list[str] = []  # record ids the queue confirmed, in order
    saved: State | None = None

    def publish(batch: Batch) -> None:
        confirmed.extend(str(n.report.id) for n in records(list(batch.messages)))

    first = make_adapter()
    batch = first.fetch(saved)
    publish(batch)
    saved = batch.state  # page 1 confirmed, its state saved
    saved_after_page1 = dict(saved)

    # a tweet posted during the sweep belongs to the next sweep, not lost between pages
    fake.now += 60
    late = fake.add_tweet("siti_aminah", "Jalan amblas di Desa Sungai Rambutan #laporpengaduan")

    page2 = first.fetch(saved)
    publish(page2)  # page 2 reached the queue, then the process died before saving state
    first.close()

    second = make_adapter()  # restart from the persisted state: page 2 is fetched again
    batches, saved = sweep(second, saved)
    for b in batches:
        publish(b)
    # the restarted adapter asked again for page 2 with the token saved after page 1
    assert fake.searches()[2].params["next_token"] == saved_after_page1["next_token"]
    assert json.loads(fake.bodies[2])["data"] == json.loads(fake.bodies[1])["data"]  # same page 2

    # the re-walked page 2 yields the same deterministic ids: the store keeps them once
    assert len(confirmed) == len(matching_ids(fake) - {late["id"]}) + 10
    assert len(set(confirmed)) == len(matching_ids(fake) - {late["id"]})

    batches, saved = sweep(second, saved)
    got = [n.report.external_id for b in batches for n in records(list(b.messages))]
    assert got == [late["id"]]
    assert saved is not None
    assert saved["since_id"] == late["id"]


def test_expired_next_token_reruns_the_sweep_from_since_id(
    make_adapter: MakeAdapter, fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = make_adapter()
    _, state = sweep(adapter, None)
    since = state["since_id"] if state else None
    fake.now += 600
    added = [fake.add_tweet("budi_oi", f"Got macet #laporpengaduan nomor {i}") for i in range(15)]
    page1 = adapter.fetch(state)
    assert page1.more
    assert page1.state["since_id"] == since

    fake.expire_tokens()  # e.g. the process was down long enough for the token to expire
    with caplog.at_level(logging.WARNING):
        batches, state = sweep(make_adapter(), page1.state)
    assert "refused the saved next_token" in caplog.text
    rejected, rerun = fake.searches()[-3], fake.searches()[-2]
    assert rejected.params["next_token"] == page1.state["next_token"]
    assert "next_token" not in rerun.params
    assert rerun.params["since_id"] == since
    got = {n.report.external_id for b in batches for n in records(list(b.messages))}
    assert got == {t["id"] for t in added}  # all of them, the first page's included again
    assert state is not None
    assert state["since_id"] == max((t["id"] for t in added), key=int)


def test_since_id_older_than_seven_days_restarts_from_the_oldest_allowed(
    make_adapter: MakeAdapter, fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = make_adapter(max_results=100)
    _, state = sweep(adapter, None)
    fake.now += 8 * 86400  # the channel was off for eight days
    fresh = fake.add_tweet("rahmat_tani", "Irigasi sawah jebol #laporpengaduan")
    with caplog.at_level(logging.WARNING):
        batches, state = sweep(adapter, state)
    assert "older than recent search reaches" in caplog.text
    retry = fake.searches()[-1].params
    assert "since_id" not in retry
    assert parse(retry["start_time"]) >= datetime.fromtimestamp(fake.now, UTC) - timedelta(days=7)
    assert [n.report.external_id for b in batches for n in records(list(b.messages))] == [
        fresh["id"]
    ]
    assert state is not None
    assert state["since_id"] == fresh["id"]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_empty_results_give_an_empty_batch_and_no_second_lookback(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    adapter = make_adapter(hashtags=["tidakadayangpakai"], mentions=[])
    batch = adapter.fetch(None)
    assert batch.messages == []
    assert batch.more is False
    assert batch.state["since_id"] is None
    assert fake.bodies[-1] == b'{"meta":{"result_count":0}}'
    fake.now += 300
    adapter.fetch(batch.state)
    # the second sweep starts where the first started (30 s overlap), not 7 days back again
    assert fake.searches()[-1].params["start_time"] == "2026-11-20T11:59:30Z"


def test_retweets_are_excluded_by_query_and_dropped_by_the_normalizer(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    retweet = next(t for t in fake.tweets if t["text"].startswith("RT @"))
    _, _ = sweep(make_adapter(max_results=100), None)
    assert retweet["id"] not in fake.bodies[-1].decode()

    batches, _ = sweep(make_adapter(max_results=100, exclude_retweets=False), None)
    assert retweet["id"] in fake.bodies[-1].decode()  # fetched this time…
    ids = {n.report.external_id for b in batches for n in records(list(b.messages))}
    assert retweet["id"] not in ids  # …but it makes no record
    assert ids == matching_ids(fake)


def test_the_offices_own_posts_are_left_out(make_adapter: MakeAdapter, fake: FakeX) -> None:
    own = fake.add_tweet("kominfo_oi", "Sampaikan keluhan Anda dengan tagar #laporpengaduan", -1)
    _, _ = sweep(make_adapter(max_results=100), None)
    assert own["id"] not in fake.bodies[-1].decode()
    _, _ = sweep(make_adapter(max_results=100, exclude_own_tweets=False), None)
    assert own["id"] in fake.bodies[-1].decode()


def test_user_context_credentials_sign_with_oauth1(make_adapter: MakeAdapter, fake: FakeX) -> None:
    adapter = make_adapter(
        bearer_token=None,
        consumer_key="test-ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
    )
    batch = adapter.fetch(None)
    assert batch.messages
    auth = fake.searches()[0].headers["authorization"]
    assert auth.startswith("OAuth ")
    assert 'oauth_token="at"' in auth


# -- rate limits and errors --------------------------------------------------------------------


def too_many(fake: FakeX, reset_in: int) -> Reply:
    return Reply(
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(fake.now) + reset_in)},
    )


def test_429_waits_until_the_reset_then_goes_on(
    make_adapter: MakeAdapter, fake: FakeX, sim_sleep: SimSleep, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script.append(too_many(fake, 30))
    with caplog.at_level(logging.WARNING):
        batch = make_adapter().fetch(None)
    assert "rate limited by X (429)" in caplog.text
    assert sim_sleep.waits == [31.0]  # until x-rate-limit-reset, plus a second of margin
    assert len(fake.searches()) == 2
    assert batch.messages
    assert batch.messages[0].payload == fake.bodies[0]


def test_429_with_a_far_reset_gives_up_until_the_next_poll(
    make_adapter: MakeAdapter, fake: FakeX, sim_sleep: SimSleep
) -> None:
    fake.script.append(too_many(fake, 3600))
    adapter = make_adapter(max_rate_limit_wait=60)
    state = {"since_id": None, "reads_this_month": 3, "month": "2026-11"}
    batch = adapter.fetch(state)
    assert batch.messages == []
    assert batch.more is False
    assert batch.state["reads_this_month"] == 3
    assert sim_sleep.waits == []
    adapter.fetch(batch.state)  # still before the reset: no request is made at all
    assert len(fake.searches()) == 1
    fake.now += 3601
    assert adapter.fetch(batch.state).messages
    assert len(fake.searches()) == 2


def test_a_rate_limit_wait_ends_when_the_runtime_stops(
    make_adapter: MakeAdapter, fake: FakeX, tmp_path: Path
) -> None:
    stop = threading.Event()
    stop.set()
    ctx = AdapterContext("x-kominfo", tmp_path, DEFAULT_OFFICE, stop=stop)
    fake.script.append(too_many(fake, 300))
    batch = make_adapter(ctx=ctx, sleep=None).fetch(None)  # waits on ctx.stop: returns at once
    assert batch.messages == []
    assert batch.more is False
    assert len(fake.searches()) == 1


def test_low_remaining_spreads_requests_over_the_window(
    make_adapter: MakeAdapter, fake: FakeX, sim_sleep: SimSleep
) -> None:
    fake.rate_remaining = 4
    fake.rate_reset_in = 200
    adapter = make_adapter()
    first = adapter.fetch(None)
    assert sim_sleep.waits == []
    adapter.fetch(first.state)
    assert sim_sleep.waits == [50.0]  # 200 s left in the window / 4 requests left


def test_5xx_is_retried_with_backoff(
    make_adapter: MakeAdapter, fake: FakeX, sim_sleep: SimSleep
) -> None:
    for _ in range(2):
        fake.script.append(Reply(503, problem(503, "Service Unavailable", "Service Unavailable")))
    batch = make_adapter().fetch(None)
    assert batch.messages
    assert len(fake.searches()) == 3
    assert sim_sleep.waits == [1.0, 2.0]


def test_5xx_that_persists_fails_the_fetch_without_moving_state(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    for _ in range(4):
        fake.script.append(Reply(503, problem(503, "Service Unavailable", "Service Unavailable")))
    with pytest.raises(XApiUnavailable, match="next poll tries again"):
        make_adapter().fetch(None)
    assert len(fake.searches()) == 4


def test_401_marks_the_channel_unhealthy_with_what_to_do(make_adapter: MakeAdapter) -> None:
    with pytest.raises(ChannelUnhealthy, match=r"401 Unauthorized.*bearer token") as exc:
        make_adapter(bearer_token="s3cr3t-0ld-t0ken").fetch(None)
    assert "s3cr3t" not in str(exc.value)  # the message never carries the secret


def test_403_marks_the_channel_unhealthy(make_adapter: MakeAdapter, fake: FakeX) -> None:
    body = {
        "client_id": "1234567",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
        "keys and tokens from a Twitter developer App that is attached to a Project.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden",
        "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
    }
    fake.script.append(Reply(403, body))
    with pytest.raises(ChannelUnhealthy, match=r"403 Forbidden.*attached to a Project.*portal"):
        make_adapter().fetch(None)


def test_a_query_x_rejects_marks_the_channel_unhealthy(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    fake.script.append(fake.invalid("query", "There were errors processing your request: bad"))
    with pytest.raises(ChannelUnhealthy, match="fix hashtags/mentions/query"):
        make_adapter().fetch(None)


def test_errors_only_page_is_passed_on_for_quarantine(
    make_adapter: MakeAdapter, fake: FakeX
) -> None:
    body = {
        "errors": [
            {
                "value": "2123163837526966301",
                "detail": "Could not find tweet with ids: [2123163837526966301].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "2123163837526966301",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
        "meta": {"result_count": 0},
    }
    fake.script.append(Reply(200, body))
    batch = make_adapter().fetch(None)
    assert len(batch.messages) == 1
    ctx = NormalizeContext("x-kominfo", "twitter", datetime.now(UTC), "file:///r", "0" * 64)
    [outcome] = normalize(batch.messages[0], ctx)
    assert "Could not find tweet" in getattr(outcome, "reason", "")


# -- monthly budget ----------------------------------------------------------------------------


def test_monthly_read_cap_warns_at_80_percent_and_stops_at_the_cap(
    make_adapter: MakeAdapter, fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = make_adapter(monthly_read_cap=20)
    page1 = adapter.fetch(None)
    assert page1.state["reads_this_month"] == 10
    with caplog.at_level(logging.WARNING):
        page2 = adapter.fetch(page1.state)
    assert "80%" in caplog.text
    assert page2.state["reads_this_month"] == 20
    with pytest.raises(ChannelUnhealthy, match=r"monthly read cap reached.*2026-12-01"):
        adapter.fetch(page2.state)
    assert len(fake.searches()) == 2

    # a new month starts a new budget (and the sweep resumes where it stopped)
    fake.now = datetime(2026, 12, 1, 0, 5, tzinfo=UTC).timestamp()
    fake.rate_reset_in = 900
    fake.expire_tokens()  # X's token would have expired by then: the sweep restarts
    december = fake.add_tweet("budi_oi", "Drainase tersumbat #laporpengaduan", -1)
    batch = make_adapter(monthly_read_cap=20).fetch(page2.state)
    assert batch.state["month"] == "2026-12"
    assert batch.state["reads_this_month"] == 1
    assert [n.report.external_id for n in records(list(batch.messages))] == [december["id"]]


def test_page_size_shrinks_to_the_budget_left(make_adapter: MakeAdapter, fake: FakeX) -> None:
    adapter = make_adapter(monthly_read_cap=100, max_results=100)
    adapter.fetch({"reads_this_month": 88, "month": "2026-11"})
    assert fake.searches()[-1].params["max_results"] == "12"


# -- media -------------------------------------------------------------------------------------


def test_photos_are_downloaded_into_the_attachment_store(
    make_adapter: MakeAdapter, fake: FakeX, tmp_path: Path
) -> None:
    ctx = AdapterContext("x-kominfo", tmp_path / "data", DEFAULT_OFFICE)
    adapter = make_adapter(ctx=ctx, download_media=True, max_results=100)
    batch = adapter.fetch(None)
    media = batch.messages[0].meta["media"]
    photo = (FIXTURES / "GcJalanRusak1.jpg").read_bytes()
    sha = hashlib.sha256(photo).hexdigest()
    assert media["3_1862000000000000001"]["sha256"] == sha
    assert media["3_1862000000000000001"]["size"] == len(photo)
    assert media["3_1862000000000000001"]["content_type"] == "image/jpeg"
    assert ctx.attachments.path_for(sha).read_bytes() == photo
    assert media["3_1862000000000000002"]["content_type"] == "image/png"
    assert "7_1862000000000000003" not in media  # a video is not downloaded
    assert {r.path for r in fake.requests if r.path.startswith("/media/")} == {
        "/media/GcJalanRusak1.jpg",
        "/media/GcSampah2.png",
    }
    json.dumps(dict(batch.messages[0].meta))  # meta must stay JSON-serialisable

    by_id = {n.report.external_id: n.report for n in records(list(batch.messages))}
    photo_tweet = next(t for t in fake.tweets if "foto jalan rusaknya" in t["text"])
    [attachment] = by_id[photo_tweet["id"]].attachments
    assert attachment.sha256 == sha
    assert attachment.uri == ctx.attachments.path_for(sha).resolve().as_uri()
    assert attachment.filename == "GcJalanRusak1.jpg"


def test_a_photo_that_fails_to_download_is_not_listed(
    make_adapter: MakeAdapter, fake: FakeX, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.media["3_1862000000000000001"]["url"] = "https://pbs.twimg.com/media/missing.jpg"
    with caplog.at_level(logging.WARNING):
        batch = make_adapter(download_media=True, max_results=100).fetch(None)
    assert "not downloaded" in caplog.text
    assert "3_1862000000000000001" not in batch.messages[0].meta["media"]
    reports = [n.report for n in records(list(batch.messages))]
    # no bytes, so no attachment: its URL stays in the archived raw page
    assert all(not a.uri.startswith("https://") for r in reports for a in r.attachments)
    assert b"https://pbs.twimg.com/media/missing.jpg" in batch.messages[0].payload


CHANNELS_YAML = """\
office:
  name: Diskominfo Ogan Ilir
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
channels:
  - name: x-kominfo
    kind: twitter
    bearer_token: ${X_BEARER_TOKEN}
    hashtags: ["#laporpengaduan", LaporOI]
    mentions: ["@kominfo_oi"]
    language: in
    monthly_read_cap: 10000
    download_media: true
"""


def test_a_channels_yaml_entry_loads_and_builds_the_adapter(tmp_path: Path) -> None:
    from ingest.config import load_config

    path = tmp_path / "channels.yaml"
    path.write_text(CHANNELS_YAML, encoding="utf-8")
    config = load_config(path, env={"X_BEARER_TOKEN": "from-env-token"})
    [channel] = config.channels
    assert isinstance(channel, TwitterSettings)
    assert channel.search_query() == (
        "(#laporpengaduan OR #LaporOI OR @kominfo_oi) -is:retweet -from:kominfo_oi lang:in"
    )
    assert "from-env-token" not in repr(channel)
    assert PLUGIN.adapter is not None
    adapter = PLUGIN.adapter(channel, AdapterContext("x-kominfo", tmp_path, config.office))
    try:
        assert isinstance(adapter, TwitterAdapter)
        assert adapter.client.bearer_token == "from-env-token"
    finally:
        adapter.close()


def test_a_channels_yaml_entry_without_credentials_is_reported(tmp_path: Path) -> None:
    from ingest.config import ConfigError, load_config

    path = tmp_path / "channels.yaml"
    path.write_text(CHANNELS_YAML.replace("    bearer_token: ${X_BEARER_TOKEN}\n", ""), "utf-8")
    with pytest.raises(ConfigError, match="bearer_token, or all four"):
        load_config(path, env={})
