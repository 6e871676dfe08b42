"""Golden transcripts: one per format, written for this project in Indonesian.

``golden/<case>.<ext>`` is the transcript (``<case>.meta.json``, if present, is the call
metadata the adapter would attach from a sidecar or the call log); ``golden/<case>.json`` is
the expected record, or ``{"rejected": "<part of the reason>"}``. Fields the shared enrichment
owns (location, category, severity, due_at, occurred_at, language) are not pinned here: they
belong to the extractors' tests. Regenerate after a deliberate change with
``ADUAN_REGEN_GOLDEN=1 pytest tests/transcript/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.transcript import normalize

GOLDEN = Path(__file__).parent / "golden"

ENRICHED = {"location", "category", "severity", "due_at", "occurred_at", "language"}
IGNORED = {"ingested_at"}


def _inputs() -> list[Path]:
    return sorted(
        p
        for p in GOLDEN.iterdir()
        if p.is_file()
        and not p.name.endswith((".meta.json",))
        and p.name.count(".") >= 1
        and not (p.suffix == ".json" and p.name.count(".") == 1)
    )


def _expected_path(path: Path) -> Path:
    return path.with_name(path.name.split(".", 1)[0] + ".json")


def _actual(
    path: Path, golden_raw: Callable[[Path], RawMessage], make_ctx: Callable[..., NormalizeContext]
) -> dict[str, Any]:
    raw = golden_raw(path)
    outcomes = normalize(raw, make_ctx(raw.payload))
    assert len(outcomes) == 1
    outcome = outcomes[0]
    if isinstance(outcome, Rejection):
        return {"rejected": outcome.reason, "external_id": outcome.external_id}
    assert isinstance(outcome, Normalized)
    record = json.loads(outcome.report.to_json())
    record["raw"].pop("uri")
    for key in ENRICHED | IGNORED:
        record.pop(key, None)
    return dict(record)


def test_every_format_has_a_golden_case() -> None:
    suffixes = {p.suffix for p in _inputs()}
    assert {".txt", ".vtt", ".srt", ".json", ".csv"} <= suffixes
    names = {p.name for p in _inputs()}
    assert any(n.endswith(".transcribe.json") and "channels" in n for n in names)
    assert any(n.endswith(".transcribe.json") and "speakers" in n for n in names)


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: p.name)
def test_golden(
    path: Path,
    golden_reader: Callable[[Path], RawMessage],
    ctx_factory: Callable[..., NormalizeContext],
) -> None:
    actual = _actual(path, golden_reader, ctx_factory)
    expected_path = _expected_path(path)
    if os.environ.get("ADUAN_REGEN_GOLDEN"):
        written = {"rejected": actual["rejected"]} if "rejected" in actual else actual
        expected_path.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n")
    expected = json.loads(expected_path.read_text())
    if "rejected" in expected:
        assert "rejected" in actual, f"expected a rejection, got a record: {actual}"
        assert expected["rejected"] in actual["rejected"]
        assert actual["external_id"] == golden_reader(path).external_id
        return
    assert actual == expected
