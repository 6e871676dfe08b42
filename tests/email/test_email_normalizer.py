"""The email normalizer: golden pairs (``golden/*.eml`` -> ``*.json``), corpus robustness, units.

A golden JSON holds what the email normalizer itself is responsible for: the record fields it
sets from the message (ids, dates, reporter name/email, subject, text, attachments, threading)
or ``{"rejected": "<reason prefix>"}``. Fields the shared enrichment fills from the text (phone,
NIK, places, category, severity, due_at, language) belong to the extractors' own tests, so a
better extractor does not break these files. Regenerate after a deliberate change with
``python tests/email/test_email_normalizer.py --regen`` and review the diff.
"""

from __future__ import annotations

import email
import email.policy
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.email import (
    clean_subject,
    decode_bytes,
    decode_header_value,
    normalize,
    strip_quotes_and_signature,
)

GOLDEN = Path(__file__).parent / "golden"
INTERNALDATE = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
OWNED = ("id", "external_id", "received_at", "subject", "text", "attachments", "in_reply_to")


def context(raw: RawMessage) -> NormalizeContext:
    return NormalizeContext(
        channel_name="pengaduan-email",
        channel_kind="email",
        ingested_at=datetime(2026, 12, 31, tzinfo=UTC),
        raw_uri="file:///var/lib/aduan/raw/x",
        raw_sha256=raw.sha256,
        attachment_base_uri="file:///var/lib/aduan/attachments",
    )


def run(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    raw = RawMessage(path.read_bytes(), "message/rfc822", received_at=INTERNALDATE)
    (outcome,) = normalize(raw, context(raw))
    if isinstance(outcome, Rejection):
        return {"rejected": outcome.reason}, {}
    record = json.loads(outcome.report.to_json())
    owned = {key: record[key] for key in OWNED}
    owned["channel"] = record["channel"]
    owned["reporter"] = {k: record["reporter"][k] for k in ("name", "email")}
    owned["raw_sha256"] = record["raw"]["sha256"]
    return owned, dict(outcome.blobs)


CASES = sorted(GOLDEN.glob("*.eml"))


def test_enough_golden_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("eml", CASES, ids=[p.stem for p in CASES])
def test_golden(eml: Path) -> None:
    expected = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
    got, blobs = run(eml)
    if "rejected" in expected:
        assert "rejected" in got, f"expected a rejection, got a record: {got}"
        assert got["rejected"].startswith(expected["rejected"])
        return
    assert got == expected
    # every attachment's bytes are handed over, keyed by the hash the record names
    assert sorted(blobs) == sorted(a["sha256"] for a in got["attachments"])
    for att in got["attachments"]:
        assert len(blobs[att["sha256"]]) == att["size"]


def test_corpus_normalizes_or_rejects_with_reason(corpora: Path) -> None:
    folder = corpora / "email-stalwart"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    files = sorted(folder.rglob("*.eml"))
    assert files
    normalized = 0
    for path in files:
        for received_at in (None, INTERNALDATE):
            raw = RawMessage(path.read_bytes(), "message/rfc822", received_at=received_at)
            outcomes = normalize(raw, context(raw))
            assert len(outcomes) == 1, path
            outcome = outcomes[0]
            if isinstance(outcome, Rejection):
                assert outcome.reason.strip(), path
                # the catch-all is a safety net, never the way a corpus message ends
                assert "normalizer failed" not in outcome.reason, (path, outcome.reason)
            else:
                assert isinstance(outcome, Normalized)
                assert outcome.report.text.strip()
                normalized += 1
    assert normalized > len(files) // 2


def test_hostile_inputs_do_not_raise() -> None:
    hostile = [
        b"",
        b"\r\n\r\n",
        b"\x00\xff\xfe" * 100,
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n" + b"--x\r\n" * 500,
        b"Content-Type: " + b"multipart/mixed; boundary=a\r\n\r\n--a\r\n" * 60,
        b"Subject: =?utf-8?b?!!!notbase64?=\r\nDate: nonsense\r\n\r\nhi",
        b"Content-Type: text/plain; charset=rot13\r\n\r\nuryyb",
        b"Content-Type: text/plain; charset=hex\r\n\r\nabcd",
        b"Content-Type: text/html\r\n\r\n<<<>>><?xml ?>",
        b"From: <<<@@@>>>\r\nContent-Transfer-Encoding: base64\r\n\r\n====",
    ]
    for payload in hostile:
        raw = RawMessage(payload, "message/rfc822", received_at=INTERNALDATE)
        for outcome in normalize(raw, context(raw)):
            if isinstance(outcome, Rejection):
                assert "normalizer failed" not in outcome.reason, (payload[:40], outcome.reason)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Fwd: Jalan rusak", "Jalan rusak"),
        ("Balas: Bls: Tr: FW: Banjir", "Banjir"),
        ("RE[2]: Sampah", "Sampah"),
        ("[Fwd: Lampu padam]", "Lampu padam"),
        ("Fwd: [Fwd: Re: Lampu padam]", "Lampu padam"),
        ("Rekap laporan", "Rekap laporan"),
        ("Re: ", None),
    ],
)
def test_clean_subject(subject: str, expected: str | None) -> None:
    assert clean_subject(subject) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Keluhan.\n\nOn Mon, 1 Jan 2026, X <x@y> wrote:\n> old", "Keluhan."),
        ("Keluhan.\nPada Sen, 1 Jan 2026 X menulis:\n> lama", "Keluhan."),
        ("Keluhan.\n-----Original Message-----\nFrom: a", "Keluhan."),
        ("Keluhan.\n-----Pesan Asli-----\nDari: a", "Keluhan."),
        ("Keluhan.\nDikirim dari iPhone saya", "Keluhan."),
        ("Keluhan.\nSent from my Galaxy", "Keluhan."),
        ("Keluhan.\n-- \nBudi", "Keluhan."),
        ("> kutip\nJawaban di tengah\n> kutip lagi", "Jawaban di tengah"),
        ("Keluhan.\n\nFrom: A\nSent: Monday\nTo: B\n\nold", "Keluhan."),
        ("Keluhan.\nDikirim dari perangkat seluler saya", "Keluhan."),
        # ordinary Indonesian that looks like a marker stays
        (
            "Paket dikirim dari kantor pos.\nBelum sampai.",
            "Paket dikirim dari kantor pos.\nBelum sampai.",
        ),
        ("Kepala desa menulis:\nSemua wajib bayar.", "Kepala desa menulis:\nSemua wajib bayar."),
        ("Pada 1 Mei warga menulis:\nJalan rusak.", "Pada 1 Mei warga menulis:\nJalan rusak."),
    ],
)
def test_strip_quotes_and_signature(text: str, expected: str) -> None:
    assert strip_quotes_and_signature(text) == expected


def test_decoding_fallbacks() -> None:
    assert decode_bytes("café".encode("cp1252"), "utf-8") == "café"
    assert decode_bytes(b"jalan", "x-unknown-charset") == "jalan"
    assert decode_bytes("Дорога".encode("koi8-r"), "koi8-r") == "Дорога"
    assert decode_bytes("投诉".encode("gb2312"), "GB2312") == "投诉"
    assert decode_header_value("=?utf-8?q?Budi?=Santoso") == "Budi Santoso"
    assert decode_header_value("=?utf-8?b?SmFsYW4=?= =?utf-8?b?IHJ1c2Fr?=") == "Jalan rusak"


def test_policy_choice_is_compat32_for_speed() -> None:
    """Not a timing assertion: documents that both policies parse the same header text here."""
    sample = (GOLDEN / "01_plain_indonesian_signature.eml").read_bytes()
    fast = email.message_from_bytes(sample, policy=email.policy.compat32)
    slow = email.message_from_bytes(sample, policy=email.policy.default)
    assert decode_header_value(fast["From"]) == str(slow["From"])


def _regen() -> None:  # pragma: no cover - maintenance helper
    for eml in CASES:
        got, _ = run(eml)
        if "rejected" in got:
            got = {"rejected": got["rejected"].split(":", 1)[0]}
        eml.with_suffix(".json").write_text(
            json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )
    print(f"wrote {len(CASES)} golden files at {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":  # pragma: no cover
    if "--regen" in sys.argv:
        _regen()
