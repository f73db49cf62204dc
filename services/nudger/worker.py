"""Nudger worker: (stt-events, utterance-analysis) -> nudges, call-state.

Drives the pure nudge engine (``services.nudger.engine``) from Kafka with the
wall clock: lifecycle events and partials come from ``stt-events`` (finals are
taken from ``utterance-analysis``, where they arrive analysed), and a 1 s
timer ticks every live call for the timing rules. Each call's engine memory
lives in a changelog-backed faust table, so another worker resumes a call
where a killed one left it. The nudger is the one writer of ``call-state``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from pydantic import ValidationError

from services.nudger import engine
from services.nudger.intake import admit
from services.nudger.rules import RulesWatcher
from shared import metrics
from shared.config import get_settings
from shared.faust_app import ChangelogPartitions, make_app, run_worker
from shared.gaps import GapGuard
from shared.kafka import dead_letter, faust_send
from shared.schemas import UtteranceAnalysis, parse_event
from shared.validation import reason as invalid_reason

SERVICE = "nudger"
SILENT_EXPIRY_S = 30 * 60   # forget a call whose end was never seen
log = logging.getLogger(SERVICE)

settings = get_settings()
ENDED_KEEP_S = settings.call_state_keep_s  # then the call's memory and its call-state record go
SALT = settings.customer_salt.get_secret_value()  # the recorder's: call-state carries customer.id_hash
app = make_app(SERVICE, settings, tables=True)
T = settings.topics
inputs = app.topic(T.stt_events, T.utterance_analysis)
nudges_out = app.topic(T.nudges)
state_out = app.topic(T.call_state)
# key_type=bytes keeps the raw call_id as the changelog key (faust picks the
# key serializer from key_type), so use_partitioner puts each call's memory
# on the same partition number as its input records.
calls = app.Table("calls", default=None, partitions=settings.partitions, use_partitioner=True,
                  key_type=bytes)
changelog = ChangelogPartitions(app, calls)
rules = RulesWatcher(settings.rules)
send = faust_send(app)
gaps = GapGuard(app, settings)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _load(key: bytes) -> tuple[engine.CallMemory | None, int | None]:
    stored = calls.get(key)
    if not stored:
        return None, None
    return engine.CallMemory.model_validate(stored["memory"]), stored.get("partition")


def _public(mem: engine.CallMemory) -> bytes:
    return mem.state.model_dump_json(exclude={"last_update_ts"}).encode()


async def _emit(key: bytes, before: bytes | None, mem: engine.CallMemory, nudges: list) -> None:
    for nudge in nudges:
        await nudges_out.send(key=key, value=nudge.to_json())
        metrics.NUDGES.labels(nudge.type, nudge.audience).inc()
        metrics.EVENTS_OUT.labels(SERVICE, T.nudges).inc()
    if before != _public(mem):
        await state_out.send(key=key, value=mem.state.to_json())
        metrics.EVENTS_OUT.labels(SERVICE, T.call_state).inc()


def _decode(topic: str, raw: bytes):
    if topic == T.utterance_analysis:
        return UtteranceAnalysis.model_validate_json(raw)
    return admit(parse_event(raw), SALT)  # raw text and the clear customer id stop here (intake.py)


async def handle(topic: str, key: bytes | None, raw: bytes, partition: int, offset: int) -> None:
    metrics.EVENTS_IN.labels(SERVICE, topic).inc()
    try:
        item = _decode(topic, raw)
    except ValidationError as exc:
        if topic == T.utterance_analysis:  # invalid stt-events are the analyzer's to dead-letter
            await dead_letter(send, SERVICE, topic, key, raw, invalid_reason(exc, "UtteranceAnalysis", 3),
                              "invalid", partition, offset)
        return
    if item is None:
        return
    await changelog.ready()
    started = time.perf_counter()
    call_key = item.call_id.encode()
    mem, _ = _load(call_key)
    before = _public(mem) if mem else None
    mem, nudges = engine.step(mem, item, _now(), rules.rules)
    calls[call_key] = {"memory": mem.model_dump(mode="json"), "partition": partition}
    metrics.STAGE_SECONDS.labels(SERVICE, "step").observe(time.perf_counter() - started)
    await _emit(call_key, before, mem, nudges)


@app.agent(inputs)
async def nudge(stream):
    async for event in stream.events():
        msg = event.message
        for record in await gaps.missed_before(msg):
            await _safe_handle(record.topic, record.key, record.value, record.partition, record.offset)
        await _safe_handle(msg.topic, event.key, event.value, msg.partition, msg.offset)


async def _safe_handle(topic: str, key: bytes | None, value: bytes, partition: int, offset: int) -> None:
    try:
        await handle(topic, key, value, partition, offset)
    except Exception as exc:  # one bad record never stops the worker
        log.exception("record failed", extra={"topic": topic, "partition": partition})
        await dead_letter(send, SERVICE, topic, key, value, f"internal error: {type(exc).__name__}",
                          "internal", partition, offset)


def expired(state, now: datetime) -> bool:
    """Forget a call: ended more than ENDED_KEEP_S ago, or silent for SILENT_EXPIRY_S (end never seen)."""
    ended_for = (now - state.ended_ts).total_seconds() if state.ended_ts else None
    silent_for = (now - state.last_update_ts).total_seconds() if state.last_update_ts else 0
    return (ended_for is not None and ended_for > ENDED_KEEP_S) or silent_for > SILENT_EXPIRY_S


def _assigned() -> set[int]:
    try:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == T.stt_events}
    except Exception:
        return set()


@app.timer(1.0)
async def tick_calls() -> None:
    """Timing rules for every live call of this worker's partitions; expiry."""
    assigned = _assigned()
    now = _now()
    live = 0
    await changelog.ready()
    for key, stored in list(calls.items()):
        if not stored or stored.get("partition") not in assigned:
            continue
        try:
            mem = engine.CallMemory.model_validate(stored["memory"])
            st = mem.state
            if expired(st, now):
                del calls[key]
                await state_out.send(key=key, value=None)  # tombstone: call-state forgets the call
                metrics.EVENTS_OUT.labels(SERVICE, T.call_state).inc()
                continue
            live += st.ended_ts is None
            before = _public(mem)
            mem, nudges = engine.tick(mem, now, rules.rules)
            if nudges or before != _public(mem):
                calls[key] = {"memory": mem.model_dump(mode="json"), "partition": stored["partition"]}
                await _emit(key, before, mem, nudges)
        except Exception:
            log.exception("tick failed")
    metrics.ACTIVE_CALLS.labels(SERVICE).set(live)
    log.debug("tick", extra={"live": live, "stored": len(calls), "assigned": sorted(assigned)})


@app.timer(2.0)
async def reload_rules() -> None:
    rules.maybe_reload()


def main() -> None:
    settings.require_secrets("customer_salt")  # call-state carries ids hashed with the recorder's salt
    run_worker(app, settings)
