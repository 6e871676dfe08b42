"""Every file of the shared transcript corpus normalizes or is rejected with a reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.transcript import normalize


def _files(corpora: Path) -> list[Path]:
    root = corpora / "transcripts"
    if not root.is_dir():
        pytest.skip(f"transcript corpus not found at {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "LICENSE")
    if not files:
        pytest.skip(f"transcript corpus at {root} is empty")
    return files


def test_every_corpus_file_normalizes_or_is_rejected(
    corpora: Path,
    raw_factory: Callable[..., RawMessage],
    ctx_factory: Callable[..., NormalizeContext],
) -> None:
    normalized: list[str] = []
    rejected: list[str] = []
    for path in _files(corpora):
        raw = raw_factory(path.read_bytes(), path.name)
        outcomes = normalize(raw, ctx_factory(raw.payload))
        assert len(outcomes) == 1, path
        outcome = outcomes[0]
        if isinstance(outcome, Normalized):
            assert outcome.report.text.strip(), path
            assert outcome.report.external_id == raw.external_id
            normalized.append(path.name)
        else:
            assert isinstance(outcome, Rejection)
            assert outcome.reason.strip(), path
            rejected.append(path.name)
    # the real samples (Transcribe output, well-formed subtitles) must come through
    for name in ("02-channel-identification.json", "03-speaker-identification.json", "sample.vtt",
                 "sample.srt", "cue_tags.vtt"):  # fmt: skip
        if any(n == name for n in normalized + rejected):
            assert name in normalized, f"{name} was rejected"
    for name in ("empty.vtt", "no_captions.vtt"):
        if any(n == name for n in normalized + rejected):
            assert name in rejected, f"{name} should be rejected"


def test_channel_identification_keeps_only_the_caller_channel(
    corpora: Path,
    raw_factory: Callable[..., RawMessage],
    ctx_factory: Callable[..., NormalizeContext],
) -> None:
    path = corpora / "transcripts" / "aws-transcribe" / "02-channel-identification.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    raw = raw_factory(path.read_bytes(), path.name)
    both = normalize(raw, ctx_factory(raw.payload))[0]
    swapped = normalize(raw, ctx_factory(raw.payload, agent_channel="ch_1", caller_channel="ch_0"))[
        0
    ]
    assert isinstance(both, Normalized) and isinstance(swapped, Normalized)
    first, second = both.report.text, swapped.report.text
    assert first and second and first != second
    assert not set(first.split("\n")) & set(second.split("\n"))
