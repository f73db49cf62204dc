"""A broker down for 10 s under load: the stack recovers by itself, on both brokers.

Apache Kafka (``test_kafka_restart_under_load_keeps_every_accepted_event``):
the broker process is stopped mid-load and started again on the same port
with its data on disk; nothing is restarted by hand or by the supervisor —
the clients reconnect — and every event ingest accepted is on ``stt-events``.

The embedded broker (``test_broker_restart_under_load_recovers_without_manual_restart``)
comes back empty.

This module runs its own stack on its own embedded broker (a restart wipes the
broker's memory storage, which would wipe every other module's topics too).
The simulator plays calls through ingest the whole time. While the broker is
down: ingest answers 503 with Retry-After within its send timeout (never
hangs), every service's /readyz says 503, the simulator retries. The broker
comes back empty on the same port; the stack's supervisor (the same
``supervise_once`` that ``heartline run`` calls every second) notices the
epoch topic is gone, re-creates the topics, restarts the workers, recorder and
gateway, and new calls get their nudges again — no manual restart.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
import websockets

from heartline.broker import free_port
from heartline.stack import Stack
from services.simulator.simulate import Simulator
from shared.config import Settings
from tests.brokerkit import on_broker
from tests.callkit import call_started, collect, new_call_id, utterance
from tests.kafkatools import read_topic
from tests.stackkit import LOGS, LiveStack

pytestmark = pytest.mark.e2e

ANGRY = "你们这服务太差了,我都等了半个小时了"
DOWN_S = 10.0


def _nudged(stack: LiveStack, agent: str, timeout: float) -> float | None:
    """Seconds until a fresh call of ``agent`` got acknowledge_emotion on the agent's socket."""

    async def go():
        call_id = new_call_id("bo")
        async with websockets.connect(f"{stack.gateway_ws}/ws/agent?token={stack.token(agent)}") as ws:
            t0 = time.monotonic()
            resp = await asyncio.to_thread(
                stack.post_events, [call_started(call_id, agent), utterance(call_id, 1, ANGRY)]
            )
            assert resp.status_code == 202, resp.text
            msgs = await collect(
                ws,
                timeout,
                until=lambda m: any(
                    x["kind"] == "nudge" and x["call_id"] == call_id and x["type"] == "acknowledge_emotion" for x in m
                ),
            )
            ok = any(x["kind"] == "nudge" and x["call_id"] == call_id for x in msgs)
            return time.monotonic() - t0 if ok else None

    return asyncio.run(go())


def _outage(stack: Stack, live: LiveStack, agent: str) -> float:
    """Stop the stack's broker for DOWN_S and check, while it is down: ingest answers 503 +
    Retry-After promptly, nobody claims to be ready. Returns when the broker is back
    (started again); the monotonic time the checks began."""
    outage = threading.Thread(target=stack.restart_broker, args=(DOWN_S,))
    outage.start()
    while stack.broker.alive():
        time.sleep(0.1)
    down_at = time.monotonic()
    time.sleep(1)
    t0 = time.monotonic()
    resp = live.post_events([call_started(new_call_id("bo"), agent)])
    answered_s = time.monotonic() - t0
    assert time.monotonic() - down_at < DOWN_S - 1, "the checks must run while the broker is down"
    print(f"\nwhile down: ingest answered {resp.status_code} in {answered_s:.1f}s")
    assert resp.status_code == 503 and resp.headers.get("retry-after"), resp.text
    assert answered_s < live.settings.ingest_send_timeout_s + 2
    not_ready = {p.name: httpx.get(f"{p.url}/readyz", timeout=5).status_code for p in stack.procs if p.url}
    print("readyz while down:", not_ready)
    assert set(not_ready.values()) == {503}, not_ready
    outage.join()
    return t0


@on_broker("embedded")
def test_broker_restart_under_load_recovers_without_manual_restart():
    settings = Settings(
        kafka=None,
        broker="embedded",
        gateway_port=free_port(),
        ingest_port=free_port(),
        partitions=8,
        data_dir=LOGS / "broker-outage-data",
    )
    stack = Stack(settings, broker_port=free_port(), log_dir=LOGS / "broker-outage")
    stack.start(timeout=120)
    live = LiveStack(stack)
    sim = Simulator(settings.model_copy(update={"kafka": stack.kafka}), calls=4, duration=25)
    sim_thread = threading.Thread(target=lambda: asyncio.run(sim.run()), daemon=True)
    try:
        stack.supervise(every_s=1.0)
        sim_thread.start()
        assert _nudged(live, "a-901", 15) is not None, "no nudge before the outage"

        t0 = _outage(stack, live, "a-902")

        deadline = time.monotonic() + 90
        while stack.recoveries == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stack.recoveries == 1, stack.events
        recovered_s = time.monotonic() - t0
        stack.wait_ready(60)
        latency = _nudged(live, "a-903", 20)
        print(f"recovered {recovered_s:.1f}s after the outage began; first new call nudged in {latency}s")
        assert latency is not None, "a new call after recovery got no nudge"
        assert all(p.popen.poll() is None for p in stack.procs if p.name != "simulator")
        assert not [e for e in stack.events if "auto-created" in e], "topics were auto-created before re-creation"
        sim_thread.join(90)
        print(f"simulator: sent {sim.sent}, retries {sim.retries}, errors {sim.errors}")
        assert sim.retries > 0, "the simulator must have seen the outage"
        assert sim.errors == 0, "the simulator gave up on events instead of retrying"
    finally:
        print("supervisor events:", *stack.events, sep="\n  ")
        stack.stop()


def _event_key(e: dict) -> tuple:
    return e.get("call_id"), e.get("type"), e.get("seq"), e.get("is_final"), e.get("text")


@on_broker("kafka")
def test_kafka_restart_under_load_keeps_every_accepted_event(tmp_path):
    settings = Settings(
        kafka=None, broker="kafka", gateway_port=free_port(), ingest_port=free_port(), partitions=8, data_dir=tmp_path
    )
    stack = Stack(settings, broker_port=free_port(), log_dir=LOGS / "broker-outage-kafka")
    stack.start(timeout=120)
    live = LiveStack(stack)
    accepted: list[tuple] = []
    sim = Simulator(
        settings.on_broker(stack.kafka),
        calls=4,
        duration=30,
        on_send=lambda batch, lates: accepted.extend(_event_key(e) for e in batch),
    )
    sim_thread = threading.Thread(target=lambda: asyncio.run(sim.run()), daemon=True)
    try:
        stack.supervise(every_s=1.0)
        sim_thread.start()
        assert _nudged(live, "a-911", 20) is not None, "no nudge before the outage"

        t0 = _outage(stack, live, "a-912")

        stack.wait_ready(180)  # a JVM restart and every client reconnecting, on a busy box
        recovered_s = time.monotonic() - t0
        latency = _nudged(live, "a-913", 30)
        print(f"ready again {recovered_s:.1f}s after the outage began; first new call nudged in {latency}s")
        assert latency is not None, "a new call after the restart got no nudge"
        sim_thread.join(120)
        assert stack.recoveries == 0 and all(p.restarts == 0 for p in stack.procs), (
            "on Apache Kafka nothing is restarted: the clients reconnect"
        )
        assert all(p.popen.poll() is None for p in stack.procs if p.name != "simulator")
        print(f"simulator: accepted {len(accepted)}, retries {sim.retries}, errors {sim.errors}")
        assert sim.retries > 0, "the simulator must have seen the outage"
        assert sim.errors == 0, "the simulator gave up on events instead of retrying"
        on_topic = {
            _event_key(json.loads(v))
            for _, v in asyncio.run(read_topic(settings.on_broker(stack.kafka), settings.topics.stt_events))
        }
        lost = [e for e in accepted if e not in on_topic]
        print(f"stt-events holds {len(on_topic)} records; accepted and missing: {len(lost)}")
        assert accepted and not lost, f"accepted by ingest, not on stt-events: {lost[:5]}"
    finally:
        print("supervisor events:", *stack.events, sep="\n  ")
        stack.stop()
