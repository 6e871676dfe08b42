"""X (Twitter) API v2 response page -> reports.

Input is one response page exactly as the API sent it (``data``, ``includes``, ``meta``,
``errors``), whatever endpoint it came from: recent search, a user timeline, a tweet lookup. Each
original tweet becomes one record; retweets become nothing (the original is what the citizen
wrote, and it is either in the search results itself or not a complaint to this office).

Decisions worth knowing:

* ``received_at`` is ``created_at``. Pages fetched without ``tweet.fields=created_at`` (the tweepy
  cassettes, a bare lookup) still have the tweet id, a Snowflake whose high bits are the
  creation time in milliseconds, so the time is recovered from the id instead of rejecting.
* ``lang`` is mapped to ISO 639-1: X still says ``in`` for Indonesian (the pre-1989 code), and
  its pseudo-languages (``und``, ``qme``, ``zxx``…) mean "unknown".
* Text is the tweet's ``note_tweet`` (long posts) when present, HTML entities unescaped (the API
  sends ``&amp;``), t.co links replaced by their ``expanded_url``; hashtags and @mentions stay.
* Photos become attachments when the adapter downloaded them (``download_media: true``): it
  passes their store facts in ``raw.meta["media"]``. A photo not downloaded is not listed (the
  record's attachment needs the bytes' size and hash); its URL stays in the archived raw page,
  as with the Facebook channel. Videos and GIFs are not attachments (no media URL in v2).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from normalizers.base import NormalizeContext, Outcome, RawMessage, Rejection, build_report

#: Snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds; ids before Snowflake are tiny.
_TWEPOCH_MS = 1288834974657
_FIRST_SNOWFLAKE = 27_000_000_000_000_000  # roughly the first Snowflake ids (Nov 2010)

_LANG_ALIASES = {"in": "id", "iw": "he", "ji": "yi"}
_RETWEET_TEXT = re.compile(r"^RT @\w{1,15}: ")
_ISO639_1 = re.compile(r"^[a-z]{2}$")

JsonObj = Mapping[str, Any]


def normalize(raw: RawMessage, ctx: NormalizeContext) -> list[Outcome]:
    """One API v2 page -> one outcome per original tweet (retweets produce none)."""
    try:
        page = json.loads(raw.payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Rejection(f"not an X API v2 response: the payload is not JSON ({exc})")]
    if not isinstance(page, dict):
        return [Rejection("not an X API v2 response: expected a JSON object at the top level")]

    data = page.get("data")
    items: list[Any] = data if isinstance(data, list) else ([data] if data is not None else [])
    errors = page.get("errors")
    if not items and isinstance(errors, list) and errors:
        return [Rejection(f"X API returned errors only: {_error_text(errors)}")]
    if not items and "detail" in page and "title" in page:  # a problem document (4xx/5xx body)
        return [Rejection(f"X API error: {page.get('title')}: {page.get('detail')}")]

    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    assert isinstance(includes, dict)
    index = _Includes(includes)
    downloaded = raw.meta.get("media") if isinstance(raw.meta.get("media"), dict) else {}
    assert isinstance(downloaded, dict)

    outcomes: list[Outcome] = []
    for item in items:
        if not isinstance(item, dict):
            outcomes.append(Rejection("data item is not a JSON object"))
            continue
        outcome = _tweet(item, index, downloaded, ctx)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


class _Includes:
    """The ``includes`` expansions indexed by their keys."""

    def __init__(self, includes: JsonObj) -> None:
        self.users = _by(includes.get("users"), "id")
        self.media = _by(includes.get("media"), "media_key")
        self.places = _by(includes.get("places"), "id")


def _by(objects: Any, key: str) -> dict[str, JsonObj]:
    if not isinstance(objects, list):
        return {}
    return {str(o[key]): o for o in objects if isinstance(o, dict) and key in o}


def _tweet(
    tweet: JsonObj, inc: _Includes, downloaded: Mapping[str, Any], ctx: NormalizeContext
) -> Outcome | None:
    tweet_id = tweet.get("id")
    if not isinstance(tweet_id, str) or not tweet_id:
        return Rejection("data item has no tweet id (not a tweet: a count or another object?)")
    refs = _refs(tweet)
    text = _text(tweet)
    if "retweeted" in refs or (text is not None and _RETWEET_TEXT.match(text)):
        return None
    if text is None or not text.strip():
        return Rejection("tweet has no text (not a tweet, or tweet.fields lacked text)", tweet_id)

    received_at = _created_at(tweet)
    if received_at is None:
        return Rejection(
            "tweet has neither a valid created_at nor a Snowflake id to date it", tweet_id
        )

    fields: dict[str, Any] = {
        "external_id": tweet_id,
        "received_at": received_at,
        "text": text,
        "in_reply_to": refs.get("replied_to"),
        "confidence": 1.0,
    }
    lang = _language(tweet.get("lang"))
    if lang is not None:
        fields["language"] = lang

    author = inc.users.get(str(tweet.get("author_id")))
    if author is not None:
        username = author.get("username")
        fields["reporter"] = {
            "name": author.get("name") if isinstance(author.get("name"), str) else None,
            "handle": f"@{username}" if isinstance(username, str) and username else None,
        }

    location = _location(tweet, inc)
    if location:
        fields["location"] = location

    attachments = _attachments(tweet, inc, downloaded)
    if attachments:
        fields["attachments"] = attachments
    return build_report(fields, ctx)


def _refs(tweet: JsonObj) -> dict[str, str]:
    refs: dict[str, str] = {}
    raw_refs = tweet.get("referenced_tweets")
    if isinstance(raw_refs, list):
        for ref in raw_refs:
            if isinstance(ref, dict) and isinstance(ref.get("type"), str):
                refs.setdefault(ref["type"], str(ref.get("id")))
    return refs


def _text(tweet: JsonObj) -> str | None:
    """The full text with t.co links expanded; long posts come whole from ``note_tweet``."""
    source: JsonObj = tweet
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        source = note
    text = source.get("text")
    if not isinstance(text, str):
        return None
    entities = source.get("entities") if isinstance(source.get("entities"), dict) else None
    if entities is None and source is not tweet and isinstance(tweet.get("entities"), dict):
        entities = tweet["entities"]
    urls = entities.get("urls") if isinstance(entities, dict) else None
    if isinstance(urls, list):
        pairs = [
            (u["url"], u["expanded_url"])
            for u in urls
            if isinstance(u, dict)
            and isinstance(u.get("url"), str)
            and isinstance(u.get("expanded_url"), str)
            and u["url"]
        ]
        for short, full in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
            text = text.replace(short, full)
    return html.unescape(text)


def _created_at(tweet: JsonObj) -> datetime | None:
    created = tweet.get("created_at")
    if isinstance(created, str):
        try:
            value = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            value = None
        if value is not None and value.tzinfo is not None:
            return value
    tweet_id = tweet.get("id")
    if isinstance(tweet_id, str) and tweet_id.isdigit() and int(tweet_id) >= _FIRST_SNOWFLAKE:
        millis = (int(tweet_id) >> 22) + _TWEPOCH_MS
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    return None


def _language(lang: Any) -> str | None:
    if not isinstance(lang, str):
        return None
    code = _LANG_ALIASES.get(lang.lower(), lang.lower())
    return code if _ISO639_1.match(code) else None


def _location(tweet: JsonObj, inc: _Includes) -> dict[str, Any]:
    geo = tweet.get("geo") if isinstance(tweet.get("geo"), dict) else {}
    assert isinstance(geo, dict)
    location: dict[str, Any] = {}
    place = inc.places.get(str(geo.get("place_id"))) if geo.get("place_id") else None
    if place is not None and isinstance(place.get("full_name"), str):
        location["text"] = place["full_name"]
    point = _point(geo.get("coordinates"))
    if point is None and place is not None:
        place_geo = place.get("geo")
        point = _bbox_centre(place_geo.get("bbox") if isinstance(place_geo, dict) else None)
    if point is not None:
        location["lon"], location["lat"] = point
    return location


def _point(coordinates: Any) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON Point, as the API sends ``geo.coordinates``."""
    if isinstance(coordinates, dict):
        pair = coordinates.get("coordinates")
        if (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(v, int | float) for v in pair)
            and -180 <= pair[0] <= 180
            and -90 <= pair[1] <= 90
        ):
            return float(pair[0]), float(pair[1])
    return None


def _bbox_centre(bbox: Any) -> tuple[float, float] | None:
    """(lon, lat) centre of a GeoJSON bbox ``[west, south, east, north]``."""
    if isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox):
        west, south, east, north = (float(v) for v in bbox)
        lon, lat = round((west + east) / 2, 6), round((south + north) / 2, 6)
        if -180 <= lon <= 180 and -90 <= lat <= 90:
            return lon, lat
    return None


def _attachments(
    tweet: JsonObj, inc: _Includes, downloaded: Mapping[str, Any]
) -> list[dict[str, Any]]:
    attachments = tweet.get("attachments")
    keys: Sequence[Any] = attachments.get("media_keys", []) if isinstance(attachments, dict) else []
    out: list[dict[str, Any]] = []
    for key in keys if isinstance(keys, list) else []:
        stored = downloaded.get(str(key))
        if isinstance(stored, dict) and {"sha256", "size", "content_type", "uri"} <= stored.keys():
            out.append(
                {
                    "filename": str(stored.get("filename") or stored["sha256"]),
                    "content_type": str(stored["content_type"]),
                    "size": int(stored["size"]),
                    "sha256": str(stored["sha256"]),
                    "uri": str(stored["uri"]),
                }
            )
            continue
        # Not downloaded: no bytes, so no honest size or hash. The photo stays reachable through
        # the archived raw page (includes.media[].url); set download_media: true to keep it.
    return out


def _error_text(errors: Sequence[Any]) -> str:
    parts: list[str] = []
    for err in errors:
        if isinstance(err, dict):
            title = err.get("title")
            detail = err.get("detail") or err.get("message")
            parts.append(": ".join(str(p) for p in (title, detail) if p) or json.dumps(err))
        else:
            parts.append(str(err))
    return "; ".join(parts)
