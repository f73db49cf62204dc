"""The gateway SIGKILLed during live calls and started again: nothing lost, nothing twice.

Agents hold sockets on live calls. The gateway process is killed with SIGKILL;
while it is down, the customers keep talking and the nudger keeps raising
nudges. A new gateway process starts on the same port and rebuilds its calls
from Kafka (every partition from the beginning). The clients reconnect the
way the agent desktop does (keep the nudge ids they have shown, send
``resume`` with ``after_seq`` and ``seen_nudges``) and must end up with every
agent nudge on the ``nudges`` topic for their calls — none lost — each shown
once: no nudge id arrives twice on one connection, the client shows each id
once (it keeps the ids it has shown, as agent.js does), and the transcript
lines said while the gateway was down arrive after ``resume``.

Note: the greeting of a new connection re-sends the call's open nudges, the
ones the client had already shown included (it cannot know them before the
client's ``resume``); the test counts them, and the client drops them by id.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter

import pytest
import websockets

from tests.callkit import call_started, new_call_id, utterance
from tests.kafkatools import read_topic

pytestmark = pytest.mark.e2e

AGENTS = [f"a-{i:03d}" for i in range(300, 305)]
CALLS_PER_AGENT = 2
ANGRY = ["你们这服务太差了,我都等了半个小时了", "气死我了,钱到现在还没到账,你们到底在干什么"]
WORRIED = ["我的钱到现在还没到账,我真的很着急,怎么办啊", "我很担心我的账户是不是出问题了,急死了"]


class AgentClient:
    """An agent desktop: remembers what it has shown, reconnects and resumes."""

    def __init__(self, stack, agent: str):
        self.stack, self.agent = stack, agent
        self.shown: set[str] = set()  # nudge ids on screen
        self.after_seq: dict[str, int] = {}  # call -> highest final seq shown
        self.per_connection: list[Counter] = []  # nudge id -> times sent, per connection
        self.reshown: list[str] = []  # ids sent again that the client had shown
        self.ws = None
        self.task = None

    async def connect(self) -> None:
        self.ws = await websockets.connect(f"{self.stack.gateway_ws}/ws/agent?token={self.stack.token(self.agent)}")
        self.per_connection.append(Counter())
        self.task = asyncio.create_task(self._listen(self.ws, self.per_connection[-1]))

    async def resume(self, calls: list[str]) -> None:
        for call_id in calls:
            await self.ws.send(
                json.dumps(
                    {
                        "kind": "resume",
                        "call_id": call_id,
                        "after_seq": self.after_seq.get(call_id, -1),
                        "seen_nudges": sorted(self.shown),
                    }
                )
            )

    async def _listen(self, ws, sent: Counter) -> None:
        try:
            async for text in ws:
                msg = json.loads(text)
                if msg["kind"] == "nudge":
                    sent[msg["nudge_id"]] += 1
                    if msg["nudge_id"] in self.shown:
                        self.reshown.append(msg["nudge_id"])  # dropped by id, not shown twice
                    self.shown.add(msg["nudge_id"])
                elif msg["kind"] == "transcript" and msg.get("is_final"):
                    self.after_seq[msg["call_id"]] = max(self.after_seq.get(msg["call_id"], -1), msg["seq"])
        except websockets.ConnectionClosed:
            pass


async def _topic_nudges(settings, call_ids: set[str]) -> dict[str, set[str]]:
    """Agent-audience nudge ids on the topic, per agent."""
    out: dict[str, set[str]] = {}
    for _, value in await read_topic(settings, settings.topics.nudges):
        rec = json.loads(value)
        if rec["call_id"] in call_ids and rec.get("audience") == "agent":
            out.setdefault(rec["agent_id"], set()).add(rec["nudge_id"])
    return out


def test_gateway_sigkill_and_restart_loses_and_doubles_no_nudge(stack):
    st = stack.stack
    calls = {a: [new_call_id("gr") for _ in range(CALLS_PER_AGENT)] for a in AGENTS}
    all_calls = {c for cs in calls.values() for c in cs}

    async def scenario():
        clients = {a: AgentClient(stack, a) for a in AGENTS}
        for c in clients.values():
            await c.connect()
        events = []
        for agent, cs in calls.items():
            for i, call_id in enumerate(cs):
                events += [
                    call_started(call_id, agent),
                    utterance(call_id, 1, "您好,请问有什么可以帮您?", speaker="agent"),
                    utterance(call_id, 2, ANGRY[i % len(ANGRY)], start_ms=3000),
                ]
        assert (await asyncio.to_thread(stack.post_events, events)).status_code == 202
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(len(c.shown) >= CALLS_PER_AGENT for c in clients.values()):
            await asyncio.sleep(0.2)
        before = {a: set(c.shown) for a, c in clients.items()}
        assert all(before.values()), f"no nudge before the kill: {before}"

        gateway = next(p for p in st.procs if p.name == "gateway")
        await asyncio.to_thread(st.stop_proc, gateway, signal.SIGKILL)
        killed = time.monotonic()
        # While the gateway is down the calls go on: new worried utterances -> new nudges.
        down_events = [
            utterance(call_id, 3, WORRIED[i % 2], start_ms=9000)
            for cs in calls.values()
            for i, call_id in enumerate(cs)
        ]
        assert (await asyncio.to_thread(stack.post_events, down_events)).status_code == 202
        # the nudger raises them while no gateway runs (after the emotion grace): wait for them on the topic
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            raised = await _topic_nudges(stack.settings, all_calls)
            if any(raised.get(a, set()) - before[a] for a in AGENTS):
                break
            await asyncio.sleep(0.5)

        await asyncio.to_thread(st.restart_procs, [gateway])
        await asyncio.to_thread(st.wait_ready, 60, [gateway])
        print(f"\ngateway back after {time.monotonic() - killed:.1f}s")
        for c in clients.values():
            await c.connect()
            await c.resume(calls[c.agent])
        # until every nudge the topic holds for an agent's calls has reached that agent's socket,
        # and the transcript said while the gateway was down has been resumed
        deadline = time.monotonic() + 30
        while True:
            truth = await _topic_nudges(stack.settings, all_calls)
            shown = all(truth.get(a, set()) <= c.shown for a, c in clients.items())
            resumed = all(c.after_seq.get(call_id) == 3 for c in clients.values() for call_id in calls[c.agent])
            if (shown and resumed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for c in clients.values():
            c.task.cancel()
            await c.ws.close()
        # timing rules may raise more while the sockets were still open: read the topic again after
        later = await _topic_nudges(stack.settings, all_calls)
        return clients, before, truth, later

    clients, before, truth, later = asyncio.run(scenario())
    new_while_down = sum(len(truth.get(a, set()) - before[a]) for a in AGENTS)
    print(
        f"nudges on the topic: {sum(map(len, truth.values()))}, raised while the gateway was down "
        f"and not yet shown: {new_while_down}"
    )
    assert new_while_down > 0, "the scenario must raise nudges while the gateway is down"
    for agent, c in clients.items():
        expected = truth.get(agent, set())
        assert expected <= c.shown, f"{agent} lost {sorted(expected - c.shown)}"
        assert c.shown <= later.get(agent, set()) | before[agent], f"{agent} got nudges not on the topic for its calls"
        assert all(c.after_seq.get(call_id) == 3 for call_id in calls[agent]), (
            f"{agent}: transcript said while the gateway was down not resumed: {c.after_seq}"
        )
        for i, sent in enumerate(c.per_connection):
            doubled = {n: k for n, k in sent.items() if k > 1}
            assert not doubled, f"{agent} connection {i}: sent twice {doubled}"
    print("re-sent in greetings (already shown, dropped by id):", sum(len(c.reshown) for c in clients.values()))
