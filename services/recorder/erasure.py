"""Erasing a customer from the topics: tombstones on the compacted topics keyed by their calls.

``heartline customer delete --id ID`` erases the history DB rows
(``Store.delete_customer``) and then calls ``erase_from_topics``. Two topics
are compacted, so they keep a call's latest record until a tombstone:
``call-state`` (the wall tile: customer name, hashed id) and the nudger's
table changelog ``heartline-nudger-calls-changelog`` (its memory of a call
that has not expired yet). Each is read from the beginning to its end
offsets; every call whose latest record is the customer's — a ``customer``
with ``id_hash`` equal to the salted hash, or, in a record written before the
nudger hashed ids, ``id`` equal to the id — and every call id the DB knew
gets a tombstone (null value) on the partition its record was read from.
Compaction then drops the record for good; the gateway forgets the call when
it reads the tombstone, the recorder skips it. Running it again finds
nothing left and writes nothing.

Time-retained topics (stt-events, utterance-analysis, nudges,
nudge-feedback, the DLQs) are not rewritten: Kafka cannot delete single
records there; they age out with the topic retention (docs/history.md).
"""

from __future__ import annotations

import time

import orjson

from shared.config import Settings
from shared.kafka import consumer, producer, topic_partitions


def _customer(value) -> dict:
    """The ``customer`` of a call-state record or of a nudger memory (``memory.state.customer``)."""
    for path in (("customer",), ("memory", "state", "customer")):
        node = value
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    return {}


def _is_theirs(value: bytes, id_hash: str, customer_id: str) -> bool:
    try:
        customer = _customer(orjson.loads(value))
    except orjson.JSONDecodeError:
        return False
    return customer.get("id_hash") == id_hash or (
        customer.get("id") is not None and str(customer["id"]).strip() == customer_id.strip()
    )


def compacted_topics(settings: Settings) -> list[str]:
    """The compacted topics keyed by call id that may hold a customer: call-state, the nudger's changelog."""
    return [settings.topics.call_state, f"{settings.group('nudger')}-calls-changelog"]


async def latest_records(
    settings: Settings, topic: str, timeout_s: float = 60.0
) -> dict[bytes, tuple[int, bytes | None]]:
    """``key -> (partition, latest value)`` of everything on ``topic`` now (None = tombstone);
    empty when the topic does not exist."""
    reader = consumer(settings, group=None, enable_auto_commit=False)
    await reader.start()
    try:
        parts = await topic_partitions(reader, [topic])
        if not parts:
            return {}
        deadline = time.monotonic() + timeout_s
        reader.assign(parts)
        await reader.seek_to_beginning(*parts)
        ends = {tp: off for tp, off in (await reader.end_offsets(parts)).items() if off > 0}
        latest: dict[bytes, tuple[int, bytes | None]] = {}
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic} not read to its end in {timeout_s:g} s")
            batches = await reader.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                for rec in records:
                    if rec.key is not None:
                        latest[rec.key] = (tp.partition, rec.value)
            for tp, end in list(ends.items()):
                if await reader.position(tp) >= end:
                    del ends[tp]
        return latest
    finally:
        await reader.stop()


async def erase_from_topics(
    settings: Settings, id_hash: str, customer_id: str, known_call_ids: list[str] = ()
) -> dict[str, list[str]]:
    """Tombstone every record of the customer on the compacted topics: ``topic -> call ids``."""
    known = {c.encode() for c in known_call_ids}
    erased: dict[str, list[str]] = {}
    writer = producer(settings)
    await writer.start()
    try:
        for topic in compacted_topics(settings):
            latest = await latest_records(settings, topic)
            doomed = sorted(
                key
                for key, (_, value) in latest.items()
                if value is not None and (key in known or _is_theirs(value, id_hash, customer_id))
            )
            for key in doomed:
                await writer.send_and_wait(topic, None, key=key, partition=latest[key][0])
            erased[topic] = [k.decode(errors="replace") for k in doomed]
    finally:
        await writer.stop()
    return erased
