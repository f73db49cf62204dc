"""timely_response — 关注: timely feedback.

A customer's substantive final (``min_customer_chars``) and then agent silence
(backchannels don't count) for ``silence_s``. Not on hold, and not within
``checking_max_s`` of the agent saying they are checking (silence is then
expected). Closed by agent speech past the customer's end, or by the customer
going on. Another card for the same turn does not replace it: it waits
``card_gap_s`` after that card, so long dead air always reaches the agent.
"""

from __future__ import annotations

from services.nudger.needs import drop_needs, open_need
from services.nudger.registry import HOLD_STARTED, SPEECH, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import is_backchannel, quote
from shared import nudge_types as T


@detector(
    T.TIMELY_RESPONSE,
    on=SPEECH,
    thresholds={
        "silence_s": Threshold(7, "customer finished, agent silent this long", ge=1),
        "min_customer_chars": Threshold(5, '"嗯" / "好的" need no answer'),
        "checking_max_s": Threshold(60, "after 我查一下 silence is expected this long"),
    },
)
def silence(ctx: Ctx, spec: RuleSpec) -> None:
    mem, seg = ctx.mem, ctx.seg
    assert seg is not None  # SPEECH always brings its segment
    # answered (agent speech running past the customer's end), or the customer went on
    for need in [n for n in mem.needs if n.type == T.TIMELY_RESPONSE]:
        if (seg.speaker == "agent" and seg.end_ms > need.after_ms and not is_backchannel(seg.text)) or (
            seg.speaker == "customer" and seg.start_ms >= need.after_ms
        ):
            mem.needs.remove(need)
    if not ctx.became_final or seg.speaker != "customer":
        return
    if mem.state.on_hold or seg.chars < spec.t("min_customer_chars"):
        return
    if mem.checking_since is not None and ctx.now - mem.checking_since < spec.t("checking_max_s"):
        return  # the agent said they are checking: silence is expected
    if any(s.speaker == "agent" and s.end_ms > seg.end_ms for s in mem.segments):
        return  # the agent is already answering
    wait = spec.t("silence_s")
    ctx.out += open_need(
        mem,
        ctx.rules,
        T.TIMELY_RESPONSE,
        seg.seq,
        ctx.clock,
        f"客户说完已超过 {wait:g} 秒无回应 {quote(seg.text)}",
        trigger_seq=seg.seq,
        ingest_ts=ctx.ingest_ts,
        after_ms=seg.end_ms,
        grace_s=wait,
    )


@detector(T.TIMELY_RESPONSE, on=HOLD_STARTED)
def on_hold(ctx: Ctx, spec: RuleSpec) -> None:
    drop_needs(ctx.mem, T.TIMELY_RESPONSE)
