"""A worker SIGKILLed under multi-call load: every nudge arrives, none twice.

Two analyzers and two nudgers share the load on the real embedded broker. One
of them is killed with SIGKILL while calls stream in; the survivor takes its
partitions over. Each call has exactly one angry final utterance, so each must
yield exactly one acknowledge_emotion nudge on its agent's socket.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
import websockets

from heartline.stack import Stack
from tests.conftest import LOGS, LiveStack, call_started, make_settings, new_call_id, utterance

pytestmark = pytest.mark.e2e

AGENTS = [f"a-{i:03d}" for i in range(200, 210)]
CALLS = 80
ANGRY = ["你们这服务太差了,我都等了半个小时了", "气死我了,钱到现在还没到账,你们到底在干什么",
         "我要投诉你们,这都第三次了还没解决", "太过分了,一直说系统问题,我的钱怎么办"]


@pytest.mark.parametrize("victim", ["nudger", "analyzer"])
def test_sigkill_a_worker_loses_no_nudge_and_shows_none_twice(broker, victim):
    settings = make_settings(broker, log_level="DEBUG")
    stack = Stack(settings, analyzers=2, nudgers=2, log_dir=LOGS / f"failover-{victim}")
    stack.start(timeout=120)
    live = LiveStack(stack)
    try:
        received, call_ids, killed_at = asyncio.run(_drive(live, stack, victim))
        on_topic = asyncio.run(_count_topic(settings, settings.topics.nudges, set(call_ids)))
        analysed = asyncio.run(_count_topic(settings, settings.topics.utterance_analysis, set(call_ids)))
    finally:
        stack.stop()
    print(f"\nnudges on the topic: {sum(on_topic.values())} for {len(on_topic)} calls; "
          f"analyses on the topic: {sum(analysed.values())} for {len(analysed)} calls")
    missing = [c for c in call_ids if received.get(c, 0) == 0]
    print("MISSING", missing)
    doubled = {c: n for c, n in received.items() if n > 1}
    print(f"\n{victim} killed at {killed_at:.1f}s; {len(call_ids)} calls, "
          f"{sum(received.values())} nudges received, missing {len(missing)}, doubled {len(doubled)}")
    assert not doubled, f"shown twice: {doubled}"
    assert not missing, f"lost nudges for {len(missing)} calls: {missing[:5]}"


async def _drive(live: LiveStack, stack: Stack, victim: str):
    sockets = {a: await websockets.connect(f"{live.gateway_ws}/ws/agent?token={live.token(a)}") for a in AGENTS}
    received: dict[str, int] = {}
    seen_ids: dict[str, int] = {}

    async def listen(ws):
        import json

        async for text in ws:
            msg = json.loads(text)
            if msg["kind"] == "nudge" and msg["type"] == "acknowledge_emotion":
                received[msg["call_id"]] = received.get(msg["call_id"], 0) + 1
                seen_ids[msg["nudge_id"]] = seen_ids.get(msg["nudge_id"], 0) + 1

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets.values()]
    call_ids = []
    start = time.monotonic()
    killed_at = None
    target = next(p for p in stack.procs if p.name == f"{victim}-0")
    for i in range(CALLS):
        call_id = new_call_id("fo")
        call_ids.append(call_id)
        agent = AGENTS[i % len(AGENTS)]
        resp = await asyncio.to_thread(live.post_events, [
            call_started(call_id, agent), utterance(call_id, 1, "您好,请问有什么可以帮您?", speaker="agent"),
            utterance(call_id, 2, ANGRY[i % len(ANGRY)], start_ms=3000)])
        assert resp.status_code == 202, resp.text
        if i == CALLS // 3:
            stack.stop_proc(target, sig=signal.SIGKILL)
            killed_at = time.monotonic() - start
        await asyncio.sleep(0.25)
    # wait for the survivors to take over and drain
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(received.get(c, 0) == 0 for c in call_ids):
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # anything late and doubled would show now
    for task in listeners:
        task.cancel()
    for ws in sockets.values():
        await ws.close()
    return received, call_ids, killed_at


async def _count_topic(settings, topic: str, call_ids: set[str]) -> dict[str, int]:
    """Records per call on a topic, read from the beginning (what the broker holds)."""
    import json

    from aiokafka import TopicPartition

    from shared.kafka import consumer

    c = consumer(settings, group=None, enable_auto_commit=False)
    await c.start()
    counts: dict[str, int] = {}
    try:
        await c.topics()
        parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic) or ()]
        c.assign(parts)
        await c.seek_to_beginning(*parts)
        idle = 0
        while idle < 3:
            batch = await c.getmany(timeout_ms=300)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for r in records:
                    rec = json.loads(r.value)
                    call_id = rec.get("call_id")
                    if call_id in call_ids and rec.get("type", "acknowledge_emotion") == "acknowledge_emotion":
                        counts[call_id] = counts.get(call_id, 0) + 1
                        if os.environ.get("HEARTLINE_TEST_DUMP"):
                            print("TOPIC", topic.rsplit("-", 1)[-1], r.partition, r.offset, call_id, rec.get("agent_id"), rec.get("created_ts") or rec.get("analyzed_ts"))
    finally:
        await c.stop()
    return counts
