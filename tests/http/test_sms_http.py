"""``POST /intake/sms`` through uvicorn on loopback: auth, dialects, limits, duplicates, parts."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from intake_helpers import KANNEL_KEY, SMS_SECRET, TWILIO_TOKEN, Served, sign

from ingest.http.sms import parse_udh, twilio_signature


def post_json(
    s: Served, doc: Any, channel: str = "sms", secret: str = SMS_SECRET, **headers: str
) -> Any:
    body = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    hdrs = {"content-type": "application/json", "x-aduan-signature": sign(body, secret), **headers}
    return s.client.post(f"/intake/sms/{channel}", content=body, headers=hdrs)


def sms(
    i: int = 1,
    text: str = "LAPOR jalan rusak di Desa Tanjung",
    sender: str = "081234567890",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": f"gw-{i}",
        "from": sender,
        "to": "1708",
        "text": text,
        "received_at": "2026-11-23T09:00:00+07:00",
        **extra,
    }


def envelopes(s: Served) -> list[dict[str, Any]]:
    return [json.loads(raw.payload) for raw in s.recorder.reports()]


def test_signed_json_is_published_after_submit(served: Served) -> None:
    r = post_json(served, sms())
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "published"
    assert body["external_id"] == "gw-1"
    [env] = envelopes(served)
    assert env["from"] == "081234567890" and env["text"].startswith("LAPOR")
    assert env["gateway"] == "json"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"x-aduan-signature": "sha256=" + "0" * 64}, 403),
        ({"x-aduan-signature": "deadbeef"}, 403),
        ({"x-aduan-signature": sign(b"other body")}, 403),
    ],
)
def test_bad_or_missing_signature_refused(
    served: Served, headers: dict[str, str], status: int
) -> None:
    body = json.dumps(sms()).encode()
    r = served.client.post(
        "/intake/sms/sms", content=body, headers={"content-type": "application/json", **headers}
    )
    assert r.status_code == status
    assert "detail" in r.json()
    assert served.recorder.calls == []


def test_wrong_key_signature_refused(served: Served) -> None:
    r = post_json(served, sms(), secret="not-the-secret")
    assert r.status_code == 403
    assert served.recorder.calls == []


def test_shared_secret_header(served: Served) -> None:
    body = json.dumps(sms()).encode()
    base = {"content-type": "application/json"}
    assert (
        served.client.post("/intake/sms/sms-header", content=body, headers=base).status_code == 401
    )
    wrong = served.client.post(
        "/intake/sms/sms-header", content=body, headers={**base, "x-aduan-secret": "nope"}
    )
    assert wrong.status_code == 403
    ok = served.client.post(
        "/intake/sms/sms-header", content=body, headers={**base, "x-aduan-secret": SMS_SECRET}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "published"


def test_channel_without_secret_is_refused_not_open(served: Served) -> None:
    r = served.client.post("/intake/sms/sms-open", json=sms())
    assert r.status_code == 503
    assert "secret" in r.json()["detail"]


def test_unknown_channel_and_ambiguous_default(served: Served) -> None:
    assert served.client.post("/intake/sms/nope", json=sms()).status_code == 404
    r = served.client.post("/intake/sms", json=sms())
    assert r.status_code == 404 and "several sms channels" in r.json()["detail"]


def test_duplicate_delivery_publishes_once_with_the_same_answer(served: Served) -> None:
    first = post_json(served, sms(7))
    second = post_json(served, sms(7))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers["x-aduan-duplicate"] == "1"
    assert len(served.recorder.calls) == 1


def test_same_message_without_gateway_id_has_a_stable_id(served: Served) -> None:
    doc = {"from": "081234567890", "text": "LAPOR sampah menumpuk"}
    a = post_json(served, doc).json()
    b = post_json(served, doc).json()
    assert a["external_id"].startswith("sha256:") and a == b
    assert len(served.recorder.calls) == 1


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"text": "LAPOR x"}', 422, "from"),
        (b'{"from": "0812", "text": 5}', 422, "text"),
        (
            b'{"from": "0812", "text": "x", "concat": {"ref": 1, "part": 3, "total": 2}}',
            422,
            "part",
        ),
    ],
)
def test_malformed_bodies_get_clear_4xx(
    served: Served, body: bytes, status: int, needle: str
) -> None:
    r = post_json(served, body)
    assert r.status_code == status
    assert needle in r.json()["detail"]
    assert served.recorder.calls == []


def test_oversized_body_413(served: Served) -> None:
    big = json.dumps(sms(text="LAPOR " + "x" * 70_000)).encode()
    r = post_json(served, big)
    assert r.status_code == 413

    # the same without Content-Length (chunked): refused while streaming
    def chunks() -> Any:
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = served.client.post(
        "/intake/sms/sms",
        content=chunks(),
        headers={"content-type": "application/json", "x-aduan-signature": sign(big)},
    )
    assert r.status_code == 413
    assert served.recorder.calls == []


def test_rate_limit_per_sender_429_with_retry_after(served: Served) -> None:
    for i in range(5):
        assert post_json(served, sms(100 + i, sender="081111111111")).status_code == 200
    r = post_json(served, sms(200, sender="081111111111"))
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # another sender is not affected
    assert post_json(served, sms(300, sender="082222222222")).status_code == 200


def test_queue_down_is_503_and_a_retry_succeeds(served: Served) -> None:
    served.recorder.fail = True
    r = post_json(served, sms(9))
    assert r.status_code == 503 and "retry" in r.json()["detail"]
    assert r.headers["retry-after"]
    served.recorder.fail = False
    r = post_json(served, sms(9))
    assert r.status_code == 200 and r.json()["status"] == "published"


@pytest.mark.parametrize(
    ("text", "status", "want"),
    [
        ("LAPOR lampu jalan mati", "published", "lampu jalan mati"),
        ("lapor#JLN lampu jalan mati", "published", "lampu jalan mati"),
        ("LAPORJLN lampu jalan mati", "published", "lampu jalan mati"),
        ("Lapor: lampu jalan mati", "published", "lampu jalan mati"),
        ("lampu jalan mati", "published", "lampu jalan mati"),
        ("LAPOR", "quarantined", "keyword only"),
        ("", "quarantined", "empty SMS"),
    ],
)
def test_keyword_variants_over_http(served: Served, text: str, status: str, want: str) -> None:
    r = post_json(served, sms(text=text))
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == status
    if status == "published":
        [(_, [raw])] = served.recorder.calls
        assert want in raw.payload.decode()
        # the record itself: re-run the normalizer result the recorder returned
        assert body["id"]
    else:
        assert want in body["reason"]


def twilio_post(
    s: Served, params: dict[str, str], token: str = TWILIO_TOKEN, signature: str | None = "auto"
) -> Any:
    url = f"{s.base}/intake/sms/twilio"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature == "auto":
        headers["x-twilio-signature"] = twilio_signature(token, url, list(params.items()))
    elif signature is not None:
        headers["x-twilio-signature"] = signature
    return s.client.post("/intake/sms/twilio", content=urlencode(params), headers=headers)


TWILIO = {
    "MessageSid": "SM0123456789abcdef",
    "AccountSid": "AC1",
    "From": "+6281234567890",
    "To": "+621708",
    "Body": "LAPOR banjir di Jalan Merdeka",
    "NumSegments": "1",
}


def test_twilio_signed_form(served: Served) -> None:
    r = twilio_post(served, TWILIO)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert "<Response>" in r.text and r.headers["x-aduan-status"] == "published"
    [env] = envelopes(served)
    assert env["id"] == "SM0123456789abcdef" and env["gateway"] == "twilio"
    assert env["params"]["AccountSid"] == "AC1"


def test_twilio_known_vector() -> None:
    # the example of Twilio's security documentation
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    sig = twilio_signature(
        "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", list(params.items())
    )
    assert sig == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@pytest.mark.parametrize(
    ("signature", "token", "status"),
    [(None, TWILIO_TOKEN, 401), ("auto", "wrong-token", 403), ("AAAA", TWILIO_TOKEN, 403)],
)
def test_twilio_bad_signatures(
    served: Served, signature: str | None, token: str, status: int
) -> None:
    r = twilio_post(served, TWILIO, token=token, signature=signature)
    assert r.status_code == status
    assert served.recorder.calls == []


def test_twilio_tampered_body_refused(served: Served) -> None:
    url = f"{served.base}/intake/sms/twilio"
    sig = twilio_signature(TWILIO_TOKEN, url, list(TWILIO.items()))
    tampered = {**TWILIO, "Body": "LAPOR something else"}
    r = served.client.post(
        "/intake/sms/twilio",
        content=urlencode(tampered),
        headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sig},
    )
    assert r.status_code == 403


def test_kannel_query_params_with_key(served: Served) -> None:
    q = {
        "from": "081234567890",
        "to": "1708",
        "text": "LAPOR pungli di kantor desa",
        "id": "k-1",
        "time": "2026-11-23 09:00:00",
    }
    r = served.client.post("/intake/sms/kannel", params={**q, "key": KANNEL_KEY})
    assert r.status_code == 200, r.text
    [env] = envelopes(served)
    assert env["id"] == "k-1" and "key" not in env["params"]
    assert served.client.post("/intake/sms/kannel", params={**q, "key": "wrong"}).status_code == 403
    assert served.client.post("/intake/sms/kannel", params=q).status_code == 401


def test_kannel_get_url(served: Served) -> None:
    q = {"from": "081234567890", "text": "LAPOR jembatan putus", "id": "k-get", "key": KANNEL_KEY}
    r = served.client.get("/intake/sms/kannel", params=q)
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert served.client.get("/intake/sms/sms", params=q).status_code == 405


def test_kannel_post_url_body_and_headers(served: Served) -> None:
    r = served.client.post(
        "/intake/sms/kannel",
        content=b"LAPOR lampu padam",
        headers={
            "content-type": "text/plain",
            "x-aduan-secret": KANNEL_KEY,
            "x-kannel-from": "081234567890",
            "x-kannel-to": "1708",
        },
    )
    assert r.status_code == 200, r.text
    [env] = envelopes(served)
    assert env["text"] == "LAPOR lampu padam" and env["from"] == "081234567890"


@pytest.mark.parametrize(
    ("udh", "expected"),
    [
        ("050003A40302", ("164", 2, 3)),  # 8-bit reference
        ("06080412340301", ("4660", 1, 3)),  # 16-bit reference
        ("060804123403 01", ("4660", 1, 3)),  # spaces in the hex are tolerated
        ("0B05040B8423F00003A40302", ("164", 2, 3)),  # after a port-addressing element
        ("0608041234030", None),  # not hex, no concatenation element in the bytes
        ("", None),
        ("0201ff", None),
    ],
)
def test_parse_udh(udh: str, expected: tuple[str, int, int] | None) -> None:
    got = parse_udh(udh)
    assert (None if got is None else (str(got.ref), got.part, got.total)) == expected


def test_multipart_sms_reassembled_in_order_whatever_the_arrival(served: Served) -> None:
    parts = [
        "LAPOR jalan di depan Pasar Pangkalan Balai ",
        "rusak parah dan berlubang sejak ",
        "bulan lalu, mohon diperbaiki",
    ]
    order = [3, 1, 3, 2]  # out of order, and part 3 delivered twice
    answers = []
    for n in order:
        doc = sms(50 + n, text=parts[n - 1], udh=f"050003A403{n:02X}")
        answers.append(post_json(served, doc))
    assert [a.status_code for a in answers] == [202, 202, 202, 200]
    assert answers[0].json()["status"] == "buffered"
    assert answers[2].headers.get("x-aduan-duplicate") == "1"
    assert answers[3].json()["status"] == "published"
    [(_, [raw])] = served.recorder.calls
    env = json.loads(raw.payload)
    assert env["text"] == "".join(parts)
    assert env["id"] == "gw-51"  # the first part names the message
    assert [p["part"] for p in env["parts"]] == [1, 2, 3]
    assert "missing" not in env
    # the waiting room is empty again
    assert list(served.app.state.intake.parts.groups()) == []


def test_multipart_parts_survive_a_restart_of_the_buffer(served: Served) -> None:
    doc = sms(61, text="LAPOR bagian satu ", concat={"ref": 9, "part": 1, "total": 2})
    assert post_json(served, doc).status_code == 202
    intake = served.app.state.intake
    from ingest.http.parts import PartBuffer

    fresh = PartBuffer(intake.parts.root)  # what a restarted process would see
    [group] = list(fresh.groups())
    assert group.numbers == [1] and group.total == 2


def test_incomplete_multipart_published_with_what_arrived_after_timeout(served: Served) -> None:
    # kannel channel: part_timeout 0.5 s; part 2 of 3 never comes
    for n, text in ((1, "LAPOR air PDAM "), (3, " sudah tiga hari")):
        r = served.client.post(
            "/intake/sms/kannel",
            params={
                "from": "081234567890",
                "text": text,
                "id": f"kp-{n}",
                "ref": "77",
                "part": str(n),
                "total": "3",
                "key": KANNEL_KEY,
            },
        )
        assert r.status_code == 202
    deadline = time.monotonic() + 15
    while not served.recorder.calls:
        assert time.monotonic() < deadline, "the sweeper never published the incomplete SMS"
        time.sleep(0.1)
    [(channel, [raw])] = served.recorder.calls
    env = json.loads(raw.payload)
    assert channel == "kannel"
    assert env["missing"] == [2] and env["total"] == 3
    assert env["text"] == "LAPOR air PDAM […] sudah tiga hari"


def test_health_and_readiness(served: Served) -> None:
    assert served.client.get("/healthz").json() == {"status": "ok"}
    assert served.client.get("/readyz").status_code == 200
    served.app.state.test_ready["ok"] = False
    assert served.client.get("/readyz").status_code == 503
    doc = served.client.get("/openapi.json").json()
    assert "/intake/sms/{channel}" in doc["paths"] and "/intake/web" in doc["paths"]


def test_multipart_completion_when_queue_down_keeps_parts_until_retry(served: Served) -> None:
    first = sms(81, text="LAPOR satu ", concat={"ref": 5, "part": 1, "total": 2})
    last = sms(82, text="dua", concat={"ref": 5, "part": 2, "total": 2})
    assert post_json(served, first).status_code == 202
    served.recorder.fail = True
    assert post_json(served, last).status_code == 503
    assert len(list(served.app.state.intake.parts.groups())) == 1  # nothing lost
    served.recorder.fail = False
    r = post_json(served, last)  # the gateway retries the last part
    assert r.status_code == 200 and r.json()["status"] == "published"
    [(_, [raw])] = served.recorder.calls
    assert json.loads(raw.payload)["text"] == "LAPOR satu dua"
    assert list(served.app.state.intake.parts.groups()) == []


def test_part_buffer_bound_flushes_oldest_first(tmp_path: Any) -> None:
    from ingest.http.parts import Part, PartBuffer

    now = [1000.0]
    buf = PartBuffer(tmp_path, clock=lambda: now[0])
    for ref in range(4):
        now[0] += 1
        buf.add(
            "sms",
            Part("0812", str(ref), 1, 2, {"id": f"p{ref}", "from": "0812", "text": f"t{ref}"}),
        )
    due = buf.due(lambda ch: 900.0, lambda ch: 3)
    assert [g.envelope()["id"] for g in due] == ["p0"]  # one over the bound of 3: the oldest
    now[0] += 900
    assert len(buf.due(lambda ch: 900.0, lambda ch: 10)) == 4  # all timed out
    env = due[0].envelope()
    assert env["missing"] == [2] and env["text"] == "t0[…]"
