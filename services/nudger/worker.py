"""Nudger worker: (utterance-analysis, call-events) -> nudges, call-state.

Drives the pure nudge engine (``services.nudger.engine``) on each call's own
event time (``clock.py``: grace, cooldown and silence are measured in the
events' ``ts``; a watermark of what was read moves quiet calls' timers, so a
backlog yields what real time and ``heartline replay`` yield). Speech comes
analysed from ``utterance-analysis`` (finals, and a segment's partials at most
once per second of its speech), lifecycle events from ``call-events``
(forwarded by the analyzer), applied in each call's order (``order.py``); a
timer ticks every live call for the timing rules. The nudger reads no raw
``stt-events``.

A plain aiokafka consumer group (``heartline-nudger``, range assignment, so
partition p of both inputs — one call's records — lands on one worker). Each
call's engine memory is kept as a live object and in a compacted changelog
topic (``<group>-calls-changelog``, key call_id, on the call's partition):
when partitions are assigned, the worker first reads their changelog to the
end (``recover``), so another worker resumes a call where a killed one left
it. Per batch: apply every record, write each call it changed to the
changelog **once**, send nudges as they come, wait until the broker has all
of it, then commit those positions (every ``COMMIT_EVERY_S``): at-least-once,
and the engine and the gateway dedupe. faust, which this worker ran on
before, cost ~200 µs of CPU per record consumed (docs/benchmark.md).

The nudger is the one writer of ``call-state``: a call's record goes out at
once when the call starts, ends or goes on or off hold, other changes at most
every ``STATE_EVERY_S``. Serves /healthz, /readyz and /metrics on
``HEARTLINE_WORKER_PORT``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import orjson
from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import IllegalStateError, KafkaError, TopicAlreadyExistsError
from fastapi import FastAPI
from pydantic import ValidationError

from services.nudger import clock, order
from services.nudger.intake import admit
from services.nudger.memory import CallMemory, new_memory
from services.nudger.rules import RulesWatcher
from shared import metrics
from shared.config import Settings, get_settings
from shared.health import serve_worker, service_app
from shared.kafka import (
    broker_reachable,
    consumer,
    dead_letter_record,
    producer,
    stop_component,
)
from shared.positions import Positions
from shared.schemas import UtteranceAnalysis, parse_event
from shared.validation import reason as invalid_reason

SERVICE = "nudger"
BATCH = 500
SILENT_EXPIRY_S = 30 * 60  # forget a call whose end was never seen
STATE_EVERY_S = 0.2  # call-state: a call's other changes at most this often
TICK_EVERY_S = 0.5  # how often quiet calls' timers are looked at
COMMIT_EVERY_S = 0.5
RULES_EVERY_S = 2.0
LAG_EVERY_S = 5.0
RETRY_PAUSE_S = 1.0
RECOVERY_MAX_S = 120.0
log = logging.getLogger(SERVICE)


def _now() -> datetime:
    return datetime.now(UTC)


def changelog_topic(settings: Settings) -> str:
    """The compacted topic of the nudger's call memories (the name ``heartline customer delete``
    tombstones, services/recorder/erasure.py)."""
    return f"{settings.group(SERVICE)}-calls-changelog"


def _public(mem: CallMemory) -> bytes:
    return mem.state.model_dump_json(exclude={"last_update_ts"}).encode()


ENDED_KEEP_S = get_settings().call_state_keep_s  # then the call's memory and its call-state record go


def expired(state, now: datetime, ended_keep_s: float | None = None) -> bool:
    """Forget a call: ended more than ``ended_keep_s`` ago, or silent for SILENT_EXPIRY_S (end never seen)."""
    keep = ENDED_KEEP_S if ended_keep_s is None else ended_keep_s
    ended_for = (now - state.ended_ts).total_seconds() if state.ended_ts else None
    silent_for = (now - state.last_update_ts).total_seconds() if state.last_update_ts else 0
    return (ended_for is not None and ended_for > keep) or silent_for > SILENT_EXPIRY_S


class StatePublisher:
    """call-state, coalesced per call: the wall and the desks need a call's start, end and
    holds at once, its sentiment, risk and talk time a few times a second at most."""

    def __init__(self, send) -> None:
        self.send = send  # (key, value) -> send future
        # key -> (public part, on_hold, agent known) as last published
        self.sent: dict[bytes, tuple[bytes, bool, bool]] = {}
        self.pending: dict[bytes, CallMemory] = {}

    async def changed(self, key: bytes, mem: CallMemory) -> list:
        public = _public(mem)
        last = self.sent.get(key)
        if last is not None and public == last[0]:
            self.pending.pop(key, None)
            return []
        st = mem.state
        if last is None or st.ended_ts is not None or st.on_hold != last[1] or bool(st.agent_id) != last[2]:
            return [await self._send(key, mem, public)]  # start (agent known), end, hold: at once
        self.pending[key] = mem
        return []

    async def _send(self, key: bytes, mem: CallMemory, public: bytes):
        self.pending.pop(key, None)
        self.sent[key] = (public, mem.state.on_hold, bool(mem.state.agent_id))
        return await self.send(key, mem.state.to_json())

    async def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for key, mem in pending.items():
            public = _public(mem)
            last = self.sent.get(key)
            if last is None or public != last[0]:
                await self._send(key, mem, public)

    def forget(self, key: bytes) -> None:
        self.pending.pop(key, None)
        self.sent.pop(key, None)

    def clear(self) -> None:
        self.sent.clear()
        self.pending.clear()


class _Rebalance(ConsumerRebalanceListener):
    def __init__(self, nudger: Nudger) -> None:
        self.nudger = nudger

    async def on_partitions_revoked(self, revoked) -> None:
        await self.nudger.revoked(revoked)

    async def on_partitions_assigned(self, assigned) -> None:
        await self.nudger.assigned(assigned)


class Nudger:
    def __init__(self, settings: Settings):
        self.settings = settings
        t = settings.topics
        self.inputs = (t.utterance_analysis, t.call_events)
        self.nudges_topic, self.state_topic = t.nudges, t.call_state
        self.changelog = changelog_topic(settings)
        self.group = settings.group(SERVICE)
        self.salt = settings.customer_salt.get_secret_value()  # the recorder's: call-state carries id_hash
        self.ended_keep_s = settings.call_state_keep_s  # then the call's memory and call-state record go
        self.rules = RulesWatcher(settings.rules)
        self.memories: dict[bytes, tuple[CallMemory, int]] = {}  # key -> (memory, partition)
        self.states = StatePublisher(self._send_state)
        self.watermarks = clock.Watermarks(self.inputs, time.time())
        self.positions: dict[TopicPartition, int] = {}  # next offset to read per input partition
        self.commits = Positions(COMMIT_EVERY_S)  # what is done, and what this worker committed last
        self.partitions: set[int] = set()  # input partition numbers owned (recovered)
        self.recovering = False
        self.lock = asyncio.Lock()  # a batch, a tick and a rebalance never interleave
        self.consumer = self.producer = None
        self._tasks: list[asyncio.Task] = []

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        await self._ensure_changelog()
        self.producer = producer(self.settings)
        await self.producer.start()
        self.consumer = consumer(
            self.settings,
            group=self.group,
            enable_auto_commit=False,
            partition_assignment_strategy=(RangePartitionAssignor,),
        )
        self.consumer.subscribe(list(self.inputs), listener=_Rebalance(self))
        await self.consumer.start()
        self._tasks = [
            asyncio.create_task(self._every(self._consume, 0)),
            asyncio.create_task(self._every(self.tick, TICK_EVERY_S)),
            asyncio.create_task(self._every(self.states.flush, STATE_EVERY_S)),
            asyncio.create_task(self._every(self._reload_rules, RULES_EVERY_S)),
            asyncio.create_task(self._every(self._report_lag, LAG_EVERY_S)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.commits.commit_quietly(self.consumer)
        await stop_component([], self.consumer, self.producer)

    async def ready(self) -> tuple[bool, dict]:
        assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in self.consumer.assignment()) if self.consumer else []
        broker = await broker_reachable(self.settings.bootstrap)
        ok = bool(assigned) and broker and not self.recovering
        return ok, {
            "partitions": assigned,
            "recovering": self.recovering,
            "broker": "reachable" if broker else "unreachable",
        }

    async def _every(self, fn, period: float) -> None:
        while True:
            if period:
                await asyncio.sleep(period)
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("worker step failed", extra={"step": fn.__name__})
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _ensure_changelog(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.bootstrap)
        await admin.start()
        try:
            if self.changelog not in set(await admin.list_topics()):
                try:
                    await admin.create_topics(
                        [
                            NewTopic(
                                self.changelog,
                                num_partitions=self.settings.partitions,
                                replication_factor=1,
                                topic_configs={"cleanup.policy": "compact"},
                            )
                        ]
                    )
                except TopicAlreadyExistsError:
                    pass
        finally:
            await admin.close()

    # ------------------------------------------------------------------ rebalance

    async def revoked(self, revoked) -> None:
        """Before a rebalance (every member revokes everything first): commit what is done. The
        memories stay until the new assignment is known: a partition kept needs no recovery."""
        async with self.lock:  # after the batch in hand
            await self.commits.commit_quietly(self.consumer)
            self.states.clear()  # nothing pending goes out for a call another worker may now own
            self.positions.clear()

    async def assigned(self, assigned) -> None:
        """Drop the calls of partitions gone elsewhere; read the changelog of the ones new here,
        and of any kept one whose committed position is not the one this worker committed (it
        was someone else's in between: this worker missed a rebalance)."""
        now_mine = {tp.partition for tp in assigned}
        async with self.lock:
            kept = set()
            for p in self.partitions & now_mine:
                tps = [TopicPartition(t, p) for t in self.inputs]
                if all([await self.consumer.committed(tp) == self.commits.committed.get(tp) for tp in tps]):
                    kept.add(p)
            if self.partitions - kept:
                self.memories = {k: v for k, v in self.memories.items() if v[1] in kept}
            self.partitions = kept
            new = sorted(now_mine - kept)
            if new:
                self.recovering = True
                try:
                    recovered = await self.recover(new)
                    self.memories.update(recovered)
                    self.partitions |= set(new)
                    log.info("recovered call memories", extra={"partitions": new, "calls": len(recovered)})
                finally:
                    self.recovering = False
            self.watermarks.reset(time.time())

    async def recover(self, partitions: list[int]) -> dict[bytes, tuple[CallMemory, int]]:
        """The latest memory of every call on these partitions, read from the changelog to its end
        (the end is the high watermark of a fetch response: right on both brokers)."""
        c = consumer(self.settings, group=None, enable_auto_commit=False)
        await c.start()
        latest: dict[bytes, bytes | None] = {}
        try:
            tps = [TopicPartition(self.changelog, p) for p in partitions]
            c.assign(tps)
            await c.seek_to_beginning(*tps)
            pending, deadline = set(tps), time.monotonic() + RECOVERY_MAX_S
            while pending and time.monotonic() < deadline:
                batch = await c.getmany(*pending, timeout_ms=200, max_records=5000)
                for records in batch.values():
                    for r in records:
                        latest[r.key] = r.value
                for tp in list(pending):
                    high = c.highwater(tp)
                    if high is not None and await c.position(tp) >= high:
                        pending.discard(tp)
            if pending:
                log.error(
                    "changelog not read to its end in time", extra={"partitions": sorted(p.partition for p in pending)}
                )
        finally:
            await c.stop()
        out: dict[bytes, tuple[CallMemory, int]] = {}
        for key, value in latest.items():
            if key is None or value is None:
                continue  # a tombstone: the call was forgotten or erased
            try:
                stored = orjson.loads(value)
                out[key] = (CallMemory.model_validate(stored["memory"]), int(stored["partition"]))
            except Exception:
                log.exception("unreadable call memory skipped")
        return out

    # ------------------------------------------------------------------ the loop

    async def _consume(self) -> None:
        batches = await self.consumer.getmany(timeout_ms=1000, max_records=BATCH)
        if self.commits.due():
            async with self.lock:
                await self.commits.commit(self.consumer)
        if not batches:
            return
        async with self.lock:
            sent: list = []
            dirty: dict[bytes, int] = {}
            try:
                for tp, records in list(batches.items()):
                    if tp.partition not in self.partitions:  # not (or no longer) recovered here
                        del batches[tp]
                        if tp in self.consumer.assignment():
                            self.consumer.seek(tp, records[0].offset)  # read again once it is
                        continue
                    for record in records:
                        await self._safe_handle(tp, record, dirty, sent)
                        self.positions[tp] = record.offset + 1
                for key, partition in dirty.items():  # each changed call once per batch
                    sent.append(await self._write(key, partition))
                if sent:
                    await asyncio.gather(*sent)  # the broker has it all before the offsets move
            except KafkaError as exc:  # the broker refused or lost outputs: the batch again
                log.error("outputs not acknowledged; retrying the batch", extra={"error": type(exc).__name__})
                for tp, records in batches.items():
                    if tp in self.consumer.assignment():
                        self.consumer.seek(tp, records[0].offset)
                await asyncio.sleep(RETRY_PAUSE_S)
                return
            self.commits.mark(batches)

    async def _safe_handle(self, tp: TopicPartition, record, dirty: dict, sent: list) -> None:
        try:
            await self.handle(tp, record, dirty, sent)
        except KafkaError:
            raise
        except Exception as exc:  # one bad record never stops the worker
            log.exception("record failed", extra={"topic": tp.topic, "partition": tp.partition})
            await dead_letter_record(
                self.producer, SERVICE, record, f"internal error: {type(exc).__name__}", "internal"
            )

    def _decode(self, topic: str, raw: bytes):
        if topic == self.inputs[0]:
            return UtteranceAnalysis.model_validate_json(raw)
        return admit(parse_event(raw), self.salt)  # the clear customer id stops here (intake.py)

    async def handle(self, tp: TopicPartition, record, dirty: dict, sent: list) -> None:
        topic = tp.topic
        metrics.EVENTS_IN.labels(SERVICE, topic).inc()
        try:
            item = self._decode(topic, record.value)
        except (ValidationError, ValueError, TypeError) as exc:
            model = "UtteranceAnalysis" if topic == self.inputs[0] else "CallEvent"
            why = invalid_reason(exc, model, 3) if isinstance(exc, ValidationError) else f"invalid {model}"
            await dead_letter_record(self.producer, SERVICE, record, why, "invalid")
            return
        if item is None:
            return
        started = time.perf_counter()
        key = item.call_id.encode()
        mem = self.memories.get(key, (None, None))[0]
        self.watermarks.saw(topic, tp.partition, clock.ingest_epoch(item), record.offset, time.time())
        src, after = order.positions(record.headers)
        nudges: list = []
        parked = order.waits(mem, after)  # its predecessor in the call has not arrived yet
        if parked:
            mem = mem or new_memory(item.call_id)
            kind = "analysis" if topic == self.inputs[0] else "event"
            order.park(mem, kind, item.model_dump_json(), src, after, time.time())
            metrics.PARKED.labels(SERVICE).inc()
        else:
            mem = self._release(self._apply(mem, item, src, nudges), nudges)
        self.memories[key] = (mem, tp.partition)
        dirty[key] = tp.partition
        metrics.STAGE_SECONDS.labels(SERVICE, "step").observe(time.perf_counter() - started)
        if not parked:  # a parked record changed nothing the wall shows (an empty call, no agent yet)
            sent += await self._emit(key, mem, nudges)

    def _apply(self, mem: CallMemory | None, item, src, out: list) -> CallMemory:
        mem, nudges = clock.feed(mem, item, self.rules.rules)
        order.applied(mem, src)
        out += nudges
        return mem

    def _release(self, mem: CallMemory, out: list) -> CallMemory:
        """Apply the parked records whose turn has come."""
        now = time.time()
        while (p := order.releasable(mem, now)) is not None:
            item = UtteranceAnalysis.model_validate_json(p.record) if p.kind == "analysis" else parse_event(p.record)
            mem = self._apply(mem, item, (p.partition, p.offset), out)
        return mem

    # ------------------------------------------------------------------ output

    async def _emit(self, key: bytes, mem: CallMemory, nudges: list) -> list:
        sent = []
        for nudge in nudges:
            nudge.created_ts = _now()  # the engine's clock is the call's event time; this is when it was made
            sent.append(await self.producer.send(self.nudges_topic, nudge.to_json(), key=key))
            metrics.NUDGES.labels(nudge.type, nudge.audience).inc()
            metrics.EVENTS_OUT.labels(SERVICE, self.nudges_topic).inc()
        return sent + await self.states.changed(key, mem)

    async def _send_state(self, key: bytes, value: bytes | None):
        metrics.EVENTS_OUT.labels(SERVICE, self.state_topic).inc()
        return await self.producer.send(self.state_topic, value, key=key)

    async def _write(self, key: bytes, partition: int):
        """The call's memory to the changelog (on the call's partition), or a tombstone."""
        held = self.memories.get(key)
        value = (
            None if held is None else orjson.dumps({"memory": held[0].model_dump(mode="json"), "partition": partition})
        )
        return await self.producer.send(self.changelog, value, key=key, partition=partition)

    # ------------------------------------------------------------------ timers

    async def tick(self) -> None:
        """Timing rules for every live call of this worker (up to its watermark); expiry."""
        now = _now()
        wall = now.timestamp()
        live = 0
        async with self.lock:
            await self._learn_positions()
            for key, (mem, partition) in list(self.memories.items()):
                try:
                    if expired(mem.state, now, self.ended_keep_s):
                        del self.memories[key]
                        await self._write(key, partition)
                        self.states.forget(key)
                        await self._send_state(key, None)  # tombstone: call-state forgets the call
                        continue
                    live += mem.state.ended_ts is None
                    open_needs, parked = len(mem.needs), len(mem.parked)
                    nudges: list = []
                    if parked:  # records whose predecessor never came: in stt-events order after PARK_MAX_S
                        mem = self._release(mem, nudges)
                    nudges += clock.due(mem, self.watermarks.now(partition, wall, self._caught_up), self.rules.rules)
                    if nudges or len(mem.needs) != open_needs or len(mem.parked) != parked:
                        self.memories[key] = (mem, partition)
                        await self._write(key, partition)
                        await self._emit(key, mem, nudges)
                except Exception:
                    log.exception("tick failed")
        metrics.ACTIVE_CALLS.labels(SERVICE).set(live)

    async def _learn_positions(self) -> None:
        """The read position of every assigned input partition that has had no record since the
        last rebalance (its fetch position: the committed offset it resumed from), so a quiet
        partition can be known to be caught up and its calls' timers run on."""
        for tp in self.consumer.assignment() if self.consumer else ():
            if tp not in self.positions:
                try:
                    self.positions[tp] = await asyncio.wait_for(self.consumer.position(tp), 1.0)
                except (KafkaError, TimeoutError, AssertionError, IllegalStateError):
                    continue  # not fetchable yet: asked again at the next tick

    def _caught_up(self, topic: str, partition: int, position: int | None) -> bool:
        """Nothing left to read on this input partition (the fetch high watermark reached)."""
        tp = TopicPartition(topic, partition)
        try:
            high = self.consumer.highwater(tp)
        except Exception:
            return False
        position = self.positions.get(tp, position)
        return high is not None and position is not None and position >= high

    async def _reload_rules(self) -> None:
        self.rules.maybe_reload()

    async def _report_lag(self) -> None:
        """Consumer lag of this worker's partitions: fetch high watermark - position."""
        per_topic: dict[str, int] = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is not None:
                per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, high - await self.consumer.position(tp))
        for topic, lag in per_topic.items():
            metrics.CONSUMER_LAG.labels(self.group, topic).set(lag)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.require_secrets("customer_salt")  # call-state carries ids hashed with the recorder's salt
    nudger = Nudger(settings)
    app = service_app(SERVICE, "Heartline nudger", settings, nudger)
    app.state.nudger = nudger
    return app


def main() -> None:
    serve_worker(create_app)
