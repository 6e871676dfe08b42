"""Golden files: SMS and web envelopes -> the record (or rejection) each must become.

Compared ignoring ``ingested_at`` and ``raw.uri``. Regenerate after a deliberate change with
``ADUAN_UPDATE_GOLDEN=1 pytest tests/http/test_intake_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from normalizers import sms, web
from normalizers.base import NormalizeContext, Normalized, RawMessage
from normalizers.office import Category, OfficeProfile, Region

GOLDEN = Path(__file__).parent / "golden"
OFFICE = OfficeProfile(
    name="Diskominfo Uji",
    region=Region(province="Sumatera Selatan", regency="Ogan Ilir"),
    categories=[
        Category(name="Infrastruktur", keywords=["jalan", "lampu jalan"]),
        Category(name="Pungli", keywords=["pungutan liar", "pungli"]),
    ],
)
CASES = sorted(p.name.removesuffix(".in.json") for p in GOLDEN.glob("*.in.json"))


def outcome(name: str) -> dict[str, Any]:
    payload = (GOLDEN / f"{name}.in.json").read_bytes()
    kind = name.split("_", 1)[0]
    ctx = NormalizeContext(
        channel_name=kind,
        channel_kind=kind,
        ingested_at=datetime(2026, 11, 23, 3, 30, tzinfo=UTC),
        raw_uri="file:///var/lib/aduan/raw/x",
        raw_sha256="0" * 64,
        office=OFFICE,
        settings={"keywords": ["LAPOR"], "codes": {"JLN": "Infrastruktur"}},
    )
    normalize = sms.normalize if kind == "sms" else web.normalize
    [out] = normalize(RawMessage(payload, "application/json"), ctx)
    if isinstance(out, Normalized):
        doc: dict[str, Any] = json.loads(out.report.to_json())
        doc.pop("ingested_at")
        doc["raw"].pop("uri")
        doc["blobs"] = sorted(out.blobs)
        return doc
    return {"rejection": out.reason, "external_id": out.external_id}


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    got = outcome(name)
    path = GOLDEN / f"{name}.out.json"
    if os.environ.get("ADUAN_UPDATE_GOLDEN"):
        path.write_text(
            json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert got == json.loads(path.read_text(encoding="utf-8"))


def test_there_are_goldens() -> None:
    assert len(CASES) >= 5
