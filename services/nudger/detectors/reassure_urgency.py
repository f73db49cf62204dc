"""reassure_urgency — 关注 / 理解: an urgent customer needs to hear that it is being handled now.

A customer final with the ``urgency`` cue (马上收盘了 / 来不及了 / 急用钱 / 赶紧): the
agent has ``grace_s`` to say they act now and, where they can, by when
(我马上帮您处理 / 收盘前来得及 / 两分钟内给您结果) — ``satisfied_phrases``. Soothing
alone (您别着急) does not meet it: an urgent customer is calmed by action and a
time. Its card covers ``acknowledge_emotion`` of the same turn (its wordings
soothe too). ``market`` case when the deadline is the market's (收盘 / 开盘 /
集合竞价), so the wording can speak of the close.
"""

from __future__ import annotations

import re

from services.nudger.needs import open_turn_need
from services.nudger.registry import CUSTOMER_FINAL, Ctx, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

_MARKET = re.compile(r"收盘|开盘|闭市|集合竞价|停牌|交易时间|今天(?:之内|截止)")


@detector(T.REASSURE_URGENCY, on=CUSTOMER_FINAL, cases=("market",))
def urgent(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if C.URGENCY not in a.cues:
        return
    case = "market" if _MARKET.search(a.text) else ""
    ctx.out += open_turn_need(
        ctx.mem,
        ctx.rules,
        T.REASSURE_URGENCY,
        a,
        ctx.clock,
        f"客户情况紧急,请明确告知马上处理 {quote(a.text)}",
        case=case,
    )
