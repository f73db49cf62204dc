"""Boundaries on the real stack: tokens, roles, agent isolation, secrets, PII.

* ingest needs a service token: none, garbage, wrong secret, expired or an
  agent's token -> 401 (HTTP) / 4401 (websocket);
* gateway: expired token -> 4401, an agent on /ws/wall or a supervisor on
  /ws/agent -> 4403; a token that expires while connected closes the socket
  with 4401; an agent never receives another agent's calls (30 calls, 10 agents);
* outside local mode the placeholder secret is refused;
* PII (an ID number with a valid check digit, a bank card passing Luhn, a
  mobile number) never appears in any service's log, any /metrics page, the
  DLQ topics, the wall, or the topics after the analyzer.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import jwt
import pytest
import websockets

from shared.config import PLACEHOLDER_SECRET, Settings
from shared.pii import id_checksum_ok, luhn_ok
from shared.topics import dlq
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.kafkatools import produce_raw, read_topic, wait_for_records

pytestmark = pytest.mark.e2e

ANGRY = "你们这服务太差了,我都等了半个小时了"


def _expired(settings, sub="tests", role="service") -> str:
    now = int(time.time())
    return jwt.encode(
        {"sub": sub, "role": role, "aud": settings.token_audience, "iat": now - 100, "exp": now - 10},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )


async def _close_code(url: str) -> int | None:
    try:
        async with websockets.connect(url) as ws:
            await asyncio.wait_for(ws.recv(), 5)
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    except TimeoutError:
        return None
    return None


def test_ingest_requires_a_valid_service_token(stack):
    s = stack.settings
    wrong = jwt.encode(
        {"sub": "x", "role": "service", "aud": s.token_audience, "iat": int(time.time()), "exp": int(time.time()) + 60},
        "not-the-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    ev = [call_started(new_call_id("bd"), "a-070")]
    assert httpx.post(f"{stack.ingest_url}/v1/events", json=ev).status_code == 401
    for token, why in [
        ("garbage", "garbage"),
        (wrong, "wrong secret"),
        (_expired(s), "expired"),
        (stack.token("a-070", "agent"), "agent role"),
        (stack.token("s-1", "supervisor"), "supervisor"),
    ]:
        resp = httpx.post(f"{stack.ingest_url}/v1/events", json=ev, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, (why, resp.text)
    assert stack.post_events(ev).status_code == 202
    ws = stack.ingest_url.replace("http://", "ws://") + "/v1/stream"
    assert asyncio.run(_close_code(f"{ws}?token={_expired(s, role='ingest')}")) == 4401
    assert asyncio.run(_close_code(ws)) == 4401


def test_gateway_tokens_roles_and_expiry(stack):
    s, gw = stack.settings, stack.gateway_ws
    assert asyncio.run(_close_code(f"{gw}/ws/agent?token={_expired(s, 'a-071', 'agent')}")) == 4401
    assert asyncio.run(_close_code(f"{gw}/ws/agent")) == 4401
    assert asyncio.run(_close_code(f"{gw}/ws/wall?token={stack.token('a-071', 'agent')}")) == 4403
    assert asyncio.run(_close_code(f"{gw}/ws/agent?token={stack.token('s-071', 'supervisor')}")) == 4403

    short = stack.token("a-072", "agent", ttl_s=2)

    async def expires_while_connected():
        async with websockets.connect(f"{gw}/ws/agent?token={short}") as ws:
            t0 = time.monotonic()
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code, time.monotonic() - t0

    code, after = asyncio.run(expires_while_connected())
    assert code == 4401 and after < 5, (code, after)
    assert asyncio.run(_close_code(f"{gw}/ws/agent?token={short}")) == 4401  # and cannot come back with it


def test_placeholder_secret_refused_outside_local_mode():
    with pytest.raises(ValueError, match="placeholder"):
        Settings(mode="production", jwt_secret=PLACEHOLDER_SECRET)
    with pytest.raises(ValueError, match="HEARTLINE_JWT_SECRET is not set"):
        Settings(mode="production").require_secrets("jwt_secret")  # what gateway and ingest do at start
    strong = "7f3c9a1e5b2d8c4f6a0e9b1d3c5a7e2f4b6d8a0c1e3f5a7b9d2c4e6f8a1b3c5d"
    assert Settings(mode="production", jwt_secret=strong).mode == "production"


def test_an_agent_never_receives_another_agents_calls(stack):
    agents = [f"a-{i:03d}" for i in range(400, 410)]
    calls = {new_call_id("iso"): agents[i % 10] for i in range(30)}

    async def go():
        sockets = {a: await websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token(a)}") for a in agents}
        events = []
        for call_id, agent in calls.items():
            events += [call_started(call_id, agent), utterance(call_id, 1, ANGRY)]
        assert (await asyncio.to_thread(stack.post_events, events)).status_code == 202
        got = {a: [] for a in agents}

        async def listen(a):
            got[a] = await collect(
                sockets[a], 20, until=lambda m: len({x["call_id"] for x in m if x["kind"] == "nudge"}) >= 3
            )

        await asyncio.gather(*(listen(a) for a in agents))
        for ws in sockets.values():
            await ws.close()
        return got

    got = asyncio.run(go())
    ours = set(calls)
    for agent, msgs in got.items():
        theirs = {m["call_id"] for m in msgs if m.get("call_id") in ours}
        mine = {c for c, a in calls.items() if a == agent}
        assert theirs <= mine, f"{agent} received other agents' calls: {theirs - mine}"
        assert {m["call_id"] for m in msgs if m["kind"] == "nudge"} >= mine, f"{agent} missed its own nudges"
        assert all(m.get("agent_id") in (None, agent) for m in msgs if m["kind"] in ("nudge", "call")), agent


def _id_number(first17: str) -> str:
    weights, check = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    return first17 + check[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def _luhn(prefix15: str) -> str:
    for d in "0123456789":
        if luhn_ok(prefix15 + d):
            return prefix15 + d
    raise AssertionError


ID = _id_number("11010519491231002")
CARD = _luhn("622202100112345")
MOBILE = "13912345678"


def test_pii_never_leaves_the_analyzer(stack):
    assert id_checksum_ok(ID) and luhn_ok(CARD)
    s = stack.settings
    call_id = new_call_id("pii")
    texts = [
        f"我的身份证号是{ID},你帮我查一下",
        f"卡号{CARD}扣了两次钱,气死我了",
        f"你打我手机{MOBILE}吧",
        f"身份证 {ID[:6]} {ID[6:14]} {ID[14:]} 银行卡 {CARD[:4]}-{CARD[4:8]}-{CARD[8:12]}-{CARD[12:]}",
    ]

    async def go():
        async with websockets.connect(f"{stack.gateway_ws}/ws/wall?token={stack.token('s-080', 'supervisor')}") as wall:
            await collect(wall, 0.5)
            await wall.send(json.dumps({"kind": "watch", "call_id": call_id}))
            events = [call_started(call_id, "a-080")] + [utterance(call_id, i + 1, t) for i, t in enumerate(texts)]
            assert (await asyncio.to_thread(stack.post_events, events)).status_code == 202
            await asyncio.sleep(2)
            await wall.send(json.dumps({"kind": "watch", "call_id": call_id}))
            wall_msgs = await collect(wall, 8)
        # an invalid item carrying PII at ingest (422), and a bad record carrying PII on the topic (DLQ)
        bad = {"type": "utterance", "call_id": call_id, "seq": "x", "speaker": "customer", "text": texts[0]}
        assert (await asyncio.to_thread(stack.post_events, [bad])).status_code == 422
        await produce_raw(s, s.topics.stt_events, [(call_id.encode(), json.dumps(bad, ensure_ascii=False).encode())])
        await produce_raw(
            s,
            s.topics.utterance_analysis,
            [
                (
                    call_id.encode(),
                    json.dumps({"call_id": call_id, "text": texts[1], "seq": "bad"}, ensure_ascii=False).encode(),
                )
            ],
        )
        mine = lambda recs: any(k == call_id.encode() for k, _ in recs)  # noqa: E731
        await wait_for_records(s, dlq(s.topics.stt_events), mine)  # both bad records dead-lettered
        await wait_for_records(s, dlq(s.topics.utterance_analysis), mine)
        topics = {}
        for name in (
            s.topics.utterance_analysis,
            s.topics.nudges,
            s.topics.call_state,
            dlq(s.topics.stt_events),
            dlq(s.topics.utterance_analysis),
            dlq(s.topics.nudges),
            dlq(s.topics.call_state),
        ):
            topics[name] = [(k, v) for k, v in await read_topic(s, name) if k == call_id.encode()]
        return wall_msgs, topics

    wall_msgs, topics = asyncio.run(go())
    analysed = [json.loads(v) for _, v in topics[s.topics.utterance_analysis]]
    assert len([a for a in analysed if a["call_id"] == call_id]) >= len(texts) - 1, "the utterances were analysed"
    assert any("pii:id_card" in a["cues"] for a in analysed)
    # everything that could carry the raw digits
    haystacks = {
        f"topic {name}": b"\n".join(v or b"" for _, v in recs).decode("utf-8", "replace")
        for name, recs in topics.items()
    }
    # the raw record we produced ourselves on utterance-analysis is input, not analyzer output
    haystacks[f"topic {s.topics.utterance_analysis}"] = "\n".join(
        json.dumps(a, ensure_ascii=False) for a in analysed if a.get("seq") != "bad"
    )
    haystacks["wall"] = json.dumps(wall_msgs, ensure_ascii=False)
    for proc in stack.stack.procs:
        haystacks[f"log {proc.name}"] = (stack.stack.log_dir / f"{proc.name}.log").read_text(errors="replace")
        haystacks[f"metrics {proc.name}"] = httpx.get(f"{proc.url}/metrics", timeout=5).text
    assert any(m.get("kind") == "transcript" for m in wall_msgs), "the wall watched the call"
    assert topics[dlq(s.topics.stt_events)], "the bad record was dead-lettered"
    for secret in (ID, CARD, MOBILE, ID[6:14], CARD[4:12]):
        leaks = [where for where, text in haystacks.items() if secret in text]
        assert not leaks, f"{secret} found in {leaks}"
