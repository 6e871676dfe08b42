"""``aduan store``, ``aduan reports``, ``aduan verify``, ``aduan status`` end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.cli import build_app
from sinks import repository
from sinks.db import default_store_url, make_engine, migrate
from sinks.queue import ReportPublisher
from sinks.store import StoreConsumer, store_reports
from tests.sinks.conftest import make_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "office:\n"
        "  name: Diskominfo Kabupaten Banyuasin\n"
        "  region: {province: Sumatera Selatan, regency: Banyuasin}\n"
        "data_dir: ./var\n"
        "channels: []\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def seeded(config: Path) -> str:
    engine = make_engine(default_store_url(config.parent / "var"))
    migrate(engine)
    store_reports(engine, [make_report(1), make_report(2, category=None)])
    tracking = repository.list_reports(engine, limit=1)[0].tracking_no
    engine.dispose()
    return tracking


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args), env={"COLUMNS": "250", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_reports_list_table_and_json(config: Path, seeded: str) -> None:
    code, out, _ = invoke("reports", "list", "-c", str(config))
    assert code == 0
    assert seeded in out and "menunggu_verifikasi" in out and "Warga 1" in out
    code, out, _ = invoke("reports", "list", "-c", str(config), "--json", "--limit", "1")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 1
    assert json.loads(lines[0])["tracking_no"] == seeded


def test_reports_list_rejects_unknown_status(config: Path, seeded: str) -> None:
    code, _, err = invoke("reports", "list", "-c", str(config), "--status", "beres")
    assert code == 1 and "valid:" in err


def test_show_verify_status_flow(config: Path, seeded: str) -> None:
    env = {"ADUAN_CONFIG": str(config), "USER": "operator1"}
    code, out, _ = invoke("reports", "show", seeded, "--json", env=env)
    assert code == 0 and json.loads(out)["status"] == "menunggu_verifikasi"
    code, out, _ = invoke("verify", seeded, "--approve", "--reason", "lengkap", env=env)
    assert code == 0 and "terverifikasi" in out and "operator1" in out
    code, out, _ = invoke("status", seeded, "didisposisikan", "--reason", "ke Dinas PU", env=env)
    assert code == 0 and "didisposisikan" in out
    code, out, _ = invoke("reports", "show", seeded, env=env)
    assert code == 0 and "ke Dinas PU" in out and "operator1" in out
    # illegal transition: clear message, exit 1
    code, _, err = invoke("status", seeded, "diarsipkan", "--reason", "x", env=env)
    assert code == 1 and "cannot become diarsipkan" in err


def test_verify_reject_with_explicit_actor(config: Path, seeded: str) -> None:
    code, out, _ = invoke(
        "verify", seeded, "--reject", "--reason", "spam", "--by", "kabid", "-c", str(config)
    )
    assert code == 0 and "ditolak (by kabid)" in out


@pytest.mark.parametrize(
    "args",
    [
        ("reports", "show", "ADU-2611-999999-0"),
        ("verify", "ADU-2611-999999-0", "--approve", "--reason", "x"),
        ("status", "ADU-2611-999999-0", "selesai", "--reason", "x"),
    ],
)
def test_unknown_tracking_number_exits_1(config: Path, seeded: str, args: tuple[str, ...]) -> None:
    code, _, err = invoke(*args, "-c", str(config))
    assert code == 1
    assert "ADU-2611-999999-0" in err


def test_verify_needs_a_decision_and_a_reason(config: Path, seeded: str) -> None:
    assert invoke("verify", seeded, "--reason", "x", "-c", str(config))[0] == 2
    assert invoke("verify", seeded, "--approve", "-c", str(config))[0] == 2


def test_store_command_consumes_until_sigterm(config: Path) -> None:
    data_dir = config.parent / "var"
    publisher = ReportPublisher("embedded", data_dir)
    publisher.publish([make_report(i) for i in range(5)])
    publisher.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "store", "-c", str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(default_store_url(data_dir))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if repository.count_reports(engine) == 5:
                    break
            except Exception:
                pass
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.dispose()
    assert proc.returncode == 0, err
    assert "received signal" in err
    engine = make_engine(default_store_url(data_dir))
    assert repository.count_reports(engine) == 5
    engine.dispose()


def test_store_process_killed_mid_stream_loses_nothing_and_duplicates_nothing(
    config: Path,
) -> None:
    data_dir = config.parent / "var"
    publisher = ReportPublisher("embedded", data_dir)
    for start in range(0, 600, 100):
        publisher.publish([make_report(i) for i in range(start, start + 100)])
    publisher.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "store", "-c", str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.DEVNULL,
    )
    engine = make_engine(default_store_url(data_dir))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if repository.count_reports(engine) > 0:
                    break
            except Exception:
                pass
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-stream: some batches stored, some leased
        proc.wait(timeout=10)
    partial = repository.count_reports(engine)
    assert partial > 0
    StoreConsumer("embedded", data_dir, engine).drain(0.5)
    stored = repository.list_reports(engine, limit=1000)
    assert len(stored) == 600
    assert len({s.tracking_no for s in stored}) == 600
    engine.dispose()
