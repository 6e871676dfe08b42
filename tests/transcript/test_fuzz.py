"""Whatever bytes a call-center system drops, the normalizer answers and never raises."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.transcript import normalize

PIECES = [
    "WEBVTT\n\n", "00:00:01.000 --> 00:00:02.000\n", "00:00:01,000 --> 00:00:02,000\n", "1\n",
    "<v Petugas>", "<v Warga>", "</v>", "Petugas: ", "Penelepon: ", "Tanggal: 23/11/2026\n",
    "Jam: 25:99\n", "No. Penelepon: 0812\n", "speaker,text,start\n", "Agent,halo,1\n",
    '{"results": {"items": [', '{"type": "punctuation"}', '"channel_labels": {}', "]}}",
    "nama saya ", "Budi ", "nol delapan satu dua ", "seratus ribu ", "NIK ", "alamat saya di ",
    "selamat pagi Diskominfo ada yang bisa dibantu ", ",", ".", "\n", "\n\n", "\ufeff", "\x00",
]  # fmt: skip
FILENAMES = ["c.vtt", "c.srt", "c.json", "c.txt", "c.csv", "c.sbv", None]


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=12)), max_size=25),
    filename=st.sampled_from(FILENAMES),
    meta=st.dictionaries(
        st.sampled_from(["ani", "start_time", "caller_name", "started_at", "tanggal", "jam"]),
        st.one_of(st.text(max_size=20), st.integers(), st.none(), st.floats(allow_nan=True)),
        max_size=3,
    ),
)
def test_never_raises(parts: list[str], filename: str | None, meta: dict[str, object]) -> None:
    payload = "".join(parts).encode("utf-8", errors="surrogatepass")
    sha = hashlib.sha256(payload).hexdigest()
    raw = RawMessage(
        payload, "text/plain", external_id=sha, filename=filename, meta=meta,
        received_at=datetime(2026, 11, 23, tzinfo=UTC),
    )  # fmt: skip
    ctx = NormalizeContext("callcenter", "transcript", datetime(2026, 11, 23, tzinfo=UTC),
                           "file:///raw", sha)  # fmt: skip
    outcomes = normalize(raw, ctx)
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], Normalized | Rejection)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "items",
                    "channels",
                    "channel_label",
                    "speaker_label",
                    "segments",
                    "start_time",
                    "alternatives",
                    "content",
                    "confidence",
                    "type",
                    "transcripts",
                    "transcript",
                    "audio_segments",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    results=st.fixed_dictionaries(
        {},
        optional={
            "items": _JSON,
            "transcripts": _JSON,
            "speaker_labels": _JSON,
            "channel_labels": _JSON,
            "audio_segments": _JSON,
        },
    )
)
def test_malformed_transcribe_json_never_raises(results: dict[str, object]) -> None:
    import json

    payload = json.dumps({"results": results}).encode()
    sha = hashlib.sha256(payload).hexdigest()
    raw = RawMessage(payload, "application/json", external_id=sha, filename="c.json")
    ctx = NormalizeContext("callcenter", "transcript", datetime(2026, 11, 23, tzinfo=UTC),
                           "file:///raw", sha)  # fmt: skip
    assert len(normalize(raw, ctx)) == 1
