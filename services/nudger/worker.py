"""Nudger worker: (utterance-analysis, call-events) -> nudges, call-state.

Drives the pure nudge engine (``services.nudger.engine``) from Kafka on each
call's own event time (``clock.py``: grace, cooldown and silence are measured
in the events' ``ts``; a watermark of what was read moves quiet calls'
timers, so a backlog yields what real time and ``heartline replay`` yield):
speech comes analysed from ``utterance-analysis`` (finals, and a
segment's partials at most once per second of its speech: enough for the
timing rules, a third of the raw partials' volume), lifecycle events from
``call-events`` (forwarded by the analyzer), applied in each call's order
(``order.py``), and a timer ticks every live call for the timing rules.
The nudger reads no raw ``stt-events``. Each call's engine memory
lives in a changelog-backed faust table, so another worker resumes a call
where a killed one left it; while this worker owns the call it works on the
memory object itself (``Memories``: no JSON round trip per record or per
tick; dropped at every rebalance). The nudger is the one writer of
``call-state``: a call's record goes out at once when the call starts, ends
or goes on or off hold, other changes at most every ``STATE_EVERY_S``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from pydantic import ValidationError

from services.nudger import clock, engine, order
from services.nudger.intake import admit
from services.nudger.memory import new_memory
from services.nudger.rules import RulesWatcher
from shared import metrics
from shared.config import get_settings
from shared.faust_app import ChangelogPartitions, make_app, run_worker
from shared.gaps import GapGuard
from shared.kafka import dead_letter, faust_send
from shared.schemas import UtteranceAnalysis, parse_event
from shared.validation import reason as invalid_reason

SERVICE = "nudger"
SILENT_EXPIRY_S = 30 * 60  # forget a call whose end was never seen
STATE_EVERY_S = 0.2  # call-state: a call's other changes at most this often
TICK_EVERY_S = 0.5  # how often quiet calls' timers are looked at
log = logging.getLogger(SERVICE)

settings = get_settings()
ENDED_KEEP_S = settings.call_state_keep_s  # then the call's memory and its call-state record go
SALT = settings.customer_salt.get_secret_value()  # the recorder's: call-state carries customer.id_hash
app = make_app(SERVICE, settings, tables=True)
T = settings.topics
inputs = app.topic(T.utterance_analysis, T.call_events)
nudges_out = app.topic(T.nudges)
state_out = app.topic(T.call_state)
# key_type=bytes keeps the raw call_id as the changelog key (faust picks the
# key serializer from key_type), so use_partitioner puts each call's memory
# on the same partition number as its input records.
calls = app.Table("calls", default=None, partitions=settings.partitions, use_partitioner=True, key_type=bytes)
changelog = ChangelogPartitions(app, calls)
rules = RulesWatcher(settings.rules)
send = faust_send(app)
gaps = GapGuard(app, settings)


def _now() -> datetime:
    return datetime.now(UTC)


class Memories:
    """The engine memory of the calls this worker owns, as live objects.

    The table (and its changelog) is written after every change, as before;
    reading it back cost a ``CallMemory.model_validate`` per record and per
    call per tick. A memory is read from the table only the first time this
    worker sees the call after a (re)assignment: ``clear()`` runs on every
    partition revocation, so a call that moved away and back is read again."""

    def __init__(self) -> None:
        self.live: dict[bytes, tuple[engine.CallMemory, int]] = {}

    def get(self, key: bytes) -> tuple[engine.CallMemory | None, int | None]:
        hit = self.live.get(key)
        if hit is not None:
            return hit
        stored = calls.get(key)
        if not stored:
            return None, None
        found = (engine.CallMemory.model_validate(stored["memory"]), stored.get("partition"))
        self.live[key] = found
        return found

    def put(self, key: bytes, mem: engine.CallMemory, partition: int) -> None:
        self.live[key] = (mem, partition)
        calls[key] = {"memory": mem.model_dump(mode="json"), "partition": partition}

    def drop(self, key: bytes) -> None:
        self.live.pop(key, None)
        del calls[key]

    def clear(self) -> None:
        self.live.clear()


class StatePublisher:
    """call-state, coalesced per call: the wall and the desks need a call's start, end and
    holds at once, its sentiment, risk and talk time a few times a second at most."""

    def __init__(self) -> None:
        self.sent: dict[bytes, tuple[bytes, bool]] = {}  # key -> (public part, on_hold) last published
        self.pending: dict[bytes, engine.CallMemory] = {}

    async def changed(self, key: bytes, mem: engine.CallMemory) -> None:
        public = _public(mem)
        last = self.sent.get(key)
        if last is not None and public == last[0]:
            self.pending.pop(key, None)
            return
        st = mem.state
        if last is None or st.ended_ts is not None or st.on_hold != last[1]:
            await self._send(key, mem, public)
        else:
            self.pending[key] = mem

    async def _send(self, key: bytes, mem: engine.CallMemory, public: bytes) -> None:
        self.pending.pop(key, None)
        self.sent[key] = (public, mem.state.on_hold)
        await state_out.send(key=key, value=mem.state.to_json())
        metrics.EVENTS_OUT.labels(SERVICE, T.call_state).inc()

    async def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for key, mem in pending.items():
            public = _public(mem)
            last = self.sent.get(key)
            if last is None or public != last[0]:
                await self._send(key, mem, public)

    def clear(self) -> None:
        self.sent.clear()
        self.pending.clear()

    async def tombstone(self, key: bytes) -> None:
        self.pending.pop(key, None)
        self.sent.pop(key, None)
        await state_out.send(key=key, value=None)  # call-state forgets the call
        metrics.EVENTS_OUT.labels(SERVICE, T.call_state).inc()


memories = Memories()
states = StatePublisher()
watermarks = clock.Watermarks((T.utterance_analysis, T.call_events), time.time())


def _caught_up(topic: str, partition: int, position: int | None) -> bool:
    """Nothing left to read on this input partition (the fetch high watermark reached)."""
    from faust.types import TP

    try:
        tp = TP(topic, partition)
        high = app.consumer.highwater(tp)
        if position is None:
            position = app.consumer._committed_offset.get(tp)
    except Exception:
        return False
    return high is not None and position is not None and position >= high


@app.on_partitions_revoked.connect
async def _revoked(app, revoked, **kwargs) -> None:
    memories.clear()  # the table is the truth again until we see each call anew
    states.clear()  # nothing pending goes out for a call another worker may now own
    watermarks.reset(time.time())


def _public(mem: engine.CallMemory) -> bytes:
    return mem.state.model_dump_json(exclude={"last_update_ts"}).encode()


async def _emit(key: bytes, mem: engine.CallMemory, nudges: list) -> None:
    for nudge in nudges:
        nudge.created_ts = _now()  # the engine's clock is the call's event time; this is when it was made
        await nudges_out.send(key=key, value=nudge.to_json())
        metrics.NUDGES.labels(nudge.type, nudge.audience).inc()
        metrics.EVENTS_OUT.labels(SERVICE, T.nudges).inc()
    await states.changed(key, mem)


def _decode(topic: str, raw: bytes):
    if topic == T.utterance_analysis:
        return UtteranceAnalysis.model_validate_json(raw)
    return admit(parse_event(raw), SALT)  # the clear customer id stops here (intake.py)


def _revive(p) -> object:
    return UtteranceAnalysis.model_validate_json(p.record) if p.kind == "analysis" else parse_event(p.record)


def _apply(mem, item, src, out: list):
    mem, nudges = clock.feed(mem, item, rules.rules)
    order.applied(mem, src)
    out += nudges
    return mem


def _release(mem, out: list, force: bool = False):
    """Apply the parked records whose turn has come."""
    now = time.time()
    while (p := order.releasable(mem, now, force)) is not None:
        mem = _apply(mem, _revive(p), (p.partition, p.offset), out)
    return mem


async def handle(topic: str, key: bytes | None, raw: bytes, partition: int, offset: int, headers=None) -> None:
    metrics.EVENTS_IN.labels(SERVICE, topic).inc()
    try:
        item = _decode(topic, raw)
    except ValidationError as exc:
        model = "UtteranceAnalysis" if topic == T.utterance_analysis else "CallEvent"
        await dead_letter(send, SERVICE, topic, key, raw, invalid_reason(exc, model, 3), "invalid", partition, offset)
        return
    if item is None:
        return
    await changelog.ready()
    started = time.perf_counter()
    call_key = item.call_id.encode()
    mem, _ = memories.get(call_key)
    watermarks.saw(topic, partition, clock.ingest_epoch(item), offset, time.time())
    src, after = order.positions(headers)
    nudges: list = []
    if order.waits(mem, after):  # its predecessor in the call has not arrived yet
        mem = mem or new_memory(item.call_id)
        order.park(
            mem,
            "analysis" if topic == T.utterance_analysis else "event",
            item.model_dump_json(),
            src,
            after,
            time.time(),
        )
        metrics.PARKED.labels(SERVICE).inc()
    else:
        mem = _release(_apply(mem, item, src, nudges), nudges)
    memories.put(call_key, mem, partition)
    metrics.STAGE_SECONDS.labels(SERVICE, "step").observe(time.perf_counter() - started)
    await _emit(call_key, mem, nudges)


@app.agent(inputs)
async def nudge(stream):
    async for event in stream.events():
        msg = event.message
        for record in await gaps.missed_before(msg):
            await _safe_handle(record.topic, record.key, record.value, record.partition, record.offset, record.headers)
        await _safe_handle(msg.topic, event.key, event.value, msg.partition, msg.offset, msg.headers)


async def _safe_handle(topic: str, key: bytes | None, value: bytes, partition: int, offset: int, headers=None) -> None:
    try:
        await handle(topic, key, value, partition, offset, headers)
    except Exception as exc:  # one bad record never stops the worker
        log.exception("record failed", extra={"topic": topic, "partition": partition})
        await dead_letter(
            send, SERVICE, topic, key, value, f"internal error: {type(exc).__name__}", "internal", partition, offset
        )


def expired(state, now: datetime) -> bool:
    """Forget a call: ended more than ENDED_KEEP_S ago, or silent for SILENT_EXPIRY_S (end never seen)."""
    ended_for = (now - state.ended_ts).total_seconds() if state.ended_ts else None
    silent_for = (now - state.last_update_ts).total_seconds() if state.last_update_ts else 0
    return (ended_for is not None and ended_for > ENDED_KEEP_S) or silent_for > SILENT_EXPIRY_S


def _assigned() -> set[int]:
    try:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == T.utterance_analysis}
    except Exception:
        return set()


@app.timer(TICK_EVERY_S)
async def tick_calls() -> None:
    """Timing rules for every live call of this worker's partitions (up to the watermark); expiry."""
    assigned = _assigned()
    now = _now()
    wall = now.timestamp()
    live = 0
    await changelog.ready()
    for key in list(calls.keys()):
        try:
            mem, partition = memories.get(key)
            if mem is None or partition not in assigned:
                continue
            st = mem.state
            if expired(st, now):
                memories.drop(key)
                await states.tombstone(key)
                continue
            live += st.ended_ts is None
            open_needs, parked = len(mem.needs), len(mem.parked)
            nudges: list = []
            if parked:  # records whose predecessor never came: in stt-events order after PARK_MAX_S
                mem = _release(mem, nudges)
            nudges += clock.due(mem, watermarks.now(partition, wall, _caught_up), rules.rules)
            if nudges or len(mem.needs) != open_needs or len(mem.parked) != parked:
                memories.put(key, mem, partition)
                await _emit(key, mem, nudges)
        except Exception:
            log.exception("tick failed")
    metrics.ACTIVE_CALLS.labels(SERVICE).set(live)
    log.debug("tick", extra={"live": live, "stored": len(calls), "assigned": sorted(assigned)})


@app.timer(STATE_EVERY_S)
async def publish_states() -> None:
    await states.flush()


@app.timer(2.0)
async def reload_rules() -> None:
    rules.maybe_reload()


def main() -> None:
    settings.require_secrets("customer_salt")  # call-state carries ids hashed with the recorder's salt
    run_worker(app, settings)
