"""XOAUTH2 with renewed tokens: the token source against a fake token endpoint (the RFC 6749
exchange as Google and Microsoft answer it), then the adapter against a real Dovecot that
validates the tokens' signature and expiry, with a real loopback token endpoint issuing them."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from email_dovecot import USER, Dovecot, complaint, make_jwt
from pydantic import ValidationError

from ingest.adapter import AdapterContext, ChannelUnhealthy
from ingest.adapters.email import PLUGIN, EmailSettings, ImapAdapter
from ingest.adapters.oauth2 import REFRESH_MARGIN_SECONDS, OAuth2Settings, TokenSource
from normalizers.office import DEFAULT_OFFICE

TOKEN_URL = "https://login.example.test/tenant/oauth2/v2.0/token"


class FakeEndpoint:
    """A token endpoint: records each form it is sent, answers from a script."""

    def __init__(self, *answers: tuple[int, dict[str, Any] | str]) -> None:
        self.answers = list(answers)
        self.forms: list[dict[str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and str(request.url) == TOKEN_URL
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        self.forms.append(dict(urllib.parse.parse_qsl(request.content.decode())))
        status, body = self.answers.pop(0)
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def source(
    endpoint: FakeEndpoint, clock: Clock | None = None, keep: Path | None = None, **settings: Any
) -> TokenSource:
    fields: dict[str, Any] = {
        "token_url": TOKEN_URL,
        "client_id": "aduan-app",
        "client_secret": "rahasia-klien",
        "refresh_token": "refresh-1",
    }
    fields.update(settings)
    return TokenSource(
        OAuth2Settings(**fields),
        channel="inbox",
        clock=clock or Clock(),
        transport=httpx.MockTransport(endpoint.handler),
        keep=keep,
    )


def test_refresh_grant_and_reuse_until_near_expiry() -> None:
    endpoint = FakeEndpoint(
        (200, {"access_token": "tok-1", "expires_in": 3599, "token_type": "Bearer"}),
        (200, {"access_token": "tok-2", "expires_in": "3600", "refresh_token": "refresh-2"}),
        (200, {"access_token": "tok-3", "expires_in": 3600}),
    )
    clock = Clock()
    tokens = source(endpoint, clock, scope="https://mail.google.com/")
    assert tokens.token() == "tok-1"
    clock.now += 3599 - REFRESH_MARGIN_SECONDS - 1
    assert tokens.token() == "tok-1"  # still far enough from its expiry
    clock.now += 2
    assert tokens.token() == "tok-2"  # renewed before it expires
    tokens.invalidate()
    assert tokens.token() == "tok-3"  # the server refused it: renewed at once
    assert endpoint.forms[0] == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "aduan-app",
        "client_secret": "rahasia-klien",
        "scope": "https://mail.google.com/",
    }
    # a refresh token the provider rotated is the one used from then on
    assert [f["refresh_token"] for f in endpoint.forms] == ["refresh-1", "refresh-1", "refresh-2"]


def test_a_rotated_refresh_token_is_kept_across_restarts(tmp_path: Path) -> None:
    """Microsoft rotates refresh tokens; the configured one may have expired by the time the
    service restarts, months later: the newest one is kept in the data dir and used then."""
    keep = tmp_path / "oauth2" / "inbox.json"
    endpoint = FakeEndpoint(
        (200, {"access_token": "tok-1", "refresh_token": "refresh-2"}),
        (200, {"access_token": "tok-2", "refresh_token": "refresh-3"}),
    )
    assert source(endpoint, keep=keep).token() == "tok-1"
    assert keep.stat().st_mode & 0o777 == 0o600
    assert (keep.parent.stat().st_mode & 0o777) == 0o700
    assert "refresh-1" not in keep.read_text()  # the configured token is named by its hash only
    restarted = source(endpoint, keep=keep)
    assert restarted.token() == "tok-2"
    assert [f["refresh_token"] for f in endpoint.forms] == ["refresh-1", "refresh-2"]
    assert json.loads(keep.read_text())["refresh_token"] == "refresh-3"
    assert not list(keep.parent.glob(".*.tmp"))


def test_a_kept_refresh_token_gives_way_to_a_new_configured_one_or_a_refusal(
    tmp_path: Path,
) -> None:
    keep = tmp_path / "oauth2" / "inbox.json"
    first = FakeEndpoint((200, {"access_token": "tok-1", "refresh_token": "refresh-2"}))
    source(first, keep=keep).token()
    # the operator authorized the mailbox again and put the new token in channels.yaml
    reconfigured = FakeEndpoint((200, {"access_token": "tok-9"}))
    assert source(reconfigured, keep=keep, refresh_token="refresh-new").token() == "tok-9"
    assert reconfigured.forms[0]["refresh_token"] == "refresh-new"
    # a kept token the provider refuses (revoked): the configured one is tried before giving up
    revoked = FakeEndpoint(
        (400, {"error": "invalid_grant"}), (200, {"access_token": "tok-c", "refresh_token": "r-4"})
    )
    assert source(revoked, keep=keep).token() == "tok-c"
    assert [f["refresh_token"] for f in revoked.forms] == ["refresh-2", "refresh-1"]
    assert json.loads(keep.read_text())["refresh_token"] == "r-4"
    # an unreadable file is ignored
    keep.write_text("{not json")
    plain = FakeEndpoint((200, {"access_token": "tok-p"}))
    assert source(plain, keep=keep).token() == "tok-p"
    assert plain.forms[0]["refresh_token"] == "refresh-1"


def test_client_credentials_grant_without_a_refresh_token() -> None:
    endpoint = FakeEndpoint((200, {"access_token": "app-tok"}))  # no expires_in: an hour
    clock = Clock()
    tokens = source(
        endpoint, clock, refresh_token=None, scope="https://outlook.office365.com/.default"
    )
    assert tokens.token() == "app-tok"
    clock.now += 3600 - REFRESH_MARGIN_SECONDS - 1
    assert tokens.token() == "app-tok"
    assert endpoint.forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "aduan-app",
            "client_secret": "rahasia-klien",
            "scope": "https://outlook.office365.com/.default",
        }
    ]


def test_a_refused_grant_says_what_to_do_and_shows_no_secret() -> None:
    endpoint = FakeEndpoint(
        (
            400,
            {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: The refresh token has expired due to "
                "inactivity.\r\nTrace ID: 1",
            },
        )
    )
    with pytest.raises(ChannelUnhealthy) as refused:
        source(endpoint).token()
    message = str(refused.value)
    assert "HTTP 400: invalid_grant: AADSTS70008" in message
    assert "Trace ID" not in message
    assert "put the new refresh_token in channels.yaml" in message
    assert "refresh-1" not in message and "rahasia-klien" not in message

    app = FakeEndpoint((401, {"error": "invalid_client"}))
    with pytest.raises(ChannelUnhealthy, match="check client_id, client_secret and scope"):
        source(app, refresh_token=None).token()
    empty = FakeEndpoint((200, {"token_type": "Bearer"}))
    with pytest.raises(ChannelUnhealthy, match="no error code"):
        source(empty).token()


@pytest.mark.parametrize(("status", "body"), [(503, "<html>busy</html>"), (429, {})])
def test_an_endpoint_in_trouble_is_a_transient_error(status: int, body: Any) -> None:
    with pytest.raises(ConnectionError, match=f"HTTP {status}"):
        source(FakeEndpoint((status, body))).token()


def test_an_unreachable_endpoint_is_a_transient_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    tokens = TokenSource(
        OAuth2Settings(token_url=TOKEN_URL, client_id="a", refresh_token="r"),
        channel="inbox",
        transport=httpx.MockTransport(down),
    )
    with pytest.raises(ConnectionError, match="unreachable"):
        tokens.token()


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="https://"):
        OAuth2Settings(token_url="http://login.example.test/token", client_id="a")
    OAuth2Settings(token_url="http://127.0.0.1:8080/token", client_id="a")  # a local fake
    base = {"name": "inbox", "kind": "email", "host": "imap.example.test", "username": "u"}
    oauth2 = {"token_url": TOKEN_URL, "client_id": "a", "refresh_token": "r"}
    EmailSettings(**base, oauth2=oauth2)
    with pytest.raises(ValidationError, match="set one of `password`, `oauth2_token` or an"):
        EmailSettings(**base, password="p", oauth2=oauth2)
    with pytest.raises(ValidationError, match="set one of"):
        EmailSettings(**base)


# --------------------------------------------------------------------------- with Dovecot


class TokenServer:
    """A real loopback token endpoint issuing JWTs that the test Dovecot validates."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.forms: list[dict[str, str]] = []
        #: lifetimes of the next tokens: (what the JWT says, what ``expires_in`` claims)
        self.lifetimes: list[tuple[int, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                outer.forms.append(form)
                real, claimed = outer.lifetimes.pop(0) if outer.lifetimes else (600, 600)
                ok = form.get("refresh_token") == "refresh-1"
                body = (
                    {"access_token": make_jwt(outer.secret, USER, real), "expires_in": claimed}
                    if ok
                    else {"error": "invalid_grant"}
                )
                data = json.dumps(body).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def oauth_dovecot(tmp_path: Path) -> Iterator[tuple[Dovecot, TokenServer]]:
    from email_dovecot import need_tool, oauth2_config, remove_server_dir, server_dir

    secret = b"kunci-uji-yang-cukup-panjang-32b!"
    root = server_dir(tmp_path / "oauth")
    server = Dovecot(root=root, binary=need_tool("dovecot"), extra=oauth2_config(root, secret))
    tokens = TokenServer(secret)
    try:
        server.start()
        yield server, tokens
    finally:
        tokens.close()
        server.stop(graceful=False)
        remove_server_dir(root)


def adapter(server: Dovecot, tokens: TokenServer, tmp_path: Path, refresh: str) -> ImapAdapter:
    settings = EmailSettings(
        name="inbox",
        kind="email",
        host="127.0.0.1",
        port=server.port,
        tls="none",
        username=USER,
        oauth2={"token_url": tokens.url, "client_id": "aduan", "refresh_token": refresh},
        idle_timeout=0,
        timeout=10,
        reconnect_attempts=2,
    )
    ctx = AdapterContext(channel_name="inbox", data_dir=tmp_path, office=DEFAULT_OFFICE)
    assert PLUGIN.adapter is not None
    made = PLUGIN.adapter(settings, ctx)
    assert isinstance(made, ImapAdapter)
    return made


def test_the_mailbox_is_read_with_renewed_tokens(
    oauth_dovecot: tuple[Dovecot, TokenServer], tmp_path: Path
) -> None:
    server, tokens = oauth_dovecot
    server.append(complaint(1), complaint(2))
    tokens.lifetimes = [(600, 600), (1, 3600), (600, 600)]
    inbox = adapter(server, tokens, tmp_path, "refresh-1")
    try:
        first = inbox.fetch(None)
        assert len(first.messages) == 2
        assert len(tokens.forms) == 1 and tokens.forms[0]["grant_type"] == "refresh_token"
        assert "method=XOAUTH2" in server.log()
        # a reconnect within the token's life logs in with the same token
        inbox.close()
        assert len(inbox.fetch(first.state).messages) == 0
        assert len(tokens.forms) == 1
        # a token the server refused is renewed; this one lives 1 s, though it claims an hour
        inbox.close()
        assert inbox._tokens is not None
        inbox._tokens.invalidate()  # what a refused login does
        assert len(inbox.fetch(first.state).messages) == 0
        assert len(tokens.forms) == 2
        # it expires long before the provider said: Dovecot refuses it on the next login, and
        # the adapter asks for a new token and logs in with that, without failing the fetch
        inbox.close()
        time.sleep(2.1)
        server.append(complaint(3))
        assert len(inbox.fetch(first.state).messages) == 1
        assert len(tokens.forms) == 3
    finally:
        inbox.close()


def test_a_refresh_token_the_provider_refuses_stops_the_channel_with_advice(
    oauth_dovecot: tuple[Dovecot, TokenServer], tmp_path: Path
) -> None:
    server, tokens = oauth_dovecot
    inbox = adapter(server, tokens, tmp_path, "revoked")
    with pytest.raises(ChannelUnhealthy, match="authorize the mailbox again"):
        inbox.fetch(None)
    assert len(tokens.forms) == 1  # a refused grant is not retried in a loop
