"""Shared fixtures: the real servers (PostgreSQL, RabbitMQ), the shared corpora, CI strictness.

In CI (``CI=true``) an unreachable server or a missing system tool is a failure, not a skip:
a green run must mean the real thing was exercised.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

PG_HOST = os.environ.get("ADUAN_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("ADUAN_TEST_PG_PORT", "5432"))
AMQP_HOST = os.environ.get("ADUAN_TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("ADUAN_TEST_AMQP_PORT", "5672"))


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: CI must never be green on something it did not run."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def need_tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    if path is None:
        unavailable(f"{name} is not installed (.ci/run installs it with apt-get)")
    assert path is not None
    return path


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def corpora() -> Path:
    """The shared real-world corpora; tests that need them skip (even in CI) when absent."""
    if not CORPORA.is_dir():
        pytest.skip(f"shared corpora not found at {CORPORA} (they live beside the project)")
    return CORPORA


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not _reachable(PG_HOST, PG_PORT):
        unavailable(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    import psycopg

    name = f"aduan_t_{uuid.uuid4().hex[:12]}"
    admin = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """A fresh RabbitMQ virtual host for one test (so topology and leftovers never leak)."""
    if not _reachable(AMQP_HOST, AMQP_PORT):
        unavailable(f"RabbitMQ is not reachable on {AMQP_HOST}:{AMQP_PORT}")
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = f"aduan-t-{uuid.uuid4().hex[:12]}"
    made = False
    if Path(ctl).exists():
        made = (
            subprocess.run([ctl, "add_vhost", vhost], capture_output=True, check=False).returncode == 0
            and subprocess.run(
                [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
    if not made:
        unavailable("cannot create a RabbitMQ vhost for the test (rabbitmqctl missing or failing)")
    try:
        yield f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, check=False)
