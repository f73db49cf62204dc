"""The nudge engine's clock: each call's own event time, live and in replay alike.

Grace, cooldown, silence and every other duration the engine measures run on
the time the events carry (``ts``), never on when the nudger happens to read
them. So a backlog processed in a burst — a nudger that lagged, a worker that
took a call over, ``heartline replay`` — yields the nudges real time yields.

* ``feed`` applies one input record of a call: first the call's timer ticks
  that fall before it (1 s steps after the call's latest event time, the ones
  not ticked yet), then the record itself, at ``max(call clock, record ts)``.
* Between records, a live call's time is advanced by ``due`` from the
  worker's **watermark**: the newest ``ingest_ts`` the worker has read on the
  call's partition (from any call), mapped onto the call's event time
  (``clock + watermark − ingest time of the record that set the clock``). A
  nudger that lags reads old records, so its watermark — and every quiet
  call's time — advances only as fast as it catches up, exactly as the replay
  would; a timer instant is ticked only ``MARGIN_S`` behind the watermark, so
  ordinary jitter in the ingest delay cannot let it overtake the call's next
  record. With nothing left to read, the watermark moves on with the wall
  clock after ``IDLE_S`` (``Watermarks``): quiet calls' timers still fire
  when nothing more comes.

``replay`` uses ``feed`` and ``catch_up`` too, so live and replay tick at the
same instants.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from services.nudger.engine import step, tick
from services.nudger.memory import CallMemory, new_memory

if TYPE_CHECKING:  # pragma: no cover
    from services.nudger.rules import Rules
    from shared.schemas import Nudge

TICK_S = 1.0
MARGIN_S = 0.5
IDLE_S = 0.5


def moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _instant(mem: CallMemory, k: int) -> float:
    assert mem.clock is not None
    return mem.clock + k * TICK_S


def catch_up(mem: CallMemory, until: float, rules: Rules) -> list[Nudge]:
    """Tick the call at its tick instants before ``until`` that were not ticked yet."""
    out: list[Nudge] = []
    if mem.clock is None:
        return out
    k = 1
    if mem.ticked_until is not None and mem.ticked_until >= _instant(mem, 1):
        k = round((mem.ticked_until - mem.clock) / TICK_S) + 1
    while (t := _instant(mem, k)) < until:
        mem, nudges = tick(mem, moment(t), rules)
        out += nudges
        mem.ticked_until = t
        k += 1
    return out


def ingest_epoch(item: Any) -> float:
    """When the record entered Heartline (its ``ts`` for a record without ``ingest_ts``)."""
    ts = getattr(item, "ingest_ts", None) or item.ts
    return float(ts.timestamp())


def feed(mem: CallMemory | None, item: Any, rules: Rules) -> tuple[CallMemory, list[Nudge]]:
    """Apply one record of a call at its event time, after the ticks that come before it."""
    ts = float(item.ts.timestamp())
    out = catch_up(mem, ts, rules) if mem is not None else []
    if mem is None:
        mem = new_memory(item.call_id)
    if mem.clock is None or ts > mem.clock:
        mem.clock, mem.clock_ingest = ts, ingest_epoch(item)
    mem, nudges = step(mem, item, moment(mem.clock), rules)
    return mem, out + nudges


def due(mem: CallMemory, watermark: float | None, rules: Rules) -> list[Nudge]:
    """A call between records: tick what the watermark says has passed in its time."""
    if watermark is None or mem.clock is None or mem.clock_ingest is None or mem.parked:
        return []  # parked records come first: they are the call's next events
    return catch_up(mem, mem.clock + (watermark - mem.clock_ingest) - MARGIN_S, rules)


class Watermarks:
    """Per input topic and partition: the newest ingest time read, when (wall clock), and the
    next offset. A partition's watermark is the least of its topics' (the nudger reads analyses
    and lifecycle events from two topics, interleaved: the one read further must not pull a
    call's time past a record still waiting on the other). A topic partition with nothing new
    for ``IDLE_S`` and nothing left to read moves on with the wall clock from its newest record
    (the pipeline's delay at that read kept, so a lagging upstream does not make quiet calls'
    time run ahead); one with records waiting does not."""

    def __init__(self, topics: tuple[str, ...], now: float) -> None:
        self.topics = topics
        self.seen: dict[tuple[str, int], tuple[float | None, float, int | None]] = {}
        self.since = now

    def saw(self, topic: str, partition: int, ingest: float, offset: int, now: float) -> None:
        newest, _, _ = self.seen.get((topic, partition), (None, now, None))
        self.seen[(topic, partition)] = (ingest if newest is None else max(newest, ingest), now, offset + 1)

    def reset(self, now: float) -> None:
        """After a rebalance: nothing known about any partition since ``now``."""
        self.seen.clear()
        self.since = now

    def now(self, partition: int, wall: float, caught_up: Callable[[str, int, int | None], bool]) -> float | None:
        """The partition's watermark (ingest time), or None while nothing says how far it got.
        ``caught_up(topic, partition, next offset read or None)``: nothing left to read there."""
        marks = []
        for topic in self.topics:
            newest, at, position = self.seen.get((topic, partition), (None, self.since, None))
            idle = wall - at - IDLE_S
            if idle > 0 and caught_up(topic, partition, position):
                marks.append(wall - IDLE_S if newest is None else newest + idle)
            elif newest is None:
                return None
            else:
                marks.append(newest)
        return min(marks)
