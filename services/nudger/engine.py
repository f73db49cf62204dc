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

The memory passed in is updated in place and returned.
"""

from __future__ import annotations

from datetime import datetime

from shared.schemas import (
    CallEnded,
    CallStarted,
    HoldEnded,
    HoldStarted,
    Nudge,
    Utterance,
    UtteranceAnalysis,
)
from services.nudger.customer import customer_final, risk_score, update_risk
from services.nudger.detectors import agent_analysis, mask, offset_ms, privacy, timer_key, update_segment
from services.nudger.memory import CallMemory, new_memory, remember
from services.nudger.needs import drop_needs, fire_due, fire_need, open_need
from services.nudger.rules import Rules

__all__ = ["CallMemory", "new_memory", "step", "tick", "risk_score"]


def step(mem: CallMemory | None, item, clock: datetime, rules: Rules) -> tuple[CallMemory, list[Nudge]]:
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
        out += _hold_started(mem, rules, item, clock)
    elif isinstance(item, HoldEnded):
        out += _hold_ended(mem, rules, item, clock)
    elif isinstance(item, CallEnded):
        return mem, _call_ended(mem, rules, item, clock)
    elif isinstance(item, Utterance):
        out += update_segment(mem, rules, item.seq, item.speaker, item.start_ms, item.end_ms, mask(item.text),
                              item.is_final, clock, item.ingest_ts or item.ts)
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


def _analysis(mem: CallMemory, rules: Rules, a: UtteranceAnalysis, clock: datetime) -> list[Nudge]:
    if a.is_final and a.seq in mem.analysed_finals:
        return []  # redelivered final: judged once already
    out = update_segment(mem, rules, a.seq, a.speaker, a.start_ms, a.end_ms, a.text, a.is_final, clock, a.ingest_ts)
    if a.is_final:
        remember(mem.analysed_finals, a.seq)
    if mem.state.ended_ts is not None:
        return []
    if a.speaker == "agent":
        out += agent_analysis(mem, rules, a, clock)
    elif a.is_final:
        out += customer_final(mem, rules, a, clock)
    else:
        out += privacy(mem, rules, a, clock)
    return out


def _hold_started(mem: CallMemory, rules: Rules, ev: HoldStarted, clock: datetime) -> list[Nudge]:
    st, now = mem.state, clock.timestamp()
    if st.on_hold:
        return []  # redelivered
    st.on_hold, mem.hold_started_at = True, now
    drop_needs(mem, "timely_response")
    spec = rules.get("offer_hold_wording")
    if spec is None:
        return []
    pending = next((n for n in mem.needs if n.type == "offer_hold_wording"), None)
    asked = mem.hold_asked_at is not None and now - mem.hold_asked_at <= spec.t("hold_ask_window_s", 60)
    if asked:
        drop_needs(mem, "offer_hold_wording")
        return []
    if pending is not None:  # 我查一下 and straight into hold: no time left to ask
        n = fire_need(mem, rules, pending, clock)
        return [n] if n else []
    return open_need(mem, rules, "offer_hold_wording", timer_key(mem, ev.ts), clock,
                     "开始保持前未征询客户是否方便等待", ingest_ts=ev.ingest_ts or ev.ts, case="hold_started",
                     grace_s=0)


def _hold_ended(mem: CallMemory, rules: Rules, ev: HoldEnded, clock: datetime) -> list[Nudge]:
    st, now = mem.state, clock.timestamp()
    if not st.on_hold:
        return []
    st.on_hold, mem.hold_ended_at = False, now
    held = now - (mem.hold_started_at or now)
    spec = rules.get("thank_for_waiting")
    if spec is None or held < spec.t("hold_s", 15):
        return []
    key = timer_key(mem, ev.ts)
    return open_need(mem, rules, "thank_for_waiting", key, clock, f"保持 {held:.0f} 秒后恢复通话,请先致谢等待",
                     ingest_ts=ev.ingest_ts or ev.ts, case="hold", after_ms=offset_ms(mem, clock) - 500)


def _call_ended(mem: CallMemory, rules: Rules, ev: CallEnded, clock: datetime) -> list[Nudge]:
    st = mem.state
    if st.ended_ts is not None:
        return []
    st.ended_ts, st.on_hold = ev.ts, False
    # The customer said 没有了 and the line dropped before any closing phrase:
    # record it now (coaching on the wall); every other open need dies with the call.
    out = []
    for need in [n for n in mem.needs if n.type == "closing_check"]:
        n = fire_need(mem, rules, need, clock)
        out += [n] if n else []
    mem.needs = []
    update_risk(mem, rules)
    return out

