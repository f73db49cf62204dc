"""Detectors: one small function per kind of input, each deciding which rules apply.

They mutate the ``CallMemory`` they are given and return the nudges to send;
``engine.step`` routes every item to them. Thresholds come from the rules.
"""

from __future__ import annotations

import re
from datetime import datetime

from shared import cues as C
from shared.schemas import Nudge, UtteranceAnalysis
from services.nudger.memory import MAX_SEGMENTS, CallMemory, Segment
from services.nudger.needs import drop_needs, emit, open_need, quote, satisfy
from services.nudger.rules import Rules

NEGATIVE = {"anger": "愤怒", "anxiety": "焦虑", "sadness": "难过"}
PII_NAMES = {C.PII_ID_CARD: "身份证号", C.PII_BANK_CARD: "银行卡号", C.PII_PHONE: "手机号",
             C.PII_ACCOUNT: "资金账号", C.PII_PASSWORD: "密码"}
_BACKCHANNEL = set("嗯啊哦噢呃好对是的行恩唔")
_PUNCT = re.compile(r"[\s,，。.!！?？、;；:：…~\-\"“”'‘’]")
_DIGITS = re.compile(r"\d{6,}")


def mask(text: str) -> str:
    """Raw ASR text may hold digits the analyzer has not redacted yet: mask long runs."""
    return _DIGITS.sub("[号码]", text)


def content_chars(text: str) -> int:
    return len(_PUNCT.sub("", text))


def is_backchannel(text: str) -> bool:
    core = _PUNCT.sub("", text)
    return not core or set(core) <= _BACKCHANNEL


def offset_ms(mem: CallMemory, clock: datetime) -> int:
    return int((clock.timestamp() - (mem.base_ts or clock.timestamp())) * 1000)


def timer_key(mem: CallMemory, ts: datetime) -> str:
    """Deterministic key for a nudge triggered by a call-level event: its second in the call."""
    return f"t{max(0, int(ts.timestamp() - (mem.base_ts or ts.timestamp())))}"


def update_segment(mem: CallMemory, rules: Rules, seq: int, speaker: str, start_ms: int, end_ms: int,
                   text: str, final: bool, clock: datetime, ingest_ts: datetime | None) -> list[Nudge]:
    """Record what we know of a segment; open/close the timing needs that depend on speech."""
    seg = next((s for s in mem.segments if s.seq == seq), None)
    out: list[Nudge] = []
    if seg is None:
        seg = Segment(seq=seq, speaker=speaker, start_ms=start_ms, end_ms=end_ms)
        mem.segments.append(seg)
        mem.segments.sort(key=lambda s: s.seq)
        if len(mem.segments) > MAX_SEGMENTS:
            keep = mem.segments[-MAX_SEGMENTS:]
            mem.segments = [s for s in mem.segments if not s.final and s not in keep] + keep
        if speaker == "agent":
            out += _agent_resumes(mem, rules, seg, clock, ingest_ts, text)
    was_final = seg.final
    seg.end_ms = max(seg.end_ms, end_ms)
    if final or not seg.final:
        seg.text, seg.chars = text, content_chars(text)
    seg.final = seg.final or final
    _speech_closes_waits(mem, seg)
    if seg.final and not was_final:
        talk = mem.state.talk_ms
        setattr(talk, speaker, getattr(talk, speaker) + max(0, seg.end_ms - seg.start_ms))
        if speaker == "customer":
            out += _open_response_wait(mem, rules, seg, clock, ingest_ts)
    out += check_interrupt(mem, rules, clock, ingest_ts)
    return out


def _speech_closes_waits(mem: CallMemory, seg: Segment) -> None:
    for need in list(mem.needs):
        if need.type == "timely_response":
            # answered (agent speech running past the customer's end), or the customer went on
            if (seg.speaker == "agent" and seg.end_ms > need.after_ms and not is_backchannel(seg.text)) or (
                    seg.speaker == "customer" and seg.start_ms >= need.after_ms):
                mem.needs.remove(need)
        elif need.type == "offer_hold_wording" and need.case == "checking":
            # 我查一下 … and the agent talks on: the customer was never left waiting
            if seg.speaker == "agent" and seg.start_ms > need.after_ms and not is_backchannel(seg.text):
                mem.needs.remove(need)
    if seg.speaker == "agent" and mem.checking_since is not None and seg.start_ms > mem.checking_end_ms:
        mem.checking_since = None


def _open_response_wait(mem, rules, seg, clock, ingest_ts) -> list[Nudge]:
    spec = rules.get("timely_response")
    if spec is None or mem.state.on_hold or seg.chars < spec.t("min_customer_chars", 5):
        return []
    if mem.checking_since is not None and clock.timestamp() - mem.checking_since < spec.t("checking_max_s", 60):
        return []  # the agent said they are checking: silence is expected
    if any(s.speaker == "agent" and s.end_ms > seg.end_ms for s in mem.segments):
        return []  # the agent is already answering
    silence = spec.t("silence_s", 7)
    return open_need(mem, rules, "timely_response", seg.seq, clock,
                     f"客户说完已超过 {silence:g} 秒无回应 {quote(seg.text)}",
                     trigger_seq=seg.seq, ingest_ts=ingest_ts, after_ms=seg.end_ms, grace_s=silence)


def _agent_resumes(mem, rules, seg, clock, ingest_ts, text) -> list[Nudge]:
    """Dead air (no hold) longer than N s, then the agent speaks: thank the customer for waiting."""
    spec = rules.get("thank_for_waiting")
    if spec is None or mem.state.on_hold:
        return []
    earlier = [s.end_ms for s in mem.segments if s.seq != seg.seq and s.start_ms <= seg.start_ms]
    if not earlier:
        return []
    gap_s = (seg.start_ms - max(earlier)) / 1000
    now = clock.timestamp()
    if gap_s < spec.t("silence_s", 15) or (mem.hold_ended_at is not None and now - mem.hold_ended_at < gap_s + 5):
        return []
    return open_need(mem, rules, "thank_for_waiting", seg.seq, clock, f"静默 {gap_s:.0f} 秒后恢复通话,未致谢等待",
                     trigger_seq=seg.seq, ingest_ts=ingest_ts, case="silence", after_ms=seg.start_ms)


def check_interrupt(mem: CallMemory, rules: Rules, clock: datetime, ingest_ts) -> list[Nudge]:
    """Agent speech starting while a customer segment is still running, for long enough to matter."""
    spec = rules.get("dont_interrupt")
    if spec is None:
        return []
    lead, min_overlap = spec.t("lead_ms", 300), spec.t("min_overlap_ms", 1000)
    out = []
    for a in mem.segments:
        if a.speaker != "agent" or a.chars < spec.t("min_agent_chars", 3) or is_backchannel(a.text):
            continue
        for c in mem.segments:
            if c.speaker != "customer" or a.start_ms < c.start_ms + lead:
                continue
            overlap = min(a.end_ms, c.end_ms) - a.start_ms
            if overlap >= min_overlap:
                n = emit(mem, rules, "dont_interrupt", a.seq, clock,
                         f"坐席在客户说话时插话 {overlap / 1000:.1f} 秒 {quote(c.text)}", a.seq, ingest_ts)
                if n:
                    out.append(n)
                break
    return out


def privacy(mem: CallMemory, rules: Rules, a: UtteranceAnalysis, clock: datetime) -> list[Nudge]:
    found = [c for c in a.cues if c in PII_NAMES]
    if not found:
        return []
    if a.speaker == "agent":
        case = "password" if C.PII_PASSWORD in found else "agent_repeat"
    else:
        case = "customer_read"
    # A partial may still be growing (16 digits of an ID number look like a card number): name the kind only on finals.
    what = "、".join(PII_NAMES[c] for c in found) if a.is_final else "号码"
    n = emit(mem, rules, "privacy_guard", a.seq, clock, f"敏感信息({what}) {quote(a.text)}", a.seq, a.ingest_ts, case)
    return [n] if n else []


def agent_analysis(mem: CallMemory, rules: Rules, a: UtteranceAnalysis, clock: datetime) -> list[Nudge]:
    """Agent partial or final: acknowledgements meet needs; finals are judged for wording."""
    now = clock.timestamp()
    satisfy(mem, rules, a.cues, a.text, now)
    if C.HOLD_ASKED in a.cues:
        mem.hold_asked_at = now
    out = privacy(mem, rules, a, clock)
    if not a.is_final:
        return out
    if C.IMPOLITE in a.cues:
        n = emit(mem, rules, "polite_language", a.seq, clock, f"不礼貌用语 {quote(a.text)}", a.seq, a.ingest_ts)
        out += [n] if n else []
    if C.PROMISE_RETURNS in a.cues:
        n = emit(mem, rules, "compliance_warning", a.seq, clock, f"违规承诺收益/荐股 {quote(a.text)}", a.seq, a.ingest_ts)
        out += [n] if n else []
    if C.HOLD_INTENT in a.cues:
        mem.checking_since, mem.checking_end_ms = now, a.end_ms
        if C.HOLD_ASKED not in a.cues:
            out += open_need(mem, rules, "offer_hold_wording", a.seq, clock,
                             f"坐席准备查询,未征询客户是否方便等待 {quote(a.text)}",
                             trigger_seq=a.seq, ingest_ts=a.ingest_ts, case="checking", after_ms=a.end_ms)
    return out
