"""offer_hold_wording — 人性化: ask before making the customer wait.

1. The agent says ``hold_intent`` (我查一下) without ``hold_asked`` and goes quiet
   (grace); talking on closes the need — the customer never waited.
2. A hold starts with no ask within ``hold_ask_window_s``: fires at once (with
   the pending 我查一下 need, if any).
"""

from __future__ import annotations

from services.nudger.needs import drop_needs, fire_need, open_need
from services.nudger.registry import AGENT_FINAL, HOLD_STARTED, SPEECH, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import is_backchannel, quote, timer_key
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.OFFER_HOLD_WORDING, on=AGENT_FINAL, cases=("checking", "hold_started"))
def checking(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.HOLD_INTENT in a.cues and C.HOLD_ASKED not in a.cues:
        ctx.out += open_need(
            ctx.mem,
            ctx.rules,
            T.OFFER_HOLD_WORDING,
            a.seq,
            ctx.clock,
            f"坐席准备查询,未征询客户是否方便等待 {quote(a.text)}",
            trigger_seq=a.seq,
            ingest_ts=a.ingest_ts,
            case="checking",
            after_ms=a.end_ms,
        )


@detector(T.OFFER_HOLD_WORDING, on=SPEECH)
def talks_on(ctx: Ctx, spec: RuleSpec) -> None:
    """我查一下 … and the agent talks on: the customer was never left waiting."""
    seg, needs = ctx.seg, ctx.mem.needs
    assert seg is not None  # SPEECH always brings its segment
    if seg.speaker != "agent" or not needs:
        return
    for n in [
        n for n in needs if n.type == T.OFFER_HOLD_WORDING and n.case == "checking" and seg.start_ms > n.after_ms
    ]:
        if is_backchannel(seg.text):
            return
        needs.remove(n)


@detector(
    T.OFFER_HOLD_WORDING,
    on=HOLD_STARTED,
    thresholds={
        "hold_ask_window_s": Threshold(60, "an ask this recent covers a hold that starts now"),
    },
)
def hold_started(ctx: Ctx, spec: RuleSpec) -> None:
    mem = ctx.mem
    if mem.hold_asked_at is not None and ctx.now - mem.hold_asked_at <= spec.t("hold_ask_window_s"):
        drop_needs(mem, T.OFFER_HOLD_WORDING)
        return
    pending = next((n for n in mem.needs if n.type == T.OFFER_HOLD_WORDING), None)
    if pending is not None:  # 我查一下 and straight into hold: no time left to ask
        ctx.add(fire_need(mem, ctx.rules, pending, ctx.clock))
        return
    ctx.out += open_need(
        mem,
        ctx.rules,
        T.OFFER_HOLD_WORDING,
        timer_key(mem, ctx.item.ts),
        ctx.clock,
        "开始保持前未征询客户是否方便等待",
        ingest_ts=ctx.ingest_ts,
        case="hold_started",
        grace_s=0,
    )
