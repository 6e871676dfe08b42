"""The polling adapter against the loopback fake Graph API (real HTTP, real facebook-sdk)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import traceback
from pathlib import Path
from typing import Any

import facebook
import pytest
from fb_fake import (
    APP_SECRET,
    IG_USER_ID,
    MEDIA,
    NOW,
    PAGE_ID,
    TOKEN,
    FakeGraph,
    adapter_context,
    drain,
    fixture,
    standard_page_routes,
)
from pydantic import SecretStr

from ingest.adapter import ChannelUnhealthy
from ingest.adapters.facebook import (
    FacebookAdapter,
    FacebookSettings,
    GraphClient,
    GraphUnavailable,
    InstagramAdapter,
    InstagramSettings,
    strip_auth,
)
from ingest.registry import get_plugin

P = PAGE_ID


def fb_settings(graph: FakeGraph, **over: Any) -> FacebookSettings:
    values: dict[str, Any] = {
        "name": "fb-test",
        "kind": "facebook",
        "page_id": PAGE_ID,
        "access_token": SecretStr(TOKEN),
        "graph_url": graph.base_url,
        "retry_backoff": 0.0,
        "rate_limit_backoff": 0.01,
        "rate_limit_max_wait": 0.05,
        **over,
    }
    return FacebookSettings(**values)


def make(
    graph: FakeGraph, tmp_path: Path, stop: threading.Event | None = None, **over: Any
) -> tuple[FacebookAdapter, dict[str, Any]]:
    settings = fb_settings(graph, **over)
    ctx = adapter_context(tmp_path)
    if stop is not None:
        ctx = type(ctx)(ctx.channel_name, ctx.data_dir, ctx.office, stop=stop)
    adapter = FacebookAdapter(settings, ctx, now=lambda: NOW)
    return adapter, settings.model_dump(mode="json")


CITIZEN_ITEMS = {
    # feed: visitor posts since the look-back (7 days before NOW), not the page's own 2003
    f"{P}_2002",
    f"{P}_2001",
    f"{P}_1999",
    # comments and replies by citizens, not the page's replies 2002_3005 / 2002_3002
    "2002_3004",
    "2002_3003",
    "2002_3001",
    "2001_3101",
    # Messenger: the citizens' messages since the look-back, not the page's answers
    "m_501_3",
    "m_501_1",
    "m_502_1",
}


def test_first_sweep_collects_every_citizen_item_once(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path)
    got = drain(adapter.fetch, None, plain, "facebook", tmp_path)

    assert sorted(got.ids) == sorted(CITIZEN_ITEMS)
    assert len(got.ids) == len(set(got.ids))
    assert not got.rejected
    # one raw message per Graph page, each saying where it came from
    sources = {m.meta["source"] for m in got.messages}
    assert sources == {"feed", "comments", "messages"}
    for m in got.messages:
        assert m.content_type == "application/json"
        json.loads(m.payload)
    comments = [m for m in got.messages if m.meta["source"] == "comments"]
    assert {m.meta["post_id"] for m in comments} == {f"{P}_2002", f"{P}_2001"}
    messages = [m for m in got.messages if m.meta["source"] == "messages"]
    assert {m.meta["conversation_id"] for m in messages} == {"t_501", "t_502"}
    # the messages of t_501 stop at the look-back: its third, very old page is never read
    assert graph.calls("t_501/messages") == 2
    # conversation t_503 (updated before the look-back) is not read at all
    assert graph.calls("t_503/messages") == 0


def test_records_carry_threading_reporter_place_and_downloaded_media(
    graph: FakeGraph, tmp_path: Path
) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path)
    got = drain(adapter.fetch, None, plain, "facebook", tmp_path)

    post = got.by_id(f"{P}_2002").report
    assert post.reporter.name == "Budi Santoso"
    assert post.reporter.handle == "6001"
    assert post.received_at.isoformat() == "2026-11-21T03:15:00+00:00"
    assert (post.location.lat, post.location.lon) == (-3.2176, 104.6469)
    assert post.location.text == "Pasar Indralaya, Jl. Lintas Timur, Indralaya"
    [photo] = post.attachments
    assert photo.sha256 == hashlib.sha256(MEDIA["lubang.jpg"]).hexdigest()
    assert photo.size == len(MEDIA["lubang.jpg"])
    assert photo.content_type == "image/jpeg"
    stored = Path(photo.uri.removeprefix("file://"))
    assert stored.read_bytes() == MEDIA["lubang.jpg"]

    album = got.by_id(f"{P}_2001").report
    assert [a.filename for a in album.attachments] == ["pju1.jpg", "pju2.png"]
    assert [a.content_type for a in album.attachments] == ["image/jpeg", "image/png"]
    # a shared link's preview picture is not the citizen's evidence
    assert got.by_id(f"{P}_1999").report.attachments == []

    assert got.by_id("2002_3001").report.in_reply_to == f"{P}_2002"
    assert got.by_id("2002_3004").report.in_reply_to == f"{P}_2002"
    assert got.by_id("2002_3003").report.in_reply_to == "2002_3001"
    [genangan] = got.by_id("2002_3004").report.attachments
    assert genangan.sha256 == hashlib.sha256(MEDIA["genangan.jpg"]).hexdigest()
    assert "1604********8901" in got.by_id("2001_3101").report.text

    message = got.by_id("m_501_1").report
    assert message.reporter.name == "Budi Santoso"
    [air] = message.attachments
    assert (air.filename, air.content_type) == ("image-651143212510248.jpg", "image/jpeg")


def test_second_sweep_without_news_produces_nothing(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path)
    first = drain(adapter.fetch, None, plain, "facebook", tmp_path)
    second = drain(adapter.fetch, first.state, plain, "facebook", tmp_path)
    assert second.messages == []
    assert second.ids == []


def test_new_message_in_an_old_conversation_is_picked_up_exactly_once(
    graph: FakeGraph, tmp_path: Path
) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path)
    first = drain(adapter.fetch, None, plain, "facebook", tmp_path)

    conversations = fixture("conversations_p1.json")
    conversations["data"][0]["updated_time"] = "2026-11-23T09:00:00+0000"
    graph.route(f"{P}/conversations", conversations, "conversations_p2.json")
    page = fixture("messages_t501_p1.json")
    new = json.loads(json.dumps(page["data"][1]))  # a message by Budi
    new.update(
        id="m_501_5",
        created_time="2026-11-23T09:00:00+0000",
        message="Sampai sekarang air belum juga mengalir.",
    )
    page["data"].insert(0, new)
    graph.route("t_501/messages", page, "messages_t501_p2.json", "messages_t501_p3.json")

    second = drain(adapter.fetch, first.state, plain, "facebook", tmp_path)
    assert second.ids == ["m_501_5"]
    assert second.by_id("m_501_5").report.in_reply_to == "m_501_3"
    # the old conversation t_502 was not re-read; t_501 only its first page
    assert graph.calls("t_502/messages") == 1
    assert graph.calls("t_501/messages") == 3

    third = drain(adapter.fetch, second.state, plain, "facebook", tmp_path)
    assert third.ids == []


def test_new_comment_on_an_old_post_is_picked_up_once(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path, sources=["comments"])
    first = drain(adapter.fetch, None, plain, "facebook", tmp_path)
    feed = fixture("feed_p1.json")
    feed["data"][2]["updated_time"] = "2026-11-23T08:00:00+0000"  # post 2001
    graph.route(f"{P}/feed", feed, "feed_p2.json")
    comments = fixture("comments_2001.json")
    comments["data"].insert(
        0,
        {
            "id": "2001_3102",
            "created_time": "2026-11-23T08:00:00+0000",
            "from": {"name": "Siti Rahayu", "id": "6002"},
            "message": "Malam ini masih gelap gulita.",
            "parent": {"id": "2001_3101"},
        },
    )
    graph.route(f"{P}_2001/comments", comments)
    calls_2002 = graph.calls(f"{P}_2002/comments")

    second = drain(adapter.fetch, first.state, plain, "facebook", tmp_path)
    assert second.ids == ["2001_3102"]
    assert second.by_id("2001_3102").report.in_reply_to == "2001_3101"
    assert graph.calls(f"{P}_2002/comments") == calls_2002  # unchanged post not re-read


def test_restart_in_the_middle_of_paging_neither_loses_nor_doubles(
    graph: FakeGraph, tmp_path: Path
) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path)
    reference = drain(adapter.fetch, None, plain, "facebook", tmp_path)

    for crash_after in range(1, len(reference.batches)):
        # the same fake keeps serving; only the adapter "process" dies and a new one resumes
        state: Any = None
        before: list[str] = []
        first_life, _ = make(graph, tmp_path)
        for _ in range(crash_after):
            batch = first_life.fetch(state)
            state = json.loads(json.dumps(batch.state))
            for m in batch.messages:
                before.extend(_ids(m, plain, tmp_path))
        first_life.close()
        second_life, _ = make(graph, tmp_path)
        after = drain(second_life.fetch, state, plain, "facebook", tmp_path)
        combined = before + after.ids
        assert sorted(combined) == sorted(CITIZEN_ITEMS), f"crash after batch {crash_after}"


def _ids(raw: Any, plain: dict[str, Any], tmp_path: Path) -> list[str]:
    from fb_fake import norm_context

    from normalizers.base import Normalized
    from normalizers.facebook import normalize

    return [
        o.report.external_id
        for o in normalize(raw, norm_context(raw, plain, "facebook", tmp_path))
        if isinstance(o, Normalized)
    ]


def test_the_checkpoint_resumes_from_a_token_free_next_url(
    graph: FakeGraph, tmp_path: Path
) -> None:
    standard_page_routes(graph)
    adapter, _ = make(graph, tmp_path, sources=["feed"])
    batch = adapter.fetch(None)
    assert batch.more
    assert batch.state["feed"]["next"].startswith(f"v21.0/{P}/feed?")
    assert "after=1" in batch.state["feed"]["next"]
    text = json.dumps(batch.state)
    assert TOKEN not in text and "access_token" not in text
    # the archived payload does not carry the token either (the real API puts it in paging)
    [raw] = batch.messages
    assert TOKEN.encode() not in raw.payload
    assert b"REDACTED" in raw.payload


def test_expired_token_marks_the_channel_for_reauthorization(
    graph: FakeGraph, tmp_path: Path
) -> None:
    standard_page_routes(graph)
    adapter, _ = make(graph, tmp_path)
    graph.token = "a-newer-token"
    with pytest.raises(ChannelUnhealthy, match="re-authorization required") as info:
        adapter.fetch(None)
    assert "page access token" in str(info.value)
    assert TOKEN not in str(info.value)
    assert len(graph.requests) == 1  # no pointless retries on a dead token


def test_rate_limit_backs_off_then_goes_on(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    limit = {
        "error": {
            "message": "(#4) Application request limit reached",
            "type": "OAuthException",
            "is_transient": True,
            "code": 4,
            "fbtrace_id": "A1",
        }
    }
    graph.fail(f"{P}/feed", 400, limit, times=2)
    graph.fail(
        f"{P}/feed",
        400,
        {
            "error": {
                "message": "(#32) Page request limit reached",
                "code": 32,
                "type": "OAuthException",
            }
        },
    )
    adapter, _ = make(graph, tmp_path, sources=["feed"])
    batch = adapter.fetch(None)
    assert graph.calls(f"{P}/feed") == 4
    assert len(batch.messages) == 1


def test_rate_limit_backoff_is_bounded(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    graph.fail(
        f"{P}/feed",
        400,
        {
            "error": {
                "message": "(#613) Calls to this api have exceeded the rate limit.",
                "code": 613,
                "type": "OAuthException",
            }
        },
        times=10,
    )
    adapter, _ = make(graph, tmp_path, sources=["feed"], max_attempts=3)
    with pytest.raises(GraphUnavailable, match="613"):
        adapter.fetch(None)
    assert graph.calls(f"{P}/feed") == 3


def test_a_stop_request_interrupts_the_backoff(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    graph.fail(
        f"{P}/feed",
        400,
        {
            "error": {
                "message": "(#17) User request limit reached",
                "code": 17,
                "type": "OAuthException",
            }
        },
        times=10,
    )
    stop = threading.Event()
    stop.set()
    adapter, _ = make(
        graph,
        tmp_path,
        stop=stop,
        sources=["feed"],
        rate_limit_backoff=3600.0,
        rate_limit_max_wait=3600.0,
    )
    batch = adapter.fetch({"origin": "2026-11-16T10:00:00+00:00"})
    assert batch.messages == [] and not batch.more
    assert batch.state == {"origin": "2026-11-16T10:00:00+00:00"}  # nothing advanced


def test_server_errors_are_retried(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    graph.fail(f"{P}/feed", 502, b"<html>Bad Gateway</html>")
    graph.fail(
        f"{P}/feed",
        500,
        {
            "error": {
                "message": "An unexpected error has occurred.",
                "code": 2,
                "type": "OAuthException",
            }
        },
    )
    adapter, _ = make(graph, tmp_path, sources=["feed"])
    batch = adapter.fetch(None)
    assert len(batch.messages) == 1
    assert graph.calls(f"{P}/feed") == 3


def test_an_unreachable_api_fails_without_leaking_the_token(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = FacebookSettings(
        name="fb-test",
        kind="facebook",
        page_id=PAGE_ID,
        access_token=SecretStr(TOKEN),
        graph_url=f"http://127.0.0.1:{port}",
        retry_backoff=0.0,
        max_attempts=2,
        timeout=2.0,
    )
    adapter = FacebookAdapter(settings, adapter_context(tmp_path), now=lambda: NOW)
    with pytest.raises(GraphUnavailable, match="unreachable after 2 attempts") as info:
        adapter.fetch(None)
    shown = "".join(traceback.format_exception(info.value))
    assert "EAAtestPageToken" not in shown


def test_a_vanished_post_is_skipped(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    graph.fail(
        f"{P}_2002/comments",
        400,
        {
            "error": {
                "message": "Unsupported get request. Object with ID does not exist",
                "code": 100,
                "type": "GraphMethodException",
            }
        },
    )
    adapter, plain = make(graph, tmp_path, sources=["comments"])
    got = drain(adapter.fetch, None, plain, "facebook", tmp_path)
    assert got.ids == ["2001_3101"]


def test_a_wrong_page_id_needs_a_person(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    adapter, _ = make(graph, tmp_path, page_id="999", sources=["feed"])
    with pytest.raises(ChannelUnhealthy, match=r"Check page_id in channels\.yaml"):
        adapter.fetch(None)
    assert graph.calls("999/feed") == 1


def test_appsecret_proof_is_sent_when_configured(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    graph.app_secret = APP_SECRET  # the fake now refuses calls without the right proof
    adapter, plain = make(graph, tmp_path, app_secret=SecretStr(APP_SECRET))
    got = drain(adapter.fetch, None, plain, "facebook", tmp_path)
    assert sorted(got.ids) == sorted(CITIZEN_ITEMS)
    graph_calls = [q for path, q in graph.requests if not path.startswith("/media/")]
    assert graph_calls and all("appsecret_proof" in q for q in graph_calls)
    # media live on a CDN: no token or proof goes there
    media_calls = [q for path, q in graph.requests if path.startswith("/media/")]
    assert media_calls and all("access_token" not in q for q in media_calls)


def test_media_download_can_be_turned_off(graph: FakeGraph, tmp_path: Path) -> None:
    standard_page_routes(graph)
    adapter, plain = make(graph, tmp_path, download_media=False, sources=["feed"])
    got = drain(adapter.fetch, None, plain, "facebook", tmp_path)
    assert got.by_id(f"{P}_2002").report.attachments == []
    assert not any(path.startswith("/media/") for path, _ in graph.requests)


def test_graph_client_runs_a_current_version_on_its_own_base_url(graph: FakeGraph) -> None:
    # the trap: facebook-sdk 3.1.0 refuses any version newer than 3.1 in its constructor
    with pytest.raises(facebook.GraphAPIError):
        facebook.GraphAPI(access_token=TOKEN, version="21.0")
    standard_page_routes(graph)
    client = GraphClient(TOKEN, version="v21.0", base_url=graph.base_url)
    assert client.version == "v21.0"
    # the SDK's own helpers go through our request() and therefore to the fake
    page = client.get_connections(PAGE_ID, "feed")
    assert page["data"][0]["id"] == f"{P}_2003"
    assert facebook.FACEBOOK_GRAPH_URL == "https://graph.facebook.com/"  # global untouched


def test_strip_auth_keeps_the_cursor_and_drops_secrets() -> None:
    path, query = strip_auth(
        "https://graph.facebook.com/v21.0/1/feed?access_token=T&appsecret_proof=P&limit=25&after=X"
    )
    assert path == "v21.0/1/feed"
    assert query == [("limit", "25"), ("after", "X")]


def test_plugins_are_registered() -> None:
    assert get_plugin("facebook").settings is FacebookSettings
    assert get_plugin("instagram").settings is InstagramSettings
    assert get_plugin("facebook").webhook is not None


# --- Instagram -------------------------------------------------------------------------------


def ig_routes(graph: FakeGraph) -> None:
    graph.route(f"{IG_USER_ID}/media", "ig_media.json")
    graph.route("17900000000000001/comments", "ig_comments.json")
    graph.route(f"{IG_USER_ID}/tags", "ig_tags.json")


def make_ig(
    graph: FakeGraph, tmp_path: Path, **over: Any
) -> tuple[InstagramAdapter, dict[str, Any]]:
    settings = InstagramSettings(
        name="ig-test",
        kind="instagram",
        ig_user_id=IG_USER_ID,
        username="diskominfo_oi",
        access_token=SecretStr(TOKEN),
        graph_url=graph.base_url,
        retry_backoff=0.0,
        **over,
    )
    adapter = InstagramAdapter(settings, adapter_context(tmp_path, "ig-test"), now=lambda: NOW)
    return adapter, settings.model_dump(mode="json")


def test_instagram_comments_replies_and_mentions(graph: FakeGraph, tmp_path: Path) -> None:
    ig_routes(graph)
    adapter, plain = make_ig(graph, tmp_path)
    got = drain(adapter.fetch, None, plain, "instagram", tmp_path)
    assert sorted(got.ids) == ["17900000000000009", "17950000000000001", "17950000000000003"]
    comment = got.by_id("17950000000000001").report
    assert comment.channel.kind == "instagram"
    assert comment.reporter.handle == "@warga_tanjungraja"
    assert comment.in_reply_to == "17900000000000001"
    assert got.by_id("17950000000000003").report.in_reply_to == "17950000000000001"
    mention = got.by_id("17900000000000009").report
    assert mention.reporter.handle == "@peduli_ogan"
    [photo] = mention.attachments
    assert photo.sha256 == hashlib.sha256(MEDIA["sampah.jpg"]).hexdigest()
    # media without comments are not read
    assert graph.calls("17900000000000002/comments") == 0

    again = drain(adapter.fetch, got.state, plain, "instagram", tmp_path)
    assert again.ids == []
    # nothing changed in comments_count: the comments are not even re-read
    assert graph.calls("17900000000000001/comments") == 1
