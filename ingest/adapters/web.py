"""``kind: web``: complaints typed by staff (walk-ins, letters) or sent by a public web form.

Push-only: ``aduan serve`` takes them at ``POST /intake/web`` (JSON or multipart with
attachments) and serves a plain form page at ``GET /intake/web/form``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr

from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.web import normalize

DEFAULT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf")


class WebSettings(ChannelSettings):
    kind: Literal["web"] = "web"
    api_key: SecretStr | None = Field(
        default=None,
        description="when set, every submission must carry it (Authorization: Bearer <key>, "
        "or the form page's 'Kunci akses' field)",
    )
    max_request_bytes: Annotated[int, Field(gt=0)] = 25 * 1024 * 1024
    max_attachment_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    max_attachments: Annotated[int, Field(ge=0)] = 5
    allowed_types: list[str] = Field(default_factory=lambda: list(DEFAULT_TYPES))
    rate_limit_per_minute: Annotated[int, Field(gt=0)] = 30
    form_page: bool = Field(default=True, description="serve GET /intake/web/form")


PLUGIN = ChannelPlugin(kind="web", settings=WebSettings, normalize=normalize, adapter=None)
