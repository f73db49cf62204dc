"""confirm_request — 理解: clarify the need. A customer request the agent does not restate.

A customer who then says they need nothing else (``nothing_else``: 没有了 / 就这些)
has closed their requests: an earlier one still waiting for its restatement is
dropped (a card asking "您是想……对吗" as the agent says goodbye helps no one).
"""

from __future__ import annotations

from services.nudger.needs import open_turn_need
from services.nudger.registry import CUSTOMER_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(T.CONFIRM_REQUEST, on=CUSTOMER_FINAL)
def request(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.NOTHING_ELSE in a.cues:  # 没有了: no request is left to restate
        ctx.mem.needs = [n for n in ctx.mem.needs if n.type != T.CONFIRM_REQUEST or n.trigger_seq == a.seq]
    if C.REQUEST in a.cues:
        ctx.out += open_turn_need(
            ctx.mem, ctx.rules, T.CONFIRM_REQUEST, a, ctx.clock, f"客户提出诉求,请复述确认 {quote(a.text)}"
        )
