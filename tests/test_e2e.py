"""End to end on the real broker: ingest -> analyzer -> nudger -> gateway -> socket."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
import websockets

from tests.callkit import call_started, collect, new_call_id, utterance
from tests.kafkatools import wait_committed

pytestmark = [pytest.mark.e2e, pytest.mark.brokers("embedded", "kafka")]

ANGRY = "你们这服务太差了,我都等了半个小时了"


def _nudges(msgs, call_id, nudge_type=None):
    return [
        m
        for m in msgs
        if m["kind"] == "nudge" and m["call_id"] == call_id and (nudge_type is None or m["type"] == nudge_type)
    ]


async def _agent(stack, agent_id):
    return await websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token(agent_id)}")


def test_angry_customer_nudges_only_their_agent_once(stack):
    call_id = new_call_id()

    async def scenario():
        ws7 = await _agent(stack, "a-007")
        ws8 = await _agent(stack, "a-008")
        try:
            resp = stack.post_events([call_started(call_id, "a-007"), utterance(call_id, 17, ANGRY)])
            assert resp.status_code == 202, resp.text
            msgs = await collect(ws7, 10, until=lambda m: _nudges(m, call_id, "acknowledge_emotion"))
            received = time.time()
            nudge = _nudges(msgs, call_id, "acknowledge_emotion")[0]
            assert nudge["agent_id"] == "a-007"
            assert nudge["nudge_id"] == f"{call_id}:17:acknowledge_emotion"
            assert nudge["ingest_ts"], "ingest_ts is carried through"
            assert ANGRY[:8] in nudge["reason"]
            latency_ms = (
                received - datetime.fromisoformat(nudge["ingest_ts"].replace("Z", "+00:00")).timestamp()
            ) * 1000
            print(f"\nend-to-end latency ingest -> agent socket: {latency_ms:.1f} ms")
            transcript = [m for m in msgs if m["kind"] == "transcript" and m["call_id"] == call_id]
            assert transcript and transcript[0]["text"] == ANGRY

            # The ASR retries the same final: no second analysis, no second nudge.
            assert stack.post_events([utterance(call_id, 17, ANGRY)]).status_code == 202
            again = await collect(ws7, 3)
            assert not _nudges(again, call_id, "acknowledge_emotion")
            assert not [m for m in again if m["kind"] == "transcript" and m["call_id"] == call_id and m["seq"] == 17]

            other = await collect(ws8, 0.5)
            assert not [m for m in other if m.get("call_id") == call_id], "a-008 must see nothing of a-007's call"
        finally:
            await ws7.close()
            await ws8.close()

    asyncio.run(scenario())


def test_reconnect_gets_open_nudges_once(stack):
    call_id = new_call_id()

    async def scenario():
        ws = await _agent(stack, "a-021")
        stack.post_events([call_started(call_id, "a-021"), utterance(call_id, 1, ANGRY)])
        first = await collect(ws, 10, until=lambda m: _nudges(m, call_id, "acknowledge_emotion"))
        nudge_id = _nudges(first, call_id, "acknowledge_emotion")[0]["nudge_id"]
        await ws.close()
        ws = await _agent(stack, "a-021")  # a fresh connection gets the live call and its open nudges
        greeting = await collect(ws, 2)
        assert [m for m in greeting if m["kind"] == "call" and m["call_id"] == call_id]
        assert [m["nudge_id"] for m in _nudges(greeting, call_id)].count(nudge_id) == 1
        await ws.send(f'{{"kind": "resume", "call_id": "{call_id}", "after_seq": 1, "seen_nudges": ["{nudge_id}"]}}')
        resumed = await collect(ws, 2, until=lambda m: any(x["kind"] == "resumed" for x in m))
        assert not _nudges(resumed, call_id), "nothing already seen is sent again"
        assert [m for m in resumed if m["kind"] == "resumed"]
        await ws.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("query", ["", "?token=", "?token=not-a-jwt"])
def test_agent_socket_rejects_bad_tokens(stack, query):
    async def scenario():
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent{query}") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())


def test_wall_needs_supervisor_role(stack):
    async def scenario():
        async with websockets.connect(f"{stack.gateway_ws}/ws/wall?token={stack.token('a-007')}") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            assert closed.value.rcvd.code == 4403

    asyncio.run(scenario())


@pytest.mark.brokers("kafka")
def test_librdkafka_client_speaks_the_contract(stack):
    """kcat (librdkafka, Debian's package: the C client most ASR/CTI vendors embed)
    produces the contract's JSON to stt-events on Apache Kafka, keyed by call_id
    with librdkafka's own partitioner; the nudge reaches the agent's socket.
    (librdkafka cannot talk to the embedded broker: docs/operations.md.)"""
    import json
    import shutil
    import subprocess

    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed (apt-get install kcat; .ci/run installs it)"
    call_id = new_call_id("kcat")
    events = [call_started(call_id, "a-032"), utterance(call_id, 4, ANGRY)]
    lines = "".join(f"{call_id}\t{json.dumps(ev, ensure_ascii=False)}\n" for ev in events)

    async def scenario():
        ws = await _agent(stack, "a-032")
        done = await asyncio.to_thread(
            subprocess.run,
            [
                kcat,
                "-b",
                stack.settings.kafka,
                "-t",
                stack.settings.topics.stt_events,
                "-P",
                "-K",
                "\t",
                "-X",
                "acks=all",
            ],
            input=lines.encode(),
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr.decode()
        msgs = await collect(ws, 15, until=lambda m: _nudges(m, call_id, "acknowledge_emotion"))
        await ws.close()
        nudge = _nudges(msgs, call_id, "acknowledge_emotion")
        assert nudge and nudge[0]["nudge_id"] == f"{call_id}:4:acknowledge_emotion"

    asyncio.run(scenario())


def test_outside_kafka_client_speaks_the_contract(stack):
    """A Kafka client nobody here wrote produces the contract's JSON to stt-events.

    kafka-python's producer (not used by any Heartline service, default murmur2
    partitioner like the Java client) on both brokers: plain JSON values keyed
    by call_id, no ingest, no ingest_ts. (librdkafka: the kcat test above, on
    Apache Kafka only: it cannot parse the embedded broker's ApiVersions v3
    answer.)
    """
    import json

    from kafka import KafkaProducer

    call_id = new_call_id("outside")
    events = [call_started(call_id, "a-031"), utterance(call_id, 3, ANGRY)]

    async def scenario():
        ws = await _agent(stack, "a-031")
        prod = KafkaProducer(bootstrap_servers=stack.settings.kafka)
        for ev in events:
            prod.send(
                stack.settings.topics.stt_events,
                key=call_id.encode(),
                value=json.dumps(ev, ensure_ascii=False).encode(),
            ).get(10)
        prod.close()
        msgs = await collect(ws, 10, until=lambda m: _nudges(m, call_id, "acknowledge_emotion"))
        await ws.close()
        nudge = _nudges(msgs, call_id, "acknowledge_emotion")
        assert nudge and nudge[0]["nudge_id"] == f"{call_id}:3:acknowledge_emotion"
        assert nudge[0]["ingest_ts"], "without ingest, the record time stands in for ingest_ts"

    asyncio.run(scenario())


def test_ingest_reports_bad_items_and_keeps_good_ones(stack):
    call_id = new_call_id()
    resp = stack.post_events([call_started(call_id), {"type": "utterance", "call_id": call_id}, "nope"])
    assert resp.status_code == 422
    body = resp.json()
    assert body["accepted"] == 1 and body["rejected"] == 2
    assert {e["index"] for e in body["errors"]} == {1, 2}
    assert "seq" in body["errors"][0]["error"]


def test_ingest_needs_a_service_token(stack):
    import httpx

    resp = httpx.post(f"{stack.ingest_url}/v1/events", json=[call_started(new_call_id())], timeout=5)
    assert resp.status_code == 401
    resp = stack.post_events([call_started(new_call_id())], token=stack.token("a-007", "agent"))
    assert resp.status_code == 401


def test_lag_and_status_commands_report_the_running_groups(stack):
    import os
    import subprocess
    import sys

    call_id = new_call_id()
    assert stack.post_events([call_started(call_id), utterance(call_id, 1, "你好")]).status_code == 202
    s = stack.settings
    assert asyncio.run(wait_committed(s, s.group("analyzer"), s.topics.stt_events)), "the analyzer committed nothing"
    env = {
        **os.environ,
        "HEARTLINE_KAFKA": stack.settings.kafka,
        "HEARTLINE_BROKER": stack.settings.broker,
        "HEARTLINE_TOPIC_PREFIX": stack.settings.topic_prefix,
        "HEARTLINE_GATEWAY_PORT": str(stack.settings.gateway_port),
        "HEARTLINE_INGEST_PORT": str(stack.settings.ingest_port),
        "HEARTLINE_DATA_DIR": "/nonexistent",
    }
    lag = subprocess.run(
        [sys.executable, "-m", "heartline.cli", "lag"], env=env, capture_output=True, text=True, timeout=60
    )
    assert lag.returncode == 0, lag.stderr
    assert f"{stack.settings.topic_prefix}heartline-analyzer" in lag.stdout
    assert "total lag" in lag.stdout
    status = subprocess.run(
        [sys.executable, "-m", "heartline.cli", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    assert "gateway" in status.stdout and "yes" in status.stdout
    for out in (lag.stdout, status.stdout):  # both end with each group's members
        if stack.settings.broker == "kafka":  # DescribeGroups answers on Apache Kafka: who is in each group
            for name in ("analyzer", "nudger", "recorder"):
                assert f"group {stack.settings.topic_prefix}heartline-{name}: 1 member(s)" in out, out
        else:
            assert "group membership: not available from this broker" in out, out
