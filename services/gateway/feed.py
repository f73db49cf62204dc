"""The gateway's Kafka side: every partition of the four topics it shows.

Each gateway process reads all partitions (no consumer group: every gateway
must be able to serve every agent), from the beginning of what the broker
holds, so a restarted gateway rebuilds its live calls and the nudges raised
while it was down; clients then resume and get only what they missed. It is
ready once it has caught up with the high watermarks it saw at start. Every
record goes to the ``Relay`` (``relay.py``: the book, the sockets, the wall's
coalesced updates); what the gateway produces (the agents' feedback, the
supervisors' whispers) goes out through ``send_feedback`` and ``send_nudge``.
``GatewayFeed`` is what the app needs of a feed: ``create_app`` takes a
factory of one, this ``Feed`` by default.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from aiokafka import TopicPartition

from services.gateway.relay import Relay
from shared import metrics
from shared.config import Settings
from shared.health import Component
from shared.kafka import broker_reachable, consumer, producer, stop_component, topic_partitions
from shared.schemas import Nudge

SERVICE = "gateway"
log = logging.getLogger("gateway.feed")
# An agent's feedback or a supervisor's whisper waits this long for the broker's acknowledgement,
# then the sender is told to try again (aiokafka's own timeout is 40 s, and the socket that sent
# it reads nothing else meanwhile). The record may still be delivered later: consumers dedupe.
SEND_TIMEOUT_S = 5.0


class GatewayFeed(Component, Protocol):
    """Started and stopped with the app, asked by /readyz; reads the topics into a ``Relay``."""

    async def send_nudge(self, nudge: Nudge) -> None: ...
    async def send_feedback(self, key: bytes, value: bytes) -> None: ...


FeedFactory = Callable[[Settings, Relay], GatewayFeed]


class Feed:
    def __init__(self, settings: Settings, relay: Relay):
        self.settings = settings
        self.relay = relay
        self.consumer = None
        self.producer = None
        self.caught_up = False
        self._targets: dict[TopicPartition, int] = {}
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.producer = producer(self.settings)
        await self.producer.start()
        self.consumer = consumer(self.settings, group=None, enable_auto_commit=False)
        await self.consumer.start()
        topics = set(self.relay.topics)
        parts = []
        for _ in range(100):
            parts = await topic_partitions(self.consumer, topics)
            if {tp.topic for tp in parts} == topics:
                break
            await asyncio.sleep(0.2)
        self.consumer.assign(parts)
        await self.consumer.seek_to_beginning(*parts)
        self._targets = {tp: off for tp, off in (await self.consumer.end_offsets(parts)).items() if off > 0}
        self._tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self.relay.timers())]

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

    async def send_nudge(self, nudge: Nudge) -> None:
        """A nudge raised here (supervisor_whisper) goes out on ``nudges`` like the nudger's:
        every gateway (this one too) reads it back and delivers it; the recorder stores it."""
        await self._send(self.settings.topics.nudges, nudge.to_json(), nudge.call_id.encode())

    async def send_feedback(self, key: bytes, value: bytes) -> None:
        await self._send(self.settings.topics.nudge_feedback, value, key)

    async def _send(self, topic: str, value: bytes, key: bytes) -> None:
        """Produce and wait for the acknowledgement, at most ``SEND_TIMEOUT_S`` (TimeoutError then)."""
        await asyncio.wait_for(self.producer.send_and_wait(topic, value, key=key), SEND_TIMEOUT_S)
        metrics.EVENTS_OUT.labels(SERVICE, topic).inc()

    async def _consume(self) -> None:
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=200, max_records=2000)
            except Exception:
                log.exception("fetch failed; retrying")
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                for record in records:
                    metrics.EVENTS_IN.labels(SERVICE, tp.topic).inc()
                    self.relay.apply(tp.topic, record.key, record.value)
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
            log.info("caught up", extra={"calls": len(self.relay.book.calls)})
