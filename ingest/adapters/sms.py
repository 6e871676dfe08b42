"""``kind: sms``: SMS numbers (the national 1708, an office's own) reached through a gateway.

Push-only: the gateway POSTs each message to ``aduan serve`` (``/intake/sms/{channel}``), so the
plugin has no adapter. Its settings say how that gateway speaks and proves who it is.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr

from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.sms import DEFAULT_KEYWORDS, normalize


class SmsSettings(ChannelSettings):
    kind: Literal["sms"] = "sms"
    gateway: Literal["json", "twilio", "kannel"] = Field(
        default="json",
        description="json: the project's JSON (id, from, to, text, received_at); twilio: "
        "Twilio-style form fields, signed with X-Twilio-Signature; kannel: Kannel/Gammu-style "
        "query or form parameters",
    )
    secret: SecretStr | None = Field(
        default=None,
        description="shared secret: the HMAC key (auth: hmac), the X-Aduan-Secret value "
        "(auth: header) or the Twilio auth token (gateway: twilio)",
    )
    auth: Literal["hmac", "header", "none"] = Field(
        default="hmac",
        description="hmac: X-Aduan-Signature: sha256=<hex HMAC-SHA256 of the body>; header: "
        "X-Aduan-Secret (or ?key= for Kannel) equals the secret; none: only behind a "
        "firewall that lets nothing but the gateway through",
    )
    keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_KEYWORDS))
    codes: dict[str, str] = Field(
        default_factory=dict,
        description="codes after the keyword (LAPOR#JALAN) -> office category",
    )
    require_keyword: bool = False
    region: str = Field(default="ID", description="region for senders without a country code")
    max_body_bytes: Annotated[int, Field(gt=0)] = 64 * 1024
    rate_limit_per_minute: Annotated[int, Field(gt=0)] = 20
    part_timeout: Annotated[float, Field(gt=0)] = Field(
        default=900.0,
        description="seconds to wait for the missing parts of a multipart SMS before it is "
        "published with what arrived",
    )
    max_pending_parts: Annotated[int, Field(gt=0)] = 1000


PLUGIN = ChannelPlugin(kind="sms", settings=SmsSettings, normalize=normalize, adapter=None)
