"""Fixtures of the Facebook/Instagram area (the fake itself lives in fb_fake.py).

This directory has no ``__init__.py`` on purpose: as a package it would be importable as
``facebook`` and shadow facebook-sdk.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fb_fake import FakeGraph, serve_fake_graph


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with serve_fake_graph() as fake:
        yield fake
