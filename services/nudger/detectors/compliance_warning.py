"""compliance_warning — brokerage compliance. An agent final promising returns or tipping a stock
(finals only: a partial 保本 may become 不保本)."""

from __future__ import annotations

from services.nudger.needs import emit
from services.nudger.registry import AGENT_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.COMPLIANCE_WARNING, on=AGENT_FINAL)
def promise(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.PROMISE_RETURNS in a.cues:
        ctx.add(
            emit(
                ctx.mem,
                ctx.rules,
                T.COMPLIANCE_WARNING,
                a.seq,
                ctx.clock,
                f"违规承诺收益/荐股 {quote(a.text)}",
                a.seq,
                a.ingest_ts,
            )
        )
