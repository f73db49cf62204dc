"""closing_check — 人性化: standard closing phrases.

Opens on ``nothing_else`` (没有了), or on a short thanks (≤ ``thanks_max_chars``)
after ``min_call_s`` of the call (grace ``thanks_grace_s``: a bare 谢谢 is weaker
evidence). Dropped if the customer goes on with business. If the call ends
while it is open, it fires at ``call_ended`` so the miss is on record.
"""

from __future__ import annotations

from services.nudger.needs import drop_needs, fire_need, open_turn_need
from services.nudger.registry import CALL_ENDED, CUSTOMER_FINAL, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import content_chars, quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(
    T.CLOSING_CHECK,
    on=CUSTOMER_FINAL,
    thresholds={
        "thanks_grace_s": Threshold(10, "a bare 谢谢 is a weaker sign than 没有了"),
        "thanks_max_chars": Threshold(12, "longer thanks usually carry more business"),
        "min_call_s": Threshold(45, "thanks in the first seconds is politeness, not goodbye"),
    },
)
def winding_down(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    mem = ctx.mem
    cues = set(a.cues)
    st = mem.state
    if cues & {C.REQUEST, C.CONFUSION}:
        drop_needs(mem, T.CLOSING_CHECK)  # business goes on
    elif C.NOTHING_ELSE in cues:
        ctx.out += open_turn_need(
            mem, ctx.rules, T.CLOSING_CHECK, a, ctx.clock, f"客户表示没有其他问题 {quote(a.text)}"
        )
    elif (
        C.GRATITUDE in cues
        and content_chars(a.text) <= spec.t("thanks_max_chars")
        and st.started_ts is not None
        and ctx.now - st.started_ts.timestamp() >= spec.t("min_call_s")
    ):
        ctx.out += open_turn_need(
            mem,
            ctx.rules,
            T.CLOSING_CHECK,
            a,
            ctx.clock,
            f"客户致谢,通话即将结束 {quote(a.text)}",
            grace_s=spec.t("thanks_grace_s"),
        )


@detector(T.CLOSING_CHECK, on=CALL_ENDED)
def call_ended(ctx: Ctx, spec: RuleSpec) -> None:
    """没有了 → 嗯 → hang-up: record the miss now (coaching on the wall)."""
    for need in [n for n in ctx.mem.needs if n.type == T.CLOSING_CHECK]:
        ctx.add(fire_need(ctx.mem, ctx.rules, need, ctx.clock))
