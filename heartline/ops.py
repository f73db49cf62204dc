"""``heartline lag`` and ``heartline status``: what ops scale on.

Lag is the fetch high watermark minus the group's committed offset, per
partition. The high watermark is read from a fetch response, never from
ListOffsets: on the embedded broker ListOffsets is wrong for multi-record
batches (DESIGN.md). Both commands end with each group's member count where
the broker answers DescribeGroups (Apache Kafka; the embedded broker's answer
does not decode, which they say).
"""

from __future__ import annotations

import asyncio
import json

import httpx
from aiokafka import TopicPartition

from shared.config import Settings
from shared.kafka import consumer, topic_partitions

GROUP_TOPICS = {
    "analyzer": ("stt_events",),
    "nudger": ("utterance_analysis", "call_events"),
    "recorder": ("call_state", "utterance_analysis", "nudges", "nudge_feedback"),
}


async def high_watermarks(settings: Settings, topic_names: list[str]) -> dict[TopicPartition, int]:
    c = consumer(settings, group=None, enable_auto_commit=False)
    await c.start()
    try:
        parts = await topic_partitions(c, topic_names)
        if not parts:
            return {}
        c.assign(parts)
        await c.seek_to_end(*parts)
        for _ in range(3):
            await c.getmany(timeout_ms=200)
            if all(c.highwater(tp) is not None for tp in parts):
                break
        return {tp: c.highwater(tp) or 0 for tp in parts}
    finally:
        await c.stop()


async def committed(settings: Settings, group: str, parts: list[TopicPartition]) -> dict[TopicPartition, int | None]:
    c = consumer(settings, group=group, enable_auto_commit=False)
    await c.start()
    try:
        return {tp: await c.committed(tp) for tp in parts}
    finally:
        await c.stop()


async def lag_table(settings: Settings) -> list[dict]:
    rows = []
    for name, attrs in GROUP_TOPICS.items():
        topic_names = [getattr(settings.topics, a) for a in attrs]
        highs = await high_watermarks(settings, topic_names)
        group = settings.group(name)
        done = await committed(settings, group, list(highs))
        if all(v is None for v in done.values()):
            continue  # group not running here
        for tp in sorted(highs, key=lambda t: (t.topic, t.partition)):
            c = done.get(tp)
            rows.append(
                {
                    "group": group,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "committed": c,
                    "high_watermark": highs[tp],
                    "lag": highs[tp] - (c or 0),
                }
            )
    return rows


def local_stack(settings: Settings) -> tuple[Settings, list[dict]]:
    """Fill in the broker address and processes of a local `heartline run`."""
    from shared.config import running_stack

    state = running_stack(settings.data_dir) or {}
    if not settings.kafka and state.get("kafka"):
        settings = settings.on_broker(state["kafka"], state.get("broker"))
    return settings, state.get("procs") or []


def lag_lines(rows: list[dict]) -> list[str]:
    """``lag_table``'s rows as ``heartline lag`` prints them: one line per partition, then each group's total."""
    if not rows:
        return ["no consumer group has committed offsets yet"]
    lines = [f"{'group':<28} {'topic':<24} {'part':>4} {'committed':>10} {'high':>10} {'lag':>8}"]
    for r in rows:
        lines.append(
            f"{r['group']:<28} {r['topic']:<24} {r['partition']:>4} {r['committed']!s:>10} "
            f"{r['high_watermark']:>10} {r['lag']:>8}"
        )
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["group"]] = totals.get(r["group"], 0) + r["lag"]
    lines += [f"total lag {group}: {total}" for group, total in totals.items()]
    return lines


def membership_lines(members: dict[str, list[dict]]) -> list[str]:
    """``group_members``' answer as both commands print it: each group's member count, or
    one line saying the broker does not tell (and why)."""
    if "unavailable" in members:
        return [f"group membership: not available from this broker ({members['unavailable'][0]['member']})"]
    return [f"group {group}: {len(found)} member(s)" for group, found in members.items()]


def print_lag(settings: Settings) -> int:
    settings, _ = local_stack(settings)
    lines = lag_lines(asyncio.run(lag_table(settings)))
    if settings.kafka:
        lines += membership_lines(asyncio.run(group_members(settings)))
    print("\n".join(lines))
    return 0


async def group_members(settings: Settings) -> dict[str, list[dict]]:
    """Members of each Heartline consumer group, from DescribeGroups.

    kafka-python's admin client speaks the DescribeGroups versions Apache Kafka 4
    answers (aiokafka's admin request is refused there); the embedded broker's
    answer does not decode, which is reported as "unavailable"."""
    import logging

    from kafka import KafkaAdminClient

    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # a failed describe is reported below

    def describe() -> dict[str, list[dict]]:
        admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap, request_timeout_ms=5000)
        try:
            groups = [settings.group(n) for n in GROUP_TOPICS]
            return {
                g.group: [{"member": m.member_id, "client": m.client_id, "host": m.client_host} for m in g.members]
                for g in admin.describe_consumer_groups(groups)
            }
        finally:
            admin.close()

    try:
        return await asyncio.wait_for(asyncio.to_thread(describe), 15)
    except Exception as exc:
        return {"unavailable": [{"member": f"{type(exc).__name__}: {exc}"}]}


def print_status(settings: Settings) -> int:
    settings, procs = local_stack(settings)
    procs = procs or [
        {"name": "ingest", "port": settings.ingest_port},
        {"name": "gateway", "port": settings.gateway_port},
    ]
    print(f"{'service':<14} {'pid':>7} {'ready':<6} detail")
    for proc in procs:
        if not proc.get("port"):
            continue
        try:
            resp = httpx.get(f"http://127.0.0.1:{proc['port']}/readyz", timeout=2)
            body = resp.json()
            ready = "yes" if resp.status_code == 200 else "no"
            parts = body.get("partitions")
            detail = (
                f"{len(parts)} partitions: {', '.join(parts[:6])}{' …' if len(parts) > 6 else ''}"
                if isinstance(parts, list)
                else json.dumps({k: v for k, v in body.items() if k != "ready"})
            )
        except httpx.HTTPError as exc:
            ready, detail = "down", type(exc).__name__
        print(f"{proc['name']:<14} {proc.get('pid', ''):>7} {ready:<6} {detail}")
    if settings.kafka:
        for line in membership_lines(asyncio.run(group_members(settings))):
            print(line)
    return 0
