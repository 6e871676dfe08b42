"""E-mail addresses in complaint text."""

from __future__ import annotations

import random

import pytest

from normalizers.extract.emails import _EMAIL, _LOCAL_MAX, find_emails, first_email

CASES: list[tuple[str, list[str]]] = [
    ("email saya budi@gmail.com", ["budi@gmail.com"]),
    ("Email: Budi.Santoso@Gmail.COM", ["budi.santoso@gmail.com"]),
    ("kirim ke diskominfo@ogan-ilirkab.go.id ya", ["diskominfo@ogan-ilirkab.go.id"]),
    ("<siti_aminah@yahoo.co.id>", ["siti_aminah@yahoo.co.id"]),
    ("(andi+aduan@mail.com)", ["andi+aduan@mail.com"]),
    ("a@b.id", ["a@b.id"]),
    ("email:rina99@outlook.com.", ["rina99@outlook.com"]),
    ("email rina99@outlook.com, terima kasih", ["rina99@outlook.com"]),
    ("x.y-z@sub.domain.example.org", ["x.y-z@sub.domain.example.org"]),
    ("dua: a1@x.com dan b2@y.co.id", ["a1@x.com", "b2@y.co.id"]),
    ("ulang a1@x.com A1@X.com", ["a1@x.com"]),
    ("pengaduan@lapor.go.id;info@lapor.go.id", ["pengaduan@lapor.go.id", "info@lapor.go.id"]),
    ("mailto:humas@palembang.go.id", ["humas@palembang.go.id"]),
    ("user_name@domain-with-dash.com", ["user_name@domain-with-dash.com"]),
    ("nama.panjang.sekali@universitas.ac.id", ["nama.panjang.sekali@universitas.ac.id"]),
    ("o'brien@example.com", ["brien@example.com"]),
    ("'quoted@example.com'", ["quoted@example.com"]),
    ('"dq@example.com"', ["dq@example.com"]),
    ("tab\tt@example.com\t", ["t@example.com"]),
    ("baris\nbaru@example.net\n", ["baru@example.net"]),
    ("ADMIN@KOMINFO.GO.ID", ["admin@kominfo.go.id"]),
    ("e-mail: warga123@ymail.com", ["warga123@ymail.com"]),
    ("1@2.id", ["1@2.id"]),  # odd but well-formed
    ("kontak@desa-lorok.id!", ["kontak@desa-lorok.id"]),
    ("[surat@dinas.go.id]", ["surat@dinas.go.id"]),
    # negatives
    ("@budi_santoso di twitter", []),
    ("mention @diskominfo_oi", []),
    ("budi@", []),
    ("@gmail.com", []),
    ("budi@gmail", []),
    ("budi at gmail dot com", []),
    ("budi@@gmail.com", []),
    ("a..b@gmail.com", []),
    (".budi@gmail.com", []),
    ("budi.@gmail.com", []),
    ("budi@-gmail.com", []),
    ("budi@gmail..com", []),
    ("budi@gmail.c", []),
    ("harga 5@1000", []),
    ("jam 10@kantor", []),
    ("file foto@2x.png", ["foto@2x.png"]),
    ("tidak ada email", []),
    ("", []),
    ("email: -", []),
    ("user@localhost", []),
    ("user@[127.0.0.1]", []),
    ("nama saya budi gmail com", []),
    ("budi(at)gmail.com", []),
    ("budi＠gmail.com", []),
    ("foo@bar.com.", ["foo@bar.com"]),
    ("sms ke 08123@operator", []),
    ("NIK 1671054506900003@", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] or "empty" for c in CASES])
def test_find_emails(text: str, expected: list[str]) -> None:
    assert find_emails(text) == expected


def test_enough_cases() -> None:
    assert len(CASES) >= 50
    assert sum(1 for _, e in CASES if not e) >= 20


def test_first_email() -> None:
    assert first_email("a@x.com b@y.com") == "a@x.com"
    assert first_email("none") is None


def test_the_scan_starts_at_most_a_local_part_before_the_first_at() -> None:
    # find_emails skips the text before the first "@" but for the longest local part
    pieces = [c[0] for c in CASES] + [
        "@", "a" * 70, "b" * 63, "x.y", "-", "+", " ", "\n", "mail.com", "@x.co.id", "é", "..",
    ]  # fmt: skip
    rng = random.Random(5)
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        everywhere = [m.span(1) for m in _EMAIL.finditer(text)]
        at = text.find("@")
        start = max(0, at - _LOCAL_MAX) if at >= 0 else len(text)
        assert [m.span(1) for m in _EMAIL.finditer(text, start)] == everywhere, text
