"""The email normalizer: golden pairs (``golden/*.eml`` -> ``*.json``), corpus robustness, units.

A golden JSON holds what the email normalizer itself is responsible for: the record fields it
sets from the message (ids, dates, reporter name/email, subject, text, attachments, threading)
or ``{"rejected": "<reason prefix>"}``. Fields the shared enrichment fills from the text (phone,
NIK, places, category, severity, due_at, language) belong to the extractors' own tests, so a
better extractor does not break these files. Regenerate after a deliberate change with
``python tests/email/test_email_normalizer.py --regen`` and review the diff.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.policy
import email.utils
import json
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizers import mime
from normalizers.base import NormalizeContext, Normalized, RawMessage, Rejection
from normalizers.email import (
    _SIMPLE_ADDRESS,
    _is_attribution,
    _parseaddr,
    _tidy,
    clean_subject,
    decode_bytes,
    decode_header_value,
    normalize,
    strip_quotes_and_signature,
    unflow,
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


# --------------------------------------------------------------------------- the fast MIME parser
# ``mime.parse_message`` must build the very tree ``email.message_from_bytes`` (compat32) builds,
# or leave the message to it: everything the normalizer reads comes from that tree.


def _tree(msg: email.message.Message) -> tuple[Any, ...]:
    """Everything a compat32 Message holds, recursively (defects by type and text)."""
    payload = msg._payload  # type: ignore[attr-defined]
    return (
        sorted(vars(msg)),
        type(msg),
        msg.policy,
        list(msg._headers),  # type: ignore[attr-defined]
        msg._unixfrom,  # type: ignore[attr-defined]
        msg._charset,  # type: ignore[attr-defined]
        msg.preamble,
        msg.epilogue,
        [(type(d), str(d)) for d in msg.defects],
        msg.get_default_type(),
        [_tree(p) for p in payload] if isinstance(payload, list) else payload,
    )


def _stdlib_tree(data: bytes) -> tuple[Any, ...]:
    return _tree(email.message_from_bytes(data, policy=email.policy.compat32))


def _complaint(i: int, rng: random.Random, *, eol: str = "\r\n") -> bytes:
    """A citizen's mail of the shapes the bench and the inboxes see most."""
    head = (
        f"From: Warga {i} <warga{i}@contoh.id>\nTo: pengaduan@contoh.go.id\n"
        f"Subject: Pengaduan {i}\nDate: Sun, 01 Nov 2026 00:{i % 60:02d}:00 +0700\n"
        f"Message-ID: <m{i}@contoh.id>\nMIME-Version: 1.0\n"
    )
    body = f"Jalan rusak di RT {i}.\n\nTerima kasih.\n\nDikirim dari Yahoo Mail di Android\n"
    photo = base64.encodebytes(rng.randbytes(rng.randint(100, 3000))).decode()
    shape = i % 3
    if shape == 0:
        text = head + "Content-Type: text/plain; charset=utf-8\n\n" + body
    elif shape == 1:
        text = (
            head + 'Content-Type: multipart/mixed; boundary="B"\n\n--B\n'
            "Content-Type: text/plain; charset=utf-8\n\n" + body + "--B\n"
            f'Content-Type: image/jpeg\nContent-Disposition: attachment; filename="foto-{i}.jpg"\n'
            "Content-Transfer-Encoding: base64\n\n" + photo + "--B--\n"
        )
    else:
        text = (
            head + 'Content-Type: multipart/mixed; boundary="----=_Part_1"\n\npreamble\n'
            '------=_Part_1\nContent-Type: multipart/alternative; boundary="alt"\n\n'
            "--alt\nContent-Type: text/plain; charset=utf-8\n\n" + body + "--alt\n"
            "Content-Type: text/html; charset=utf-8\n\n<p>Jalan rusak</p>\n--alt--\n\n"
            "------=_Part_1\nContent-Type: application/pdf; name=laporan.pdf\n"
            "Content-Transfer-Encoding: base64\n\n" + photo + "------=_Part_1--\nepilogue\n"
        )
    return text.replace("\n", eol).encode()


def _samples(corpora: Path) -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in CASES]
    folder = corpora / "email-stalwart"
    if folder.is_dir():
        found += [(str(p), p.read_bytes()) for p in sorted(folder.rglob("*.eml"))]
    rng = random.Random(7)
    for i in range(30):
        found.append((f"complaint-{i}", _complaint(i, rng)))
        found.append((f"complaint-lf-{i}", _complaint(i, rng, eol="\n")))
    return found


#: pieces that make mail unusual where the parsers differ most: line ends, boundaries, envelopes
_PIECES = [
    b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b"--", b"From ", b"\r\n\r\n", b"\n\n", b"\xff",
    b"=?utf-8?q?x?=", b"\x00", b"Content-Type: multipart/mixed; boundary=B\r\n",
    b"Content-Type: message/rfc822\r\n", b"Content-Type: text/plain\r\n\r\n", b"X:", b" x",
    b"Content-Transfer-Encoding: base64\r\n",
]  # fmt: skip
_BOUNDARY_PARAM = re.compile(rb'boundary="?([^";\r\n]+)', re.IGNORECASE)


def _mutate(data: bytes, rng: random.Random) -> bytes:
    pieces = list(_PIECES)
    for boundary in _BOUNDARY_PARAM.findall(data):
        sep = b"--" + boundary
        pieces += [b"\r" + sep, b"\n" + sep + b"\r", b"\r\n" + sep + b"--\r\n", sep + b"\r\n"]
        pieces += [b"\n" + sep + b" \t\n", b"\r" + sep + b"--", sep + b"--", b"\n" + sep + b"x\n"]
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.4:
            out[pos:pos] = rng.choice(pieces)
        elif choice < 0.6:
            del out[pos : pos + rng.randint(1, 8)]
        elif choice < 0.85:
            lines = bytes(out).split(b"\n")
            line = lines.pop(rng.randrange(len(lines)))
            if rng.random() < 0.5:
                lines.insert(rng.randrange(len(lines) + 1), line)
                lines.insert(rng.randrange(len(lines) + 1), line)
            out = bytearray(b"\n".join(lines))
        elif out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
    return bytes(out)


def test_fast_parser_builds_the_stdlib_tree(corpora: Path) -> None:
    fast = 0
    for name, data in _samples(corpora):
        tree = mime._fast_parse(data)
        if tree is not None:
            fast += 1
            assert _tree(tree) == _stdlib_tree(data), name
        assert _tree(mime.parse_message(data)) == _stdlib_tree(data), name
    assert fast >= 60  # the common shapes do take the fast path


def test_fast_parser_takes_the_common_shapes() -> None:
    rng = random.Random(1)
    for i in range(6):
        for eol in ("\r\n", "\n"):
            assert mime._fast_parse(_complaint(i, rng, eol=eol)) is not None, (i, eol)


def test_fast_parser_on_mutated_mail(corpora: Path) -> None:
    """Damaged mail: the fast path gives the stdlib's tree or steps aside, never another tree."""
    rng = random.Random(20261123)
    pool = [d if len(d) < 20_000 else d[:3000] + d[-3000:] for _, d in _samples(corpora)]
    fast = fallback = 0
    for _ in range(3000):
        data = _mutate(rng.choice(pool), rng)
        tree = mime._fast_parse(data)
        if tree is None:
            fallback += 1
            continue
        fast += 1
        assert _tree(tree) == _stdlib_tree(data), data[:2000]
    assert fast > 500 and fallback > 500


@pytest.mark.parametrize(
    "data",
    [
        b"From someone Sat Jan  1 00:00:00 2026\r\nSubject: x\r\n\r\nbody",  # mbox envelope
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\na\rb\r--B\r\n\r\nc\r\n--B--",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\na\r\n--B\r--B--\r\n",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nno close\r\n",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n--B\r\n\r\ndouble\r\n--B--\r\n",
        b"Content-Type: multipart/digest; boundary=B\r\n\r\n--B\r\n\r\nSubject: y\r\n\r\nz\r\n--B--",
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        b" folded first\r\nSubject: x\r\n\r\nbody",
        b"Subject: x\r\nnot a header\r\n\r\nbody",
        b"Subject: x\r\n",  # no blank line
        b"Subject: x\rDate: y\r\n\r\nbody",
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nSubject: no blank line\r\n--B--",
    ],
)
def test_unusual_mail_gets_the_stdlib_tree(data: bytes) -> None:
    assert _tree(mime.parse_message(data)) == _stdlib_tree(data)


def test_find_separator_is_str_find() -> None:
    rng = random.Random(3)
    for _ in range(5000):
        text = "".join(rng.choice("-ab\n") for _ in range(rng.randint(0, 120)))
        separator = "--" + "".join(rng.choice("-ab") for _ in range(rng.randint(0, 3)))
        pos, end = rng.randint(0, len(text)), rng.randint(0, len(text))
        assert mime._find_separator(text, separator, pos, end) == text.find(separator, pos, end)


def test_parameter_lookups_match_the_stdlib(corpora: Path) -> None:
    def same(fast: Any, slow: Any, part: email.message.Message) -> None:
        try:
            expected: Any = slow(part)
        except Exception as exc:  # the stdlib may raise; the memoised look-up must raise alike
            with pytest.raises(type(exc)):
                fast(part)
            return
        assert fast(part) == expected

    extra = [
        b"Content-Type: text/plain; charset=\"ISO-8859-1\"; name*=utf-8''l%C3%A4rm.txt\r\n\r\nx",
        b"Content-Type: text/plain; charset*=us-ascii'en'UTF-8\r\n\r\nx",
        b"Content-Type: text/plain; charset=\xff\r\n\r\nx",
        b"Content-Disposition: attachment; filename*0=a; filename*1=b.pdf\r\n\r\nx",
        b'Content-Disposition: inline; filename=" spaced.jpg "\r\nContent-Type: image/jpeg\r\n\r\n',
        b"Content-Type: text/plain; charset\r\n\r\nx",
    ]
    messages = [email.message_from_bytes(d) for _, d in _samples(corpora)]
    messages += [email.message_from_bytes(d) for d in extra]
    for msg in messages:
        for part in msg.walk():
            same(mime.content_charset, lambda p: p.get_content_charset(), part)
            same(mime.filename, lambda p: p.get_filename(), part)


# --------------------------------------------------------------------------- cheaper equivalents


_ATOM = st.text(alphabet="aZ09", min_size=1, max_size=5)
_LOCAL = st.lists(st.text(alphabet="aZ09_+-", min_size=1, max_size=5), min_size=1, max_size=3)
_DOMAIN = st.lists(st.text(alphabet="aZ09-", min_size=1, max_size=5), min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    name=st.lists(_ATOM, max_size=3),
    local=_LOCAL,
    domain=_DOMAIN,
    noise=st.text(alphabet=" \t<>@.,:;()[]\\\"'=?aZ", max_size=2),
    at=st.integers(min_value=0),
)
def test_simple_address_shortcut_matches_parseaddr(
    name: list[str], local: list[str], domain: list[str], noise: str, at: int
) -> None:
    address = ".".join(local) + "@" + ".".join(domain)
    value = f"{' '.join(name)} <{address}>" if name else address
    at %= len(value) + 1
    for candidate in (value, value[:at] + noise + value[at:]):
        assert _parseaddr(candidate) == email.utils.parseaddr(candidate), candidate
    assert _SIMPLE_ADDRESS.fullmatch(value)  # the generated shape is the shortcut's own


def test_whitespace_collapse_is_the_regex_one() -> None:
    """``" ".join(s.split())`` stands for ``_SPACES.sub(" ", s).strip()``: the same spaces."""
    every = "".join(map(chr, range(0x110000)))
    assert set(re.findall(r"\s", every)) == {c for c in every if c.isspace()}
    assert decode_header_value("  Jalan \t rusak\u00a0 \u3000 parah ") == "Jalan rusak parah"


def _tidy_reference(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def test_tidy_matches_its_plain_regex_form() -> None:
    rng = random.Random(11)
    alphabet = ["a", " ", "\t", "\n", "\r", "\x00", "\x07", "\x0b", "\x1f", "\x7f", "\x85"]
    alphabet += ["\ufffd", "\u00a0", "\u200b", "\ufeff", "é", "\u2028"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        assert _tidy(text) == _tidy_reference(text), repr(text)


def test_attribution_check_matches_its_plain_regex_form() -> None:
    attribution = re.compile(
        r"^(?:(?:pada|on)\b.{0,300}\b(?:menulis|wrote)|.{0,200}@.{0,200}\b(?:menulis|wrote))"
        r"\s*:\s*$",
        re.IGNORECASE,
    )

    def reference(lines: list[str], i: int) -> bool:
        stripped = lines[i].strip()
        candidates = [(stripped, i + 1)]
        if i + 1 < len(lines) and re.match(r"^(?:pada|on)\b", stripped, re.IGNORECASE):
            candidates.append((stripped + " " + lines[i + 1].strip(), i + 2))
        for candidate, after in candidates:
            if not attribution.match(candidate) or not re.search(r"[\d@]", candidate):
                continue
            following = next((x.strip() for x in lines[after:] if x.strip()), "")
            if following.startswith(">") or "@" in candidate:
                return True
        return False

    rng = random.Random(5)
    words = ["On", "pada", "1", "Jan", "x@y.id", "wrote", "menulis", ":", " ", "\u3000", ">"]
    words += ["\t", "\x1c", "Budi", "wrote:", "menulis: ", ": \u2029"]
    for _ in range(20_000):
        lines = ["".join(rng.choice(words) for _ in range(rng.randint(0, 6))) for _ in range(3)]
        for i in range(len(lines)):
            assert _is_attribution(lines, i) == reference(lines, i), lines


@pytest.mark.parametrize(
    ("flowed", "delsp", "expected"),
    [
        # soft breaks (a trailing space) are joined; a line without one ends the paragraph
        ("Jalan di Desa \nSakatiga rusak.\nTitik.", False, "Jalan di Desa Sakatiga rusak.\nTitik."),
        ("a \r\nb \r\nc\r\n", False, "a b c\n"),
        # delsp=yes: the marking space goes too, so a word cut in two is whole again
        ("Kecama \ntan Indralaya", True, "Kecamatan Indralaya"),
        ("dua  \nspasi", True, "dua spasi"),
        # space-stuffing undone: a line that began with a space, "From " or ">"
        (" From the village\n  indented", False, "From the village\n indented"),
        # quoted lines join within one depth and keep their marks
        ("> Terima \n> kasih.\n>> lama \n>> sekali", False, "> Terima kasih.\n>> lama sekali"),
        # a flowed line followed by another depth is not joined (RFC 3676 4.5)
        ("> kutipan \nbalasan", False, "> kutipan \nbalasan"),
        # the signature separator is never flowed
        ("Salam\n-- \nRina", False, "Salam\n-- \nRina"),
        ("", False, ""),
    ],
)
def test_unflow(flowed: str, delsp: bool, expected: str) -> None:
    assert unflow(flowed, delsp=delsp) == expected


def test_only_flowed_plain_text_is_unflowed() -> None:
    body = "Lampu jalan di Desa \r\nTanjung Raja padam.\r\n"

    def text_of(content_type: str) -> str:
        data = (
            "From: a@b.id\r\nDate: Wed, 25 Nov 2026 19:41:07 +0700\r\nMessage-ID: <f@b.id>\r\n"
            f"Content-Type: {content_type}\r\n\r\n{body}"
        ).encode()
        raw = RawMessage(data, "message/rfc822", received_at=INTERNALDATE)
        (outcome,) = normalize(raw, context(raw))
        assert not isinstance(outcome, Rejection)
        return outcome.report.text

    joined = "Lampu jalan di Desa Tanjung Raja padam."
    assert text_of("text/plain; charset=utf-8; format=flowed") == joined
    assert text_of('text/plain; format="Flowed"; delsp=no') == joined
    assert text_of("text/plain; charset=utf-8") == "Lampu jalan di Desa\nTanjung Raja padam."
    assert text_of("text/plain; format=fixed") == "Lampu jalan di Desa\nTanjung Raja padam."


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
