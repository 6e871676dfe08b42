"""Fixtures of the Twitter/X channel tests: the loopback fake and adapters pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tweepy

from ingest.adapter import AdapterContext
from ingest.adapters.twitter import TwitterAdapter, TwitterSettings, default_client
from normalizers.office import DEFAULT_OFFICE

from .fake_x import FakeX, LoopbackTransport, SimSleep, settings


@pytest.fixture
def fake() -> Iterator[FakeX]:
    server = FakeX()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sim_sleep(fake: FakeX) -> SimSleep:
    return SimSleep(fake)


MakeAdapter = Callable[..., TwitterAdapter]


@pytest.fixture
def make_adapter(fake: FakeX, sim_sleep: SimSleep, tmp_path: Path) -> Iterator[MakeAdapter]:
    """Build adapters on the fake: ``make_adapter(**settings_overrides, ctx=..., sleep=...)``."""
    made: list[TwitterAdapter] = []

    def client_factory(s: TwitterSettings) -> tweepy.Client:
        client = default_client(s)
        LoopbackTransport(fake.base_url).mount_on(client.session)
        return client

    def make(
        *, ctx: AdapterContext | None = None, sleep: Any = "sim", **overrides: Any
    ) -> TwitterAdapter:
        """``sleep=None`` uses the adapter's own wait (``ctx.stop``); default: simulated."""
        context = ctx or AdapterContext("x-kominfo", tmp_path / "data", DEFAULT_OFFICE)
        adapter = TwitterAdapter(
            settings(**overrides),
            context,
            client_factory=client_factory,
            clock=lambda: fake.now,
            sleep=sim_sleep if sleep == "sim" else sleep,
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()
