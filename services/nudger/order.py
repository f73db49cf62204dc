"""A call's records in the call's order, although the nudger reads them from two topics.

The analyzer writes a call's analyses to ``utterance-analysis`` and forwards its
lifecycle events to ``call-events``, in the order of the call's ``stt-events``,
and stamps each with two record headers (``shared.topics``): ``heartline-src``,
the record's own position in stt-events (``<partition>:<offset>``), and
``heartline-after``, the position of the call's previous record it wrote. The
nudger's consumer interleaves the two topics freely, so without this a
``call_ended`` could overtake the analysis of the final said just before it
(and the final's nudges would be dropped as "after the end"), or a
``hold_started`` the agent's "请稍等" that asked for it.

So a record whose predecessor has not been applied yet is **parked** in the
call's memory (persisted with it: a worker that takes the call over finds it)
and applied right after its predecessor. A record without the headers (written
by something else, or by an analyzer that restarted and forgot the chain) is
applied at once; so is one whose predecessor lies in another partition. A
parked record still waiting after ``PARK_MAX_S`` of wall clock is applied
anyway (its predecessor is lost or will never come), in stt-events order.
"""

from __future__ import annotations

from typing import Any

from services.nudger.memory import CallMemory, Parked
from shared.topics import AFTER_HEADER, SRC_HEADER

PARK_MAX_S = 5.0
MAX_PARKED = 200  # a call's parked records (then the oldest are applied anyway)

Position = tuple[int, int]  # (partition, offset) in stt-events


def positions(headers: Any) -> tuple[Position | None, Position | None]:
    """(src, after) from a record's headers (aiokafka: a tuple of pairs; a list or a mapping also read)."""
    if not headers:
        return None, None
    items = headers.items() if hasattr(headers, "items") else headers
    src = after = None
    for name, value in items:
        if name == SRC_HEADER:
            src = _position(value)
        elif name == AFTER_HEADER:
            after = _position(value)
    return src, after


def _position(value: Any) -> Position | None:
    try:
        text = value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
        p, o = text.split(":", 1)
        return int(p), int(o)
    except (ValueError, UnicodeDecodeError):
        return None


def waits(mem: CallMemory | None, after: Position | None) -> bool:
    """Does a record that follows ``after`` have to wait for it?"""
    if after is None:
        return False
    if mem is None:
        return True  # nothing of the call applied yet: not even its predecessor
    if mem.src_partition is not None and mem.src_partition != after[0]:
        return False  # the call moved partitions (an outside producer): no order to keep
    return mem.src_offset < after[1]


def applied(mem: CallMemory, src: Position | None) -> None:
    """Note that the record from ``src`` was applied to the call."""
    if src is None:
        return
    if mem.src_partition != src[0]:
        mem.src_partition, mem.src_offset = src[0], src[1]
    elif src[1] > mem.src_offset:
        mem.src_offset = src[1]


def park(mem: CallMemory, kind: str, record: str, src: Position | None, after: Position, now: float) -> None:
    src = src or (after[0], after[1] + 1)
    mem.parked.append(Parked(kind=kind, record=record, partition=src[0], offset=src[1], after=after[1], since=now))
    mem.parked.sort(key=lambda p: p.offset)


def releasable(mem: CallMemory, now: float, force: bool = False) -> Parked | None:
    """The next parked record that may be applied now (None when none): one whose
    predecessor was applied, or — ``force``, or waiting over ``PARK_MAX_S``, or too many
    parked — the oldest in stt-events order."""
    if not mem.parked:
        return None
    for i, p in enumerate(mem.parked):
        if not waits(mem, (p.partition, p.after)):
            return mem.parked.pop(i)
    first = mem.parked[0]
    if force or len(mem.parked) > MAX_PARKED or now - first.since > PARK_MAX_S:
        return mem.parked.pop(0)
    return None
