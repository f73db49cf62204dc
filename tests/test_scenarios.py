"""Replay every scenario of the library and check its expectations.

Two analyzers drive the same engine:

- ``reference``: the real analyzer's output with the cues and emotion a
  scenario's script was written to carry (a keyword table below). This pins
  the *engine and rules*: it must pass strictly.
- ``live``: the real ``analyze_utterance``, exactly as ``heartline replay``
  runs. A failure there is reported as an analyzer gap (xfail) naming the
  utterances where the analysis differs from the script labels — and fails
  outright if the analysis agrees, since then the engine would be at fault.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from services.analyzer.analysis import analyze_utterance
from services.nudger.replay import load_jsonl, replay
from services.nudger.rules import CATALOG, load_rules
from shared import cues as C
from shared.schemas import Utterance, UtteranceAnalysis

ROOT = Path(__file__).resolve().parent.parent
SCEN = ROOT / "services" / "simulator" / "scenarios"
EXPECT = yaml.safe_load((SCEN / "expectations.yaml").read_text(encoding="utf-8"))
FILES = sorted(SCEN.glob("*.jsonl"))
RULES = load_rules(ROOT / "rules" / "default.yaml")
# knowledge_answer is what to answer, not how: its cards come from the knowledge base, which the
# scenario replays run without; it has its own evaluation (make eval-knowledge) and tests.
COACHING = tuple(t for t in CATALOG if t != "knowledge_answer")
CALM = [n for n, e in EXPECT.items() if not e["must_fire"] and set(e["must_not_fire"]) == set(COACHING)]

# --- reference cues: what each script line was written to say ----------------------------
CUSTOMER_WORDS = {
    C.REQUEST: ("我想", "帮我", "能不能", "能办吗", "需要准备", "推荐", "怎么开通"),
    C.COMPLAINT_THREAT: ("投诉", "证监会", "12386", "曝光"),
    C.ASKS_FOR_MANAGER: ("叫你们领导", "找你们经理", "找你们领导", "主管"),
    C.CONFUSION: ("不太明白", "不明白", "怎么弄", "听不懂", "搞不懂", "不会弄", "在哪儿看"),
    C.SUGGESTION: ("建议", "我觉得你们应该"),
    C.WAITING_COMPLAINT: ("等了半天", "这么久才有人接", "等了半个小时"),
    C.GRATITUDE: ("谢谢", "麻烦你了"),
    C.NOTHING_ELSE: ("没有了", "没别的了"),
    C.URGENCY: ("马上收盘", "来不及了", "急用"),
}
AGENT_WORDS = {
    C.HOLD_INTENT: ("我查一下", "稍等", "帮您核实", "等一下"),
    C.HOLD_ASKED: ("方便在线等待", "请您稍等片刻"),
    C.EMPATHY: ("理解您的心情", "抱歉", "不好意思", "对不起", "添麻烦", "让您久等了", "您别着急", "节哀"),
    C.REQUEST_RESTATED: ("跟您确认一下", "您是想", "您是问"),
    C.IMPOLITE: ("你听不懂吗", "不归我管", "我已经说过了"),
    C.PROMISE_RETURNS: ("保本", "稳赚", "肯定涨", "绝对不会亏", "你就买这只"),
    C.CLOSING: ("谢谢您的来电", "再见", "祝您生活愉快"),
    C.CLOSING_QUESTION: ("还有其他问题",),
    C.THANKS_FOR_WAITING: ("感谢您的耐心等待",),
    C.STEP_GUIDANCE: ("第一步", "第二步", "一步一步", "您先点"),
    C.GREETING: ("您好", "很高兴为您服务"),
}
EMOTIONS = (
    (
        "anger",
        (
            *("太差", "气死", "搞什么", "什么破", "骗子", "什么态度", "骗我", "这么久才有人接", "投诉你们", "有什么用"),
            *("坑人", "受够了", "离谱", "欺负人", "过分", "欺人太甚", "火大", "坑钱", "不像话", "气人", "忍无可忍"),
            *("窝火", "刁难"),
        ),
    ),
    ("sadness", ("难受", "去世", "伤心")),
    ("anxiety", ("担心", "着急", "急死")),
)
PII = (
    (C.PII_ID_CARD, re.compile(r"\d{17}[\dXx]")),
    (C.PII_PHONE, re.compile(r"1[3-9]\d{9}")),
    (C.PII_BANK_CARD, re.compile(r"\d{16,19}")),
    (C.PII_PASSWORD, re.compile(r"密码(是|告诉我)")),
)


def reference_analyzer(event: Utterance) -> UtteranceAnalysis:
    a = analyze_utterance(event)
    table = AGENT_WORDS if event.speaker == "agent" else CUSTOMER_WORDS
    cues = {cue for cue, words in table.items() if any(w in event.text for w in words)}
    found = set()
    for cue, pattern in PII:
        if pattern.search(event.text) and not (cue == C.PII_BANK_CARD and found & {C.PII_ID_CARD, C.PII_PHONE}):
            found.add(cue)
    emotion, score = "neutral", 0.5
    if event.speaker == "customer":
        emotion, score = next(
            ((e, 0.85) for e, words in EMOTIONS if any(w in event.text for w in words)), ("neutral", 0.5)
        )
    return a.model_copy(
        update={
            "cues": sorted(cues | found),
            "emotion": emotion,
            "emotion_score": score,
            "text": re.sub(r"\d{6,}", "[号码]", event.text),
        }
    )


# --- where the real analyzer and the script labels disagree ------------------------------
def _label(a: UtteranceAnalysis) -> tuple[frozenset, str]:
    """What the engine reads: cues, and a customer's strong emotion of the kinds that nudge."""
    nudging = a.speaker == "customer" and a.emotion in {"anger", "anxiety", "sadness", "confusion"}
    strong = a.emotion if nudging and a.emotion_score >= 0.6 else "-"
    return frozenset(c for c in a.cues if c in C.ALL_CUES), strong


def disagreements(name: str) -> list[str]:
    out = []
    for e in events(name):
        if e.type == "utterance" and e.is_final:
            live, ref = _label(analyze_utterance(e)), _label(reference_analyzer(e))
            if live != ref:
                extra, lack = sorted(live[0] - ref[0]), sorted(ref[0] - live[0])
                emo = f" emotion {live[1]} (script: {ref[1]})" if live[1] != ref[1] else ""
                out.append(f"seq {e.seq} «{e.text[:18]}»: +{extra} -{lack}{emo}")
    return out


def problems(name: str, nudges) -> list[str]:
    exp = EXPECT[name]
    fired = [n.type for n in nudges]
    out = [f"{t} did not fire" for t in exp["must_fire"] if t not in fired]
    out += [f"{t} fired: {next(n.reason for n in nudges if n.type == t)}" for t in exp["must_not_fire"] if t in fired]
    # must_fire_after: {type: seq} — the type fires for a trigger after that seq (renewed, not the first)
    out += [
        f"{t} did not fire after seq {seq}"
        for t, seq in (exp.get("must_fire_after") or {}).items()
        if not any(n.type == t and (n.trigger_seq or 0) > seq for n in nudges)
    ]
    # must_not_fire_after: {type: seq} — no card of the type for a trigger after that seq
    out += [
        f"{t} fired after seq {seq}: {n.reason}"
        for t, seq in (exp.get("must_not_fire_after") or {}).items()
        for n in nudges
        if n.type == t and (n.trigger_seq or 0) > seq
    ]
    # count: {type: n} — exactly n cards of the type in the call
    out += [
        f"{t} fired {fired.count(t)} times, not {k}" for t, k in (exp.get("count") or {}).items() if fired.count(t) != k
    ]
    # case: {type: case} — every card of the type carries a wording of that case
    for t, case in (exp.get("case") or {}).items():
        wordings = RULES.nudges[t].cases.get(case) or RULES.nudges[t].wordings  # as the engine picks
        out += [
            f"{t} not in case {case}: {n.suggestion}" for n in nudges if n.type == t and n.suggestion not in wordings
        ]
    ids = [n.nudge_id for n in nudges]
    if len(ids) != len(set(ids)):
        out.append(f"duplicate nudge ids {sorted(i for i in set(ids) if ids.count(i) > 1)}")
    return out


@cache
def events(name: str):
    return tuple(load_jsonl(SCEN / f"{name}.jsonl"))


def test_library_shape():
    names = [f.stem for f in FILES]
    assert len(names) >= 32
    assert set(names) == set(EXPECT), "every scenario has expectations and vice versa"
    for t in COACHING:
        assert any(t in e["must_fire"] for e in EXPECT.values()), f"no scenario fires {t}"
        assert any(t in e["must_not_fire"] for e in EXPECT.values()), f"no scenario forbids {t}"
    assert len(CALM) >= 5
    for name in names:
        evs = events(name)
        assert evs[0].type == "call_started" and evs[-1].type == "call_ended"
        assert all(e.call_id == evs[0].call_id for e in evs)
        assert [e.ts for e in evs] == sorted(e.ts for e in evs), "events in time order"
        utts = [e for e in evs if e.type == "utterance"]
        assert any(not u.is_final for u in utts), "partials present"
        t0 = evs[0].ts
        for u in utts:
            assert abs((u.ts - t0).total_seconds() * 1000 - u.end_ms) < 2, "ts agrees with end_ms"


@pytest.mark.parametrize("name", [f.stem for f in FILES])
def test_scenario_reference(name):
    nudges = replay(events(name), RULES, analyzer=reference_analyzer)
    assert problems(name, nudges) == []
    for n in nudges:
        assert n.call_id == events(name)[0].call_id
        assert n.reason and n.suggestion and n.created_ts and n.ingest_ts
        assert (n.audience == "supervisor") == (n.type == "escalate_supervisor")


@pytest.mark.parametrize("name", [f.stem for f in FILES])
def test_scenario_live_analyzer(name):
    """The real analyzer end to end. The engine is pinned by test_scenario_reference, so a
    failure here comes from analysis disagreeing with the script: reported, not hidden."""
    found = problems(name, replay(events(name), RULES))
    if found:
        diff = disagreements(name)
        assert diff, f"fails although the analyzer agrees with the script labels: {found}"
        pytest.xfail(f"analyzer gap: {found}; analysis differs from the script on: {diff[:6]}")


@pytest.mark.parametrize("name", CALM)
def test_calm_call_has_no_corrective_nudge(name):
    assert replay(events(name), RULES, analyzer=reference_analyzer) == []


def test_replay_is_deterministic():
    name = "20_sustained_anger"
    first = [n.model_dump(mode="json") for n in replay(events(name), RULES)]
    again = [n.model_dump(mode="json") for n in replay(list(events(name)), RULES)]
    assert first == again
    ref = [n.model_dump(mode="json") for n in replay(events(name), RULES, analyzer=reference_analyzer)]
    assert ref == [n.model_dump(mode="json") for n in replay(events(name), RULES, analyzer=reference_analyzer)]


def test_duplicate_finals_give_one_nudge_per_trigger():
    nudges = replay(events("30_duplicate_finals_retry"), RULES, analyzer=reference_analyzer)
    assert [n.type for n in nudges].count("acknowledge_emotion") == 1
