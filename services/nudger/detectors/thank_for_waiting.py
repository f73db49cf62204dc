"""thank_for_waiting — 人性化: 感谢您的耐心等待 / 抱歉让您久等了.

Three triggers: a hold of ``hold_s`` or more ended; the agent speaks after
``silence_s`` of dead air without a hold — unless a ``timely_response`` card
already went out during that silence (the dead air had its card; a second
one for it, shown once the agent is talking again, is noise); the customer
complains of waiting.
"""

from __future__ import annotations

from services.nudger.needs import open_need, open_turn_need
from services.nudger.registry import CUSTOMER_FINAL, HOLD_ENDED, SPEECH, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import offset_ms, quote, timer_key
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

THRESHOLDS = {
    "hold_s": Threshold(15, "holds at least this long need thanks when they end"),
    "silence_s": Threshold(15, "dead air (no hold) this long, then the agent speaks"),
}


@detector(T.THANK_FOR_WAITING, on=HOLD_ENDED, thresholds=THRESHOLDS, cases=("hold", "silence", "complaint"))
def hold_ended(ctx: Ctx, spec: RuleSpec) -> None:
    mem = ctx.mem
    held = ctx.now - (mem.hold_started_at or ctx.now)
    if held < spec.t("hold_s"):
        return
    ctx.out += open_need(
        mem,
        ctx.rules,
        T.THANK_FOR_WAITING,
        timer_key(mem, ctx.item.ts),
        ctx.clock,
        f"保持 {held:.0f} 秒后恢复通话,请先致谢等待",
        ingest_ts=ctx.ingest_ts,
        case="hold",
        after_ms=offset_ms(mem, ctx.clock) - 500,
    )


@detector(T.THANK_FOR_WAITING, on=SPEECH)
def agent_resumes(ctx: Ctx, spec: RuleSpec) -> None:
    """Dead air (no hold) longer than ``silence_s``, then the agent speaks."""
    mem, seg = ctx.mem, ctx.seg
    assert seg is not None  # SPEECH always brings its segment
    if not ctx.new_segment or seg.speaker != "agent" or mem.state.on_hold:
        return
    earlier = [s.end_ms for s in mem.segments if s.seq != seg.seq and s.start_ms <= seg.start_ms]
    if not earlier:
        return
    gap_s = (seg.start_ms - max(earlier)) / 1000
    if gap_s < spec.t("silence_s") or (mem.hold_ended_at is not None and ctx.now - mem.hold_ended_at < gap_s + 5):
        return
    responded = mem.last_fired.get(T.TIMELY_RESPONSE)
    if responded is not None and ctx.now - responded < gap_s:
        return  # this silence already reached the agent ("respond"): one silence, one card
    ctx.out += open_need(
        mem,
        ctx.rules,
        T.THANK_FOR_WAITING,
        seg.seq,
        ctx.clock,
        f"静默 {gap_s:.0f} 秒后恢复通话,未致谢等待",
        trigger_seq=seg.seq,
        ingest_ts=ctx.ingest_ts,
        case="silence",
        after_ms=seg.start_ms,
    )


@detector(T.THANK_FOR_WAITING, on=CUSTOMER_FINAL)
def waiting_complaint(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.WAITING_COMPLAINT in a.cues:
        ctx.out += open_turn_need(
            ctx.mem, ctx.rules, T.THANK_FOR_WAITING, a, ctx.clock, f"客户抱怨等待 {quote(a.text)}", case="complaint"
        )
