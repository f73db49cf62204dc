"""Everything Heartline does only because the embedded broker is not Apache Kafka.

The embedded broker (Tansu 0.6, memory storage; ``heartline run``'s default)
differs from Apache Kafka in ways measured here (DESIGN.md, "Embedded
broker"). Each workaround lives in this module and is switched on only when
``Settings.broker == "embedded"``; on Apache Kafka faust and aiokafka run stock
(the counting tests run on both brokers: tests/test_failover.py).

1. Fetch wait. Tansu answers a waiting fetch only when the wait expires, and
   faust-streaming 0.15.3 hard-codes ``fetch_max_wait_ms=1500`` in its worker
   consumer (one faust hop took ~424 ms). ``_short_fetch_wait`` sets our short
   wait on that consumer before it starts (aiokafka reads it at start).
2. Table recovery high water. Tansu answers ListOffsets with the first offset
   of the last batch + 1, so faust's changelog recovery stopped early.
   ``_fetched_highwaters`` reads the fetch response's high watermark instead.
3. Input gaps. After a rebalance on Tansu a faust worker sometimes re-read
   from the committed offset and then skipped ahead. ``GapGuard`` refetches a
   skipped range with a plain consumer before the current record.
4. (In heartline/stack.py) a restarted Tansu is empty: the supervisor
   re-creates topics and restarts workers with fresh group names
   (``Settings.group_generation``). Apache Kafka keeps its data on disk.
5. (Settings) a 4 s session timeout: Apache Kafka's minimum is 6 s.
"""

from __future__ import annotations

import logging

from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from shared.config import Settings
from shared.kafka import consumer

log = logging.getLogger("heartline.embedded_broker")

_FETCH_WAIT_MS = {"value": None}


def _short_fetch_wait(original):
    def create_worker_consumer(self, transport):
        consumer = original(self, transport)
        if _FETCH_WAIT_MS["value"] is not None:
            consumer._fetch_max_wait_ms = _FETCH_WAIT_MS["value"]
        return consumer

    create_worker_consumer.__wrapped__ = original
    return create_worker_consumer




def _fetched_highwaters(original):
    """Table recovery reads a changelog up to its "highwater", which faust takes
    from ListOffsets. The embedded broker answers ListOffsets with the first
    offset of the last batch + 1 (DESIGN.md), so recovery stopped early and
    state went backwards unless every record was its own batch — which capped
    the nudger near one record per broker round trip. The fetch response's high
    watermark is right: read it with a short-lived plain consumer from just
    before the listed end. On Apache Kafka both agree, and this costs one fetch."""

    async def _highwaters(self, partitions):
        listed = dict(await original(self, partitions))
        wanted = [tp for tp, end in listed.items() if end]
        if not wanted:
            return listed
        from aiokafka import AIOKafkaConsumer
        from aiokafka.structs import TopicPartition

        client = AIOKafkaConsumer(bootstrap_servers=_BOOTSTRAP["value"], enable_auto_commit=False,
                                  fetch_max_wait_ms=_FETCH_WAIT_MS["value"] or 10)
        await client.start()
        try:
            tps = {tp: TopicPartition(tp.topic, tp.partition) for tp in wanted}
            client.assign(list(tps.values()))
            for tp, atp in tps.items():
                client.seek(atp, max(0, listed[tp] - 1))
            for _ in range(20):
                await client.getmany(timeout_ms=100)
                if all(client.highwater(atp) is not None for atp in tps.values()):
                    break
            for tp, atp in tps.items():
                high = client.highwater(atp)
                if high is not None and high > listed[tp]:
                    listed[tp] = high
        finally:
            await client.stop()
        return listed

    _highwaters.__wrapped__ = original
    return _highwaters


_BOOTSTRAP = {"value": None}


def apply_faust_workarounds(settings: Settings) -> bool:
    """Patch faust's consumer thread for the embedded broker (1 and 2 above); no-op elsewhere."""
    if not settings.on_embedded_broker:
        return False
    _FETCH_WAIT_MS["value"] = settings.fetch_max_wait_ms
    _BOOTSTRAP["value"] = settings.bootstrap
    thread = faust_aiokafka.AIOKafkaConsumerThread
    if not hasattr(thread._create_worker_consumer, "__wrapped__"):
        thread._create_worker_consumer = _short_fetch_wait(thread._create_worker_consumer)
    if not hasattr(thread._highwaters, "__wrapped__"):
        thread._highwaters = _fetched_highwaters(thread._highwaters)
    return True


# -- 3. input gaps -------------------------------------------------------------------

MAX_FILL = 50_000


class GapGuard:
    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings
        self.expected: dict = {}
        self._consumer = None
        self.filled = 0

    async def missed_before(self, msg) -> list:
        """Records of ``msg``'s partition that were skipped before it (oldest first)."""
        tp = msg.tp
        expected = self.expected.get(tp)
        try:
            committed = self.app.consumer._committed_offset.get(tp)
        except Exception:
            committed = None
        if committed is not None and (expected is None or committed > expected):
            expected = committed  # reassigned: another worker got this far
        self.expected[tp] = msg.offset + 1
        if expected is None or msg.offset <= expected:
            return []
        start, end = expected, min(msg.offset, expected + MAX_FILL)
        log.warning("input gap: refetching skipped records",
                    extra={"topic": tp.topic, "partition": tp.partition, "from": start, "to": end})
        try:
            records = await self._fetch(TopicPartition(tp.topic, tp.partition), start, end)
        except Exception:
            log.exception("could not refetch skipped records", extra={"topic": tp.topic, "partition": tp.partition})
            return []
        self.filled += len(records)
        return records

    async def _fetch(self, tp: TopicPartition, start: int, end: int) -> list:
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


class NoGapGuard:
    """On Apache Kafka: faust delivers every record in order; nothing to refetch."""

    filled = 0

    async def missed_before(self, msg) -> list:
        return []

    async def stop(self) -> None:
        return None


def gap_guard(app, settings: Settings):
    return GapGuard(app, settings) if settings.on_embedded_broker else NoGapGuard()
