"""Everything Heartline does only because the embedded broker is not Apache Kafka.

The embedded broker (Tansu 0.6, memory storage; ``heartline run``'s default)
differs from Apache Kafka in ways measured here (DESIGN.md, "Embedded
broker"). Each workaround lives in this module and is switched on only when
``Settings.broker == "embedded"``; on Apache Kafka faust and aiokafka run unpatched
(the counting tests run on both brokers: tests/test_failover.py).

1. Fetch wait. Tansu answers a waiting fetch only when the wait expires, and
   faust-streaming 0.15.3 hard-codes ``fetch_max_wait_ms=1500`` in its worker
   consumer (one faust hop took ~424 ms). ``_short_fetch_wait`` sets our short
   wait on that consumer before it starts (aiokafka reads it at start).
2. Table recovery high water. Tansu answers ListOffsets with the first offset
   of the last batch + 1, so faust's changelog recovery stopped early.
   ``_fetched_highwaters`` reads the fetch response's high watermark instead.
3. (Not here) input gaps after a rebalance: first seen on Tansu, then on
   Apache Kafka too, so ``shared/gaps.py`` runs on both brokers.
4. (In heartline/stack.py) a restarted Tansu is empty: the supervisor
   re-creates topics and restarts workers with fresh group names
   (``Settings.group_generation``). Apache Kafka keeps its data on disk.
5. (Settings) a 4 s session timeout: Apache Kafka's minimum is 6 s.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka

from shared.config import Settings

_FETCH_WAIT_MS: dict[str, int | None] = {"value": None}
Highwaters = Callable[[Any, Any], Awaitable[dict[Any, int | None]]]


def _short_fetch_wait(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    @functools.wraps(original)  # __wrapped__: patched once
    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        if _FETCH_WAIT_MS["value"] is not None:
            consumer._fetch_max_wait_ms = _FETCH_WAIT_MS["value"]
        return consumer

    return create_worker_consumer


def _fetched_highwaters(original: Callable[[Any, Any], Awaitable[Any]]) -> Highwaters:
    """Table recovery reads a changelog up to its "highwater", which faust takes
    from ListOffsets. The embedded broker answers ListOffsets with the first
    offset of the last batch + 1 (DESIGN.md), so recovery stopped early and
    state went backwards unless every record was its own batch — which capped
    the nudger near one record per broker round trip. The fetch response's high
    watermark is right: read it with a short-lived plain consumer from just
    before the listed end. On Apache Kafka both agree, and this costs one fetch."""

    @functools.wraps(original)  # __wrapped__: patched once
    async def _highwaters(self: Any, partitions: Any) -> dict[Any, int | None]:
        listed = dict(await original(self, partitions))
        wanted = [tp for tp, end in listed.items() if end]
        if not wanted:
            return listed
        from aiokafka import AIOKafkaConsumer
        from aiokafka.structs import TopicPartition

        client = AIOKafkaConsumer(
            bootstrap_servers=_BOOTSTRAP["value"],
            enable_auto_commit=False,
            fetch_max_wait_ms=_FETCH_WAIT_MS["value"] or 10,
        )
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

    return _highwaters


_BOOTSTRAP: dict[str, str | None] = {"value": None}


def apply_faust_workarounds(settings: Settings) -> bool:
    """Patch faust's consumer thread for the embedded broker (1 and 2 above); no-op elsewhere."""
    if not settings.on_embedded_broker:
        return False
    _FETCH_WAIT_MS["value"] = settings.fetch_max_wait_ms
    _BOOTSTRAP["value"] = settings.bootstrap
    thread = faust_aiokafka.AIOKafkaConsumerThread
    if not hasattr(thread._create_worker_consumer, "__wrapped__"):
        thread._create_worker_consumer = _short_fetch_wait(thread._create_worker_consumer)  # type: ignore[method-assign,assignment]
    if not hasattr(thread._highwaters, "__wrapped__"):
        thread._highwaters = _fetched_highwaters(thread._highwaters)  # type: ignore[method-assign,assignment]
    return True
