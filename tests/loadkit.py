"""A small steady call load for the fault and scale tests, counted on real sockets.

Each call: call_started, an agent greeting and one angry customer final, so
each must yield exactly one acknowledge_emotion nudge on its agent's socket.
Hooks run at given call indexes (kill a worker, add one …) while the load
goes on. Transcript lines give a per-record latency (ingest_ts -> socket) for
every final, which shows any pause (rebalance, restart).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import websockets

from tests.callkit import call_started, new_call_id, utterance
from tests.stackkit import LiveStack

ANGRY = [
    "你们这服务太差了,我都等了半个小时了",
    "气死我了,钱到现在还没到账,你们到底在干什么",
    "我要投诉你们,这都第三次了还没解决",
    "太过分了,一直说系统问题,我的钱怎么办",
]


@dataclass
class LoadResult:
    call_ids: list[str] = field(default_factory=list)
    nudges: dict[str, int] = field(default_factory=dict)  # call_id -> ack nudges received
    transcript_lat: list[tuple[float, float]] = field(default_factory=list)  # (received at, latency s)
    hook_times: dict[int, float] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [c for c in self.call_ids if self.nudges.get(c, 0) == 0]

    @property
    def doubled(self) -> dict[str, int]:
        return {c: n for c, n in self.nudges.items() if n > 1}

    def max_latency_between(self, start: float, end: float) -> float:
        lats = [lat for at, lat in self.transcript_lat if start <= at <= end]
        return max(lats, default=0.0)


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


async def run_load(
    live: LiveStack,
    agents: list[str],
    calls: int,
    every_s: float,
    hooks: dict[int, Callable[[], None]] | None = None,
    drain_s: float = 60,
) -> LoadResult:
    hooks = hooks or {}
    res = LoadResult()
    sockets = {a: await websockets.connect(f"{live.gateway_ws}/ws/agent?token={live.token(a)}") for a in agents}

    async def listen(ws):
        async for text in ws:
            msg = json.loads(text)
            if msg["kind"] == "nudge" and msg["type"] == "acknowledge_emotion":
                res.nudges[msg["call_id"]] = res.nudges.get(msg["call_id"], 0) + 1
            elif msg["kind"] == "transcript" and msg.get("is_final") and msg.get("speaker") == "customer":
                now = time.time()
                res.transcript_lat.append((now, now - _epoch(msg["ingest_ts"])))

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets.values()]
    for i in range(calls):
        call_id = new_call_id("ld")
        res.call_ids.append(call_id)
        resp = await asyncio.to_thread(
            live.post_events,
            [
                call_started(call_id, agents[i % len(agents)]),
                utterance(call_id, 1, "您好,请问有什么可以帮您?", speaker="agent"),
                utterance(call_id, 2, ANGRY[i % len(ANGRY)], start_ms=3000),
            ],
        )
        assert resp.status_code == 202, resp.text
        if i in hooks:
            res.hook_times[i] = time.time()
            await asyncio.to_thread(hooks[i])
        await asyncio.sleep(every_s)
    deadline = time.monotonic() + drain_s
    while time.monotonic() < deadline and res.missing:
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # anything late and doubled would show now
    for task in listeners:
        task.cancel()
    for ws in sockets.values():
        await ws.close()
    return res


async def count_on_topic(
    settings, topic: str, call_ids: set[str], records: list | None = None, any_type: bool = False
) -> dict[str, int]:
    """acknowledge_emotion nudges (or any record without a type) per call on a topic, from the beginning."""
    from shared.kafka import consumer, topic_partitions

    c = consumer(settings, group=None, enable_auto_commit=False)
    await c.start()
    counts: dict[str, int] = {}
    try:
        parts = await topic_partitions(c, [topic])
        c.assign(parts)
        await c.seek_to_beginning(*parts)
        idle = 0
        while idle < 3:
            batch = await c.getmany(timeout_ms=300)
            idle = 0 if batch else idle + 1
            for fetched in batch.values():
                for r in fetched:
                    rec = json.loads(r.value)
                    call_id = rec.get("call_id")
                    if call_id in call_ids and (
                        any_type or rec.get("type", "acknowledge_emotion") == "acknowledge_emotion"
                    ):
                        counts[call_id] = counts.get(call_id, 0) + 1
                        if records is not None:
                            records.append(rec)
    finally:
        await c.stop()
    return counts


LOST_FIELDS = (
    "call_id",
    "type",
    "seq",
    "speaker",
    "emotion",
    "emotion_score",
    "agent_id",
    "nudges_sent",
    "ingest_ts",
    "analyzed_ts",
    "created_ts",
    "last_update_ts",
)


def print_lost_hops(settings, lost: set[str]) -> None:
    """Every record of the lost calls on each hop's topic: the last topic that has them is the hop
    that lost them."""
    t = settings.topics
    for topic in (t.stt_events, t.utterance_analysis, t.call_state, t.nudges):
        recs: list = []
        asyncio.run(count_on_topic(settings, topic, lost, recs, any_type=True))
        for rec in recs:
            print("LOST", topic.split("-", 1)[1], {k: rec.get(k) for k in LOST_FIELDS})
