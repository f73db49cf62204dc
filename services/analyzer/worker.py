"""Analyzer worker: stt-events -> utterance-analysis.

Consumes every CallEvent; analyses final utterances (full cost) and partials
(cheap, at most once per segment per second); publishes UtteranceAnalysis
keyed by call_id. Lifecycle events (call_started, hold, call_ended) need no
analysis: the nudger reads them from stt-events itself. A customer final that
asks something the knowledge base answers carries the match (``knowledge``);
the base is reloaded when its files change. A record that is not a
valid CallEvent goes to ``stt-events.dlq`` with the reason; the worker never
stops on one record.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import datetime, timezone

from pydantic import ValidationError

from services.analyzer.analysis import analyze_utterance
from services.analyzer.knowledge_base import KnowledgeWatcher
from shared import metrics
from shared.config import get_settings
from shared.faust_app import make_app, run_worker
from shared.gaps import GapGuard
from shared.kafka import dead_letter, faust_send
from shared.schemas import Utterance, parse_event
from shared.validation import reason as invalid_reason

SERVICE = "analyzer"
PARTIAL_INTERVAL_S = 1.0
SEEN_LIMIT = 200_000
log = logging.getLogger(SERVICE)

settings = get_settings()
app = make_app(SERVICE, settings)
stt_events = app.topic(settings.topics.stt_events)
analyses = app.topic(settings.topics.utterance_analysis)
send = faust_send(app)
# The knowledge base: customer questions carry its answer (docs/knowledge.md); reloaded when a file changes.
knowledge = KnowledgeWatcher(settings.knowledge)
gaps = GapGuard(app, settings)


class Seen:
    """Finals already analysed and when each segment's partial last was.

    A bounded in-memory cache: after a restart a redelivered final is
    analysed again and downstream dedupes it by (call_id, seq) — the nudger's
    table and the gateway both do — so this is an optimisation, not the
    guarantee.
    """

    def __init__(self, limit: int = SEEN_LIMIT):
        self.finals: OrderedDict[tuple[str, int, str], None] = OrderedDict()
        self.partials: OrderedDict[tuple[str, int, str], float] = OrderedDict()
        self.limit = limit

    def first_final(self, key: tuple[str, int, str]) -> bool:
        if key in self.finals:
            return False
        self.finals[key] = None
        self.partials.pop(key, None)
        if len(self.finals) > self.limit:
            self.finals.popitem(last=False)
        return True

    def partial_due(self, key: tuple[str, int, str], now: float) -> bool:
        if key in self.finals:
            return False  # a late partial after its final is stale
        last = self.partials.get(key)
        if last is not None and now - last < PARTIAL_INTERVAL_S:
            return False
        self.partials[key] = now
        if len(self.partials) > self.limit:
            self.partials.popitem(last=False)
        return True


seen = Seen()


async def handle(raw: bytes, key: bytes | None, record_ts: float | None, partition: int, offset: int) -> None:
    metrics.EVENTS_IN.labels(SERVICE, stt_events.get_topic_name()).inc()
    try:
        event = parse_event(raw)
    except ValidationError as exc:
        await dead_letter(send, SERVICE, stt_events.get_topic_name(), key, raw,
                          _reason(exc), "invalid", partition, offset)
        return
    if not isinstance(event, Utterance):
        return
    ident = (event.call_id, event.seq, event.speaker)
    if event.is_final:
        if not seen.first_final(ident):
            return
    elif not seen.partial_due(ident, time.monotonic()):
        return
    started = time.perf_counter()
    ingest_ts = event.ingest_ts or (
        datetime.fromtimestamp(record_ts, timezone.utc) if record_ts else None)
    result = analyze_utterance(event, ingest_ts=ingest_ts, knowledge=knowledge.base)
    metrics.STAGE_SECONDS.labels(SERVICE, "final" if event.is_final else "partial").observe(
        time.perf_counter() - started)
    metrics.HOP_SECONDS.labels(SERVICE, stt_events.get_topic_name()).observe(
        max(0.0, time.time() - result.ingest_ts.timestamp()))
    await analyses.send(key=event.call_id.encode(), value=result.to_json())
    metrics.EVENTS_OUT.labels(SERVICE, analyses.get_topic_name()).inc()


def _reason(exc: ValidationError) -> str:
    return invalid_reason(exc, "CallEvent")  # never the input's values


@app.agent(stt_events)
async def analyze(stream):
    async for event in stream.events():
        msg = event.message
        for record in await gaps.missed_before(msg):
            await _safe_handle(record.value, record.key, record.timestamp / 1000, record.partition, record.offset)
        await _safe_handle(event.value, event.key, msg.timestamp, msg.partition, msg.offset)


async def _safe_handle(value: bytes, key: bytes | None, record_ts: float | None, partition: int, offset: int) -> None:
    try:
        await handle(value, key, record_ts, partition, offset)
    except Exception as exc:  # one bad record never stops the worker
        log.exception("record failed", extra={"partition": partition, "offset": offset})
        await dead_letter(send, SERVICE, stt_events.get_topic_name(), key, value,
                          f"internal error: {type(exc).__name__}", "internal", partition, offset)


@app.timer(2.0)
async def reload_knowledge() -> None:
    knowledge.maybe_reload()


def main() -> None:
    run_worker(app, settings)
