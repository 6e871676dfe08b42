"""The X normalizer: table-driven cases, a golden search page, and the whole shared corpus.

Regenerate the golden expectation after an intended change with
``ADUAN_UPDATE_GOLDEN=1 .venv/bin/pytest tests/twitter/test_normalizer.py`` and review the diff.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from normalizers.base import NormalizeContext, Normalized, Outcome, RawMessage, Rejection
from normalizers.twitter import _language, normalize

GOLDEN = Path(__file__).parent / "golden"
INGESTED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

BUDI = {"id": "1498765432101234567", "name": "Budi Santoso", "username": "budi_oi"}
INDRALAYA = {
    "id": "1f9a8c7b6d5e4f30",
    "full_name": "Indralaya, Indonesia",
    "name": "Indralaya",
    "country": "Indonesia",
    "country_code": "ID",
    "place_type": "city",
    "geo": {"type": "Feature", "bbox": [104.58, -3.28, 104.72, -3.16], "properties": {}},
}
PHOTO = {
    "media_key": "3_1862000000000000001",
    "type": "photo",
    "url": "https://pbs.twimg.com/media/GcJalanRusak1.jpg",
    "width": 64,
    "height": 48,
}
VIDEO = {
    "media_key": "7_1862000000000000003",
    "type": "video",
    "preview_image_url": "https://x/t.jpg",
}


def ctx(**kw: Any) -> NormalizeContext:
    values: dict[str, Any] = {
        "channel_name": "x-kominfo",
        "channel_kind": "twitter",
        "ingested_at": INGESTED,
        "raw_uri": "file:///raw/page.json",
        "raw_sha256": "0" * 64,
        **kw,
    }
    return NormalizeContext(**values)


def tweet(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "2123149241349046293",
        "text": "Jalan di depan Pasar Indralaya rusak parah #laporpengaduan",
        "created_at": "2026-11-18T20:20:00.000Z",
        "author_id": BUDI["id"],
        "lang": "in",
        "edit_history_tweet_ids": ["2123149241349046293"],
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def page(*tweets: dict[str, Any], **includes: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {"data": list(tweets)}
    inc = {"users": [BUDI], **includes}
    body["includes"] = {k: v for k, v in inc.items() if v}
    ids = [t["id"] for t in tweets]
    body["meta"] = {"newest_id": max(ids), "oldest_id": min(ids), "result_count": len(ids)}
    return body


def run(body: Any, meta: dict[str, Any] | None = None) -> list[Outcome]:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return normalize(RawMessage(payload, "application/json", meta=meta or {}), ctx())


STORED_SHA = "ab" * 32

# (case, page, raw meta, expected: list of field subsets per record, or a Rejection substring)
CASES: list[tuple[str, Any, dict[str, Any] | None, list[dict[str, Any]] | str]] = [
    (
        "plain tweet",
        page(tweet()),
        None,
        [
            {
                "external_id": "2123149241349046293",
                "received_at": "2026-11-18T20:20:00Z",
                "text": "Jalan di depan Pasar Indralaya rusak parah #laporpengaduan",
                "language": "id",  # X says "in" for Indonesian
                "reporter.name": "Budi Santoso",
                "reporter.handle": "@budi_oi",
                "in_reply_to": None,
                "attachments": [],
                "location.lat": None,
            }
        ],
    ),
    (
        "retweet by reference",
        page(
            tweet(text="RT @siti: lampu mati", referenced_tweets=[{"type": "retweeted", "id": "1"}])
        ),
        None,
        [],
    ),
    ("retweet by its RT prefix only", page(tweet(text="RT @siti_aminah: lampu mati")), None, []),
    (
        "reply chain",
        page(
            tweet(
                id="2123157546070966296",
                referenced_tweets=[{"type": "replied_to", "id": "2123155281146806295"}],
            ),
            tweet(
                id="2123155281146806295",
                referenced_tweets=[{"type": "replied_to", "id": "2123152009589686294"}],
            ),
        ),
        None,
        [
            {"external_id": "2123157546070966296", "in_reply_to": "2123155281146806295"},
            {"external_id": "2123155281146806295", "in_reply_to": "2123152009589686294"},
        ],
    ),
    (
        "quote tweet is original content",
        page(tweet(referenced_tweets=[{"type": "quoted", "id": "42"}])),
        None,
        [{"in_reply_to": None}],
    ),
    (
        "t.co links expanded and HTML entities unescaped",
        page(
            tweet(
                text="Sampah &amp; banjir https://t.co/AbCdEf1234 #laporpengaduan",
                entities={
                    "urls": [
                        {
                            "start": 20,
                            "end": 43,
                            "url": "https://t.co/AbCdEf1234",
                            "expanded_url": "https://lapor.go.id/laporan/123",
                            "display_url": "lapor.go.id/laporan/123",
                        }
                    ],
                    "hashtags": [{"start": 44, "end": 59, "tag": "laporpengaduan"}],
                },
            )
        ),
        None,
        [{"text": "Sampah & banjir https://lapor.go.id/laporan/123 #laporpengaduan"}],
    ),
    (
        "place gives its bbox centre and full name",
        page(tweet(geo={"place_id": INDRALAYA["id"]}), places=[INDRALAYA]),
        None,
        [{"location.text": "Indralaya, Indonesia", "location.lat": -3.22, "location.lon": 104.65}],
    ),
    (
        "exact coordinates win over the place bbox",
        page(
            tweet(
                geo={
                    "place_id": INDRALAYA["id"],
                    "coordinates": {"type": "Point", "coordinates": [104.7712, -3.3421]},
                }
            ),
            places=[INDRALAYA],
        ),
        None,
        [
            {
                "location.text": "Indralaya, Indonesia",
                "location.lat": -3.3421,
                "location.lon": 104.7712,
            }
        ],
    ),
    (
        "photo not downloaded is not listed, video ignored",
        page(
            tweet(attachments={"media_keys": [PHOTO["media_key"], VIDEO["media_key"]]}),
            media=[PHOTO, VIDEO],
        ),
        None,
        [{"attachments": []}],
    ),
    (
        "downloaded photo uses the store facts from raw.meta",
        page(tweet(attachments={"media_keys": [PHOTO["media_key"]]}), media=[PHOTO]),
        {
            "media": {
                PHOTO["media_key"]: {
                    "sha256": STORED_SHA,
                    "size": 676,
                    "content_type": "image/jpeg",
                    "uri": f"file:///var/aduan/attachments/ab/{STORED_SHA}",
                    "filename": "GcJalanRusak1.jpg",
                }
            }
        },
        [
            {
                "attachments": [
                    {
                        "filename": "GcJalanRusak1.jpg",
                        "content_type": "image/jpeg",
                        "size": 676,
                        "sha256": STORED_SHA,
                        "uri": f"file:///var/aduan/attachments/ab/{STORED_SHA}",
                    }
                ]
            }
        ],
    ),
    (
        "long post comes whole from note_tweet",
        page(
            tweet(
                text="Awal laporan yang terpotong…",
                note_tweet={"text": "Awal laporan yang terpotong di sini tapi utuh di note_tweet."},
            )
        ),
        None,
        [{"text": "Awal laporan yang terpotong di sini tapi utuh di note_tweet."}],
    ),
    (
        "no created_at: the time comes from the Snowflake id",
        {"data": [{"id": "1578516068309794817", "text": "2022-10-07 22:42:12.637103 tweepy"}]},
        None,
        [{"received_at": "2022-10-07T22:42:12.752000Z", "reporter.handle": None}],
    ),
    (
        "author missing from includes",
        {"data": [tweet(author_id="999")]},
        None,
        [{"reporter.name": None, "reporter.handle": None}],
    ),
    (
        "a NIK in the text is masked",
        page(tweet(text="NIK saya 1671012345678901 belum terdaftar BPJS #laporpengaduan")),
        None,
        [{"text": "NIK saya 1671********8901 belum terdaftar BPJS #laporpengaduan"}],
    ),
    ("single tweet lookup", {"data": tweet()}, None, [{"external_id": "2123149241349046293"}]),
    ("tweet without text", page(tweet(text="   ")), None, "no text"),
    ("object without text", {"data": [{"id": "7", "username": "u", "name": "N"}]}, None, "no text"),
    (
        "errors only",
        {
            "errors": [
                {
                    "value": "123",
                    "detail": "Could not find tweet with ids: [123].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": "123",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ]
        },
        None,
        "Not Found Error: Could not find tweet with ids: [123].",
    ),
    (
        "a problem document",
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        None,
        "X API error: Unauthorized",
    ),
    ("not JSON", b"<html>502 Bad Gateway</html>", None, "not JSON"),
    ("not an object", [1, 2], None, "JSON object"),
]


def flat(report: dict[str, Any], key: str) -> Any:
    value: Any = report
    for part in key.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize(("case", "body", "meta", "expected"), CASES, ids=[c[0] for c in CASES])
def test_normalize(
    case: str, body: Any, meta: dict[str, Any] | None, expected: list[dict[str, Any]] | str
) -> None:
    outcomes = run(body, meta)
    if isinstance(expected, str):
        assert len(outcomes) == 1
        assert isinstance(outcomes[0], Rejection), case
        assert expected in outcomes[0].reason
        return
    assert all(isinstance(o, Normalized) for o in outcomes), outcomes
    reports = [json.loads(o.report.to_json()) for o in outcomes if isinstance(o, Normalized)]
    assert len(reports) == len(expected)
    for report, want in zip(reports, expected, strict=True):
        for key, value in want.items():
            got = flat(report, key)
            if isinstance(value, float):
                assert got == pytest.approx(value), key
            else:
                assert got == value, key
        assert report["channel"] == {"kind": "twitter", "name": "x-kominfo"}


@pytest.mark.parametrize(
    ("lang", "code"),
    [
        ("in", "id"),
        ("id", "id"),
        ("en", "en"),
        ("EN", "en"),
        ("und", None),
        ("qme", None),
        ("zxx", None),
        ("iw", "he"),
        (None, None),
        (7, None),
    ],
)
def test_x_language_codes_become_iso_639_1(lang: Any, code: str | None) -> None:
    assert _language(lang) == code


def test_a_rejected_tweet_keeps_its_id_and_the_others_still_make_records() -> None:
    outcomes = run(page(tweet(id="2123149241349046293", text=""), tweet(id="2123149241349046294")))
    assert isinstance(outcomes[0], Rejection)
    assert outcomes[0].external_id == "2123149241349046293"
    assert isinstance(outcomes[1], Normalized)


#: what the X normalizer itself decides; the rest (category, due_at, village…) is the shared
#: enrichment's, tested where it lives, so its changes do not churn this golden file
OWN_FIELDS = (
    "id",
    "channel",
    "external_id",
    "received_at",
    "reporter",
    "text",
    "in_reply_to",
    "attachments",
    "raw",
    "confidence",
)


def comparable(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for o in outcomes:
        if isinstance(o, Normalized):
            record = json.loads(o.report.to_json())
            record["raw"].pop("uri")
            mine = {k: record[k] for k in OWN_FIELDS}
            mine["reporter"] = {k: record["reporter"][k] for k in ("name", "handle")}
            mine["location"] = {k: record["location"][k] for k in ("lat", "lon")}
            out.append(mine)
        else:
            out.append({"rejection": o.reason, "external_id": o.external_id})
    return out


def test_golden_search_page() -> None:
    """A full recent-search page as the fake serves it (all expansions) -> the records."""
    payload = (GOLDEN / "search_page.input.json").read_bytes()
    raw = RawMessage(payload, "application/json")
    got = comparable(list(normalize(raw, ctx(raw_sha256=raw.sha256))))
    expected_file = GOLDEN / "search_page.expected.json"
    if os.environ.get("ADUAN_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(expected_file.read_text("utf-8"))


# -- the shared corpus -------------------------------------------------------------------------


def corpus_pages(root: Path) -> list[tuple[str, bytes]]:
    pages = [
        (str(p.relative_to(root)), p.read_bytes())
        for folder in ("searches", "timeline", "tweet")
        for p in sorted((root / folder).glob("*.json"))
    ]
    for cassette in sorted((root / "tweepy-cassettes").glob("*.yaml")):
        for i, interaction in enumerate(yaml.safe_load(cassette.read_text())["interactions"]):
            body = interaction["response"]["body"]["string"]
            if isinstance(body, str):
                body = body.encode()
            with contextlib.suppress(OSError):
                body = gzip.decompress(body)
            try:
                json.loads(body)
            except ValueError:
                continue  # not a decodable JSON body
            pages.append((f"{cassette.relative_to(root)}#{i}", body))
    return pages


def test_every_search_timeline_and_tweet_response_in_the_corpus(corpora: Path) -> None:
    root = corpora / "twitter-v2"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    pages = corpus_pages(root)
    assert len(pages) >= 19
    records = 0
    for name, body in pages:
        outcomes = normalize(RawMessage(body, "application/json"), ctx())
        doc = json.loads(body)
        data = doc.get("data")
        items = data if isinstance(data, list) else [data] if data else []
        tweets = [t for t in items if isinstance(t, dict) and "id" in t and "text" in t]
        originals = [
            t
            for t in tweets
            if not t["text"].startswith("RT @")
            and "retweeted" not in {r["type"] for r in t.get("referenced_tweets", [])}
        ]
        made = [o for o in outcomes if isinstance(o, Normalized)]
        assert len(made) == len(originals), name  # one record per original tweet
        assert len(outcomes) == len(originals) + len(items) - len(tweets), name
        records += len(made)
        for o in made:
            assert o.report.received_at.tzinfo is not None
            assert o.report.text.strip()
    assert records > 40


def test_corpus_search_with_expansions(corpora: Path) -> None:
    path = corpora / "twitter-v2" / "searches" / "search_tweets_query.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    reports = {
        o.report.external_id: o.report
        for o in normalize(RawMessage(path.read_bytes(), "application/json"), ctx())
        if isinstance(o, Normalized)
    }
    first = reports["1276035977375477760"]
    assert first.reporter.handle == "@happycamper"
    assert first.reporter.name == "Emily Waligoske 🏕"
    assert first.in_reply_to == "1275653067283759104"
    assert "https://twitter.com/happycamper/status/1276035977375477760/photo/1" in first.text
    assert "t.co" not in first.text
    nyc = corpora / "twitter-v2" / "searches" / "search_tweets_for_nyc.json"
    outcomes = normalize(RawMessage(nyc.read_bytes(), "application/json"), ctx())
    assert len(outcomes) == 3  # ten tweets, seven of them retweets
