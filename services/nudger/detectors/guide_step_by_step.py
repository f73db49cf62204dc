"""guide_step_by_step — 人性化: guide the confused and the elderly step by step.

- ``confused``: a ``confusion`` cue or confusion ≥ ``confusion_score``;
- ``senior``: ``customer.segment`` is senior; opens once per call at the first
  request (or confusion). Seniors get ``senior_grace_s``: the right order with
  a senior is confirm the request, then guide.

Met by ``step_guidance``. An agent who answers the turn — not a restatement,
not a backchannel — without guiding has shown how they answer: the need is due
``answered_s`` after that answer instead of waiting out the grace.
"""

from __future__ import annotations

from services.nudger.needs import open_turn_need
from services.nudger.registry import AGENT_FINAL, CUSTOMER_FINAL, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import content_chars, quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

SENIOR = {"senior", "elderly", "老年"}
NOT_AN_ANSWER = {C.REQUEST_RESTATED, C.STEP_GUIDANCE, C.HOLD_INTENT, C.HOLD_ASKED}


def is_senior(ctx: Ctx) -> bool:
    return (ctx.mem.state.customer.segment or "").lower() in SENIOR


@detector(
    T.GUIDE_STEP_BY_STEP,
    on=CUSTOMER_FINAL,
    cases=("confused", "senior"),
    thresholds={
        "confusion_score": Threshold(0.6, "analyzer confidence for confusion", le=1),
        "senior_grace_s": Threshold(20, "seniors: confirm the request first, then guide"),
        "answered_s": Threshold(1.5, "due this long after an agent answer that does not guide"),
    },
)
def confused_or_senior(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    confused = C.CONFUSION in a.cues or (a.emotion == "confusion" and a.emotion_score >= spec.t("confusion_score"))
    senior = is_senior(ctx)
    grace = spec.t("senior_grace_s") if senior else None
    if confused:
        ctx.out += open_turn_need(
            ctx.mem,
            ctx.rules,
            T.GUIDE_STEP_BY_STEP,
            a,
            ctx.clock,
            f"客户表示不明白 {quote(a.text)}",
            case="senior" if senior else "confused",
            grace_s=grace,
        )
    elif senior and C.REQUEST in a.cues:
        ctx.out += open_turn_need(
            ctx.mem,
            ctx.rules,
            T.GUIDE_STEP_BY_STEP,
            a,
            ctx.clock,
            f"老年客户办理业务 {quote(a.text)}",
            key="senior",
            case="senior",
            grace_s=grace,
        )


@detector(T.GUIDE_STEP_BY_STEP, on=AGENT_FINAL)
def answered_without_guiding(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    if NOT_AN_ANSWER & set(a.cues) or content_chars(a.text) < 6:
        return
    due = ctx.now + spec.t("answered_s")
    for need in ctx.mem.needs:
        if need.type == T.GUIDE_STEP_BY_STEP and a.start_ms >= need.after_ms and need.due_at > due:
            need.max_at -= need.due_at - due
            need.due_at = due
