"""Bad input everywhere, on the real stack: a clear answer for each, no stall, no crash.

At ingest (HTTP and websocket), on the topics (raw bytes produced straight to
``stt-events`` and ``utterance-analysis``) and on the gateway's sockets. Each
bad input gets a 4xx with a reason, a websocket ``error``, or a ``<topic>.dlq``
record with its reason; afterwards every process is alive and a good call
still gets its nudge. Property-based with hypothesis, and by hand.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from shared.topics import dlq
from tests.badinputkit import event_like, json_values
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.kafkatools import produce_raw, wait_for_records

pytestmark = pytest.mark.e2e

ANGRY = "你们这服务太差了,我都等了半个小时了"


def _post_raw(stack, body: bytes, token: str | None = None) -> httpx.Response:
    token = token or stack.token("tests", "service")
    return httpx.post(
        f"{stack.ingest_url}/v1/events",
        content=body,
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_ingest_http_property(stack):
    """Any JSON body (one event or a batch) over real HTTP: 202/400/422, a per-item reason, never 5xx."""
    token = stack.token("tests", "service")

    @hsettings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=st.lists(event_like, max_size=4) | event_like | json_values)
    def check(body):
        resp = _post_raw(stack, json.dumps(body, allow_nan=True).encode(), token)
        assert resp.status_code in (202, 400, 422), (resp.status_code, resp.text)
        out = resp.json()
        if resp.status_code == 422:
            assert out["errors"] and all(isinstance(e["index"], int) and e["error"] for e in out["errors"])

    check()


CASES = [  # (body, status, words in the answer)
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe\x00garbage", 400, "UTF-8"),
    (b'"just a string"', 422, "JSON object"),
    (b"null", 422, "JSON object"),
    (b'{"type": "utterance"}', 422, "call_id"),
    (
        json.dumps(
            {
                "type": "utterance",
                "call_id": "c-x1",
                "ts": "2026-11-23T08:00:00Z",
                "seq": "abc",
                "speaker": "customer",
                "text": "hi",
            }
        ).encode(),
        422,
        "seq",
    ),
    (
        json.dumps({"type": "call_started", "call_id": "bad id with spaces 😀", "ts": "2026-11-23T08:00:00Z"}).encode(),
        422,
        "call_id",
    ),
    (json.dumps({"type": "wiretap", "call_id": "c-x2", "ts": "2026-11-23T08:00:00Z"}).encode(), 422, "type"),
    (json.dumps({"type": "hold_started", "call_id": "c-x3", "ts": "2999-01-01T00:00:00Z"}).encode(), 422, "future"),
    (
        json.dumps(
            {
                "type": "utterance",
                "call_id": "c-x4",
                "ts": "2026-11-23T08:00:00Z",
                "seq": 1,
                "speaker": "customer",
                "text": "长" * 10_001,
            }
        ).encode(),
        422,
        "text",
    ),
    (
        b'{"type": "utterance", "call_id": "c-x5", "ts": "2026-11-23T08:00:00Z", "seq": 1, "speaker": "customer", '
        b'"text": "hi", "confidence": NaN}',
        422,
        "confidence",
    ),
    (
        b"[" + b",".join([b'{"type":"hold_started","call_id":"c-x6","ts":"2026-11-23T08:00:00Z"}'] * 1001) + b"]",
        413,
        "1000",
    ),
    (b'["' + b"x" * 1_100_000 + b'"]', 413, "bytes"),
]


@pytest.mark.parametrize("body,status,words", CASES, ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_ingest_http_by_hand(stack, body, status, words):
    resp = _post_raw(stack, body)
    assert resp.status_code == status, resp.text
    assert words.lower() in resp.text.lower(), resp.text


def test_ingest_accepts_odd_but_valid_and_keeps_good_items_of_a_bad_batch(stack):
    cid = new_call_id("bi")
    odd = utterance(cid, 5, "控制字符\x00\x07\u202e 和 emoji 😡🙏 混在一起")
    old = dict(call_started(new_call_id("bi"), "a-050"), ts="1999-01-01T00:00:00Z")  # far past: accepted
    resp = stack.post_events([odd, old])
    assert resp.status_code == 202, resp.text
    resp = stack.post_events([utterance(cid, 6, "好的"), {"type": "utterance", "call_id": cid}, "nope"])
    assert resp.status_code == 422
    out = resp.json()
    assert out["accepted"] == 1 and [e["index"] for e in out["errors"]] == [1, 2]


def test_ingest_websocket_bad_messages_get_errors_and_the_socket_stays(stack):
    async def go():
        url = stack.ingest_url.replace("http://", "ws://") + f"/v1/stream?token={stack.token('asr', 'ingest')}"
        async with websockets.connect(url, max_size=None) as ws:
            for bad in [
                "{oops",
                "[]",
                json.dumps({"type": "utterance", "call_id": "c-1"}),
                b"\x00\x01binary",
                json.dumps({"type": "hold_started", "call_id": "c-y", "ts": "2999-01-01T00:00:00Z"}),
            ]:
                await ws.send(bad)
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert reply["kind"] == "error" and reply["error"], (bad, reply)
            await ws.send(json.dumps(call_started(new_call_id("bi"), "a-051")))
            assert await collect(ws, 1) == [], "a good event after the garbage is accepted silently"

    asyncio.run(go())


def test_raw_garbage_on_the_topics_goes_to_the_dlq_with_a_reason_and_nothing_stalls(stack):
    s = stack.settings
    tag = uuid.uuid4().hex[:8]
    stt_bad = {
        f"{tag}-notjson": b"not json at all",
        f"{tag}-utf8": b"\xff\xfe\xfa{",
        f"{tag}-array": b"[1, 2, 3]",
        f"{tag}-missing": b'{"type": "utterance", "call_id": "c-1"}',
        f"{tag}-future": json.dumps({"type": "hold_started", "call_id": "c-f", "ts": "2999-01-01T00:00:00Z"}).encode(),
        f"{tag}-empty": b"",
        f"{tag}-tombstone": None,
    }
    ua_bad = {
        f"{tag}-ua-notjson": b"{{{",
        f"{tag}-ua-utf8": b"\xc3\x28",
        f"{tag}-ua-wrong": json.dumps({"call_id": "c-w", "seq": "x", "speaker": 3}).encode(),
        f"{tag}-ua-list": b"[]",
    }

    async def go():
        await produce_raw(s, s.topics.stt_events, [(k.encode(), v) for k, v in stt_bad.items()])
        await produce_raw(s, s.topics.utterance_analysis, [(k.encode(), v) for k, v in ua_bad.items()])
        # duplicates, out of order, unknown and already-ended calls, through ingest
        ended = new_call_id("bi")
        assert (
            stack.post_events(
                [
                    call_started(ended, "a-052"),
                    {"type": "call_ended", "call_id": ended, "ts": call_started(ended)["ts"]},
                ]
            ).status_code
            == 202
        )
        assert (
            stack.post_events(
                [
                    utterance(ended, 3, ANGRY),
                    utterance(new_call_id("bi"), 9, ANGRY),
                    utterance(ended, 2, "好"),
                    utterance(ended, 2, "好"),
                ]
            ).status_code
            == 202
        )
        # the proof nothing stalled: a good call after all of it gets its nudge
        good = new_call_id("bi")
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-053')}") as ws:
            t0 = time.monotonic()
            assert stack.post_events([call_started(good, "a-053"), utterance(good, 1, ANGRY)]).status_code == 202
            # (a first dead letter used to block the nudger's loop for 10+ s: it imported the
            # redaction module, and with it snownlp, on the event loop; now loaded at start)
            msgs = await collect(ws, 20, until=lambda m: any(x["kind"] == "nudge" and x["call_id"] == good for x in m))
            assert any(x["kind"] == "nudge" and x["call_id"] == good for x in msgs), "no nudge after the garbage"
            print(f"\ngood call nudged {time.monotonic() - t0:.1f}s after the garbage")

        def every(bad):
            return lambda recs: set(bad) <= {k.decode() for k, _ in recs if k}

        return (
            await wait_for_records(s, dlq(s.topics.stt_events), every(stt_bad)),
            await wait_for_records(s, dlq(s.topics.utterance_analysis), every(ua_bad)),
        )

    stt_dlq, ua_dlq = asyncio.run(go())
    for bad, dead in ((stt_bad, stt_dlq), (ua_bad, ua_dlq)):
        by_key = {k.decode(): json.loads(v) for k, v in dead if k}
        for key in bad:
            assert key in by_key, f"{key} not dead-lettered; DLQ keys: {sorted(by_key)}"
            assert by_key[key]["reason"], by_key[key]
    print(
        "\nDLQ reasons:",
        {
            k: v["reason"][:60]
            for k, v in {k.decode(): json.loads(v) for k, v in stt_dlq + ua_dlq if k}.items()
            if tag in k
        },
    )
    for proc in stack.stack.procs:
        assert proc.popen.poll() is None, f"{proc.name} died"
        assert httpx.get(f"{proc.url}/readyz", timeout=5).status_code == 200, proc.name


def test_gateway_socket_bad_messages_get_errors_and_flooding_closes_4429(stack):
    async def go():
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-054')}") as ws:
            await collect(ws, 0.5)
            for bad in [
                "{oops",
                "[1]",
                '{"kind": 5}',
                '{"kind": "teleport"}',
                b"\x00binary",
                '{"kind": "resume", "call_id": "nope", "after_seq": "x"}',
                '{"kind": "feedback", "nudge_id": "someone-elses", "action": "accepted"}',
            ]:
                await ws.send(bad)
                reply = await collect(ws, 3, until=lambda m: any(x["kind"] == "error" for x in m))
                assert any(x["kind"] == "error" and x["error"] for x in reply), (bad, reply)
            await ws.send('{"kind": "ping", "t": 1}')
            assert any(
                m["kind"] == "pong" for m in await collect(ws, 3, until=lambda m: any(x["kind"] == "pong" for x in m))
            ), "socket still serves after the garbage"
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-055')}") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                for _ in range(500):
                    await ws.send('{"kind": "ping"}')
                await collect(ws, 5)
                await ws.recv()
            assert closed.value.rcvd.code == 4429
        # over 16 KiB: uvicorn refuses the message before buffering it (1009, message too big)
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-056')}") as ws:
            await collect(ws, 0.5)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.send(json.dumps({"kind": "ping", "pad": "x" * 20_000}))
                await collect(ws, 5)
                await ws.recv()
            assert closed.value.rcvd.code == 1009

    asyncio.run(go())
