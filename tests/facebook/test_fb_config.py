"""The Facebook/Instagram entries of channels.yaml, through the project's config loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from fb_fake import TOKEN

from ingest.adapters.facebook import FacebookSettings, InstagramSettings
from ingest.config import ConfigError, load_config

YAML = """
office:
  name: Diskominfo Kabupaten Ogan Ilir
  region: {province: Sumatera Selatan, regency: Ogan Ilir}
channels:
  - name: fb-diskominfo
    kind: facebook
    page_id: "112233445566778"
    access_token: ${FB_PAGE_TOKEN}
    app_secret: ${FB_APP_SECRET}
    verify_token: ${FB_VERIFY_TOKEN}
    sources: [feed, comments, messenger]
    poll_interval: 120
  - name: ig-diskominfo
    kind: instagram
    ig_user_id: "17841400000000001"
    username: diskominfo_oi
    access_token: ${FB_PAGE_TOKEN}
    sources: [comments, mentions]
"""


def test_entries_load_with_secrets_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(YAML)
    env = {"FB_PAGE_TOKEN": TOKEN, "FB_APP_SECRET": "app-secret", "FB_VERIFY_TOKEN": "vt"}
    cfg = load_config(path, env=env)
    fb = cfg.channel("fb-diskominfo")
    ig = cfg.channel("ig-diskominfo")
    assert isinstance(fb, FacebookSettings) and isinstance(ig, InstagramSettings)
    assert fb.access_token.get_secret_value() == TOKEN
    assert fb.graph_version == "v21.0"
    assert TOKEN not in repr(fb)
    assert ig.sources == ["comments", "mentions"]
    assert cfg.redact(f"token={TOKEN}") == "token=***"


def test_an_unknown_source_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(YAML.replace("[feed, comments, messenger]", "[feed, stories]"))
    env = {"FB_PAGE_TOKEN": TOKEN, "FB_APP_SECRET": "a", "FB_VERIFY_TOKEN": "v"}
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    assert "sources" in str(info.value)
