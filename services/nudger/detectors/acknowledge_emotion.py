"""acknowledge_emotion — 理解: emotion feedback.

A customer final with anger / anxiety / sadness at ``emotion_score`` or more
opens a need the agent meets with empathy words. Once met (or nudged), the
need stays quiet for ``ack_window_s`` / ``cooldown_s`` — unless the customer
comes back upset: ``renew_turns`` more upset finals with no new
acknowledgement from the agent reopen it (renewed anger after a brief
apology deserves a second prompt; ``max_per_call`` bounds them).
"""

from __future__ import annotations

from services.nudger.needs import is_met, open_turn_need, reopen
from services.nudger.registry import AGENT_FINAL, AGENT_PARTIAL, CUSTOMER_FINAL, Ctx, Threshold, detector
from services.nudger.rules import RuleSpec
from services.nudger.speech import quote
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

NEGATIVE = {"anger": "愤怒", "anxiety": "焦虑", "sadness": "难过"}
SINCE = "acknowledge_emotion.upset_since_ack"  # upset customer finals since the last acknowledgement
LAST = "acknowledge_emotion.last_upset_at"  # epoch s of the last one


@detector(
    T.ACKNOWLEDGE_EMOTION,
    on=CUSTOMER_FINAL,
    cases=(*NEGATIVE, "waiting"),
    thresholds={
        "emotion_score": Threshold(0.6, "analyzer confidence for anger / anxiety / sadness", le=1),
        "renew_turns": Threshold(
            2, "upset customer finals after an acknowledgement or a nudge that reopen the need", ge=1
        ),
    },
)
def upset_customer(ctx: Ctx, spec: RuleSpec) -> None:
    a: UtteranceAnalysis = ctx.item
    mem = ctx.mem
    emotion = a.emotion if a.emotion in NEGATIVE and a.emotion_score >= spec.t("emotion_score") else None
    if emotion is None:  # urgency without a feeling word is reassure_urgency's
        return
    now = ctx.now
    fired = mem.last_fired.get(T.ACKNOWLEDGE_EMOTION)
    upset = mem.marks.get(SINCE, 0)
    if fired is not None and fired > mem.marks.get(LAST, float("-inf")):
        upset = 0  # nudged since the last upset turn: count from the nudge
    upset += 1
    mem.marks[SINCE], mem.marks[LAST] = upset, now
    quiet = is_met(mem, T.ACKNOWLEDGE_EMOTION, now) or (fired is not None and now - fired < spec.cooldown_s)
    if quiet and upset >= spec.t("renew_turns"):
        reopen(mem, T.ACKNOWLEDGE_EMOTION)  # upset again since the agent's acknowledgement or the nudge
    # An upset customer who also complains of waiting gets one card: the emotion first,
    # in wording that apologises for the wait (让您久等了); it covers thank_for_waiting.
    case = "waiting" if C.WAITING_COMPLAINT in a.cues and "waiting" in spec.cases else emotion
    score = a.emotion_score if emotion == a.emotion else spec.t("emotion_score")
    ctx.out += open_turn_need(
        mem,
        ctx.rules,
        T.ACKNOWLEDGE_EMOTION,
        a,
        ctx.clock,
        f"客户情绪: {NEGATIVE[emotion]} {score:.2f} {quote(a.text)}",
        case=case,
    )


@detector(T.ACKNOWLEDGE_EMOTION, on=(AGENT_PARTIAL, AGENT_FINAL))
def acknowledged(ctx: Ctx, spec: RuleSpec) -> None:
    """The agent acknowledged (or the nudge went out): count renewed upset from here."""
    by = spec.satisfied_by
    if any(c in by for c in ctx.item.cues):
        ctx.mem.marks[SINCE] = 0
