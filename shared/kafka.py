"""Kafka plumbing shared by every service: clients, topics, dead letters.

Every consumer uses ``settings.fetch_max_wait_ms``: the embedded broker only
answers a waiting fetch when the wait expires (DESIGN.md, "Embedded broker").
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared import metrics, topics
from shared.config import Settings
from shared.pii import redact
from shared.schemas import DeadLetter

log = logging.getLogger(__name__)

DLQ_RAW_LIMIT = 2000


def producer(settings: Settings, **kw: Any) -> AIOKafkaProducer:
    """acks=all on Apache Kafka (a record is acknowledged once every in-sync replica has it;
    the embedded broker has one copy in memory."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        linger_ms=settings.producer_linger_ms,
        acks=1 if settings.on_embedded_broker else "all",
        **kw,
    )


def consumer(settings: Settings, *topic_names: str, group: str | None = None, **kw: Any) -> AIOKafkaConsumer:
    assert settings.session_timeout_s is not None  # Settings fills it in for its broker
    opts = dict(
        bootstrap_servers=settings.bootstrap,
        group_id=group,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=int(settings.session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.heartbeat_interval_s * 1000),
        rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
        auto_offset_reset="earliest",
    )
    opts.update(kw)
    return AIOKafkaConsumer(*topic_names, **opts)


async def topic_partitions(c: AIOKafkaConsumer, names: Iterable[str]) -> list[TopicPartition]:
    """Every partition of these topics, from one metadata request for all topics.

    ``consumer.partitions_for_topic`` answers from the consumer's own metadata,
    which on Apache Kafka holds only subscribed or assigned topics (the
    embedded broker happened to return every topic), so ask the cluster."""
    cluster = await c._client.fetch_all_metadata()
    return [TopicPartition(t, p) for t in names for p in sorted(cluster.partitions_for_topic(t) or ())]


async def ensure_topics(settings: Settings, partitions: int | None = None, retries: int = 30) -> list[str]:
    """Create every Heartline topic (and its .dlq) that does not exist yet."""
    parts = partitions or settings.partitions
    names = settings.topics.all_with_dlq()
    wanted = []
    for name in names:
        base = name[len(settings.topic_prefix) :] if settings.topic_prefix else name
        cfg = {"cleanup.policy": "compact"} if base in topics.COMPACTED else {}
        wanted.append(NewTopic(name, num_partitions=parts, replication_factor=1, topic_configs=cfg))
    for attempt in range(retries):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t.name not in existing]
            if missing:
                try:
                    await admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass
            return [t.name for t in missing]
        except Exception as exc:  # broker still starting
            if attempt == retries - 1:
                raise
            log.info("waiting for broker", extra={"error": str(exc)})
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    return []


async def broker_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """A TCP connection to any bootstrap server opens (what /readyz checks; cheap)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout)
        except (TimeoutError, OSError, ValueError):
            continue
        writer.close()
        return True
    return False


Send = Callable[[str, bytes | None, bytes], Awaitable[Any]]


def aiokafka_send(prod: AIOKafkaProducer) -> Send:
    return lambda topic, key, value: prod.send_and_wait(topic, value, key=key)


async def dead_letter_record(prod: AIOKafkaProducer, service: str, record: Any, reason: str, reason_class: str) -> None:
    """``dead_letter`` for a record an aiokafka consumer returned (its topic, key, value, partition
    and offset), produced with ``prod``."""
    await dead_letter(
        aiokafka_send(prod),
        service,
        record.topic,
        record.key,
        record.value,
        reason,
        reason_class,
        record.partition,
        record.offset,
    )


_ESCAPE = re.compile(
    r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\u([0-9a-fA-F]{4})|\\([nrtbf/\"\\])"
)
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "/": "/", '"': '"', "\\": "\\"}
# Digits (and what separates them) at the end of a cut: half a number is cut out with it.
_CUT_TAIL = re.compile(r"[\s,，.。、\-0-9０-９零〇洞一幺么二两兩三四五六七八九拐勾Xx叉]+$")


def _unescape_char(m: re.Match[str]) -> str:
    if m.group(1):
        return chr(0x10000 + ((int(m.group(1), 16) - 0xD800) << 10) + int(m.group(2), 16) - 0xDC00)
    if m.group(3):
        code = int(m.group(3), 16)
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)  # a lone surrogate
    return _SIMPLE[m.group(4)]


def readable(raw: str) -> str:
    """JSON string escapes decoded (``\\u5361`` → 卡, ``\\u0036`` → 6, ``\\n`` → newline).

    A sender's JSON may escape every non-ASCII character (``json.dumps``'s
    default), even digits: redaction must read what the record *says*.
    """
    return _ESCAPE.sub(_unescape_char, raw) if "\\" in raw else raw


def redacted_excerpt(raw: bytes | str | None, limit: int) -> str:
    """At most ``limit`` characters of ``raw``, escapes decoded, PII masked (shared.pii)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    text = readable(raw or "")
    if len(text) > 2 * limit:
        text = _CUT_TAIL.sub("", text[: 2 * limit])
    text, _ = redact(text)
    if len(text) > limit:
        text = _CUT_TAIL.sub("", text[:limit])
    return text


async def dead_letter(
    send: Send,
    service: str,
    topic: str,
    key: bytes | None,
    raw: bytes | str | None,
    reason: str,
    reason_class: str,
    partition: int | None = None,
    offset: int | None = None,
) -> None:
    """Send one bad record to ``<topic>.dlq`` with its reason (PII redacted)."""
    text = redacted_excerpt(raw, DLQ_RAW_LIMIT)
    reason = redacted_excerpt(reason, 500)  # a validation message may quote the input
    record = DeadLetter(topic=topic, partition=partition, offset=offset, reason=reason, raw=text)
    metrics.DLQ.labels(service, topics.dlq(topic), reason_class).inc()
    try:
        await send(topics.dlq(topic), key, record.to_json())
    except Exception:
        log.exception("dead letter could not be written", extra={"topic": topic})


async def stop_component(tasks: list[asyncio.Task[Any]], *clients: Any) -> None:
    """Cancel a service's background tasks, then stop its Kafka clients (None skipped)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        if client is not None:
            await client.stop()
