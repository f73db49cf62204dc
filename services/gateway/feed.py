"""The gateway's Kafka side: every partition of the four topics it shows.

Each gateway process reads all partitions (no consumer group: every gateway
must be able to serve every agent), from the beginning of what the broker
holds, so a restarted gateway rebuilds its live calls and the nudges raised
while it was down; clients then resume and get only what they missed. It is
ready once it has caught up with the high watermarks it saw at start.
Wall updates of call-state are coalesced per call (at most 4 a second).
"""

from __future__ import annotations

import asyncio
import logging

import orjson
from aiokafka import TopicPartition

from services.gateway import messages as M
from services.gateway.calls import CallBook
from services.gateway.hub import Hub
from shared import metrics
from shared.config import Settings
from shared.kafka import broker_reachable, consumer, producer, stop_component, topic_partitions

SERVICE = "gateway"
WALL_FLUSH_S = 0.25
STATS_EVERY_S = 2.0
log = logging.getLogger("gateway.feed")


class Feed:
    def __init__(self, settings: Settings, book: CallBook, hub: Hub):
        self.settings = settings
        self.book = book
        self.hub = hub
        t = settings.topics
        self.topics = {
            t.call_state: self._on_state,
            t.utterance_analysis: self._on_analysis,
            t.nudges: self._on_nudge,
            t.nudge_feedback: self._on_feedback,
        }
        self.consumer = None
        self.producer = None
        self.caught_up = False
        self._targets: dict[TopicPartition, int] = {}
        self._dirty: set[str] = set()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.producer = producer(self.settings)
        await self.producer.start()
        self.consumer = consumer(self.settings, group=None, enable_auto_commit=False)
        await self.consumer.start()
        parts = []
        for _ in range(100):
            parts = await topic_partitions(self.consumer, self.topics)
            if {tp.topic for tp in parts} == set(self.topics):
                break
            await asyncio.sleep(0.2)
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)
        self._targets = {tp: off for tp, off in (await self.consumer.end_offsets(parts)).items() if off > 0}
        self._tasks = [
            asyncio.create_task(self._consume()),
            asyncio.create_task(self._flush_walls()),
            asyncio.create_task(self._housekeeping()),
        ]

    async def stop(self) -> None:
        await stop_component(self._tasks, self.consumer, self.producer)

    async def ready(self) -> tuple[bool, dict]:
        assigned = len(self.consumer.assignment()) if self.consumer else 0
        broker = await broker_reachable(self.settings.bootstrap)
        return (self.caught_up and assigned > 0 and broker), {
            "caught_up": self.caught_up,
            "partitions": assigned,
            "broker": "reachable" if broker else "unreachable",
        }

    async def send_nudge(self, nudge) -> None:
        """A nudge raised here (supervisor_whisper) goes out on ``nudges`` like the nudger's:
        every gateway (this one too) reads it back and delivers it; the recorder stores it."""
        await self.producer.send_and_wait(self.settings.topics.nudges, nudge.to_json(), key=nudge.call_id.encode())
        metrics.EVENTS_OUT.labels(SERVICE, self.settings.topics.nudges).inc()

    async def send_feedback(self, key: bytes, value: bytes) -> None:
        await self.producer.send_and_wait(self.settings.topics.nudge_feedback, value, key=key)
        metrics.EVENTS_OUT.labels(SERVICE, self.settings.topics.nudge_feedback).inc()

    async def _consume(self) -> None:
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
            except Exception:
                log.exception("fetch failed; retrying")
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                handler = self.topics[tp.topic]
                for record in records:
                    metrics.EVENTS_IN.labels(SERVICE, tp.topic).inc()
                    if record.value is None:  # a call-state tombstone: the call is deleted
                        if record.key:
                            self.book.forget(record.key.decode(errors="replace"))
                        continue
                    try:
                        handler(orjson.loads(record.value))
                    except Exception as exc:
                        log.warning("skipped a bad record", extra={"topic": tp.topic, "error": type(exc).__name__})
            if not self.caught_up:
                await self._check_caught_up()

    async def _check_caught_up(self) -> None:
        for tp, target in list(self._targets.items()):
            # highwater from fetch responses is right on the embedded broker; the position is what we read
            # (aiokafka's position() is a coroutine: comparing it unawaited raised TypeError and killed
            # this task, so a gateway restarted on a non-empty broker never became ready)
            position = await self.consumer.position(tp)
            if position >= target or (self.consumer.highwater(tp) or 0) <= position:
                del self._targets[tp]
        if not self._targets:
            self.caught_up = True
            log.info("caught up", extra={"calls": len(self.book.calls)})

    def _on_state(self, rec: dict) -> None:
        buf, call_changed = self.book.on_state(rec)
        if call_changed and buf.agent_id:
            self.hub.to_agent(buf.agent_id, buf.call_message())
            if buf.flushed_to != buf.agent_id:  # what arrived before we knew the agent, once
                buf.flushed_to = buf.agent_id  # (not the whole transcript again at every hold or end)
                for msg in buf.transcript.values():
                    self.hub.to_agent(buf.agent_id, msg)
                for msg in buf.open_nudges():
                    self.hub.to_agent(buf.agent_id, msg)
        self.hub.to_agent(buf.agent_id, M.record(M.CALL_STATE, rec), droppable=True)
        self._dirty.add(rec["call_id"])

    def _on_analysis(self, rec: dict) -> None:
        buf, msg = self.book.on_analysis(rec)
        if msg is None:
            return
        partial = not rec.get("is_final", True)
        self.hub.to_agent(buf.agent_id, msg, droppable=partial)
        self.hub.to_walls(msg, call_id=buf.call_id, droppable=partial, watchers_only=True)

    def _on_nudge(self, rec: dict) -> None:
        buf, msg = self.book.on_nudge(rec)
        if msg is None:
            return
        if rec.get("audience") == "supervisor":
            self.hub.to_walls(msg)
        else:
            self.hub.to_agent(buf.agent_id, msg)
            self.hub.to_walls(msg, call_id=buf.call_id, watchers_only=True)

    def _on_feedback(self, rec: dict) -> None:
        self.book.on_feedback(rec)
        metrics.NUDGE_FEEDBACK.labels(rec.get("type") or "unknown", rec.get("action", "unknown")).inc()

    async def _flush_walls(self) -> None:
        while True:
            await asyncio.sleep(WALL_FLUSH_S)
            if not self.hub.walls:
                self._dirty.clear()
                continue
            dirty, self._dirty = self._dirty, set()
            for call_id in dirty:
                buf = self.book.calls.get(call_id)
                if buf and buf.state:
                    self.hub.to_walls(M.record(M.CALL_STATE, buf.state), droppable=False)

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            self.book.expire()
            self.hub.to_walls(M.stats(self.book.stats()))
            self.hub.queue_depths()
            metrics.ACTIVE_CALLS.labels(SERVICE).set(len(self.book.live()))
