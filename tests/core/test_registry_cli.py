"""Channel kinds as entry points, and the offline `aduan normalize` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ingest.config import load_config
from ingest.registry import ChannelPlugin, UnknownKind, available_kinds, get_plugin

ADUAN = [sys.executable, "-m", "ingest.cli"]
ROOT = Path(__file__).resolve().parents[2]
BUILTIN = {"csv", "email", "twitter", "facebook", "instagram", "transcript", "form", "sms", "web"}


def test_builtin_kinds_are_entry_points() -> None:
    assert set(available_kinds()) >= BUILTIN
    assert isinstance(get_plugin("csv"), ChannelPlugin)
    with pytest.raises(UnknownKind, match="unknown channel kind 'telegram'"):
        get_plugin("telegram")


THIRD_PARTY = """
from typing import Literal
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import build_report

class Settings(ChannelSettings):
    kind: Literal["whatsapp"] = "whatsapp"
    phone_number_id: str

def normalize(raw, ctx):
    return [build_report({"external_id": "wamid.1", "received_at": ctx.ingested_at,
                          "text": raw.payload.decode()}, ctx, enrich=False)]

PLUGIN = ChannelPlugin(kind="whatsapp", settings=Settings, normalize=normalize)
"""


def test_a_third_party_package_adds_a_kind(tmp_path: Path) -> None:
    """Installing a package that declares an `aduan.channels` entry point is all it takes."""
    site = tmp_path / "site"
    (site / "aduan_whatsapp").mkdir(parents=True)
    (site / "aduan_whatsapp" / "__init__.py").write_text(THIRD_PARTY, encoding="utf-8")
    dist = site / "aduan_whatsapp-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: aduan-whatsapp\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[aduan.channels]\nwhatsapp = aduan_whatsapp:PLUGIN\n", encoding="utf-8"
    )
    cfg = tmp_path / "channels.yaml"
    cfg.write_text(
        textwrap.dedent(
            """\
            office: {name: X, region: {province: Sumatera Selatan}}
            channels:
              - {name: wa, kind: whatsapp, phone_number_id: "123", phone_numbr: 1}
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}"}
    kinds = subprocess.run([*ADUAN, "kinds"], env=env, capture_output=True, text=True, timeout=60)
    assert "whatsapp" in kinds.stdout.split()
    check = subprocess.run(
        [*ADUAN, "check-config", str(cfg)], env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 2
    assert (
        "channels[0]: unknown field 'phone_numbr' (did you mean 'phone_number_id'?)" in check.stderr
    )
    msg = tmp_path / "pesan.txt"
    msg.write_text("Air PDAM mati tiga hari", encoding="utf-8")
    out = subprocess.run(
        [*ADUAN, "normalize", "--channel", "whatsapp", str(msg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=site,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["text"] == "Air PDAM mati tiga hari"


def normalize_with_demo_config(path: Path) -> subprocess.CompletedProcess[str]:
    demo = ROOT / "samples" / "demo.yaml"
    cmd = [*ADUAN, "normalize", "--channel", "buku-pengaduan", "-c", str(demo), str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_normalize_prints_one_report_per_line_and_fails_on_rejects(tmp_path: Path) -> None:
    demo = load_config(ROOT / "samples" / "demo.yaml", env={})
    assert demo.channel("buku-pengaduan").kind == "csv"
    book = ROOT / "samples" / "buku" / "buku-pengaduan-2026.csv"
    out = normalize_with_demo_config(book)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 10
    first = json.loads(lines[0])
    assert first["external_id"] == "AG-2026-0101"
    assert first["reporter"]["phone"] == "+6281273451122"
    # a NIK in the sample is masked in the text
    assert all("1610021203850004" not in line for line in lines)

    bad = tmp_path / "bad.csv"
    bad.write_text("No Agenda;Tanggal;Isi Pengaduan\nX1;bukan tanggal;Isi\n", encoding="utf-8")
    out = normalize_with_demo_config(bad)
    assert out.returncode == 1
    assert "rejected: bad.csv:2: cannot read date 'bukan tanggal'" in out.stderr
    assert out.stdout == ""


def test_normalize_unknown_kind_says_so(tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text("{}", encoding="utf-8")
    out = subprocess.run(
        [*ADUAN, "normalize", "--channel", "whatsapp", str(f)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 2
    assert "no normalizer for 'whatsapp' yet" in out.stderr
