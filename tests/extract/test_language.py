"""Language of the complaint text (ISO 639-1)."""

from __future__ import annotations

import pytest

from normalizers.extract.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("jalan di depan rumah saya rusak parah dan banyak lubang", "id"),
        ("jln rusak bgt gk bs lewat", "id"),
        ("mohon ditindaklanjuti, sampah sudah seminggu tidak diangkut", "id"),
        ("the road near my house has been broken for months", "en"),
        ("dalan neng deso kulo rusak parah, mboten saget dilewati", "jv"),
        ("ok", None),
        ("123 456", None),
        ("", None),
    ],
)
def test_detect_language(text: str, code: str | None) -> None:
    assert detect_language(text) == code
