"""What a final customer utterance means for the agent, the wall and the supervisor."""

from __future__ import annotations

from datetime import datetime

from shared import cues as C
from shared.schemas import Nudge, UtteranceAnalysis
from services.nudger.detectors import NEGATIVE, content_chars, privacy
from services.nudger.memory import CallMemory
from services.nudger.needs import drop_needs, emit, open_need, quote
from services.nudger.rules import RiskWeights, Rules

TREND_LEN = 20
EWMA_ALPHA = 0.4


def risk_score(sentiment: float, emotion: str, emotion_score: float, angry_streak: int, streak_needed: int,
               asked_manager: bool, threat: bool, escalated: bool, w: RiskWeights) -> float:
    """How urgently a supervisor should look (0..1): a noisy-OR of independent signals."""
    signals = [
        w.negative_sentiment * max(0.0, min(1.0, (0.6 - sentiment) / 0.6)),
        {"anger": w.anger, "anxiety": w.anxiety, "sadness": w.sadness}.get(emotion, 0.0) * emotion_score,
        w.sustained_anger * min(1.0, angry_streak / max(1, streak_needed)),
        w.asks_for_manager if asked_manager else 0.0,
        w.complaint_threat if threat else 0.0,
        w.escalated if escalated else 0.0,
    ]
    calm = 1.0
    for s in signals:
        calm *= 1.0 - s
    return round(1.0 - calm, 3)


def update_risk(mem: CallMemory, rules: Rules) -> None:
    st = mem.state
    spec = rules.nudges.get("escalate_supervisor")
    needed = int(spec.t("angry_streak", 3)) if spec else 3
    score = 0.5 if st.emotion == "neutral" else 0.8
    st.risk = risk_score(st.sentiment, st.emotion, score, mem.angry_streak, needed, mem.asked_manager,
                         mem.threat, st.escalated, rules.risk)


def _escalate(mem, rules, a: UtteranceAnalysis, clock, why: str) -> list[Nudge]:
    mem.state.escalated = True
    n = emit(mem, rules, "escalate_supervisor", a.seq, clock,
             f"通话 {mem.state.call_id} {why} {quote(a.text)}", a.seq, a.ingest_ts)
    return [n] if n else []


def customer_final(mem: CallMemory, rules: Rules, a: UtteranceAnalysis, clock: datetime) -> list[Nudge]:
    st = mem.state
    now = clock.timestamp()
    cues = set(a.cues)
    chars = content_chars(a.text)
    mem.customer_finals += 1
    st.sentiment = round(EWMA_ALPHA * a.sentiment + (1 - EWMA_ALPHA) * st.sentiment, 4)
    st.sentiment_trend = (st.sentiment_trend + [st.sentiment])[-TREND_LEN:]
    if chars >= 2 or a.emotion != "neutral":
        st.emotion = a.emotion
    out = privacy(mem, rules, a, clock)
    kw = dict(trigger_seq=a.seq, ingest_ts=a.ingest_ts, after_ms=a.start_ms)

    # Supervisor: sustained anger, a manager asked for, a complaint threat.
    esc = rules.nudges.get("escalate_supervisor")
    anger_min = esc.t("anger_score", 0.6) if esc else 0.6
    if a.emotion == "anger" and a.emotion_score >= anger_min:
        mem.angry_streak += 1
    elif chars >= 4:
        mem.angry_streak = 0
    if C.COMPLAINT_THREAT in cues:
        mem.threat = True
        out += _escalate(mem, rules, a, clock, "客户威胁投诉")
    elif C.ASKS_FOR_MANAGER in cues:
        mem.asked_manager = True
        out += _escalate(mem, rules, a, clock, "客户要求找领导")
    elif esc and mem.angry_streak >= esc.t("angry_streak", 3):
        out += _escalate(mem, rules, a, clock, f"客户连续 {mem.angry_streak} 句愤怒")

    # Emotion feedback (理解): anger/anxiety/sadness, or urgency heard as anxiety.
    spec = rules.get("acknowledge_emotion")
    if spec:
        emotion = a.emotion if a.emotion in NEGATIVE and a.emotion_score >= spec.t("emotion_score", 0.6) else None
        if emotion is None and C.URGENCY in cues:
            emotion = "anxiety"
        if emotion:
            # An upset customer who also complains of waiting gets one card: the
            # emotion first, in wording that apologises for the wait (让您久等了).
            case = "waiting" if C.WAITING_COMPLAINT in cues and "waiting" in spec.cases else emotion
            score = a.emotion_score if emotion == a.emotion else spec.t("emotion_score", 0.6)
            out += open_need(mem, rules, "acknowledge_emotion", a.seq, clock,
                             f"客户情绪: {NEGATIVE[emotion]} {score:.2f} {quote(a.text)}", case=case, **kw)
    if C.WAITING_COMPLAINT in cues and not emotion:
        out += open_need(mem, rules, "thank_for_waiting", a.seq, clock, f"客户抱怨等待 {quote(a.text)}",
                         case="complaint", **kw)

    # Content feedback (关注 / 澄清需求).
    if C.REQUEST in cues:
        out += open_need(mem, rules, "confirm_request", a.seq, clock, f"客户提出诉求,请复述确认 {quote(a.text)}", **kw)
    guide = rules.get("guide_step_by_step")
    confused = C.CONFUSION in cues or (a.emotion == "confusion" and guide is not None
                                       and a.emotion_score >= guide.t("confusion_score", 0.6))
    senior = (st.customer.segment or "").lower() in {"senior", "elderly", "老年"}
    # Seniors: the agent first confirms the request, then guides; give them longer.
    guide_grace = guide.t("senior_grace_s", 20) if guide and senior else None
    if confused:
        out += open_need(mem, rules, "guide_step_by_step", a.seq, clock, f"客户表示不明白 {quote(a.text)}",
                         case="senior" if senior else "confused", grace_s=guide_grace, **kw)
    elif senior and C.REQUEST in cues:
        out += open_need(mem, rules, "guide_step_by_step", "senior", clock, f"老年客户办理业务 {quote(a.text)}",
                         case="senior", grace_s=guide_grace, **kw)
    if C.SUGGESTION in cues:
        out += open_need(mem, rules, "affirm_customer", a.seq, clock, f"客户提出意见或建议 {quote(a.text)}", **kw)

    # Winding down (人性化: standard closing phrases).
    closing = rules.get("closing_check")
    if cues & {C.REQUEST, C.CONFUSION}:
        drop_needs(mem, "closing_check")  # business goes on
    elif closing and C.NOTHING_ELSE in cues:
        out += open_need(mem, rules, "closing_check", a.seq, clock, f"客户表示没有其他问题 {quote(a.text)}", **kw)
    elif (closing and C.GRATITUDE in cues and chars <= closing.t("thanks_max_chars", 12)
          and st.started_ts is not None and now - st.started_ts.timestamp() >= closing.t("min_call_s", 45)):
        out += open_need(mem, rules, "closing_check", a.seq, clock, f"客户致谢,通话即将结束 {quote(a.text)}",
                         grace_s=closing.t("thanks_grace_s", 10), **kw)
    update_risk(mem, rules)
    return out
