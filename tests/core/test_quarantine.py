"""Nothing is dropped: a row that cannot become a report is quarantined, listed, shown, replayed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ingest.packs import read_archived
from tests.core.test_delivery import Backend, stored, write_config

ADUAN = [sys.executable, "-m", "ingest.cli"]


def aduan(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ADUAN, *args, "-c", str(cfg)], capture_output=True, text=True, timeout=180, cwd=cfg.parent
    )


def test_quarantine_list_show_replay_after_fixing_the_config(tmp_path: Path) -> None:
    (tmp_path / "buku.csv").write_text(
        "No,Tanggal,Nama,Isi\n"
        "K-1,03/11/2026,Siti,Jalan rusak di depan SD 12\n"
        "K-2,3 Nov 2026,Budi,Lampu jalan mati sejak Senin\n"  # a date layout the default rules do not read
        "K-3,04/11/2026,Ani,\n",  # no complaint text at all
        encoding="utf-8",
    )
    store_url = f"sqlite:///{tmp_path / 'var' / 'aduan.db'}"
    cfg = write_config(tmp_path, Backend("embedded", "embedded", store_url), batch_size=10)

    run = aduan(cfg, "run", "--until-idle")
    assert run.returncode == 0, run.stderr
    assert stored(store_url)[0] == 1

    listed = aduan(cfg, "quarantine", "list")
    assert listed.returncode == 0, listed.stderr
    assert "cannot read date '3 Nov 2026'" in listed.stdout
    assert "empty complaint text" in listed.stdout
    assert "2 item(s)" in listed.stderr

    shown = aduan(cfg, "quarantine", "show", "1")
    doc = json.loads(shown.stdout)
    assert doc["channel"] == "buku"
    assert doc["reason"].startswith("buku.csv:3: cannot read date")
    # the three rows were one batch, archived as one pack: the item names its member
    assert doc["raw_uri"].startswith("jar:file://")
    assert json.loads(read_archived(doc["raw_uri"]))["values"]["No"] == "K-2"

    # still failing: the item stays in quarantine, the command says why and exits non-zero
    again = aduan(cfg, "quarantine", "replay", "1")
    assert again.returncode == 1
    assert "still rejected" in again.stderr

    # staff fix the channel's date layout, then replay: the report arrives, the item is marked
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace(
            "    batch_size: 10\n", "    batch_size: 10\n    date_format: '%d %b %Y'\n"
        ),
        encoding="utf-8",
    )
    fixed = aduan(cfg, "quarantine", "replay", "1")
    assert fixed.returncode == 0, fixed.stderr
    drained = aduan(cfg, "run", "--until-idle")
    assert drained.returncode == 0, drained.stderr
    assert stored(store_url)[0] == 2
    remaining = aduan(cfg, "quarantine", "list")
    assert "cannot read date" not in remaining.stdout
    assert "1 item(s)" in remaining.stderr
    everything = aduan(cfg, "quarantine", "list", "--all")
    assert "2 item(s)" in everything.stderr

    missing = aduan(cfg, "quarantine", "show", "99")
    assert missing.returncode == 1
    assert "no quarantined item 99" in missing.stderr
