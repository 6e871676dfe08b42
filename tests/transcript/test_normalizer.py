"""Behaviour of the transcript normalizer beyond the golden files: roles, metadata, rejections."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.transcript import detect_format, normalize, parse_when, role_of_label

RawF = Callable[..., RawMessage]
CtxF = Callable[..., NormalizeContext]

DIALOGUE = """Petugas: Selamat pagi, Diskominfo, ada yang bisa dibantu?
Penelepon: Saya mau lapor, jembatan gantung di Desa Arisan Gading putus talinya.
Penelepon: Nomor saya nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol.
Petugas: Baik, kami catat.
"""


def one(raw: RawMessage, ctx: NormalizeContext) -> Normalized | Rejection:
    outcomes = normalize(raw, ctx)
    assert len(outcomes) == 1
    return outcomes[0]


def report(raw: RawMessage, ctx: NormalizeContext) -> Normalized:
    outcome = one(raw, ctx)
    assert isinstance(outcome, Normalized), outcome
    return outcome


def test_agent_script_is_not_in_text(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory(DIALOGUE, "c.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert "Selamat pagi" not in rec.text and "kami catat" not in rec.text
    assert rec.text.startswith("Saya mau lapor, jembatan gantung")
    assert rec.reporter.phone == "+6281234567890"
    assert rec.external_id == raw.external_id
    assert rec.received_at == raw.received_at


def test_ani_from_metadata_wins_over_speech(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory(DIALOGUE, "c.txt", {"caller_number": "0852-1234-5678"})
    assert report(raw, ctx_factory(raw.payload)).report.reporter.phone == "+6285212345678"


def test_unusable_ani_falls_back_to_speech(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory(DIALOGUE, "c.txt", {"ani": "anonymous"})
    assert report(raw, ctx_factory(raw.payload)).report.reporter.phone == "+6281234567890"


def test_call_start_from_metadata(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory(DIALOGUE, "c.txt", {"start_time": "2026-11-20T15:02:11+07:00"})
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.received_at == datetime(2026, 11, 20, 8, 2, 11, tzinfo=UTC)


def test_header_block_date_in_words_and_zone(raw_factory: RawF, ctx_factory: CtxF) -> None:
    text = "Tanggal: Senin, 23 November 2026\nJam: 14:05 WITA\nNo. Penelepon: +62 812 3456 7890\n\n"
    raw = raw_factory(text + DIALOGUE, "c.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.received_at == datetime(2026, 11, 23, 6, 5, tzinfo=UTC)
    assert rec.reporter.phone == "+6281234567890"
    assert "Tanggal" not in rec.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T09:15:00Z", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("2026-11-23 16:15:00", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("23/11/2026 16.15", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("23-11-2026 18:15 WIT", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("1795425300", datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        (1795425300000, datetime(2026, 11, 23, 9, 15, tzinfo=UTC)),
        ("23 Agustus 2026", datetime(2026, 8, 22, 17, 0, tzinfo=UTC)),
        ("besok", None),
    ],
)
def test_parse_when(value: object, expected: datetime | None) -> None:
    from zoneinfo import ZoneInfo

    assert parse_when(value, ZoneInfo("Asia/Jakarta")) == expected


def test_only_agent_speech_is_rejected(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory("Petugas: Halo? Halo?\nPetugas: Panggilan kami akhiri.\n", "c.txt")
    outcome = one(raw, ctx_factory(raw.payload))
    assert isinstance(outcome, Rejection)
    assert "no caller speech" in outcome.reason
    assert outcome.external_id == raw.external_id


def test_transport_error_is_rejected(ctx_factory: CtxF) -> None:
    raw = RawMessage(b"", "text/plain", filename="x.vtt", transport_error="PermissionError")
    outcome = one(raw, ctx_factory(b""))
    assert isinstance(outcome, Rejection) and "PermissionError" in outcome.reason


def test_content_wins_over_extension(raw_factory: RawF, ctx_factory: CtxF) -> None:
    vtt = (
        "WEBVTT\n\n00:00.000 --> 00:03.000\n<v Petugas>Selamat pagi, ada yang bisa dibantu?\n\n"
        "00:03.000 --> 00:09.000\n<v Warga>Sampah di Pasar Indralaya belum diangkut.\n"
    )
    raw = raw_factory(vtt, "call.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.text == "Sampah di Pasar Indralaya belum diangkut."
    assert detect_format(vtt, "call.txt") == "vtt"


def test_wrong_extension_without_content_is_rejected(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory("just some words", "call.srt")
    outcome = one(raw, ctx_factory(raw.payload))
    assert isinstance(outcome, Rejection) and "not SRT" in outcome.reason


def test_json_that_is_not_transcribe_is_rejected(raw_factory: RawF, ctx_factory: CtxF) -> None:
    raw = raw_factory(json.dumps({"hello": "world"}), "call.json")
    outcome = one(raw, ctx_factory(raw.payload))
    assert isinstance(outcome, Rejection) and "Amazon Transcribe" in outcome.reason


def test_named_speakers_sorted_by_what_they_say(raw_factory: RawF, ctx_factory: CtxF) -> None:
    text = (
        "Dewi: Selamat siang, Diskominfo Ogan Ilir, dengan Dewi, ada yang bisa dibantu?\n"
        "Pak Karno: Siang. Saya mau melaporkan banjir di Desa Sejangko.\n"
        "Dewi: Baik, laporan Bapak kami teruskan.\n"
        "Pak Karno: Terima kasih.\n"
    )
    raw = raw_factory(text, "c.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.text == "Siang. Saya mau melaporkan banjir di Desa Sejangko.\nTerima kasih."


def test_extra_labels_from_settings(raw_factory: RawF, ctx_factory: CtxF) -> None:
    text = "Meja 3: Silakan.\nMeja 3: Lanjut.\nTamu: Jalan di depan SD 12 rusak parah.\n"
    raw = raw_factory(text, "c.txt")
    rec = report(raw, ctx_factory(raw.payload, agent_labels=["Meja 3"])).report
    assert rec.text == "Jalan di depan SD 12 rusak parah."


def test_transcribe_channels_are_configurable(raw_factory: RawF, ctx_factory: CtxF) -> None:
    def item(start: float, word: str) -> dict[str, object]:
        alt = [{"confidence": "0.9", "content": word}]
        return {"start_time": str(start), "end_time": str(start + 0.2), "alternatives": alt,
                "type": "pronunciation"}  # fmt: skip

    doc = {
        "results": {
            "transcripts": [{"transcript": "halo ada yang bisa dibantu jalan rusak"}],
            "channel_labels": {
                "channels": [
                    {"channel_label": "ch_0", "items": [item(0.1, "halo"), item(0.4, "pak")]},
                    {"channel_label": "ch_1", "items": [item(1.0, "jalan"), item(1.3, "rusak")]},
                ],
                "number_of_channels": 2,
            },
        }
    }
    raw = raw_factory(json.dumps(doc), "c.json")
    assert report(raw, ctx_factory(raw.payload)).report.text == "jalan rusak"
    swapped = ctx_factory(raw.payload, agent_channel="ch_1", caller_channel="ch_0")
    rec = report(raw, swapped).report
    assert rec.text == "halo pak"
    assert rec.confidence == pytest.approx(0.9)


def test_unlabelled_greeting_line_is_dropped(raw_factory: RawF, ctx_factory: CtxF) -> None:
    text = (
        "Selamat pagi, Diskominfo Ogan Ilir, ada yang bisa dibantu?\n\n"
        "Saya mau lapor jalan berlubang di depan SMP Negeri 1 Indralaya.\n"
    )
    raw = raw_factory(text, "c.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.text == "Saya mau lapor jalan berlubang di depan SMP Negeri 1 Indralaya."


def test_spoken_nik_is_masked_everywhere(raw_factory: RawF, ctx_factory: CtxF) -> None:
    text = (
        "Petugas: Boleh tahu NIK Bapak?\n"
        "Penelepon: NIK saya satu enam satu nol nol satu satu lima nol tiga delapan lima "
        "nol nol nol dua, mau lapor KTP saya belum jadi.\n"
    )
    raw = raw_factory(text, "c.txt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.reporter.nik_masked == "1610********0002"
    assert "1610********0002" in rec.text and "0115038" not in rec.text


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("Petugas", "agent"),
        ("Agent 2", "agent"),
        ("CS Rina", "agent"),
        ("Pelapor", "caller"),
        ("Caller", "caller"),
        ("Warga", "caller"),
        ("ch_0", "agent"),
        ("ch_1", "caller"),
        ("Customer Service", "agent"),
        ("Budi", None),
        (None, None),
    ],
)
def test_role_of_label(label: str | None, role: str | None) -> None:
    assert role_of_label(label, {}) == role


def test_transcribe_audio_segments(raw_factory: RawF, ctx_factory: CtxF) -> None:
    segs = [
        ("spk_0", "Selamat pagi, Diskominfo, ada yang bisa dibantu?"),
        ("spk_1", "Saya mau melaporkan tiang listrik miring di Desa Talang Aur."),
        ("spk_0", "Baik, laporan Bapak kami teruskan."),
    ]
    doc = {
        "results": {
            "transcripts": [{"transcript": " ".join(t for _, t in segs)}],
            "items": [],
            "audio_segments": [
                {"id": i, "transcript": t, "start_time": str(i * 5.0), "speaker_label": who}
                for i, (who, t) in enumerate(segs)
            ],
        }
    }
    raw = raw_factory(json.dumps(doc), "c.json")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.text == "Saya mau melaporkan tiang listrik miring di Desa Talang Aur."


def test_a_colon_in_a_subtitle_is_not_a_speaker(raw_factory: RawF, ctx_factory: CtxF) -> None:
    srt = (
        "1\n00:00:00,000 --> 00:00:03,000\nCatatan: jalan rusak di km 12\n\n"
        "2\n00:00:03,000 --> 00:00:06,000\nlihat http://example.org/foto\n"
    )
    raw = raw_factory(srt, "c.srt")
    rec = report(raw, ctx_factory(raw.payload)).report
    assert rec.text == "Catatan: jalan rusak di km 12\nlihat http://example.org/foto"
