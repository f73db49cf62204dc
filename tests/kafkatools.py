"""Read and write topics the way an outside client does (tests only)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer, TopicPartition

from shared.config import Settings
from shared.kafka import consumer, topic_partitions


async def read_topic(settings: Settings, topic: str, idle_polls: int = 3) -> list[tuple[bytes | None, bytes | None]]:
    """Every (key, value) the broker holds on ``topic``, from the beginning."""
    c = consumer(settings, group=None, enable_auto_commit=False)
    await c.start()
    out: list[tuple[bytes | None, bytes | None]] = []
    try:
        parts = await topic_partitions(c, [topic])
        if not parts:
            return out
        c.assign(parts)
        await c.seek_to_beginning(*parts)
        idle = 0
        while idle < idle_polls:
            batch = await c.getmany(timeout_ms=300)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                out.extend((r.key, r.value) for r in records)
    finally:
        await c.stop()
    return out


async def produce_raw(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> None:
    """Produce exact bytes (no validation): what a buggy or hostile producer could write."""
    p = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks=1)
    await p.start()
    try:
        for key, value in records:
            await p.send_and_wait(topic, value, key=key)
    finally:
        await p.stop()


async def wait_for_records(
    settings: Settings, topic: str, enough, timeout: float = 30.0
) -> list[tuple[bytes | None, bytes | None]]:
    """The topic's records once ``enough(records)`` holds (read again every half second: an
    in-band barrier instead of a fixed sleep), or as they are after ``timeout`` seconds (the
    caller's assertions then say what is missing)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = await read_topic(settings, topic, idle_polls=1)
        if enough(records) or asyncio.get_running_loop().time() > deadline:
            return records
        await asyncio.sleep(0.5)


async def wait_committed(settings: Settings, group: str, topic: str, timeout: float = 30.0) -> dict:
    """The group's committed offsets on ``topic`` once it has committed any (asked the way
    ``heartline lag`` asks: an in-band barrier instead of a fixed sleep)."""
    from heartline.ops import committed

    parts = [TopicPartition(topic, p) for p in range(settings.partitions)]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        done = {tp: o for tp, o in (await committed(settings, group, parts)).items() if o is not None}
        if done or asyncio.get_running_loop().time() > deadline:
            return done
        await asyncio.sleep(0.3)
