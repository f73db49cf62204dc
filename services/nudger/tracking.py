"""What the engine keeps track of about a call, nudge or no nudge.

Speech segments and talk time, the customer's sentiment trend and emotion,
the anger streak, complaint threats, manager requests, holds, "I'm checking"
and the wall's risk score. Detectors (``services/nudger/detectors/``) read
these facts; only this module writes them.
"""

from __future__ import annotations

from services.nudger.memory import MAX_SEGMENTS, CallMemory, Segment
from services.nudger.rules import RiskWeights, Rules
from services.nudger.speech import content_chars
from shared import cues as C
from shared import nudge_types as T
from shared.schemas import UtteranceAnalysis

TREND_LEN = 20
EWMA_ALPHA = 0.4


def segment(
    mem: CallMemory, seq: int, speaker: str, start_ms: int, end_ms: int, text: str, final: bool
) -> tuple[Segment, bool, bool]:
    """Record what we know of a segment: ``(segment, first time seen, became final now)``."""
    seg = next((s for s in mem.segments if s.seq == seq), None)
    new = seg is None
    if seg is None:
        seg = Segment(seq=seq, speaker=speaker, start_ms=start_ms, end_ms=end_ms)
        mem.segments.append(seg)
        mem.segments.sort(key=lambda s: s.seq)
        if len(mem.segments) > MAX_SEGMENTS:
            keep = mem.segments[-MAX_SEGMENTS:]
            mem.segments = [s for s in mem.segments if not s.final and s not in keep] + keep
    was_final = seg.final
    seg.end_ms = max(seg.end_ms, end_ms)
    if final or not seg.final:
        seg.text, seg.chars = text, content_chars(text)
    seg.final = seg.final or final
    if speaker == "agent" and mem.checking_since is not None and seg.start_ms > mem.checking_end_ms:
        mem.checking_since = None  # the agent speaks again after 我查一下
    became_final = seg.final and not was_final
    if became_final:
        talk = mem.state.talk_ms
        setattr(talk, speaker, getattr(talk, speaker) + max(0, seg.end_ms - seg.start_ms))
    return seg, new, became_final


def agent_analysis(mem: CallMemory, a: UtteranceAnalysis, now: float) -> None:
    if C.HOLD_ASKED in a.cues:
        mem.hold_asked_at = now
    if a.is_final and C.HOLD_INTENT in a.cues:
        mem.checking_since, mem.checking_end_ms = now, a.end_ms


def customer_final(mem: CallMemory, rules: Rules, a: UtteranceAnalysis) -> None:
    st = mem.state
    mem.customer_finals += 1
    st.sentiment = round(EWMA_ALPHA * a.sentiment + (1 - EWMA_ALPHA) * st.sentiment, 4)
    st.sentiment_trend = [*st.sentiment_trend, st.sentiment][-TREND_LEN:]
    chars = content_chars(a.text)
    if chars >= 2 or a.emotion != "neutral":
        st.emotion = a.emotion
    if a.emotion == "anger" and a.emotion_score >= rules.threshold(T.ESCALATE_SUPERVISOR, "anger_score"):
        mem.angry_streak += 1
    elif chars >= 4:
        mem.angry_streak = 0  # a calm turn resets the streak; a short 嗯 does not
    if C.COMPLAINT_THREAT in a.cues:
        mem.threat = True
    elif C.ASKS_FOR_MANAGER in a.cues:
        mem.asked_manager = True


def risk_score(
    sentiment: float,
    emotion: str,
    emotion_score: float,
    angry_streak: int,
    streak_needed: int,
    asked_manager: bool,
    threat: bool,
    escalated: bool,
    w: RiskWeights,
) -> float:
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
    needed = int(rules.threshold(T.ESCALATE_SUPERVISOR, "angry_streak"))
    score = 0.5 if st.emotion == "neutral" else 0.8
    st.risk = risk_score(
        st.sentiment,
        st.emotion,
        score,
        mem.angry_streak,
        needed,
        mem.asked_manager,
        mem.threat,
        st.escalated,
        rules.risk,
    )
