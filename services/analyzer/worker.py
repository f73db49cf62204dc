"""Analyzer worker: stt-events -> utterance-analysis (+ call-events for the nudger).

A plain aiokafka consumer group (``heartline-analyzer``): the analyzer keeps
no state that must survive it, so it needs none of faust's machinery, which
cost ~170 µs of CPU per record consumed against ~4 µs for aiokafka's own
batch reads (docs/benchmark.md). Per batch: validate each CallEvent (bad
records -> ``stt-events.dlq`` with the reason; the worker never stops on one
record), analyse what ``gate.Gate`` admits — every final once, a segment's
partials at most once per second of its speech — and forward lifecycle events
(call_started, holds, call_ended) unchanged to ``call-events``; wait until the
broker has every output; commit those positions (every ``COMMIT_EVERY_S``):
at-least-once, and downstream dedupes.

Everything written for a call carries its source position in stt-events and
that of the call's previous output (record headers, ``shared.topics``), so the
nudger, which reads analyses and lifecycle events from two topics, applies
them in the call's order. A customer final that asks something the knowledge
base answers carries the match (``knowledge``); the base is reloaded when its
files change. Serves /healthz, /readyz and /metrics on ``HEARTLINE_WORKER_PORT``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from fastapi import FastAPI
from pydantic import ValidationError

from services.analyzer.analysis import analyze_utterance
from services.analyzer.gate import Gate
from services.analyzer.knowledge_base import KnowledgeWatcher
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
from shared.schemas import Utterance, parse_event
from shared.topics import AFTER_HEADER, SRC_HEADER
from shared.validation import reason as invalid_reason

SERVICE = "analyzer"
BATCH = 500
CHAIN_LIMIT = 200_000  # calls whose last output position is remembered
RETRY_PAUSE_S = 1.0
COMMIT_EVERY_S = 0.5  # offsets of batches whose outputs the broker has, committed this often
KNOWLEDGE_EVERY_S = 2.0
LAG_EVERY_S = 5.0
log = logging.getLogger(SERVICE)


class Chain:
    """The stt-events position of the last record written for each call (bounded)."""

    def __init__(self, limit: int = CHAIN_LIMIT):
        self.last: OrderedDict[str, bytes] = OrderedDict()
        self.limit = limit

    def headers(self, call_id: str, partition: int, offset: int) -> list[tuple[str, bytes]]:
        src = b"%d:%d" % (partition, offset)
        prev = self.last.get(call_id)
        self.last[call_id] = src
        self.last.move_to_end(call_id)
        if len(self.last) > self.limit:
            self.last.popitem(last=False)
        out = [(SRC_HEADER, src)]
        if prev is not None and prev != src:
            out.append((AFTER_HEADER, prev))
        return out


def _loop_ended(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("consume loop ended; /readyz now says so", exc_info=task.exception())


class Analyzer:
    def __init__(self, settings: Settings):
        self.settings = settings
        t = settings.topics
        self.topic, self.out, self.forward = t.stt_events, t.utterance_analysis, t.call_events
        self.group = settings.group(SERVICE)
        self.knowledge = KnowledgeWatcher(settings.knowledge)
        self.gate = Gate()
        self.chain = Chain()
        self.consumer = self.producer = None
        self.failures = 0
        self.positions = Positions(COMMIT_EVERY_S)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.producer = producer(self.settings)
        await self.producer.start()
        self.consumer = consumer(self.settings, self.topic, group=self.group, enable_auto_commit=False)
        await self.consumer.start()
        self._tasks = [
            asyncio.create_task(self._consume()),
            asyncio.create_task(self._reload_knowledge()),
            asyncio.create_task(self._report_lag()),
        ]
        self._tasks[0].add_done_callback(_loop_ended)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.positions.commit_quietly(self.consumer)
        await stop_component([], self.consumer, self.producer)

    async def ready(self) -> tuple[bool, dict]:
        assigned = sorted(f"{tp.topic}:{tp.partition}" for tp in self.consumer.assignment()) if self.consumer else []
        broker = await broker_reachable(self.settings.bootstrap)
        looping = bool(self._tasks) and not self._tasks[0].done()  # a loop that ended is never ready
        detail = {"partitions": assigned, "broker": "reachable" if broker else "unreachable"}
        if not looping:
            detail["loop"] = "stopped"
        return bool(assigned) and broker and looping, detail

    # ------------------------------------------------------------------ the loop

    async def _consume(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000, max_records=BATCH)
            if self.positions.due():
                await self.positions.commit(self.consumer)
            if not batches:
                continue
            try:
                sent = []
                for tp, records in batches.items():
                    for record in records:
                        sent += await self._safe_handle(tp, record)
                if sent:
                    await asyncio.gather(*sent)  # every output is on the broker before the offsets move
                self.positions.mark(batches)  # committed with the next COMMIT_EVERY_S
                self.failures = 0
            except asyncio.CancelledError:
                raise
            except KafkaError as exc:  # the broker refused or lost outputs: the batch again
                self.failures += 1
                self.chain.last.clear()  # the batch is written again: its records name no stale predecessor
                log.error(
                    "outputs not acknowledged; retrying the batch",
                    extra={"error": type(exc).__name__, "tries": self.failures},
                )
                for tp, records in batches.items():
                    if tp in self.consumer.assignment():
                        self.consumer.seek(tp, records[0].offset)
                await asyncio.sleep(RETRY_PAUSE_S)

    async def _safe_handle(self, tp: TopicPartition, record) -> list:
        try:
            return await self.handle(tp, record)
        except KafkaError:
            raise
        except Exception as exc:  # one bad record never stops the worker
            log.exception("record failed", extra={"partition": tp.partition, "offset": record.offset})
            await dead_letter_record(
                self.producer, SERVICE, record, f"internal error: {type(exc).__name__}", "internal"
            )
            return []

    async def handle(self, tp: TopicPartition, record) -> list:
        """The send futures of what this record yields (none, one analysis, or one forward)."""
        metrics.EVENTS_IN.labels(SERVICE, self.topic).inc()
        try:
            event = parse_event(record.value)
        except ValidationError as exc:
            await dead_letter_record(self.producer, SERVICE, record, invalid_reason(exc, "CallEvent"), "invalid")
            return []
        key = event.call_id.encode()
        if not isinstance(event, Utterance):  # lifecycle: the nudger's, unchanged
            headers = self.chain.headers(event.call_id, tp.partition, record.offset)
            metrics.EVENTS_OUT.labels(SERVICE, self.forward).inc()
            return [await self.producer.send(self.forward, record.value, key=key, headers=headers)]
        if not self.gate.admit(event):
            return []
        started = time.perf_counter()
        ingest_ts = event.ingest_ts or (
            datetime.fromtimestamp(record.timestamp / 1000, UTC) if record.timestamp else None
        )
        result = analyze_utterance(event, ingest_ts=ingest_ts, knowledge=self.knowledge.base)
        metrics.STAGE_SECONDS.labels(SERVICE, "final" if event.is_final else "partial").observe(
            time.perf_counter() - started
        )
        metrics.HOP_SECONDS.labels(SERVICE, self.topic).observe(max(0.0, time.time() - result.ingest_ts.timestamp()))
        headers = self.chain.headers(event.call_id, tp.partition, record.offset)
        metrics.EVENTS_OUT.labels(SERVICE, self.out).inc()
        return [await self.producer.send(self.out, result.to_json(), key=key, headers=headers)]

    # ------------------------------------------------------------------ background

    async def _reload_knowledge(self) -> None:
        while True:
            await asyncio.sleep(KNOWLEDGE_EVERY_S)
            # a reload trains the entry model (~1 s): off the event loop, so records keep flowing meanwhile
            await asyncio.to_thread(self.knowledge.maybe_reload)

    async def _report_lag(self) -> None:
        """Consumer lag of this worker's partitions: fetch high watermark - position."""
        while True:
            await asyncio.sleep(LAG_EVERY_S)
            try:
                lag = 0
                for tp in self.consumer.assignment():
                    high = self.consumer.highwater(tp)
                    if high is not None:
                        lag += max(0, high - await self.consumer.position(tp))
                metrics.CONSUMER_LAG.labels(self.group, self.topic).set(lag)
            except Exception:  # a rebalance in between: next time
                continue


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    analyzer = Analyzer(settings)
    app = service_app(SERVICE, "Heartline analyzer", settings, analyzer)
    app.state.analyzer = analyzer
    return app


def main() -> None:
    serve_worker(create_app)
