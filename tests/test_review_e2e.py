"""Scorecard, post-call summary and supervisor whisper end to end on the real stack.

Calls go in through ingest as an ASR would send them; everything else is the
real pipeline: analyzer -> nudger -> gateway, recorder -> history DB ->
gateway APIs, whispers from a supervisor's socket -> ``nudges`` topic -> the
agent's socket (on this gateway and on a second gateway process) -> recorder.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from heartline.broker import free_port
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.reviewkit import (
    CUSTOMER,
    EXPECTED,
    ID_NUMBER,
    SCRIPT,
    api,
    ended,
    history_stack,
    reviewed,
    scripted_call,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(own_stack, tmp_path_factory):
    with history_stack(own_stack, tmp_path_factory, "test_review_e2e") as live:
        yield live


@pytest.fixture(scope="module")
def scored_call(stack):
    call_id = new_call_id("sc")
    assert stack.post_events(scripted_call(call_id, "a-061")).status_code == 202
    wait_for(
        lambda: api(stack, f"/api/review/calls/{call_id}", stack.token("s-001", "supervisor")).status_code == 200,
        30,
        "the call is recorded",
    )
    stack.post_events([ended(call_id)])
    return call_id, reviewed(stack, call_id, len(SCRIPT))


def test_the_recorder_scores_a_finished_call_with_evidence(stack, scored_call):
    call_id, detail = scored_call
    card = detail["scorecard"]
    items = {i["key"]: i for i in card["items"]}
    assert {k: i["status"] for k, i in items.items()} == EXPECTED
    applicable = [i for i in card["items"] if i["score"] is not None]
    assert card["total"] == round(100 * sum(i["points"] for i in applicable) / sum(i["weight"] for i in applicable))
    assert 0 <= card["total"] < 100 and detail["score"] == card["total"]
    assert items["greeting"]["evidence"] == [{"seq": 1, "speaker": "agent", "text": SCRIPT[0][2]}]
    assert [e["seq"] for e in items["understanding"]["evidence"]] == [3]
    assert [e["seq"] for e in items["hold_etiquette"]["evidence"]] == [6, 8]
    privacy = items["privacy"]["evidence"]
    assert [e["seq"] for e in privacy] == [9] and "[身份证号]" in privacy[0]["text"]
    assert ID_NUMBER[:6] not in json.dumps(detail), "the scorecard quotes redacted text only"
    # stored by the recorder: the list shows the same total
    sup = stack.token("s-001", "supervisor")
    listed = api(stack, "/api/review/calls?agent=a-061", sup).json()["calls"]
    assert [(c["call_id"], c["score"]) for c in listed] == [(call_id, card["total"])]


def test_the_post_call_summary_and_the_next_call_of_the_customer(stack, scored_call):
    call_id, detail = scored_call
    recap = detail["recap"]
    assert recap["topic"] == "transfer" and recap["outcome"] == "resolved"
    assert recap["wanted"]["seq"] == 2 and recap["outcome_line"]["seq"] in (10, 12)
    assert [x["seq"] for x in recap["done"]] == [8] and [x["seq"] for x in recap["follow_ups"]] == [8]
    # the same customer calls again: the desktop's history shows the last call's summary
    nxt = new_call_id("sc2")
    stack.post_events(
        [call_started(nxt, "a-062", customer=CUSTOMER), utterance(nxt, 1, "你好,我上次转账的事", start_ms=300)]
    )
    token = stack.token("a-062")
    hist = wait_for(
        lambda: (r := api(stack, f"/api/history/{nxt}", token)).status_code == 200 and r.json(),
        20,
        "history of the next call",
    )
    assert hist["last_recap"]["call_id"] == call_id
    assert hist["last_recap"]["follow_ups"][0]["text"] == SCRIPT[7][2]
    stack.post_events([ended(nxt)])


def test_the_weekly_trend_per_agent(stack, scored_call):
    _, detail = scored_call
    sup = stack.token("s-001", "supervisor")
    trend = api(stack, "/api/review/scores", sup).json()
    assert len(trend["days"]) == 7
    mine = trend["agents"]["a-061"]
    assert mine["calls"] == 1 and mine["avg"] == detail["score"] and mine["by_day"][-1] == detail["score"]
    assert mine["weakest"]["key"] == "privacy"
    assert api(stack, "/api/review/scores", stack.token("a-061")).status_code == 403
    assert api(stack, "/api/review/scores?since=2026-12-01&until=2026-11-01", sup).status_code == 422


async def _agent_socket(stack, agent, url=None):
    return await websockets.connect(f"{url or stack.gateway_ws}/ws/agent?token={stack.token(agent)}")


async def _wall_socket(stack, sub="s-001"):
    return await websockets.connect(f"{stack.gateway_ws}/ws/wall?token={stack.token(sub, 'supervisor')}")


def _whispers(msgs):
    return [m for m in msgs if m.get("kind") == "nudge" and m.get("type") == "supervisor_whisper"]


def test_a_whisper_reaches_the_agent_on_every_gateway_and_is_recorded(stack):
    st = stack.stack
    port = free_port()
    second = st.add("gateway-2", ["serve", "gateway"], port=port, HEARTLINE_GATEWAY_PORT=port)
    st.wait_ready(90, [second])
    call_id = new_call_id("wh")
    text = "先向客户道歉,再说明到账时间"

    async def scenario():
        here = await _agent_socket(stack, "a-063")
        there = await _agent_socket(stack, "a-063", url=f"ws://127.0.0.1:{port}")
        wall = await _wall_socket(stack)
        try:
            stack.post_events([call_started(call_id, "a-063"), utterance(call_id, 1, "我的钱转哪去了", start_ms=200)])
            for ws in (here, there):
                await collect(ws, 20, until=lambda m: any(x.get("kind") == "call" for x in m))
            await wall.send(json.dumps({"kind": "whisper", "call_id": call_id, "text": f"  {text}\n"}))
            acks = await collect(wall, 10, until=lambda m: any(x.get("kind") in ("whisper_ack", "error") for x in m))
            ack = next(m for m in acks if m.get("kind") in ("whisper_ack", "error"))
            got = [_whispers(await collect(ws, 10, until=lambda m: bool(_whispers(m)))) for ws in (here, there)]
            await asyncio.sleep(1.0)
            again = _whispers(await collect(here, 1.0))
            # a reload: the open whisper is sent again on connect, like any open nudge
            await here.close()
            here = await _agent_socket(stack, "a-063")
            reload = _whispers(await collect(here, 8, until=lambda m: bool(_whispers(m))))
            return ack, got, again, reload
        finally:
            for ws in (here, there, wall):
                await ws.close()

    try:
        ack, (here, there), again, reload = asyncio.run(scenario())
    finally:
        st.stop_proc(second)
    assert ack["kind"] == "whisper_ack", ack
    assert len(here) == 1 and len(there) == 1 and again == [], "once per socket, on both gateways"
    w = here[0]
    assert w["nudge_id"] == ack["nudge_id"] == there[0]["nudge_id"]
    assert w["suggestion"] == text and w["sender"] == "s-001" and w["agent_id"] == "a-063"
    assert w["audience"] == "agent" and w["priority"] == "high" and "s-001" in w["reason"]
    assert [r["nudge_id"] for r in reload] == [w["nudge_id"]]
    stack.post_events([ended(call_id)])
    detail = reviewed(stack, call_id, 1)
    stored = [n for n in detail["nudges"] if n["type"] == "supervisor_whisper"]
    assert [(n["nudge_id"], n["sender"], n["suggestion"]) for n in stored] == [(w["nudge_id"], "s-001", text)]


def test_only_supervisors_whisper_within_limits(stack):
    call_id = new_call_id("wl")
    sup = stack.token("s-001", "supervisor")
    stack.post_events([call_started(call_id, "a-064")])

    async def scenario():
        # an agent token may not open the wall socket at all
        ws = await websockets.connect(f"{stack.gateway_ws}/ws/wall?token={stack.token('a-064')}")
        try:
            await ws.recv()
        except websockets.ConnectionClosed as exc:
            refused = exc.rcvd.code
        wall = await _wall_socket(stack, "s-002")
        try:
            await wall.send(json.dumps({"kind": "whisper", "call_id": call_id, "text": "x" * 201}))
            too_long = [
                m
                for m in await collect(wall, 5, until=lambda m: any(x.get("about") for x in m))
                if m.get("about") == "whisper"
            ]
            return refused, too_long
        finally:
            await wall.close()

    wait_for(
        lambda: api(stack, "/api/whisper", sup, json={"call_id": call_id, "text": "ping"}).status_code == 202,
        20,
        "the gateway knows the call",
    )
    refused, too_long = asyncio.run(scenario())
    assert refused == 4403
    assert too_long[0]["status"] == 422 and "at most 200" in too_long[0]["error"]
    body = {"call_id": call_id, "text": "请先安抚客户"}
    assert api(stack, "/api/whisper", None, json=body).status_code == 401
    assert api(stack, "/api/whisper", stack.token("a-064"), json=body).status_code == 403
    assert api(stack, "/api/whisper", sup, json={"call_id": call_id, "text": "  "}).status_code == 422
    assert api(stack, "/api/whisper", sup, json={"call_id": call_id, "text": "a\u200bb"}).status_code == 422
    assert api(stack, "/api/whisper", sup, json={"call_id": "nope-1", "text": "hi"}).status_code == 404
    burst = stack.token("s-004", "supervisor")
    codes = [api(stack, "/api/whisper", burst, json=body).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429], codes
    stack.post_events([ended(call_id)])
    wait_for(
        lambda: api(stack, "/api/whisper", stack.token("s-003", "supervisor"), json=body).status_code == 409,
        20,
        "an ended call refuses whispers",
    )
