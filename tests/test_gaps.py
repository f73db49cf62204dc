"""The offset-gap guard refetches records a faust worker skipped (real broker)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition

from shared.gaps import GapGuard
from shared.kafka import producer

pytestmark = [pytest.mark.brokers("embedded", "kafka")]


def test_skipped_offsets_are_fetched_back_in_order(settings_for):
    settings = settings_for()
    topic = settings.topics.stt_events

    async def scenario():
        prod = producer(settings)
        await prod.start()
        for i in range(8):
            await prod.send_and_wait(topic, f"r{i}".encode(), key=b"k", partition=0)
        await prod.stop()
        app = SimpleNamespace(consumer=SimpleNamespace(_committed_offset={}))
        guard = GapGuard(app, settings)
        tp = TopicPartition(topic, 0)
        msg = lambda offset: SimpleNamespace(tp=tp, offset=offset)  # noqa: E731
        try:
            assert await guard.missed_before(msg(0)) == []
            assert await guard.missed_before(msg(1)) == []
            missed = await guard.missed_before(msg(5))  # 2, 3, 4 never reached the agent
            assert [r.offset for r in missed] == [2, 3, 4]
            assert [r.value for r in missed] == [b"r2", b"r3", b"r4"]
            # reassigned: the group committed 7, so 5..6 were another worker's to process
            app.consumer._committed_offset[tp] = 7
            assert await guard.missed_before(msg(7)) == []
        finally:
            await guard.stop()

    asyncio.run(scenario())
