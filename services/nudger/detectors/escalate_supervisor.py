"""escalate_supervisor — the supervisor's alert: a complaint threat, a manager asked for,
or several angry customer turns in a row (the streak is kept by ``tracking``)."""

from __future__ import annotations

from services.nudger.needs import emit
from services.nudger.registry import CUSTOMER_FINAL, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis


@detector(
    T.ESCALATE_SUPERVISOR,
    on=CUSTOMER_FINAL,
    thresholds={
        "angry_streak": Threshold(3, "consecutive angry customer finals", ge=1),
        "anger_score": Threshold(0.6, "analyzer anger score that counts for the streak", le=1),
    },
)
def escalate(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    mem = ctx.mem
    if C.COMPLAINT_THREAT in a.cues:
        why = "客户威胁投诉"
    elif C.ASKS_FOR_MANAGER in a.cues:
        why = "客户要求找领导"
    elif mem.angry_streak >= spec.t("angry_streak"):
        why = f"客户连续 {mem.angry_streak} 句愤怒"
    else:
        return
    mem.state.escalated = True
    ctx.add(
        emit(
            mem,
            ctx.rules,
            T.ESCALATE_SUPERVISOR,
            a.seq,
            ctx.clock,
            f"通话 {mem.state.call_id} {why} {quote(a.text)}",
            a.seq,
            a.ingest_ts,
        )
    )
