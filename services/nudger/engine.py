"""The nudge engine: a pure state machine.

``step(memory, item, clock, rules) -> (memory, nudges)`` for each CallEvent or
UtteranceAnalysis of a call, and ``tick(memory, clock, rules)`` for timing
rules. No I/O: the live worker feeds it from Kafka with the wall clock, and
``heartline replay`` feeds it from a file with the events' own time.

What each input does:

- ``Utterance`` events (partials and finals) and ``UtteranceAnalysis``
  records both update the segment table (seq, speaker, start/end ms), which
  the timing rules read: the same final seen twice — as the event and as its
  analysis, or redelivered — changes nothing the second time.
- A final ``UtteranceAnalysis`` is judged once per seq (``analysed_finals``):
  sentiment, emotion and cues open needs or fire nudges.
- A partial analysis only *meets* needs (the agent is already saying the
  empathy words) and raises privacy alerts (long digit runs are no guess);
  emotion and wording nudges wait for the final, so a partial never fires a
  nudge the final would contradict.
- ``tick`` fires the needs whose grace ran out (timely response, emotion not
  acknowledged, request not restated …).

What is tracked about the call (segments, sentiment, anger streak, holds,
risk) is ``tracking``; what is nudged is decided by the detectors of
``services/nudger/detectors/``, each registered for the inputs it needs
(``registry``): the engine calls the detectors of an input in
``shared.nudge_types.NUDGER_ORDER``, skipping types the rules disable.

The memory passed in is updated in place and returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.nudger import tracking
from services.nudger.memory import CallMemory, new_memory, remember
from services.nudger.needs import fire_due, satisfy
from services.nudger.registry import (
    AGENT_FINAL,
    AGENT_PARTIAL,
    CALL_ENDED,
    CUSTOMER_FINAL,
    CUSTOMER_PARTIAL,
    HOLD_ENDED,
    HOLD_STARTED,
    SPEECH,
    Ctx,
    Detector,
    handlers,
    tables,
)
from services.nudger.rules import Rules, RuleSpec
from services.nudger.speech import mask
from services.nudger.tracking import risk_score
from shared.schemas import (
    CallEnded,
    CallEvent,
    CallStarted,
    HoldEnded,
    HoldStarted,
    Nudge,
    Utterance,
    UtteranceAnalysis,
)

__all__ = ["CallMemory", "new_memory", "risk_score", "step", "tick"]


def _table(rules: Rules, input_kind: str) -> tuple[tuple[Detector, RuleSpec], ...]:
    """``(fn, spec)`` of the detectors for one input whose type the rules configure (cached per rules
    object, ``registry.tables``; ``spec.enabled`` is read per call, so a switched-off type stops at once)."""
    cache = tables(rules)
    found: tuple[tuple[Detector, RuleSpec], ...] | None = cache.get(input_kind)
    if found is None:
        found = tuple(
            (fn, spec) for nudge_type, fn in handlers(input_kind) if (spec := rules.nudges.get(nudge_type)) is not None
        )
        cache[input_kind] = found
    return found


def _run(mem: CallMemory, rules: Rules, clock: datetime, input_kind: str, item: object, **speech: Any) -> list[Nudge]:
    table = _table(rules, input_kind)
    if not table:
        return []
    ctx = Ctx(mem, rules, clock, input_kind, item, **speech)
    for fn, spec in table:
        if spec.enabled:
            fn(ctx, spec)
    return ctx.out


def step(
    mem: CallMemory | None, item: CallEvent | UtteranceAnalysis, clock: datetime, rules: Rules
) -> tuple[CallMemory, list[Nudge]]:
    """Feed one CallEvent or UtteranceAnalysis of one call."""
    mem = mem if mem is not None else new_memory(item.call_id)
    st = mem.state
    st.last_update_ts = clock
    if mem.base_ts is None:
        # a call first seen mid-way (no call_started): an utterance's ts is its end
        mem.base_ts = item.ts.timestamp() - getattr(item, "end_ms", 0) / 1000
    out: list[Nudge] = []
    if isinstance(item, CallStarted):
        st.agent_id, st.customer, st.started_ts = item.agent_id, item.customer, item.ts
        mem.base_ts = item.ts.timestamp()
    elif isinstance(item, HoldStarted):
        if not st.on_hold:  # else redelivered
            st.on_hold, mem.hold_started_at = True, clock.timestamp()
            out += _run(mem, rules, clock, HOLD_STARTED, item)
    elif isinstance(item, HoldEnded):
        if st.on_hold:
            st.on_hold, mem.hold_ended_at = False, clock.timestamp()
            out += _run(mem, rules, clock, HOLD_ENDED, item)
    elif isinstance(item, CallEnded):
        return mem, _call_ended(mem, rules, item, clock)
    elif isinstance(item, Utterance):
        out += _speech(mem, rules, item, mask(item.text), clock)
    elif isinstance(item, UtteranceAnalysis):
        out += _analysis(mem, rules, item, clock)
    if st.ended_ts is not None:
        return mem, []
    out += fire_due(mem, rules, clock)
    return mem, out


def tick(mem: CallMemory, clock: datetime, rules: Rules) -> tuple[CallMemory, list[Nudge]]:
    """Timing rules: fire needs whose grace ran out. Cheap; call about once a second per live call."""
    if mem.state.ended_ts is not None or not mem.needs:
        return mem, []
    return mem, fire_due(mem, rules, clock)


def _speech(
    mem: CallMemory, rules: Rules, item: Utterance | UtteranceAnalysis, text: str, clock: datetime
) -> list[Nudge]:
    seg, new, became_final = tracking.segment(
        mem, item.seq, item.speaker, item.start_ms, item.end_ms, text, item.is_final
    )
    return _run(mem, rules, clock, SPEECH, item, seg=seg, new_segment=new, became_final=became_final)


def _analysis(mem: CallMemory, rules: Rules, a: UtteranceAnalysis, clock: datetime) -> list[Nudge]:
    if a.is_final and a.seq in mem.analysed_finals:
        return []  # redelivered final: judged once already
    out = _speech(mem, rules, a, a.text, clock)
    if a.is_final:
        remember(mem.analysed_finals, a.seq)
    if mem.state.ended_ts is not None:
        return []
    if a.speaker == "agent":
        now = clock.timestamp()
        satisfy(mem, rules, a.cues, a.text, now)
        tracking.agent_analysis(mem, a, now)
        out += _run(mem, rules, clock, AGENT_FINAL if a.is_final else AGENT_PARTIAL, a)
    elif a.is_final:
        tracking.customer_final(mem, rules, a)
        out += _run(mem, rules, clock, CUSTOMER_FINAL, a)
        tracking.update_risk(mem, rules)
    else:
        out += _run(mem, rules, clock, CUSTOMER_PARTIAL, a)
    return out


def _call_ended(mem: CallMemory, rules: Rules, ev: CallEnded, clock: datetime) -> list[Nudge]:
    st = mem.state
    if st.ended_ts is not None:
        return []
    st.ended_ts, st.on_hold = ev.ts, False
    # Detectors may flush what the end makes final (closing_check: 没有了 and the line
    # dropped); every other open need dies with the call.
    out = _run(mem, rules, clock, CALL_ENDED, ev)
    mem.needs = []
    tracking.update_risk(mem, rules)
    return out
