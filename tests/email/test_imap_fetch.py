"""The fast reading of download responses gives what imapclient's parser gives, or declines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from email_dovecot import Dovecot, complaint
from imapclient.response_parser import parse_fetch_response

from ingest.adapters.email import _stdlib_tz
from ingest.adapters.imap_fetch import fetch_messages, read_fetch

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def imapclient_reading(data: list[Any]) -> dict[int, dict[bytes, Any]]:
    """What the adapter made of imapclient's parse before: its dict, dates in stdlib tz."""
    parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=True)
    return {
        uid: {k: _stdlib_tz(v) if k == b"INTERNALDATE" else v for k, v in items.items()}
        for uid, items in parsed.items()
    }


def _date(rng: random.Random) -> bytes:
    """Mostly well-formed INTERNALDATEs, some of the odd forms servers and parsers meet."""
    odd = rng.random() < 0.3
    days = [1, 9, 10, 28, 29, 30, 31, 0, 32] if odd else [1, 9, 10, 28]
    form = rng.choice(["%02d", "%d", " %d"]) % rng.choice(days)
    month = rng.choice(MONTHS + (["nov", "NOV", "Foo"] if odd else []))
    year = rng.choice(["2026", "1999"] + (["26", "20260"] if odd else []))
    clock = rng.choice(
        ["08:00:00", "23:59:59", "00:00:00"] + (["24:00:00", "12:60:00", "7:05:09"] if odd else [])
    )
    zones = ["+0000", "-0000", "+0700", "+0800", "+0900", "-0330", "+1400"]
    zone = rng.choice(zones + (["+2400", "+0060", "Z", "+07"] if odd else []))
    return f'"{form}-{month}-{year} {clock} {zone}"'.encode()


def _response(rng: random.Random, count: int) -> list[Any]:
    data: list[Any] = []
    for seq in range(1, count + 1):
        body = rng.randbytes(rng.randint(0, 40)).replace(b")", b"]")
        items = [
            f"UID {100 + seq}".encode(),
            f"RFC822.SIZE {len(body)}".encode(),
            b"INTERNALDATE " + _date(rng),
        ]
        if rng.random() < 0.05:
            items.append(b"FLAGS (\\Seen)")
        if rng.random() < 0.03:
            items.remove(items[0])  # no UID
        if rng.random() < 0.03:
            items[0] = items[0].replace(b"UID ", b'UID "') + b'"'
        rng.shuffle(items)
        key = rng.choice([b"BODY[]"] * 8 + [b"BODY[HEADER]", b"BODY[TEXT]"])
        declared = len(body) if rng.random() > 0.02 else len(body) + 1
        line = b"%d (%s %s {%d}" % (seq, b" ".join(items), key, declared)
        data.append((line, body))
        data.append(b")" if rng.random() > 0.02 else b" UID 7)")
        if rng.random() < 0.02:  # an unsolicited update of another message
            data.append(b"%d (FLAGS (\\Seen))" % (seq + 1000))
    return data


def test_fast_reading_equals_imapclient_or_declines() -> None:
    rng = random.Random(20261123)
    read = declined = 0
    for _ in range(3000):
        data = _response(rng, rng.randint(1, 4))
        fast = read_fetch(data)
        try:
            slow = imapclient_reading(data)
        except Exception:
            assert fast is None, data  # imapclient refuses it: the fast path must not accept it
            declined += 1
            continue
        if fast is None:
            declined += 1
            continue
        read += 1
        assert fast == slow, data
        for uid, items in fast.items():  # equal datetimes could still differ in their zone
            date, other = items.get(b"INTERNALDATE"), slow[uid].get(b"INTERNALDATE")
            assert (date is None) == (other is None)
            if date is not None and other is not None:
                assert date.utcoffset() == other.utcoffset()
    assert read > 300 and declined > 300  # both branches ran, many times


def test_the_usual_response_is_read_fast() -> None:
    data = [
        (b'1 (UID 7 RFC822.SIZE 5 INTERNALDATE "23-Nov-2026 08:00:00 +0700" BODY[] {5}', b"hallo"),
        b")",
        (b'2 (RFC822.SIZE 2 UID 9 INTERNALDATE " 1-Dec-2026 23:59:59 -0330" BODY[] {2}', b"ok"),
        b")",
    ]
    assert read_fetch(data) == {
        7: {
            b"SEQ": 1,
            b"RFC822.SIZE": 5,
            b"INTERNALDATE": datetime(2026, 11, 23, 8, tzinfo=timezone(timedelta(hours=7))),
            b"BODY[]": b"hallo",
        },
        9: {
            b"SEQ": 2,
            b"RFC822.SIZE": 2,
            b"INTERNALDATE": datetime(
                2026, 12, 1, 23, 59, 59, tzinfo=timezone(-timedelta(hours=3, minutes=30))
            ),
            b"BODY[]": b"ok",
        },
    }
    assert read_fetch(data) == imapclient_reading(data)


@pytest.mark.parametrize(
    "items",
    [
        ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[]"],
        ["RFC822.SIZE", "INTERNALDATE", "BODY.PEEK[HEADER]"],
    ],
)
def test_against_dovecot(dovecot: Dovecot, items: list[str]) -> None:
    """Dovecot's own answers, dates in several zones: the same as IMAPClient.fetch."""
    zones = [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3, minutes=-30))]
    with dovecot.client() as imap:
        for i in range(12):
            when = datetime(2026, 11, 1 + i, 8, 30, tzinfo=zones[i % 3])
            imap.append("INBOX", complaint(i), msg_time=when)
        imap.select_folder("INBOX")
        uids = sorted(imap.search(["ALL"]))
        imap.normalise_times = False
        expected = {
            uid: {k: _stdlib_tz(v) if k == b"INTERNALDATE" else v for k, v in got.items()}
            for uid, got in imap.fetch(uids, items).items()
        }
        fast = fetch_messages(imap, uids, items)
        assert read_fetch(
            imap._imap.uid("FETCH", ",".join(map(str, uids)), f"({' '.join(items)})")[1]
        )
        assert fast == expected
        assert [fast[uid][b"INTERNALDATE"] for uid in uids] == [
            datetime(2026, 11, 1 + i, 8, 30, tzinfo=zones[i % 3]) for i in range(12)
        ]
        assert fetch_messages(imap, [*uids[:3], 99999], items).keys() == set(uids[:3])
