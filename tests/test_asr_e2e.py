"""End to end with real speech: recorded call audio -> ASR bridge (real process) ->
stt-events -> analyzer -> nudger -> gateway -> the agent's socket."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from heartline.broker import free_port
from tests.callkit import collect, new_call_id
from tests.speech.common import channel_pcm, needs_speech

pytestmark = [pytest.mark.e2e, pytest.mark.speech, needs_speech]


def test_angry_customer_audio_nudges_the_agent(stack):
    port = free_port()
    proc = stack.stack.add(
        "asr", ["serve", "asr"], port=port, HEARTLINE_ASR_PORT=port, HEARTLINE_ASR_PARTIAL_INTERVAL_MS=2000
    )
    stack.stack.wait_ready(120, [proc])
    call_id = new_call_id("asr")
    token = stack.token("tests", "ingest")

    def url(speaker: str) -> str:
        return f"ws://127.0.0.1:{port}/v1/audio?call_id={call_id}&speaker={speaker}&agent_id=a-007&token={token}"

    async def send_audio(ws, speaker: str, seconds: float) -> None:
        pcm = channel_pcm("call_angry_transfer", speaker)[: int(16000 * 2 * seconds)]
        for i in range(0, len(pcm), 3200):  # 100 ms messages, as fast as the socket takes them
            await ws.send(pcm[i : i + 3200])

    async def finish(ws) -> list[dict]:
        await ws.send('{"kind": "end"}')
        events = []
        async for raw in ws:
            msg = json.loads(raw)
            if msg["kind"] == "ended":
                break
            events.append(msg["event"])
        return events

    async def scenario():
        agent_ws = await websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token('a-007')}")
        agent_ch = await websockets.connect(url("agent"), max_size=None)
        customer_ch = await websockets.connect(url("customer"), max_size=None)
        try:
            # The agent greets, then stays on the line saying nothing (their apology at
            # 9.5 s would acknowledge the emotion and rightly cancel the nudge).
            await asyncio.gather(send_audio(agent_ch, "agent", 7), send_audio(customer_ch, "customer", 10))
            customer_events = await finish(customer_ch)
            msgs = await collect(
                agent_ws,
                30,
                until=lambda m: any(
                    x["kind"] == "nudge" and x["call_id"] == call_id and x["type"] == "acknowledge_emotion" for x in m
                ),
            )
            agent_events = await finish(agent_ch)
        finally:
            await agent_ws.close()
        return agent_events, customer_events, msgs

    agent_events, customer_events, msgs = asyncio.run(scenario())
    angry = [e for e in customer_events if e["type"] == "utterance" and e["is_final"]]
    assert angry and "服务太差" in angry[0]["text"], customer_events
    nudges = [
        m for m in msgs if m["kind"] == "nudge" and m["call_id"] == call_id and m["type"] == "acknowledge_emotion"
    ]
    assert nudges, [(m["kind"], m.get("type"), m.get("text")) for m in msgs if m.get("call_id") == call_id]
    # the nudge answers the customer's angry final; the two channels share the call's seq
    # counter (a segment takes its number when it opens; both channels are pushed here as
    # fast as the sockets take them, so which one opens first is a race, not part of the test)
    assert nudges[0]["trigger_seq"] == angry[0]["seq"]
    agent_seqs = {e["seq"] for e in agent_events if e["type"] == "utterance"}
    assert agent_seqs and angry[0]["seq"] not in agent_seqs
    assert agent_events[-1]["type"] == "call_ended", "the call ends when its last channel closes"
    transcript = [m for m in msgs if m["kind"] == "transcript" and m["call_id"] == call_id]
    assert any("服务太差" in m["text"] for m in transcript)
