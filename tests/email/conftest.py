"""Fixtures of the email tests: a real Dovecot per test (see email_dovecot.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from email_dovecot import Dovecot, make_cert, need_tool, remove_server_dir, server_dir


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    server = Dovecot(root=server_dir(tmp_path / "dovecot"), binary=need_tool("dovecot"))
    try:
        server.start()
        yield server
    finally:
        server.stop(graceful=False)
        remove_server_dir(server.root)


@pytest.fixture
def dovecot_tls(tmp_path: Path) -> Iterator[Dovecot]:
    server = Dovecot(
        root=server_dir(tmp_path / "dovecot-tls"), binary=need_tool("dovecot"), tls=True
    )
    try:
        make_cert(server.root)
        server.start()
        yield server
    finally:
        server.stop(graceful=False)
        remove_server_dir(server.root)


@pytest.fixture
def dovecot_starttls(tmp_path: Path) -> Iterator[Dovecot]:
    server = Dovecot(
        root=server_dir(tmp_path / "dovecot-starttls"),
        binary=need_tool("dovecot"),
        tls=True,
        starttls=True,
    )
    try:
        make_cert(server.root)
        server.start()
        yield server
    finally:
        server.stop(graceful=False)
        remove_server_dir(server.root)
