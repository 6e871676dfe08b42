"""OAuth2 access tokens for IMAP's XOAUTH2, renewed before they expire.

Microsoft 365 no longer accepts passwords over IMAP and Google Workspace discourages them, and
an access token lives about an hour: a fixed ``oauth2_token`` in channels.yaml stops a poller
that runs for days. With an ``oauth2`` section the channel asks the provider's token endpoint
for a new access token whenever the one it has is about to expire (or the server refused it):

- ``refresh_token`` given: the refresh-token grant (RFC 6749 section 6), for a mailbox a person
  authorized once (Google, Microsoft delegated access). A refresh token the provider rotates
  (Microsoft does, at each use) is used from then on and kept in the data dir (``oauth2/``,
  readable by the owner only), so a restart months later does not fall back to a configured
  token that has expired meanwhile. Changing the configured token in channels.yaml makes the
  kept one be forgotten; a kept one the provider refuses gives way to the configured one.
- no ``refresh_token``: the client-credentials grant (section 4.4), for an application granted
  access to a shared mailbox (Microsoft 365's ``https://outlook.office365.com/.default``).

Only the token endpoint is spoken to, over httpx, with the client secret in the form body
(``client_secret_post``, which both providers accept).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ingest.adapter import ChannelUnhealthy

log = logging.getLogger(__name__)

#: renew this long before the expiry the provider announced (clock skew, a slow login)
REFRESH_MARGIN_SECONDS = 120.0
#: when the provider does not say how long a token lives (``expires_in`` is only RECOMMENDED)
DEFAULT_LIFETIME_SECONDS = 3600.0


class OAuth2Settings(BaseModel):
    """The ``oauth2:`` section of an email channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str = Field(
        description="the provider's token endpoint, e.g. "
        "https://login.microsoftonline.com/TENANT/oauth2/v2.0/token or "
        "https://oauth2.googleapis.com/token"
    )
    client_id: Annotated[str, Field(min_length=1)]
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = Field(
        default=None, description="absent: the client-credentials grant"
    )
    scope: str | None = Field(
        default=None,
        description="e.g. https://outlook.office365.com/.default (client credentials)",
    )

    @field_validator("token_url")
    @classmethod
    def _https(cls, value: str) -> str:
        url = httpx.URL(value)
        loopback = url.host in {"127.0.0.1", "localhost", "::1"}
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            raise ValueError("token_url must be an https:// URL (http:// only on loopback)")
        return value


class TokenSource:
    """The channel's current access token; thread-safe, renewed on demand."""

    def __init__(
        self,
        settings: OAuth2Settings,
        *,
        channel: str,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        keep: Path | None = None,
    ) -> None:
        """``keep``: the file where a rotated refresh token is kept across restarts."""
        self._settings = settings
        self._channel = channel
        self._timeout = timeout
        self._clock = clock
        self._transport = transport
        self._keep = keep
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        refresh = settings.refresh_token
        self._configured = refresh.get_secret_value() if refresh is not None else None
        self._refresh = self._configured
        if self._configured is not None and keep is not None:
            self._refresh = self._kept() or self._configured

    def token(self) -> str:
        """An access token valid for at least ``REFRESH_MARGIN_SECONDS`` more, if the provider
        said how long it lives."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires - REFRESH_MARGIN_SECONDS:
                self._renew()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """The server refused the token (revoked, or expired early): renew it on next use."""
        with self._lock:
            self._token = None

    def _renew(self) -> None:
        s = self._settings
        form = {"client_id": s.client_id}
        if s.client_secret is not None:
            form["client_secret"] = s.client_secret.get_secret_value()
        if self._refresh is not None:
            form |= {"grant_type": "refresh_token", "refresh_token": self._refresh}
        else:
            form["grant_type"] = "client_credentials"
        if s.scope:
            form["scope"] = s.scope
        asked = self._clock()
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                response = http.post(s.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:  # network trouble: the adapter reconnects with backoff
            raise ConnectionError(
                f"OAuth2 token endpoint {s.token_url} unreachable: {exc}"
            ) from exc
        body = _json(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise ConnectionError(
                f"OAuth2 token endpoint {s.token_url} answered HTTP {response.status_code}"
            )
        token = body.get("access_token")
        refused = response.status_code != 200 or not isinstance(token, str) or not token
        if refused and self._refresh not in (None, self._configured):
            log.warning(
                "email channel %s: the provider refused the refresh token kept in %s (%s);"
                " trying the one in channels.yaml",
                self._channel,
                self._keep,
                _reason(body),
            )
            self._refresh = self._configured
            self._renew()
            return
        if refused:
            raise ChannelUnhealthy(
                f"email channel {self._channel!r}: the OAuth2 token endpoint {s.token_url} "
                f"refused to issue a token (HTTP {response.status_code}: {_reason(body)}); "
                + (
                    "authorize the mailbox again and put the new refresh_token in channels.yaml"
                    if self._refresh is not None
                    else "check client_id, client_secret and scope, and the app's mailbox access"
                )
            )
        lifetime = body.get("expires_in")
        try:
            seconds = float(lifetime) if lifetime is not None else DEFAULT_LIFETIME_SECONDS
        except (TypeError, ValueError):
            seconds = DEFAULT_LIFETIME_SECONDS
        rotated = body.get("refresh_token")
        if self._refresh is not None and isinstance(rotated, str) and rotated:
            if rotated != self._refresh:
                self._remember(rotated)
            self._refresh = rotated
        assert isinstance(token, str)
        self._token, self._expires = token, asked + seconds

    def _fingerprint(self) -> str:
        """Names the configured refresh token without revealing it."""
        return hashlib.sha256((self._configured or "").encode()).hexdigest()

    def _kept(self) -> str | None:
        """The refresh token kept for this configured one, if any."""
        assert self._keep is not None
        try:
            kept = json.loads(self._keep.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable %s (%s)", self._keep, exc)
            return None
        if not isinstance(kept, dict) or kept.get("configured") != self._fingerprint():
            return None  # channels.yaml was given another token since: that one counts
        token = kept.get("refresh_token")
        return token if isinstance(token, str) and token else None

    def _remember(self, refresh: str) -> None:
        """Keep a rotated refresh token, readable by the owner only, replaced atomically."""
        if self._keep is None:
            return
        data = json.dumps({"configured": self._fingerprint(), "refresh_token": refresh})
        tmp = self._keep.with_name(f".{self._keep.name}.{os.getpid()}.tmp")
        try:
            self._keep.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._keep)
        except OSError as exc:  # the token still works in memory until the next restart
            log.warning("could not keep the rotated refresh token in %s: %s", self._keep, exc)
            tmp.unlink(missing_ok=True)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(body: dict[str, Any]) -> str:
    """The provider's error code and description (RFC 6749 section 5.2); never a token."""
    error = str(body.get("error") or "no error code")
    description = body.get("error_description")
    if isinstance(description, str) and description.strip():
        return f"{error}: {description.strip().splitlines()[0][:300]}"
    return error
