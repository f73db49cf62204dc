"""affirm_customer — 认同: affirm opinions and suggestions. A customer ``suggestion`` the agent
does not affirm (phrases in ``satisfied_phrases``)."""

from __future__ import annotations

from services.nudger.needs import open_turn_need
from services.nudger.registry import CUSTOMER_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.AFFIRM_CUSTOMER, on=CUSTOMER_FINAL)
def suggestion(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.SUGGESTION in a.cues:
        ctx.out += open_turn_need(
            ctx.mem, ctx.rules, T.AFFIRM_CUSTOMER, a, ctx.clock, f"客户提出意见或建议 {quote(a.text)}"
        )
