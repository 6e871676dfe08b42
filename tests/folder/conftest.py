"""Helpers for the watch-folder tests: a folder adapter with a clock the test can move."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.adapter import AdapterContext
from ingest.adapters.folder import FolderAdapter, FolderSettings
from normalizers.office import DEFAULT_OFFICE


class Clock:
    """Wall-clock time plus an offset: "let the settle time pass" without sleeping."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_adapter(tmp_path: Path, clock: Clock) -> Callable[..., FolderAdapter]:
    def build(folder: Path | None = None, **fields: Any) -> FolderAdapter:
        root = folder or tmp_path / "drop"
        root.mkdir(parents=True, exist_ok=True)
        settings = FolderSettings.model_validate(
            {"path": root, "suffixes": [".txt", ".vtt"], "settle_seconds": 2.0, **fields}
        )
        ctx = AdapterContext(channel_name="drop", data_dir=tmp_path / "data", office=DEFAULT_OFFICE)
        return FolderAdapter(settings, ctx, clock=clock)

    return build
