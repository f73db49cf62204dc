"""Recorder worker: (call-state, utterance-analysis, nudges, nudge-feedback) -> the history DB.

A plain aiokafka consumer group (``heartline-recorder``, range assignment so
partition p of every topic — one call's records — lands on one worker). Per
batch (what arrives within ``GATHER_S``, up to ``BATCH`` records): validate
(bad records -> ``<topic>.dlq``), write everything in one transaction
(idempotent upserts, ``services.recorder.store``), raise ``repeat_caller``
nudges, then commit the offsets: at-least-once delivery
with idempotent writes. When the database refuses the batch, the records are
written one by one and the one it refuses goes to ``<topic>.dlq`` (reason:
the error class, never the values); the rest are stored and the offsets move
on. When the database is unreachable nothing is dead-lettered: the batch is
retried from the same offsets, and after ``STUCK_AFTER`` failed tries in a
row the recorder reports not ready (/readyz 503, ``heartline_consumer_stuck``).
It also runs the retention purge once a day, and serves /healthz, /readyz
and /metrics on ``HEARTLINE_WORKER_PORT``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from aiokafka import TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from fastapi import FastAPI
from pydantic import ValidationError

from services.recorder import db, repeat
from services.recorder.store import Store
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
from shared.schemas import CallState, Nudge, NudgeFeedback, UtteranceAnalysis
from shared.validation import reason as invalid_reason

SERVICE = "recorder"
BATCH = 500
DECIDED_KEEP = 20_000  # calls whose repeat_caller check is settled (memory bound)
STUCK_AFTER = 3  # failed tries of one batch in a row: not ready until a batch is stored again
RETRY_PAUSE_S = 2.0
# History is not on the live path: records are gathered this long (or BATCH of them) into one
# transaction, so a call's derived fields are recomputed once per batch, not once per record.
GATHER_S = 1.0
FETCH_MIN_BYTES = 256 * 1024
log = logging.getLogger(SERVICE)


def make_store(settings: Settings, writer: bool = False) -> Store:
    return Store(
        db.make_engine(settings.db_url, writer=writer),
        settings.customer_salt.get_secret_value(),
        settings.retention_days,
        settings.scorecard_rules,
    )


class Recorder:
    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        t = settings.topics
        self.models = {
            t.call_state: CallState,
            t.utterance_analysis: UtteranceAnalysis,
            t.nudges: Nudge,
            t.nudge_feedback: NudgeFeedback,
        }
        self.rule = repeat.RepeatRule(settings.rules)
        self.decided: OrderedDict[str, None] = OrderedDict()
        self.consumer = self.producer = None
        self.migrated = False
        self.failures = 0  # failed tries of the current batch in a row
        self.last_error: str | None = None
        metrics.CONSUMER_STUCK.labels(SERVICE).set(0)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.store.standard.current()  # a broken scorecard standard stops the start, naming its line
        await asyncio.to_thread(db.upgrade, self.store.engine)
        self.migrated = True
        self.producer = producer(self.settings)
        await self.producer.start()
        self.consumer = consumer(
            self.settings,
            *self.models,
            group=self.settings.group(SERVICE),
            enable_auto_commit=False,
            partition_assignment_strategy=(RangePartitionAssignor,),
            # The broker answers the recorder's fetch once it holds FETCH_MIN_BYTES or after
            # GATHER_S: one fetch a second instead of one per record written to four topics.
            fetch_max_wait_ms=int(GATHER_S * 1000),
            fetch_min_bytes=FETCH_MIN_BYTES,
        )
        await self.consumer.start()
        self._tasks = [asyncio.create_task(self._consume()), asyncio.create_task(self._purge_daily())]

    async def stop(self) -> None:
        await stop_component(self._tasks, self.consumer, self.producer)

    async def ready(self) -> tuple[bool, dict]:
        assigned = len(self.consumer.assignment()) if self.consumer else 0
        broker = await broker_reachable(self.settings.bootstrap)
        stuck = self.failures >= STUCK_AFTER
        detail = {"migrated": self.migrated, "partitions": assigned, "broker": "reachable" if broker else "unreachable"}
        if stuck:
            detail["stuck"] = f"{self.failures} tries of one batch failed: {self.last_error}"
        return (self.migrated and assigned > 0 and broker and not stuck), detail

    def _progress(self, error: BaseException | None) -> None:
        if error is None:
            self.failures, self.last_error = 0, None
        else:
            self.failures += 1
            self.last_error = db.error_class(error)
            metrics.BATCH_FAILURES.labels(SERVICE, type(error).__name__).inc()
        metrics.CONSUMER_STUCK.labels(SERVICE).set(1 if self.failures >= STUCK_AFTER else 0)

    async def _gather(self) -> dict[TopicPartition, list]:
        """The next batch: what is there, then what arrives within GATHER_S, up to BATCH records."""
        batches = await self.consumer.getmany(timeout_ms=500, max_records=BATCH)
        if not batches:
            return batches
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_S
        n = sum(len(v) for v in batches.values())
        while n < BATCH and (left := deadline - loop.time()) > 0:
            more = await self.consumer.getmany(timeout_ms=max(1, int(left * 1000)), max_records=BATCH - n)
            for tp, records in more.items():
                batches.setdefault(tp, []).extend(records)
                n += len(records)
        return batches

    async def _consume(self) -> None:
        while True:
            batches = await self._gather()
            if not batches:
                continue
            try:
                await self.handle(batches)
                await self.consumer.commit()
                self._progress(None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database unreachable: keep the offsets, retry the batch
                self._progress(exc)
                # The class only: a database error's message may quote the row (transcript text, names).
                log.error(
                    "batch not stored; retrying from the same offsets",
                    extra={"error": db.error_class(exc), "tries": self.failures},
                )
                for tp, records in batches.items():
                    self.consumer.seek(tp, records[0].offset)
                await asyncio.sleep(RETRY_PAUSE_S)

    async def handle(self, batches: dict[TopicPartition, list]) -> None:
        records = []  # (record, topic partition, message)
        for tp, msgs in batches.items():
            model = self.models[tp.topic]
            for msg in msgs:
                metrics.EVENTS_IN.labels(SERVICE, tp.topic).inc()
                if msg.value is None and tp.topic == self.settings.topics.call_state:
                    continue  # a tombstone: the call left call-state (ended long enough ago, or erased)
                try:
                    rec = model.model_validate_json(msg.value)
                except ValidationError as exc:
                    await self._dead_letter(tp, msg, invalid_reason(exc, model.__name__, 3), "invalid")
                    continue
                except (ValueError, TypeError) as exc:  # not JSON bytes at all
                    await self._dead_letter(tp, msg, f"invalid {model.__name__}: {type(exc).__name__}", "invalid")
                    continue
                if isinstance(rec, UtteranceAnalysis) and not rec.is_final:
                    continue
                records.append((rec, tp, msg))
        if not records:
            return
        with metrics.STAGE_SECONDS.labels(SERVICE, "store").time():
            try:
                touched = await asyncio.to_thread(self.store.apply, [r for r, _, _ in records])
            except Exception as exc:
                if db.unavailable(exc):
                    raise
                log.warning(
                    "batch refused by the database; storing its records one by one",
                    extra={"error": db.error_class(exc), "records": len(records)},
                )
                touched = await self._one_by_one(records)
        await self._repeat_callers(touched)

    async def _one_by_one(self, records: list) -> set[str]:
        """Store each record alone (call states first, as ``Store.apply`` does); the ones the
        database refuses go to the DLQ. An unreachable database stops this (the batch is retried)."""
        touched: set[str] = set()
        for rec, tp, msg in sorted(records, key=lambda r: not isinstance(r[0], CallState)):
            try:
                touched |= await asyncio.to_thread(self.store.apply, [rec])
            except Exception as exc:
                if db.unavailable(exc):
                    raise
                await self._dead_letter(
                    tp, msg, f"not stored: the database refused it ({db.error_class(exc)})", "unstorable"
                )
        return touched

    async def _dead_letter(self, tp: TopicPartition, msg, reason: str, reason_class: str) -> None:
        await dead_letter_record(self.producer, SERVICE, msg, reason, reason_class)

    async def _repeat_callers(self, touched: set[str]) -> None:
        spec = self.rule.current()
        if spec is None:
            return
        for call_id in sorted(touched - set(self.decided)):
            if await asyncio.to_thread(self.store.has_nudge, repeat.nudge_id(call_id)):
                decided, nudge = True, None
            else:
                decided, nudge = await asyncio.to_thread(
                    repeat.check, self.store, call_id, spec, self.settings.repeat_window_days
                )
            if nudge is not None:
                await self.producer.send_and_wait(self.settings.topics.nudges, nudge.to_json(), key=call_id.encode())
                metrics.NUDGES.labels(nudge.type, nudge.audience).inc()
                metrics.EVENTS_OUT.labels(SERVICE, self.settings.topics.nudges).inc()
                log.info("repeat caller", extra={"call_id": call_id})
            if decided:
                self.decided[call_id] = None
                while len(self.decided) > DECIDED_KEEP:
                    self.decided.popitem(last=False)

    async def _purge_daily(self) -> None:
        while True:
            try:
                result = await asyncio.to_thread(self.store.purge)
                log.info("retention purge", extra=result)
            except Exception as exc:
                log.error("retention purge failed", extra={"error": db.error_class(exc)})
            await asyncio.sleep(self.settings.purge_every_s)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.require_secrets("customer_salt")  # customer ids are stored only as salted hashes
    recorder = Recorder(settings, make_store(settings, writer=True))

    app = service_app(SERVICE, "Heartline recorder", settings, recorder)
    app.state.recorder = recorder
    return app


def main() -> None:
    serve_worker(create_app)
