"""The call scorecard (质检): a finished call scored against the standard, pure.

``score(turns, spec)`` runs every enabled check of ``rules/scorecard.yaml``
(``services.recorder.scorecard_spec``) on the call's final, redacted
utterances and returns::

    {"version": 1, "total": 82, "items": [{"key": "greeting", "label": "规范开场",
      "principle": "人性化", "weight": 10, "status": "pass", "score": 1.0, "points": 10.0,
      "note": "开场使用了规范问候语", "evidence": [{"seq": 2, "speaker": "agent", "text": "您好,…"}]}, …]}

A check gives a score in 0..1 (``pass`` 1, ``partial``, ``fail`` 0) or
``None`` when it does not apply to the call (``na``: nobody was upset, no
request, no hold). ``total`` is the weighted mean of the items that apply,
on 0–100 (None when none applies). Evidence quotes the transcript lines the
judgement rests on (seq + redacted text), so a supervisor can check it.
Each check is a small function of (turns, item spec); the analyzer's cues
(``shared.cues``) do most of the work, the item's ``phrases`` add wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from services.recorder.judge import NEGATIVE, Turn
from services.recorder.scorecard_spec import (
    AcknowledgeParams,
    AffirmParams,
    AttentionParams,
    ClosingParams,
    GreetingParams,
    ItemSpec,
    RespectParams,
    ScorecardSpec,
)
from shared import cues as C

PII_NUMBER_CUES = (C.PII_ID_CARD, C.PII_BANK_CARD, C.PII_PHONE, C.PII_ACCOUNT)
Result = tuple[float | None, str, list[Turn]]  # score (None: n/a), note, evidence
P = TypeVar("P", bound=BaseModel)


def _conf(item: ItemSpec, params: type[P]) -> P:
    """The item's parameters, as ``ScorecardSpec`` validated them (``CHECK_PARAMS`` of its check)."""
    conf = item.conf
    assert isinstance(conf, params), f"{item.label}: parameters {type(conf).__name__}, not {params.__name__}"
    return conf


def _said(t: Turn, cue: str | None, phrases: list[str] | tuple[str, ...] = ()) -> bool:
    return (cue is not None and cue in t.cues) or any(p in t.text for p in phrases)


def _agent(turns: list[Turn]) -> list[Turn]:
    return [t for t in turns if t.speaker == "agent"]


def _after(turns: list[Turn], t: Turn) -> list[Turn]:
    """The agent turns that start after ``t`` started (in order)."""
    return [a for a in _agent(turns) if (a.start_ms, a.seq) > (t.start_ms, t.seq)]


def greeting(turns: list[Turn], item: ItemSpec) -> Result:
    agent = _agent(turns)
    if not agent:
        return 0.0, "坐席未发言", []
    first = agent[: _conf(item, GreetingParams).first_agent_turns]
    hit = next((t for t in first if _said(t, C.GREETING, item.phrases)), None)
    if hit:
        return 1.0, "开场使用了规范问候语", [hit]
    return 0.0, "开场未使用规范问候语(您好/很高兴为您服务)", [agent[0]]


def attention(turns: list[Turn], item: ItemSpec) -> Result:
    """Customer finished, agent silent longer than max_silence_s: a lapse (not during an announced hold)."""
    max_silence_s = _conf(item, AttentionParams).max_silence_s
    limit_ms = max_silence_s * 1000
    checked, lapses = 0, []
    slowest: tuple[Turn, float] | None = None
    for i, t in enumerate(turns[:-1]):
        nxt = turns[i + 1]
        if t.speaker != "customer" or nxt.speaker != "agent":
            continue  # the customer goes on talking, or the call ends on the customer's words
        before = [a for a in turns[:i] if a.speaker == "agent"]
        if before and (C.HOLD_ASKED in before[-1].cues or C.HOLD_INTENT in before[-1].cues):
            continue  # the agent said it would check: a hold, judged by hold_etiquette
        checked += 1
        gap_s = max(0, nxt.start_ms - t.end_ms) / 1000
        if slowest is None or gap_s > slowest[1]:
            slowest = (t, gap_s)
        if gap_s * 1000 > limit_ms:
            lapses.append((t, gap_s))
    if not checked:
        return None, "没有需要回应的客户发言", []
    if not lapses:
        assert slowest is not None  # set with the first checked turn
        return 1.0, f"客户说完后均及时回应,最慢 {slowest[1]:.0f} 秒(≤{max_silence_s:g} 秒)", [slowest[0]]
    worst = max(s for _, s in lapses)
    return (
        max(0.0, 1 - 0.5 * len(lapses)),
        f"客户说完后 {len(lapses)} 次冷场,最长 {worst:.0f} 秒无回应",
        [t for t, _ in lapses],
    )


def respect(turns: list[Turn], item: ItemSpec) -> Result:
    agent = _agent(turns)
    rude = [a for a in agent if _said(a, C.IMPOLITE, item.phrases)]
    customer = [t for t in turns if t.speaker == "customer"]
    conf = _conf(item, RespectParams)
    cut_in = [
        a
        for a in agent
        if any(
            c.start_ms + conf.lead_ms <= a.start_ms < c.end_ms
            and min(c.end_ms, a.end_ms) - a.start_ms >= conf.min_overlap_ms
            for c in customer
        )
    ]
    if rude:
        return 0.0, "使用了不礼貌用语" + (f",并打断客户 {len(cut_in)} 次" if cut_in else ""), rude + cut_in
    if cut_in:
        return 0.5, f"在客户说话时插话 {len(cut_in)} 次", cut_in
    return 1.0, "用语礼貌,没有打断客户", []


def _answered(
    turns: list[Turn], item: ItemSpec, within: int, upset: list[Turn], cue: str | None
) -> tuple[list[Turn], list[Turn]]:
    """(agent lines that answered, customer lines left unanswered) within the next ``within`` agent turns."""
    hits: list[Turn] = []
    missed: list[Turn] = []
    for u in upset:
        hit = next((a for a in _after(turns, u)[:within] if _said(a, cue, item.phrases)), None)
        if hit is None:
            missed.append(u)
        elif hit not in hits:
            hits.append(hit)
    return hits, missed


def understanding(turns: list[Turn], item: ItemSpec) -> Result:
    conf = _conf(item, AcknowledgeParams)
    upset = [
        t for t in turns if t.speaker == "customer" and t.emotion in NEGATIVE and t.emotion_score >= conf.emotion_score
    ]
    if not upset:
        return None, "客户情绪平稳", []
    hits, missed = _answered(turns, item, conf.within_agent_turns, upset, C.EMPATHY)
    if not missed:
        return 1.0, "客户情绪激动时及时表达了理解", hits
    return ((len(upset) - len(missed)) / len(upset), f"客户情绪激动 {len(upset)} 次,{len(missed)} 次未表达理解", missed)


def affirmation(turns: list[Turn], item: ItemSpec) -> Result:
    ideas = [t for t in turns if t.speaker == "customer" and C.SUGGESTION in t.cues]
    if not ideas:
        return None, "客户没有提出建议", []
    hits, missed = _answered(turns, item, _conf(item, AffirmParams).within_agent_turns, ideas, None)
    if not missed:
        return 1.0, "肯定了客户的建议", hits
    return (len(ideas) - len(missed)) / len(ideas), "客户提出建议后没有给予肯定", missed


def confirm_request(turns: list[Turn], item: ItemSpec) -> Result:
    asks = [t for t in turns if t.speaker == "customer" and C.REQUEST in t.cues]
    if not asks:
        return None, "客户没有提出具体需求", []
    restated = next((a for a in _after(turns, asks[0]) if _said(a, C.REQUEST_RESTATED, item.phrases)), None)
    if restated:
        return 1.0, "复述确认了客户的需求", [restated]
    return 0.0, "客户提出需求后未复述确认", [asks[0]]


def hold_etiquette(turns: list[Turn], item: ItemSpec) -> Result:
    """Each hold (the agent goes to check something): asked first (½), thanked after (½)."""
    agent = _agent(turns)
    holds = [i for i, a in enumerate(agent) if C.HOLD_INTENT in a.cues or C.HOLD_ASKED in a.cues]
    if not holds:
        return None, "通话中没有让客户等待", []
    total, evidence, no_ask, no_thanks = 0.0, [], [], []
    for i in holds:
        near = agent[max(0, i - 1) : i + 2]  # 我查一下,您方便稍等吗 — the ask may be a turn before or after
        asked = next((a for a in near if C.HOLD_ASKED in a.cues), None)
        thanks = next((a for a in agent[i + 1 :] if _said(a, C.THANKS_FOR_WAITING, item.phrases)), None)
        total += 0.5 * (asked is not None) + 0.5 * (thanks is not None)
        if asked is None:
            no_ask.append(agent[i])
        if thanks is None:
            no_thanks.append(agent[i])
        evidence += [a for a in (asked, thanks) if a is not None and a not in evidence]
    score = total / len(holds)
    if score == 1.0:
        return 1.0, "等待前征询了客户,等待后表示感谢", evidence
    parts = (["等待前未征询客户"] if no_ask else []) + (["等待后未致谢"] if no_thanks else [])
    return score, ",".join(parts), list(dict.fromkeys(no_ask + no_thanks))


def privacy(turns: list[Turn], item: ItemSpec) -> Result:
    asked = [a for a in _agent(turns) if _said(a, C.PII_PASSWORD, item.phrases)]
    repeated = [a for a in _agent(turns) if any(c in a.cues for c in PII_NUMBER_CUES) and a not in asked]
    if not asked and not repeated:
        return 1.0, "未询问密码,未复述完整号码", []
    parts = (["询问了客户密码"] if asked else []) + (["复述了完整证件号/卡号/手机号"] if repeated else [])
    return 0.0, ",".join(parts), asked + repeated


def compliance(turns: list[Turn], item: ItemSpec) -> Result:
    promised = [a for a in _agent(turns) if _said(a, C.PROMISE_RETURNS, item.phrases)]
    if promised:
        return 0.0, "承诺了收益或保本", promised
    return 1.0, "没有承诺收益", []


def closing(turns: list[Turn], item: ItemSpec) -> Result:
    agent = _agent(turns)
    if not agent:
        return 0.0, "坐席未发言", []
    conf = _conf(item, ClosingParams)
    last = agent[-conf.last_agent_turns :]
    question = next((a for a in last if _said(a, C.CLOSING_QUESTION, conf.question_phrases)), None)
    farewell = next((a for a in last if _said(a, C.CLOSING, conf.farewell_phrases)), None)
    found = list(dict.fromkeys(a for a in (question, farewell) if a is not None))
    if question and farewell:
        return 1.0, "询问了其他问题并致谢道别", found
    if question or farewell:
        return 0.5, "结束语不完整:" + ("未致谢道别" if question else "未询问客户还有其他问题"), found
    return 0.0, "没有规范结束语(还有其他问题吗 / 谢谢您的来电)", [agent[-1]]


CHECKS: dict[str, Callable[[list[Turn], ItemSpec], Result]] = {
    "greeting": greeting,
    "attention": attention,
    "respect": respect,
    "understanding": understanding,
    "affirmation": affirmation,
    "confirm_request": confirm_request,
    "hold_etiquette": hold_etiquette,
    "privacy": privacy,
    "compliance": compliance,
    "closing": closing,
}


def _status(value: float | None) -> str:
    if value is None:
        return "na"
    return "pass" if value >= 1.0 else "fail" if value <= 0.0 else "partial"


def score(turns: list[Turn], spec: ScorecardSpec) -> dict[str, Any]:
    turns = sorted(turns, key=lambda t: (t.start_ms, t.seq))
    items: list[dict[str, Any]] = []
    got, weight = 0.0, 0.0
    for key, item in spec.active():
        value, note, evidence = CHECKS[key](turns, item)
        if value is not None:
            value = round(min(1.0, max(0.0, value)), 3)
            got += item.weight * value
            weight += item.weight
        items.append(
            {
                "key": key,
                "label": item.label,
                "principle": item.principle,
                "weight": item.weight,
                "status": _status(value),
                "score": value,
                "points": None if value is None else round(item.weight * value, 1),
                "note": note,
                "evidence": [{"seq": t.seq, "speaker": t.speaker, "text": t.text} for t in evidence[:3]],
            }
        )
    total = round(100 * got / weight) if weight else None
    return {"version": spec.version, "total": total, "items": items}
