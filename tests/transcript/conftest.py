"""Helpers for the transcript channel's tests: a fixed context and raw messages from files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from normalizers.base import NormalizeContext, RawMessage

GOLDEN = Path(__file__).parent / "golden"
#: what a golden case's file mtime is taken to be (the adapter's received_at)
MTIME = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
INGESTED = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def make_ctx(payload: bytes, **settings: Any) -> NormalizeContext:
    sha = hashlib.sha256(payload).hexdigest()
    return NormalizeContext(
        channel_name="callcenter",
        channel_kind="transcript",
        ingested_at=INGESTED,
        raw_uri=f"file:///var/lib/aduan/raw/{sha}",
        raw_sha256=sha,
        settings={"agent_channel": "ch_0", "caller_channel": "ch_1", **settings},
    )


def make_raw(
    payload: bytes | str, filename: str, meta: Mapping[str, Any] | None = None
) -> RawMessage:
    data = payload.encode() if isinstance(payload, str) else payload
    return RawMessage(
        payload=data,
        content_type="text/plain",
        external_id=hashlib.sha256(data).hexdigest(),
        received_at=MTIME,
        filename=filename,
        meta=dict(meta or {}),
    )


def golden_raw(path: Path) -> RawMessage:
    case = path.name.split(".", 1)[0]
    meta_file = path.with_name(f"{case}.meta.json")
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    return make_raw(path.read_bytes(), path.name, meta)


@pytest.fixture
def raw_factory() -> Callable[..., RawMessage]:
    return make_raw


@pytest.fixture
def ctx_factory() -> Callable[..., NormalizeContext]:
    return make_ctx


@pytest.fixture
def golden_reader() -> Callable[[Path], RawMessage]:
    return golden_raw
