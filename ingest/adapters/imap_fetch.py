"""Fetching whole messages over IMAP, with a fast reading of the usual response.

imapclient's ``fetch`` runs its general response parser, a token-by-token lexer written in
Python, over every response line; with imaplib's trace off it was most of the CPU the email
channel's fetching process spent on IMAP (about 90 µs a message, the date conversion included).
A mailbox download asks for the same three items every time, and servers answer in one shape::

    * 12 FETCH (UID 345 RFC822.SIZE 6543 INTERNALDATE "23-Nov-2026 08:00:00 +0700" BODY[] {6543}
    <6543 bytes>)

``read_fetch`` reads that shape with two regular expressions and hands anything else (other
items, another order of them, unsolicited FETCH responses, an odd date) to imapclient's own
parser, so the result is always what ``IMAPClient.fetch`` returns; a test holds the two equal.
"""

from __future__ import annotations

import imaplib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

#: one message's response line up to its literal: sequence number, the items before the body
_HEAD = re.compile(rb"(\d+) \(((?:[A-Z0-9.]+ (?:\d+|\"[^\"\\]*\") )+)(BODY\[[A-Z.]*\]) \{(\d+)\}")
_ITEM = re.compile(rb"(UID|RFC822\.SIZE|INTERNALDATE) (\d+|\"[^\"\\]*\") ")
_DATE = re.compile(
    rb'" ?(\d{1,2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{4}) '
    rb'(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS = {
    m: i for i, m in enumerate(b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}


def fetch_messages(client: Any, uids: list[int], items: list[str]) -> dict[int, dict[bytes, Any]]:
    """``client.fetch(uids, items)`` for the items of a download (``RFC822.SIZE``,
    ``INTERNALDATE`` and one ``BODY.PEEK[…]``), with ``normalise_times`` off, UIDs as keys."""
    if not uids:
        return {}
    imap = client._imap  # imaplib's object, as IMAPClient.fetch itself drives it
    typ, data = imap.uid("FETCH", uid_set(uids), f"({' '.join(items)})")
    if typ != "OK":  # what IMAPClient raises (its IMAPClientError is imaplib's error)
        raise imaplib.IMAP4.error(f"fetch failed: {data!r}")
    parsed = read_fetch(data)
    if parsed is None:
        from imapclient.response_parser import parse_fetch_response

        parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=True)
    return {uid: parsed[uid] for uid in uids if uid in parsed}


def uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set of these UIDs, runs of consecutive ones as ``a:b``."""
    ordered = sorted(set(uids))
    runs: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid != prev + 1:
            runs.append(f"{start}:{prev}" if prev != start else str(start))
            start = uid
        prev = uid
    runs.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(runs)


def read_fetch(data: list[Any]) -> dict[int, dict[bytes, Any]] | None:
    """The usual download response read directly, or None for anything else (then imapclient's
    parser reads it): each message is one ``(line, literal)`` pair then ``b")"``, the line
    holds UID, RFC822.SIZE and INTERNALDATE in any order and ends with the body's literal."""
    if len(data) % 2:
        return None
    out: dict[int, dict[bytes, Any]] = {}
    for i in range(0, len(data), 2):
        part, close = data[i], data[i + 1]
        if close != b")" or not isinstance(part, tuple) or len(part) != 2:
            return None
        line, literal = part
        head = _HEAD.fullmatch(line)
        if head is None or not isinstance(literal, bytes) or len(literal) != int(head[4]):
            return None
        items = head[2]
        found = _ITEM.findall(items)
        if sum(len(k) + len(v) + 2 for k, v in found) != len(items):
            return None  # an item this reading does not know
        values = dict(found)
        if len(values) != len(found) or b"UID" not in values:
            return None
        message: dict[bytes, Any] = {b"SEQ": int(head[1])}
        for key, value in found:
            if key == b"INTERNALDATE":
                date = _internaldate(value)
                if date is None:
                    return None
                message[key] = date
            elif key != b"UID":
                if value.startswith(b'"'):
                    return None
                message[key] = int(value)
        message[head[3]] = literal
        uid = values[b"UID"]
        if uid.startswith(b'"') or int(uid) in out:
            return None  # a quoted UID, or one message twice: imapclient's business
        out[int(uid)] = message
    return out


def _internaldate(quoted: bytes) -> datetime | None:
    """An INTERNALDATE (RFC 3501 ``date-time``), as imapclient parses it without normalising
    (``parsedate_tz``) but with a stdlib ``timezone``; None for what this does not read."""
    match = _DATE.fullmatch(quoted)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, tz_hours, tz_minutes = match.groups()
    offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes))
    if sign == b"-":
        offset = -offset
    try:
        return datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        return None
