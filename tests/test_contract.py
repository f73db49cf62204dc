"""API contracts on the real stack: the services answer what their published specs say.

* schemathesis (every check, every phase, a bounded number of examples per
  operation) against ingest's and the gateway's served OpenAPI: 0 failures;
* the inputs it found answered with a 5xx or off-contract, kept as plain tests;
* real messages captured from the websockets and every topic validate against
  docs/asyncapi.yaml (jsonschema).
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets
import yaml

from heartline.broker import free_port
from services.nudger.worker import changelog_topic
from shared import asyncapi
from shared import socket_messages as sm
from shared.schemas import iso, utcnow
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.contractkit import error_body as _error_body
from tests.contractkit import run_schemathesis
from tests.kafkatools import produce_raw, read_topic
from tests.speech.common import channel_pcm, needs_speech
from tests.stackkit import LOGS

pytestmark = pytest.mark.e2e

ANGRY = "你们这服务太差了,我都等了半个小时了,我要投诉"


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(asyncapi.OUT.read_text(encoding="utf-8"))


def _check(result, name: str) -> None:
    out = result.stdout + result.stderr
    print(out[-6000:])
    assert result.returncode == 0, f"schemathesis found problems in {name}'s contract:\n{out[-12000:]}"
    assert " passed" in out.split("SUMMARY")[-1], out[-4000:]


def test_ingest_keeps_its_openapi_contract(stack):
    result = run_schemathesis(stack.ingest_url, stack.token("contract", "service"), LOGS / "schemathesis-ingest")
    _check(result, "ingest")


def test_gateway_keeps_its_openapi_contract(stack):
    result = run_schemathesis(
        stack.gateway_url, stack.token("s-001", "supervisor"), LOGS / "schemathesis-gateway", max_examples=10
    )
    _check(result, "gateway")


# ---------------------------------------------------------------- what schemathesis found, kept


def _get(stack, path: str, token: str | None = None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{stack.gateway_url}{path}", headers=headers, timeout=10, **kw)


def test_auth_errors_have_the_one_shape(stack):
    no_token = _get(stack, "/api/review/calls")
    _error_body(no_token, 401)
    assert no_token.headers["www-authenticate"] == "Bearer"
    _error_body(_get(stack, "/api/review/calls", stack.token("a-001")), 403)
    resp = httpx.post(f"{stack.ingest_url}/v1/events", json=[], timeout=10)
    _error_body(resp, 401)
    resp = httpx.post(
        f"{stack.ingest_url}/v1/events",
        json=[],
        timeout=10,
        headers={"Authorization": f"Bearer {stack.token('a-001')}"},
    )
    _error_body(resp, 401)


def test_unknown_paths_methods_and_big_bodies_have_the_one_shape(stack):
    for base in (stack.gateway_url, stack.ingest_url):
        _error_body(httpx.get(f"{base}/no/such/path", timeout=10), 404)
        _error_body(httpx.delete(f"{base}/metrics", timeout=10), 405)
    big = {"call_id": "c-1", "text": "好" * 30_000}
    _error_body(
        httpx.post(
            f"{stack.gateway_url}/api/whisper",
            json=big,
            timeout=10,
            headers={"Authorization": f"Bearer {stack.token('s-001', 'supervisor')}"},
        ),
        413,
    )
    _error_body(
        httpx.post(
            f"{stack.ingest_url}/v1/events",
            content=b"[" * 2_000_000,
            timeout=10,
            headers={"Authorization": f"Bearer {stack.token('t', 'service')}"},
        ),
        413,
    )


def test_metrics_are_prometheus_text(stack):
    for base in (stack.gateway_url, stack.ingest_url):
        resp = httpx.get(f"{base}/metrics", timeout=10)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")


def test_whisper_text_the_schema_allows_is_the_text_the_gateway_takes(stack):
    """Guards: a 799-character text passed the schema (max 800) and was refused (422, max 200)."""
    sup = {"Authorization": f"Bearer {stack.token('s-001', 'supervisor')}"}
    url = f"{stack.gateway_url}/api/whisper"
    for text in ("好" * 201, "   ", "a\u200bb", "a\x07b", "a\U000e0001"):
        body = _error_body(httpx.post(url, json={"call_id": "c-1", "text": text}, headers=sup, timeout=10), 422)
        assert body["errors"][0]["where"] == "body.text", body
    _error_body(httpx.post(url, json={"call_id": "c-none", "text": "好" * 200}, headers=sup, timeout=10), 404)


def test_ingest_takes_json_types_as_the_schema_says(stack):
    """Guards: pydantic's coercion accepted "17" for an integer, 1 for a boolean and a number for
    a time (negative data accepted); a year-1 time with an offset raised OverflowError (500)."""
    call_id = new_call_id("ct")
    base = utterance(call_id, 1, "好的")
    for field, value in (
        ("seq", "17"),
        ("is_final", 1),
        ("ts", 1_700_000_000),
        ("confidence", "0.9"),
        ("ts", "0001-01-01T00:00:00+01:00"),
        ("ts", iso(utcnow().replace(year=utcnow().year + 2))),
        ("start_ms", 1.5),
    ):
        resp = stack.post_events([{**base, field: value}])
        body = _error_body(resp, 422)
        assert body["accepted"] == 0 and body["rejected"] == 1 and body["errors"][0]["index"] == 0, body
        assert field in body["errors"][0]["error"], body
    resp = stack.post_events([{**base, "start_ms": 1200.0, "end_ms": 2400.0}])
    assert resp.status_code == 202 and resp.json() == {"accepted": 1, "rejected": 0, "errors": []}
    assert stack.post_events([]).json()["accepted"] == 0


# ---------------------------------------------------------------- websockets and topics vs AsyncAPI


def _schemas_by_kind(names: list[str]) -> dict[str, str]:
    return {asyncapi._kind(getattr(sm, n)): n for n in names}


def _validate(spec: dict, schema: str, message) -> None:
    errors = [e.message for e in asyncapi.schema_validator(spec, schema).iter_errors(message)]
    assert not errors, f"{schema}: {errors[:3]} in {json.dumps(message, ensure_ascii=False)[:600]}"


def test_websocket_messages_and_topic_records_match_the_asyncapi(stack, spec):
    agent, call_id = "a-071", new_call_id("aa")

    async def scenario():
        seen: dict[str, list[dict]] = {"agent": [], "wall": [], "stream": [], "client": []}
        async with (
            websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token(agent)}") as ws,
            websockets.connect(f"{stack.gateway_ws}/ws/wall?token={stack.token('s-002', 'supervisor')}") as wall,
        ):
            assert stack.post_events([call_started(call_id, agent), utterance(call_id, 1, ANGRY)]).status_code == 202
            msgs = await collect(
                ws,
                30,
                until=lambda m: any(x["kind"] == "nudge" for x in m) and any(x["kind"] == "transcript" for x in m),
            )
            nudge = next(m for m in msgs if m["kind"] == "nudge")
            client = [
                {"kind": "feedback", "nudge_id": nudge["nudge_id"], "action": "accepted"},
                {"kind": "resume", "call_id": call_id, "after_seq": 0, "seen_nudges": []},
                {"kind": "ping", "t": 1},
            ]
            for m in client:
                await ws.send(json.dumps(m))
            await ws.send("not json")
            msgs += await collect(
                ws, 10, until=lambda m: {"feedback_ack", "resumed", "pong", "error"} <= {x["kind"] for x in m}
            )
            seen["agent"] = msgs
            wall_client = [
                {"kind": "watch", "call_id": call_id},
                {"kind": "ping"},
                {"kind": "whisper", "call_id": call_id, "text": "先向客户道歉"},
                {"kind": "whisper", "call_id": call_id, "text": "  "},
                {"kind": "unwatch"},
            ]
            for m in wall_client:
                await wall.send(json.dumps(m))
            seen["wall"] = await collect(
                wall,
                15,
                until=lambda m: (
                    {"call_state", "stats", "call", "transcript", "whisper_ack", "error", "pong"}
                    <= {x["kind"] for x in m}
                ),
            )
            seen["client"] = client + wall_client
        async with websockets.connect(
            f"{stack.ingest_url.replace('http', 'ws')}/v1/stream?token={stack.token('t', 'service')}"
        ) as stream:
            event = utterance(call_id, 2, "好的,谢谢", speaker="agent")
            await stream.send(json.dumps(event))
            await stream.send(json.dumps({**event, "seq": "x"}))
            seen["stream"] = await collect(stream, 10, until=lambda m: bool(m))
            seen["client"].append(event)
        return seen

    seen = asyncio.run(scenario())
    agent_kinds = _schemas_by_kind(asyncapi.AGENT_SENT)
    wall_kinds = _schemas_by_kind(asyncapi.WALL_SENT)
    client_kinds = _schemas_by_kind(asyncapi.AGENT_RECEIVED + asyncapi.WALL_RECEIVED)
    assert {m["kind"] for m in seen["agent"]} >= {
        "call",
        "transcript",
        "call_state",
        "nudge",
        "feedback_ack",
        "resumed",
        "pong",
        "error",
    }
    assert {m["kind"] for m in seen["wall"]} >= {
        "call_state",
        "stats",
        "call",
        "transcript",
        "whisper_ack",
        "error",
        "pong",
    }
    for m in seen["agent"]:
        _validate(spec, agent_kinds[m["kind"]], m)
    for m in seen["wall"]:
        _validate(spec, wall_kinds[m["kind"]], m)
    for m in seen["client"]:
        _validate(spec, client_kinds.get(m.get("kind"), "CallEvent"), m)
    assert [m["kind"] for m in seen["stream"]] == ["error"]
    for m in seen["stream"]:
        _validate(spec, "StreamError", m)

    # every topic: what the services wrote; a bad record becomes a dead letter
    t = stack.settings.topics
    bad = b'{"type": "utterance"}'
    asyncio.run(produce_raw(stack.settings, t.stt_events, [(call_id.encode(), bad)]))
    by_topic = {
        t.stt_events: "CallEvent",
        t.call_events: "CallEvent",
        t.utterance_analysis: "UtteranceAnalysis",
        t.call_state: "CallState",
        t.nudges: "Nudge",
        t.nudge_feedback: "NudgeFeedback",
    }
    deadline = time.monotonic() + 20
    while True:
        dead = asyncio.run(read_topic(stack.settings, f"{t.stt_events}.dlq"))
        if dead or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert dead, "the analyzer dead-letters a bad stt-events record"
    for _, value in dead:
        _validate(spec, "DeadLetter", json.loads(value))
    for topic, schema in by_topic.items():
        records = asyncio.run(read_topic(stack.settings, topic))
        mine = [(k, v) for k, v in records if k == call_id.encode()]
        assert mine, topic
        for _key, value in records:
            if topic == t.stt_events and value == bad:
                continue  # the bad record above
            _validate(spec, "Tombstone" if value is None else schema, None if value is None else json.loads(value))
    changelog = asyncio.run(read_topic(stack.settings, changelog_topic(stack.settings)))
    mine = [value for key, value in changelog if key == call_id.encode()]
    assert mine, "the nudger's changelog holds the call's memory"
    for value in mine:
        _validate(spec, "Tombstone" if value is None else "CallMemory", None if value is None else json.loads(value))


@pytest.mark.speech
@needs_speech
def test_the_asr_bridge_keeps_its_contracts(stack, spec):
    """/v1/audio's messages against docs/asyncapi.yaml, the bridge's REST routes with schemathesis."""
    port = free_port()
    proc = stack.stack.add("asr", ["serve", "asr"], port=port, HEARTLINE_ASR_PORT=port)
    stack.stack.wait_ready(120, [proc])
    call_id, token = new_call_id("as"), stack.token("tests", "ingest")
    base = f"ws://127.0.0.1:{port}/v1/audio?token={token}"

    async def scenario() -> tuple[list[dict], list[int]]:
        async with websockets.connect(f"{base}&call_id={call_id}&speaker=customer&agent_id=a-072") as ch:
            pcm = channel_pcm("call_angry_transfer", "customer")[: 16000 * 2 * 6]
            for i in range(0, len(pcm), 3200):
                await ch.send(pcm[i : i + 3200])
            await ch.send(json.dumps({"kind": "end"}))
            msgs = [json.loads(raw) async for raw in ch]
        codes = []
        for query in (f"&call_id={call_id}", f"&call_id={call_id}&speaker=robot", "&speaker=agent"):
            async with websockets.connect(base + query) as bad:
                with pytest.raises(websockets.ConnectionClosed):
                    await bad.recv()
                codes.append(bad.close_code)
        return msgs, codes

    msgs, codes = asyncio.run(scenario())
    assert msgs[-1]["kind"] == "ended" and any(m["kind"] == "event" for m in msgs), msgs
    kinds = {"event": "AsrEvent", "ended": "ChannelEnded"}
    for m in msgs:
        _validate(spec, kinds[m["kind"]], m)
    assert codes == [4400, 4400, 4400]
    assert set(map(str, codes)) <= set(spec["channels"]["asrAudio"]["x-close-codes"])
    result = run_schemathesis(f"http://127.0.0.1:{port}", token, LOGS / "schemathesis-asr")
    _check(result, "the ASR bridge")
