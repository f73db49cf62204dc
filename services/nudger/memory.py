"""What the nudge engine remembers about one call.

``CallMemory`` is what the nudger keeps per call and writes to its changelog, so it is a plain
pydantic model that round-trips through JSON (``model_dump(mode="json")`` /
``model_validate``): times are epoch seconds (floats), lists are bounded.
``state`` is the public wall tile; everything else is the engine's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, Field

from shared.schemas import CallState

MAX_SEGMENTS = 24  # recent speech segments kept for overlap/response timing
MAX_KEYS = 400  # remembered analysed finals / fired nudge ids / handled needs


class Segment(BaseModel):
    """One speech segment (one seq) as far as we know it: partials grow ``end_ms``."""

    seq: int
    speaker: str
    start_ms: int
    end_ms: int
    final: bool = False
    chars: int = 0
    text: str = ""  # PII-masked text of the latest version (for reasons)


class Need(BaseModel):
    """An open need: fires at ``due_at`` unless the agent meets it first."""

    type: str
    key: str  # trigger key for the nudge id (seq or timer key)
    case: str = ""  # wording case
    opened_at: float
    due_at: float
    max_at: float  # latest moment, even while the agent is mid-sentence
    after_ms: int = 0  # agent speech that starts after this answers the trigger
    trigger_seq: int | None = None
    reason: str
    ingest_ts: datetime | None = None


class Parked(BaseModel):
    """A record that reached the nudger before the call's earlier record it follows
    (services/nudger/order.py), as the nudger may hold it (admitted, JSON)."""

    kind: str  # "analysis" or "event"
    record: str  # UtteranceAnalysis or admitted CallEvent, JSON
    partition: int  # its stt-events position ...
    offset: int
    after: int  # ... and that of the record it waits for (same partition)
    since: float  # wall clock epoch s when it was parked


class CallMemory(BaseModel):
    """Everything the engine remembers about one call (a changelog value)."""

    state: CallState
    base_ts: float | None = None  # epoch s of call start (or first event seen)
    segments: list[Segment] = Field(default_factory=list)
    analysed_finals: list[int] = Field(default_factory=list)
    fired: list[str] = Field(default_factory=list)  # nudge ids already sent
    handled: list[str] = Field(default_factory=list)  # need keys opened once already
    needs: list[Need] = Field(default_factory=list)
    last_fired: dict[str, float] = Field(default_factory=dict)  # type -> epoch s
    met_until: dict[str, float] = Field(default_factory=dict)  # type -> epoch s (ack tracking)
    wording_index: dict[str, int] = Field(default_factory=dict)
    angry_streak: int = 0
    threat: bool = False
    asked_manager: bool = False
    hold_started_at: float | None = None
    hold_asked_at: float | None = None  # last time the agent asked before holding
    hold_ended_at: float | None = None
    checking_since: float | None = None  # agent said 我查一下 and has not spoken since
    checking_end_ms: int = 0  # … in the segment ending here
    customer_finals: int = 0
    # The customer's own words that said they are elderly (redacted, ≤ 16 characters; '': not
    # heard): a senior the CTI record does not mark (guide_step_by_step). Kept for the call.
    senior_said: str = ""
    # Detectors' own small numbers, keyed "<type>.<name>" (e.g. acknowledge_emotion.since_ack):
    # a new detector keeps its state here without a new field.
    marks: dict[str, float] = Field(default_factory=dict)
    # The call's event time (services/nudger/clock.py): the latest record's ts, the ingest time of
    # the record that set it (maps the worker's watermark onto the call), the last timer tick.
    clock: float | None = None
    clock_ingest: float | None = None
    ticked_until: float | None = None
    # The order of the call's records across the nudger's two inputs (services/nudger/order.py):
    # the stt-events position of the latest record applied, and records waiting for theirs.
    src_partition: int | None = None
    src_offset: int = -1
    parked: list[Parked] = Field(default_factory=list)


def new_memory(call_id: str) -> CallMemory:
    return CallMemory(state=CallState(call_id=call_id))


V = TypeVar("V")


def remember(items: list[V], value: V, limit: int = MAX_KEYS) -> list[V]:
    """Append to a bounded list (oldest dropped)."""
    items.append(value)
    if len(items) > limit:
        del items[: len(items) - limit]
    return items
