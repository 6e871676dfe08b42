"""OAuth2 access tokens for IMAP's XOAUTH2, renewed before they expire.

Microsoft 365 no longer accepts passwords over IMAP and Google Workspace discourages them, and
an access token lives about an hour: a fixed ``oauth2_token`` in channels.yaml stops a poller
that runs for days. With an ``oauth2`` section the channel asks the provider's token endpoint
for a new access token whenever the one it has is about to expire (or the server refused it):

- ``refresh_token`` given: the refresh-token grant (RFC 6749 section 6), for a mailbox a person
  authorized once (Google, Microsoft delegated access). A refresh token the provider rotates
  is used from then on; after a restart the configured one is asked again (Microsoft and
  Google keep the earlier one valid).
- no ``refresh_token``: the client-credentials grant (section 4.4), for an application granted
  access to a shared mailbox (Microsoft 365's ``https://outlook.office365.com/.default``).

Only the token endpoint is spoken to, over httpx, with the client secret in the form body
(``client_secret_post``, which both providers accept).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ingest.adapter import ChannelUnhealthy

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
    ) -> None:
        self._settings = settings
        self._channel = channel
        self._timeout = timeout
        self._clock = clock
        self._transport = transport
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        refresh = settings.refresh_token
        self._refresh = refresh.get_secret_value() if refresh is not None else None

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
        if response.status_code != 200 or not isinstance(token, str) or not token:
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
            self._refresh = rotated
        self._token, self._expires = token, asked + seconds


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
