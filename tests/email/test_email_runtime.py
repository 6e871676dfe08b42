"""The email channel through the real runtime: Dovecot -> adapter -> pipeline -> queue -> store.

The same wiring as ``aduan run --until-idle`` with the embedded queue and SQLite store: what the
store holds after a sweep, after a second sweep (nothing doubled), and after the folder is
renumbered (UIDVALIDITY change: nothing lost, nothing doubled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from email_dovecot import PASSWORD, USER, Dovecot, complaint


def _sweep(config: Path) -> tuple[int, int, dict[str, Any]]:
    """One `aduan run --until-idle`; returns (report rows, quarantined rows, checkpoint)."""
    from sqlalchemy import text

    from ingest.config import load_config
    from ingest.pipeline import Pipeline
    from ingest.runtime import Runtime
    from sinks.db import make_engine, migrate
    from sinks.state import CheckpointStore
    from sinks.store import StoreConsumer

    cfg = load_config(config)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg.store_url)
    migrate(engine)
    try:
        with Pipeline.open(cfg, migrate=False) as pipeline:
            Runtime(cfg, pipeline, CheckpointStore(engine)).run_until_idle()
        StoreConsumer(cfg.queue_url, cfg.data_dir, engine).drain(idle_timeout=0.5)
        with engine.connect() as conn:
            reports = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
            quarantined = conn.execute(text("SELECT count(*) FROM quarantine")).scalar_one()
        checkpoint = CheckpointStore(engine).load("surel")
    finally:
        engine.dispose()
    return int(reports), int(quarantined), dict(checkpoint or {})


def test_sweeps_into_the_store_without_loss_or_doubles(dovecot: Dovecot, tmp_path: Path) -> None:
    pytest.importorskip("sinks.store", reason="the store is not in this checkout")
    auto_reply = complaint(3).replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:")
    oversized = complaint(4, body="BESAR " * 10_000)
    dovecot.append(complaint(1), complaint(2), auto_reply, oversized, folder="Pengaduan")
    config = tmp_path / "channels.yaml"
    config.write_text(
        f"""office:
  name: Diskominfo Uji
  region: {{province: Sumatera Selatan, regency: Ogan Ilir}}
data_dir: {tmp_path / "var"}
queue: {{url: embedded}}
channels:
  - name: surel
    kind: email
    host: 127.0.0.1
    port: {dovecot.port}
    tls: none
    username: {USER}
    password: {PASSWORD}
    folder: Pengaduan
    batch_size: 2
    idle: false
    max_message_bytes: 20000
""",
        encoding="utf-8",
    )
    reports, quarantined, checkpoint = _sweep(config)
    assert (reports, quarantined) == (2, 2)  # the auto-reply and the oversized one quarantined
    assert checkpoint["last_uid"] == 4

    dovecot.append(complaint(5), folder="Pengaduan")
    reports, quarantined, checkpoint = _sweep(config)
    assert (reports, quarantined) == (3, 2)  # only the new one: nothing doubled
    assert checkpoint["last_uid"] == 5

    with dovecot.client() as imap:  # the folder is recreated: same mail, new UIDVALIDITY
        imap.delete_folder("Pengaduan")
        imap.create_folder("Pengaduan")
    dovecot.append(complaint(1), complaint(2), complaint(5), complaint(6), folder="Pengaduan")
    reports, _, after = _sweep(config)
    assert reports == 4  # complaint 6 is new; 1, 2 and 5 are not stored twice
    assert after["uidvalidity"] != checkpoint["uidvalidity"]
