"""Offset-gap guard for the faust workers: no input record is skipped.

After a rebalance, a faust-streaming 0.15.3 worker sometimes re-reads from the
committed offset and then skips ahead, so records in between are never
processed; the data is intact on the broker. First seen on the embedded broker
(DESIGN.md, "Failover under faust"), then measured on Apache Kafka 4.1 too:
without this guard, SIGKILLing one of two nudgers under load lost 6 of 80
nudges on Kafka (tests/test_failover.py[kafka]); with it, 80/80 and the
nudger's log shows the refetch ("input gap", e.g. offsets 20-21 of a
partition). So it runs on both brokers.

The guard tracks, per input partition, the next offset the worker should see;
when an event arrives past it, the skipped range is fetched with a plain
consumer and handed back to be processed first, in order. Handlers are
idempotent (deterministic ids, dedupe by seq), so a range that was in fact
processed elsewhere costs time, never a duplicate.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.config import Settings
from shared.kafka import consumer

if TYPE_CHECKING:  # pragma: no cover
    import faust
    from faust.types import Message

log = logging.getLogger("heartline.gaps")
MAX_FILL = 50_000


class GapGuard:
    def __init__(self, app: faust.App, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.expected: dict[Any, int] = {}  # faust TP -> next offset
        self._consumer: AIOKafkaConsumer | None = None
        self.filled = 0

    async def missed_before(self, msg: Message) -> list[Any]:
        """Records of ``msg``'s partition that were skipped before it (oldest first)."""
        tp = msg.tp
        expected = self.expected.get(tp)
        try:
            committed = self.app.consumer._committed_offset.get(tp)  # type: ignore[attr-defined]  # faust's Consumer
        except Exception:
            committed = None
        if committed is not None and (expected is None or committed > expected):
            expected = committed  # reassigned: another worker got this far
        self.expected[tp] = msg.offset + 1
        if expected is None or msg.offset <= expected:
            return []
        start, end = expected, min(msg.offset, expected + MAX_FILL)
        log.warning(
            "input gap: refetching skipped records",
            extra={"topic": tp.topic, "partition": tp.partition, "from": start, "to": end},
        )
        try:
            records = await self._fetch(TopicPartition(tp.topic, tp.partition), start, end)
        except Exception:
            log.exception("could not refetch skipped records", extra={"topic": tp.topic, "partition": tp.partition})
            return []
        self.filled += len(records)
        return records

    async def _fetch(self, tp: TopicPartition, start: int, end: int) -> list[Any]:
        if self._consumer is None:
            self._consumer = consumer(self.settings, group=None, enable_auto_commit=False)
            await self._consumer.start()
        c = self._consumer
        c.assign([tp])
        c.seek(tp, start)
        out = []
        for _ in range(200):
            batch = await c.getmany(tp, timeout_ms=200)
            for record in batch.get(tp, []):
                if start <= record.offset < end:
                    out.append(record)
            if await c.position(tp) >= end:
                break
        return out

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
