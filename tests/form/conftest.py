"""Fixtures of the form (OCR) tests: fonts, Tesseract, a normalizer context, cached OCR runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from normalizers.base import NormalizeContext, Normalized, Outcome, RawMessage
from tests.conftest import need_tool, unavailable
from tests.form.render import find_font

RECEIVED = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # the scan's mtime: Friday 10:00 WIB


@pytest.fixture(scope="session")
def tesseract() -> str:
    path = need_tool("tesseract")
    import subprocess

    langs = subprocess.run([path, "--list-langs"], capture_output=True, text=True, check=False)
    if "ind" not in langs.stdout.split():
        unavailable("tesseract's Indonesian data is missing (apt-get install tesseract-ocr-ind)")
    return path


@pytest.fixture(scope="session")
def fonts() -> dict[str, Path]:
    """TrueType fonts of several families (DejaVu from fonts-dejavu-core, Liberation from
    fonts-liberation); a family that is missing falls back to DejaVu."""
    dejavu = find_font("DejaVuSans.ttf")
    if dejavu is None:
        unavailable("no TrueType fonts (apt-get install fonts-dejavu-core fonts-liberation)")
    assert dejavu is not None
    found = {
        "sans": dejavu,
        "serif": find_font("DejaVuSerif.ttf") or dejavu,
        "liberation_serif": find_font("LiberationSerif-Regular.ttf") or dejavu,
        "liberation_sans": find_font("LiberationSans-Regular.ttf") or dejavu,
        "mono": find_font("DejaVuSansMono.ttf", "LiberationMono-Regular.ttf") or dejavu,
    }
    return found


def make_ctx(settings: Mapping[str, Any] | None = None) -> NormalizeContext:
    return NormalizeContext(
        channel_name="kotak-pengaduan",
        channel_kind="form",
        ingested_at=datetime(2026, 11, 20, 4, 0, tzinfo=UTC),
        raw_uri="file:///var/lib/aduan/raw/test",
        raw_sha256="0" * 64,
        settings=dict(settings or {}),
    )


def run_normalizer(
    payload: bytes, content_type: str = "image/png", settings: Mapping[str, Any] | None = None
) -> list[Outcome]:
    from normalizers.form import normalize

    raw = RawMessage(
        payload=payload,
        content_type=content_type,
        external_id=RawMessage(payload, content_type).sha256,
        received_at=RECEIVED,
        filename="scan",
    )
    return list(normalize(raw, make_ctx(settings)))


@pytest.fixture(scope="session")
def normalize_cached(tesseract: str) -> Callable[..., list[Outcome]]:
    """OCR is slow: each distinct scan is normalized once per test session."""
    del tesseract
    cache: dict[tuple[bytes, str], list[Outcome]] = {}

    def run(payload: bytes, content_type: str = "image/png", **settings: Any) -> list[Outcome]:
        key = (payload, repr(sorted(settings.items())))
        if key not in cache:
            cache[key] = run_normalizer(payload, content_type, settings)
        return cache[key]

    return run


def only_report(outcomes: list[Outcome]) -> Any:
    assert len(outcomes) == 1, outcomes
    outcome = outcomes[0]
    assert isinstance(outcome, Normalized), outcome
    return outcome.report
