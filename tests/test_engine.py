"""Unit tests of the nudge engine: one call driven by hand-made analyses and events."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.nudger.detectors.guide_step_by_step import says_elderly
from services.nudger.engine import CallMemory, new_memory, risk_score, step, tick
from services.nudger.rules import load_rules
from shared import cues as C
from shared.schemas import (
    CallEnded,
    CallStarted,
    Customer,
    HoldEnded,
    HoldStarted,
    Utterance,
    UtteranceAnalysis,
    nudge_id,
)

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules" / "default.yaml")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Call:
    """Drive one call: every item at its own time, ticking each second in between."""

    def __init__(self, segment: str | None = None, call_id: str = "c-1", rules=RULES):
        self.call_id, self.rules, self.now = call_id, rules, T0
        self.mem: CallMemory | None = None
        self.nudges = []
        self.feed(
            CallStarted(
                type="call_started",
                call_id=call_id,
                ts=T0,
                agent_id="a-001",
                customer=Customer(name="王先生", segment=segment),
            ),
            0,
        )

    def at(self, ms: int) -> datetime:
        return T0 + timedelta(milliseconds=ms)

    def advance(self, ms: int):
        while self.now + timedelta(seconds=1) <= self.at(ms):
            self.now += timedelta(seconds=1)
            self.mem, out = tick(self.mem, self.now, self.rules)
            self.nudges += out
        self.now = max(self.now, self.at(ms))

    def feed(self, item, ms: int):
        if self.mem is not None:
            self.advance(ms)
        self.mem, out = step(self.mem, item, self.at(ms), self.rules)
        self.nudges += out
        return out

    def say(
        self, seq, speaker, text, start_ms, end_ms, *, cues=(), emotion="neutral", score=0.5, sentiment=0.6, final=True
    ):
        a = UtteranceAnalysis(
            call_id=self.call_id,
            seq=seq,
            speaker=speaker,
            text=text,
            is_final=final,
            sentiment=sentiment,
            emotion=emotion,
            emotion_score=score,
            cues=list(cues),
            start_ms=start_ms,
            end_ms=end_ms,
            ts=self.at(end_ms),
            ingest_ts=self.at(end_ms),
            analyzed_ts=self.at(end_ms),
        )
        return self.feed(a, end_ms)

    def partial(self, seq, speaker, text, start_ms, end_ms):
        u = Utterance(
            type="utterance",
            call_id=self.call_id,
            seq=seq,
            speaker=speaker,
            text=text,
            is_final=False,
            start_ms=start_ms,
            end_ms=end_ms,
            ts=self.at(end_ms),
        )
        return self.feed(u, end_ms)

    def event(self, cls, kind, ms):
        return self.feed(cls(type=kind, call_id=self.call_id, ts=self.at(ms)), ms)

    def wait(self, ms: int):
        self.advance(ms)

    def types(self):
        return [n.type for n in self.nudges]


ANGRY = dict(emotion="anger", score=0.9, sentiment=0.1)


# --- acknowledge_emotion + ack tracking ---------------------------------------------------------
def test_anger_unacknowledged_fires_after_grace():
    c = Call()
    c.say(1, "customer", "你们这服务太差了", 1000, 3000, **ANGRY)
    assert c.types() == []  # grace: the agent may still do it
    c.say(2, "agent", "你先说一下账号", 4000, 5500)
    c.wait(9000)
    assert c.types() == ["acknowledge_emotion"]
    n = c.nudges[0]
    assert n.nudge_id == nudge_id("c-1", 1, "acknowledge_emotion") and n.trigger_seq == 1
    assert n.priority == "high" and "太差" in n.reason and n.ingest_ts == c.at(3000)
    assert n.suggestion in RULES.nudges["acknowledge_emotion"].cases["anger"]


def test_agent_who_acknowledges_never_sees_the_nudge():
    c = Call()
    c.say(1, "customer", "你们这服务太差了", 1000, 3000, **ANGRY)
    c.say(2, "agent", "非常理解您的心情", 3800, 5000, cues=[C.EMPATHY], final=False)  # partial is enough
    c.say(2, "agent", "非常理解您的心情，我马上帮您处理", 3800, 7000, cues=[C.EMPATHY])
    c.say(3, "customer", "快点吧，太差了", 7500, 9000, **ANGRY)  # still angry, but met for a while
    c.wait(30000)
    assert "acknowledge_emotion" not in c.types()


def test_agent_mid_sentence_gets_to_finish_it():
    c = Call()
    c.say(1, "customer", "气死我了", 1000, 2000, **ANGRY)
    c.partial(2, "agent", "您好这个问题", 2500, 4000)
    c.wait(6000)  # grace over, but the agent is still talking
    assert c.types() == []
    c.say(2, "agent", "您好这个问题非常抱歉给您添麻烦了", 2500, 7000, cues=[C.EMPATHY])
    c.wait(20000)
    assert c.types() == []


def test_emotion_from_partials_never_fires():
    c = Call()
    c.say(1, "customer", "太差", 1000, 1600, final=False, **ANGRY)
    c.wait(10000)
    assert c.types() == []


# --- dedupe, cooldown, one card per turn -------------------------------------------------------
def test_duplicate_final_and_event_are_not_double_counted():
    c = Call()
    c.feed(
        Utterance(
            type="utterance",
            call_id="c-1",
            seq=1,
            speaker="customer",
            text="你们这服务太差了",
            start_ms=1000,
            end_ms=3000,
            ts=c.at(3000),
        ),
        3000,
    )
    for _ in range(3):  # the analysis, then two redeliveries
        c.say(1, "customer", "你们这服务太差了", 1000, 3000, **ANGRY)
    c.wait(15000)
    # one card per trigger; the agent stayed silent, so the dead air gets its own card after card_gap_s
    assert c.types() == ["acknowledge_emotion", "timely_response"]
    assert c.mem.state.talk_ms.customer == 2000
    assert len(c.mem.state.sentiment_trend) == 1
    c.say(1, "customer", "你们这服务太差了", 1000, 3000, **ANGRY)  # late redelivery
    c.wait(30000)
    assert c.types() == ["acknowledge_emotion", "timely_response"]


def test_cooldown_limits_a_type_per_call():
    c = Call()
    c.say(1, "agent", "你听不懂吗", 1000, 2000, cues=[C.IMPOLITE])
    c.say(2, "agent", "这不归我管", 3000, 4000, cues=[C.IMPOLITE])
    assert c.types() == ["polite_language"]
    c.say(3, "agent", "我已经说过了", 70000, 71000, cues=[C.IMPOLITE])
    assert c.types() == ["polite_language"] * 2
    assert c.nudges[0].suggestion != c.nudges[1].suggestion  # wording rotates


def test_one_corrective_card_per_customer_turn():
    c = Call()
    c.say(1, "customer", "我想问一下创业板怎么开", 1000, 3000, cues=[C.REQUEST])
    c.wait(20000)  # agent frozen: timely_response at 7 s; confirm_request folded in
    assert c.types() == ["timely_response"]


# --- timing rules ------------------------------------------------------------------------------
def test_timely_response_fires_on_silence_only():
    c = Call()
    c.say(1, "customer", "我的转账怎么还没到", 1000, 3000)
    c.wait(9000)
    assert c.types() == []
    c.wait(10500)
    assert c.types() == ["timely_response"]
    assert c.nudges[0].nudge_id == "c-1:1:timely_response"
    quick = Call(call_id="c-2")
    quick.say(1, "customer", "我的转账怎么还没到", 1000, 3000)
    quick.partial(2, "agent", "您好", 4000, 4500)
    quick.partial(2, "agent", "您好我看一下记录", 4000, 6000)
    quick.wait(20000)
    assert quick.types() == []


def test_short_customer_reply_and_checking_need_no_answer():
    c = Call()
    c.say(1, "customer", "嗯好", 1000, 1600)
    c.say(2, "agent", "这个问题帮您核实一下，您方便在线等待吗", 2000, 5000, cues=[C.HOLD_INTENT, C.HOLD_ASKED])
    c.say(3, "customer", "可以的你查吧", 5500, 7000)
    c.wait(30000)
    assert c.types() == []


def test_hold_without_asking_then_no_thanks():
    c = Call()
    c.say(1, "agent", "我查一下", 1000, 2000, cues=[C.HOLD_INTENT])
    c.event(HoldStarted, "hold_started", 2500)
    assert c.types() == ["offer_hold_wording"]
    assert c.nudges[0].trigger_seq == 1
    c.event(HoldEnded, "hold_ended", 42500)
    c.say(2, "agent", "您这边没有中签", 43000, 45000)
    c.wait(60000)
    assert c.types() == ["offer_hold_wording", "thank_for_waiting"]
    assert c.nudges[1].nudge_id == "c-1:t42:thank_for_waiting"  # timer key: second the hold ended
    assert c.nudges[1].suggestion in RULES.nudges["thank_for_waiting"].cases["hold"]


def test_polite_hold_is_silent():
    c = Call()
    c.say(1, "agent", "帮您核实一下，您方便在线等待吗", 1000, 4000, cues=[C.HOLD_INTENT, C.HOLD_ASKED])
    c.event(HoldStarted, "hold_started", 4500)
    assert c.mem.state.on_hold
    c.event(HoldEnded, "hold_ended", 40000)
    c.say(2, "agent", "感谢您的耐心等待", 40500, 42000, cues=[C.THANKS_FOR_WAITING])
    c.wait(60000)
    assert c.types() == [] and not c.mem.state.on_hold


def test_hold_started_without_any_ask_fires_with_timer_key():
    c = Call()
    c.event(HoldStarted, "hold_started", 5200)
    assert c.types() == ["offer_hold_wording"]
    assert c.nudges[0].nudge_id == "c-1:t5:offer_hold_wording" and c.nudges[0].trigger_seq is None


def test_hold_intent_then_talking_on_is_fine():
    c = Call()
    c.say(1, "agent", "我马上帮您看", 1000, 2000, cues=[C.HOLD_INTENT])
    c.partial(2, "agent", "您这笔转账已经", 2500, 4000)
    c.wait(20000)
    assert "offer_hold_wording" not in c.types()


def test_waiting_complaint_wants_an_apology():
    calm = Call()
    calm.say(1, "customer", "我等了半天了", 1000, 2500, cues=[C.WAITING_COMPLAINT])
    calm.wait(8000)
    assert calm.types() == ["thank_for_waiting"]
    angry = Call(call_id="c-3")  # upset and waiting: one card, the emotion first, apologising for the wait
    angry.say(1, "customer", "你们这服务太差了,我都等了半个小时了", 1000, 3000, cues=[C.WAITING_COMPLAINT], **ANGRY)
    angry.say(2, "agent", "您的融资额度是系统调整的", 7000, 9000)  # answers, but neither apologises nor thanks
    angry.wait(15000)
    assert angry.types() == ["acknowledge_emotion"]  # it covers thank_for_waiting
    assert angry.nudges[0].suggestion in RULES.nudges["acknowledge_emotion"].cases["waiting"]
    ok = Call(call_id="c-2")
    ok.say(1, "customer", "我等了半天了", 1000, 2500, cues=[C.WAITING_COMPLAINT], **ANGRY)
    ok.say(2, "agent", "抱歉让您久等了", 3000, 4500, cues=[C.EMPATHY])
    ok.wait(15000)
    assert ok.types() == []


def test_long_dead_air_then_agent_without_thanks():
    c = Call()
    c.say(1, "customer", "好的", 1000, 1500)
    c.say(2, "agent", "您的券源今天没有了", 20000, 23000)
    c.wait(30000)
    assert c.types() == ["thank_for_waiting"]


def test_dont_interrupt_from_partials_once():
    c = Call()
    c.partial(1, "customer", "我想问一下我那个理财", 1000, 3000)
    c.partial(2, "agent", "理财到期", 3500, 4000)
    c.partial(1, "customer", "我想问一下我那个理财产品到期", 1000, 4000)
    assert c.types() == []  # 0.5 s overlap: ordinary turn-taking so far
    c.partial(2, "agent", "理财到期以后要", 3500, 4700)
    c.partial(1, "customer", "我想问一下我那个理财产品到期了钱怎么", 1000, 4700)  # still talking
    assert c.types() == ["dont_interrupt"]
    c.partial(2, "agent", "理财到期以后要两三天", 3500, 5500)
    c.say(2, "agent", "理财到期以后要两三天才到账", 3500, 6500)
    c.say(1, "customer", "我想问一下我那个理财产品到期了钱怎么还没回来", 1000, 6000)
    assert c.types() == ["dont_interrupt"]
    assert c.nudges[0].trigger_seq == 2


def test_backchannel_and_customer_cutting_in_are_not_interrupting():
    c = Call()
    c.partial(1, "customer", "是这样的我想把存管银行换一下", 1000, 6000)
    c.say(2, "agent", "嗯", 3000, 3600)
    c.say(3, "agent", "对对", 4200, 5000)
    c.say(1, "customer", "是这样的我想把存管银行换一下因为工资卡", 1000, 8000)
    c.partial(4, "agent", "跟您确认一下您是想", 9000, 12000)
    c.partial(5, "customer", "对就是", 11000, 12500)  # the customer cuts in: not the agent's fault
    assert "dont_interrupt" not in c.types()


# --- immediate rules ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "speaker,cue,kind,case",
    [
        ("customer", C.PII_ID_CARD, "privacy_guard", "customer_read"),
        ("agent", C.PII_BANK_CARD, "privacy_guard", "agent_repeat"),
        ("agent", C.PII_PASSWORD, "privacy_guard", "password"),
        ("agent", C.PROMISE_RETURNS, "compliance_warning", None),
    ],
)
def test_immediate_rules(speaker, cue, kind, case):
    c = Call()
    out = c.say(1, speaker, "……", 1000, 3000, cues=[cue])
    assert [n.type for n in out] == [kind]
    if case:
        assert out[0].suggestion in RULES.nudges[kind].cases[case]


def test_privacy_from_a_partial_fires_once_for_the_segment():
    c = Call()
    c.say(1, "customer", "身份证号是[号码]", 1000, 3000, cues=[C.PII_ID_CARD], final=False)
    c.say(1, "customer", "身份证号是[号码]", 1000, 4000, cues=[C.PII_ID_CARD])
    assert c.types() == ["privacy_guard"]


def test_guaranteed_returns_from_partial_waits_for_final():
    c = Call()
    c.say(1, "agent", "这个产品不保本", 1000, 2000, cues=[C.PROMISE_RETURNS], final=False)
    c.say(1, "agent", "这个产品不保本，有风险", 1000, 3000, cues=[])
    assert c.types() == []


def test_confused_customer_and_senior_guidance():
    c = Call()
    c.say(1, "customer", "我不太明白怎么弄", 1000, 3000, cues=[C.CONFUSION])
    c.say(2, "agent", "就是融券卖出方向", 3500, 5000)
    c.wait(15000)
    assert c.types() == ["guide_step_by_step"]
    senior = Call(segment="senior", call_id="c-2")
    senior.say(1, "customer", "我想看看账户里有多少钱", 1000, 4000, cues=[C.REQUEST])
    senior.say(2, "agent", "跟您确认一下您是想查资金对吗", 4500, 9000, cues=[C.REQUEST_RESTATED])
    senior.say(3, "agent", "我一步一步带您操作", 10000, 13000, cues=[C.STEP_GUIDANCE])
    senior.wait(40000)
    assert senior.types() == []
    rushed = Call(segment="senior", call_id="c-3")
    rushed.say(1, "customer", "我想看看账户里有多少钱", 1000, 4000, cues=[C.REQUEST])
    rushed.say(2, "agent", "跟您确认一下您是想查资金对吗", 4500, 9000, cues=[C.REQUEST_RESTATED])
    rushed.say(3, "agent", "在交易软件资产页自己看", 10000, 13000)
    rushed.wait(40000)
    assert rushed.types() == ["guide_step_by_step"]
    assert rushed.nudges[0].suggestion in RULES.nudges["guide_step_by_step"].cases["senior"]


def test_confirm_request_and_restatement():
    c = Call()
    c.say(1, "customer", "我想查一下佣金", 1000, 3000, cues=[C.REQUEST])
    c.say(2, "agent", "您的佣金是万三", 3500, 5000)
    c.wait(20000)
    assert c.types() == ["confirm_request"]
    ok = Call(call_id="c-2")
    ok.say(1, "customer", "我想查一下佣金", 1000, 3000, cues=[C.REQUEST])
    ok.say(2, "agent", "跟您确认一下您是想查佣金对吗", 3500, 6000, cues=[C.REQUEST_RESTATED])
    ok.say(3, "customer", "对，我想知道能不能降", 6500, 8000, cues=[C.REQUEST])  # met for a while
    ok.say(4, "agent", "可以的，资产满五十万就能申请", 8500, 11000)
    ok.wait(30000)
    assert ok.types() == []


def test_suggestion_affirmed_or_not():
    c = Call()
    c.say(1, "customer", "我建议你们晚上也开热线", 1000, 3000, cues=[C.SUGGESTION])
    c.say(2, "agent", "我们的服务时间是白天", 3500, 5000)
    c.wait(15000)
    assert c.types() == ["affirm_customer"] and c.nudges[0].priority == "low"
    ok = Call(call_id="c-2")
    ok.say(1, "customer", "我建议你们晚上也开热线", 1000, 3000, cues=[C.SUGGESTION])
    ok.say(2, "agent", "您的建议非常好，我一定反馈给相关部门", 3500, 6000)
    ok.wait(15000)
    assert ok.types() == []


def test_closing_missing_is_flushed_when_the_call_ends():
    c = Call()
    c.say(1, "customer", "没有了", 60000, 61000, cues=[C.NOTHING_ELSE])
    c.say(2, "agent", "嗯", 61500, 62000)
    out = c.event(CallEnded, "call_ended", 64000)
    assert [n.type for n in out] == ["closing_check"]
    assert c.mem.state.ended_ts == c.at(64000)
    c.wait(80000)
    assert c.types() == ["closing_check"]
    ok = Call(call_id="c-2")
    ok.say(1, "customer", "没有了，谢谢", 60000, 61000, cues=[C.NOTHING_ELSE, C.GRATITUDE])
    ok.say(2, "agent", "谢谢您的来电，再见", 61500, 63000, cues=[C.CLOSING])
    ok.event(CallEnded, "call_ended", 64000)
    assert ok.types() == []


def test_early_thanks_is_not_goodbye():
    c = Call()
    c.say(1, "customer", "好的谢谢", 10000, 11000, cues=[C.GRATITUDE])
    c.say(2, "agent", "您先点登录", 11500, 13000, cues=[C.STEP_GUIDANCE])
    c.wait(40000)
    assert c.types() == []


# --- escalation and risk -----------------------------------------------------------------------
def test_escalation_triggers():
    for cue in (C.COMPLAINT_THREAT, C.ASKS_FOR_MANAGER):
        c = Call()
        out = c.say(1, "customer", "我要去证监会投诉你们", 1000, 3000, cues=[cue], **ANGRY)
        assert [n.type for n in out] == ["escalate_supervisor"]
        assert out[0].audience == "supervisor" and "c-1" in out[0].reason and "证监会" in out[0].reason
        assert c.mem.state.escalated and c.mem.state.risk >= 0.7
    c = Call()
    for i in range(3):
        c.say(i + 1, "customer", "气死我了", 1000 + i * 4000, 3000 + i * 4000, **ANGRY)
    assert "escalate_supervisor" in c.types() and c.mem.state.escalated


def test_anger_streak_resets_on_a_calm_turn():
    c = Call()
    c.say(1, "customer", "气死我了", 1000, 2000, **ANGRY)
    c.say(2, "customer", "太差了真是", 3000, 4000, **ANGRY)
    c.say(3, "customer", "好吧那我再等等看", 5000, 7000)
    c.say(4, "customer", "气死我了", 8000, 9000, **ANGRY)
    assert "escalate_supervisor" not in c.types() and not c.mem.state.escalated


def test_risk_is_a_pure_function():
    w = RULES.risk
    calm = risk_score(0.8, "neutral", 0.5, 0, 3, False, False, False, w)
    angry = risk_score(0.1, "anger", 0.9, 2, 3, False, False, False, w)
    threat = risk_score(0.1, "anger", 0.9, 3, 3, True, True, True, w)
    assert calm == 0.0 and 0 < angry < threat <= 1.0
    assert risk_score(0.1, "anger", 0.9, 2, 3, False, False, False, w) == angry


def test_state_tile_is_maintained():
    c = Call()
    c.say(1, "agent", "您好", 500, 1000, cues=[C.GREETING])
    c.say(2, "customer", "太差了", 1500, 3000, **ANGRY)
    st = c.mem.state
    assert st.agent_id == "a-001" and st.customer.name == "王先生" and st.started_ts == T0
    assert st.emotion == "anger" and st.sentiment < 0.5 and st.sentiment_trend == [st.sentiment]
    assert st.talk_ms.agent == 500 and st.talk_ms.customer == 1500 and st.risk > 0
    assert st.last_update_ts == c.at(3000)


# --- memory, unknown calls, rules toggles ------------------------------------------------------
def test_memory_round_trips_through_json():
    c = Call()
    c.say(1, "customer", "我想查一下佣金，太差了", 1000, 3000, cues=[C.REQUEST], **ANGRY)
    c.partial(2, "agent", "您好", 3500, 4000)
    data = c.mem.model_dump(mode="json")
    again = CallMemory.model_validate(data)
    assert again.model_dump(mode="json") == data
    assert again.needs and again.segments
    # and the restored memory behaves the same
    _, out1 = tick(c.mem.model_copy(deep=True), c.at(20000), RULES)
    _, out2 = tick(again, c.at(20000), RULES)
    assert [n.model_dump() for n in out1] == [n.model_dump() for n in out2]


def test_unknown_call_is_created():
    mem, out = step(
        None,
        UtteranceAnalysis(
            call_id="c-x",
            seq=3,
            speaker="customer",
            text="你好",
            sentiment=0.5,
            emotion="neutral",
            emotion_score=0.5,
            start_ms=10000,
            end_ms=11000,
            ts=T0,
            ingest_ts=T0,
            analyzed_ts=T0,
        ),
        T0,
        RULES,
    )
    assert mem.state.call_id == "c-x" and mem.state.agent_id is None and out == []
    assert new_memory("c-y").state.call_id == "c-y"


def test_disabled_rule_never_fires():
    rules = RULES.model_copy(deep=True)
    rules.nudges["polite_language"].enabled = False
    c = Call(rules=rules)
    c.say(1, "agent", "你听不懂吗", 1000, 2000, cues=[C.IMPOLITE])
    assert c.types() == []


def test_nothing_after_the_call_ended():
    c = Call()
    c.event(CallEnded, "call_ended", 5000)
    c.say(1, "agent", "你听不懂吗", 6000, 7000, cues=[C.IMPOLITE])
    c.wait(20000)
    assert c.types() == []


# --- one card at a time, nothing lost; renewed emotion ------------------------------------------
def test_long_dead_air_reaches_the_agent_after_another_card():
    """A card for the turn (emotion, confusion) does not replace timely_response: it waits card_gap_s."""
    gap = RULES.card_gap_s
    for cues, kw, first in (
        ([], ANGRY, "acknowledge_emotion"),
        ([C.CONFUSION], dict(emotion="confusion", score=0.9), "guide_step_by_step"),
    ):
        c = Call()
        c.say(1, "customer", "这个融资利率是怎么算的我不太明白", 1000, 3000, cues=cues, **kw)
        c.wait(20000)  # 17 s of dead air
        assert c.types() == [first, "timely_response"]
        assert (c.nudges[1].created_ts - c.nudges[0].created_ts).total_seconds() >= gap
        answered = Call(call_id="c-2")
        answered.say(1, "customer", "这个融资利率是怎么算的我不太明白", 1000, 3000, cues=cues, **kw)
        answered.wait(8000)
        answered.say(2, "agent", "融资利率是年化百分之六", 8500, 10500)  # answered before the gap ran out
        answered.wait(25000)
        assert "timely_response" not in answered.types()


def test_covered_need_is_dropped_not_deferred():
    c = Call()
    c.say(1, "customer", "我想问一下创业板怎么开", 1000, 3000, cues=[C.REQUEST])
    c.wait(30000)
    assert c.types() == ["timely_response"]  # it covers confirm_request


def test_senior_who_cannot_work_it_out_gets_guidance_after_a_slow_answer():
    c = Call(segment="senior")
    c.say(1, "customer", "我搞不懂这个手机怎么弄", 1000, 4000, cues=[C.CONFUSION], emotion="confusion", score=0.9)
    c.wait(12000)
    assert c.types() == ["timely_response"]  # slow agent
    c.say(2, "agent", "您在手机上打开交易软件就能看到了", 12500, 16000)  # answers, but not step by step
    c.wait(19000)
    assert c.types() == ["timely_response", "guide_step_by_step"]
    assert c.nudges[1].suggestion in RULES.nudges["guide_step_by_step"].cases["senior"]
    ok = Call(segment="senior", call_id="c-2")
    ok.say(1, "customer", "我搞不懂这个手机怎么弄", 1000, 4000, cues=[C.CONFUSION], emotion="confusion", score=0.9)
    ok.wait(12000)
    ok.say(2, "agent", "不着急，我一步一步带您，第一步您先点开交易软件", 12500, 17000, cues=[C.STEP_GUIDANCE])
    ok.wait(40000)
    assert ok.types() == ["timely_response"]


def test_restating_first_is_not_answering_without_guidance():
    c = Call(segment="senior")
    c.say(1, "customer", "我想看看账户里有多少钱", 1000, 4000, cues=[C.REQUEST])
    c.say(2, "agent", "跟您确认一下您是想查资金对吗", 4500, 9000, cues=[C.REQUEST_RESTATED])
    c.wait(15000)
    assert c.types() == []  # still inside the senior grace: confirm, then guide


@pytest.mark.parametrize(
    "text",
    [
        "我年纪大了，这个手机App上怎么查持仓",
        "哎，岁数大了，记不住这些",
        "我都七十多了",
        "我今年78了",
        "我们老人家不懂这些",
        "我是老年人，你说慢一点",
        "我一个老太婆，哪会弄这个",
        "我这把年纪了",
        "眼睛花了看不清",
        "这智能手机我不会弄",
        "我妈让我问一下，我年纪也大了",  # the speaker's own age, named after the mother
        "耳朵有点背，您大点声",
    ],
)
def test_customer_says_they_are_elderly(text):
    assert says_elderly(text)


@pytest.mark.parametrize(
    "text",
    [
        "大了",
        "声音大了，风险也大了",
        "我是老客户了",
        "这个App老是闪退",
        "等了老半天",
        "我妈年纪大了",  # someone else's age: the caller on the line is not elderly
        "我爸眼睛花了",
        "帮我妈问一下，年纪大了不会用手机",
        "我老婆不会用智能手机",
        "你们应该给老年人做个简单版",  # a suggestion about seniors, not a self-description
        "60岁以上有优惠吗",
        "我六十岁以后能领吗",
        "我买了68股",
        "股价都七十多了",
        "菜单多得眼花缭乱",
        "我这个年纪该买什么",
        "年龄大能开户吗",  # a question about age limits, not a self-description
        "年纪大的人能开户吗",
        "您年纪大了吧",  # about the agent
    ],
)
def test_other_words_do_not_make_a_senior(text):
    assert says_elderly(text) == ""


def test_customer_who_says_they_are_old_gets_senior_guidance():
    c = Call(segment="retail")  # the CTI record does not mark a senior
    c.say(1, "customer", "我年纪大了，我想在手机App上查一下持仓", 1000, 5000, cues=[C.REQUEST])
    assert c.mem.senior_said == "年纪大了"
    c.say(2, "agent", "在交易软件持仓页自己看一下", 6000, 9000)  # answers, no steps
    c.wait(15000)
    assert c.types() == ["guide_step_by_step"]
    n = c.nudges[0]
    assert n.suggestion in RULES.nudges["guide_step_by_step"].cases["senior"]
    assert n.reason.startswith("客户提到年纪大,办理业务 «我年纪大了")
    cti = Call(segment="senior", call_id="c-2")  # the record says so: the reason says that instead
    cti.say(1, "customer", "我想在手机App上查一下持仓", 1000, 4000, cues=[C.REQUEST])
    cti.say(2, "agent", "在交易软件持仓页自己看一下", 5000, 8000)
    cti.wait(15000)
    assert cti.types() == ["guide_step_by_step"] and cti.nudges[0].reason.startswith("老年客户办理业务")


def test_said_once_the_call_stays_senior():
    c = Call()
    c.say(1, "customer", "喂，你好，眼睛花了，看手机费劲", 1000, 4000)
    assert c.types() == [] and c.mem.senior_said == "眼睛花了"  # no request yet: nothing to guide
    again = CallMemory.model_validate(c.mem.model_dump(mode="json"))  # the changelog round trip
    assert again.senior_said == "眼睛花了"
    c.mem = again
    c.say(2, "agent", "您好，请问有什么可以帮您", 4500, 6000)
    c.say(3, "customer", "我想改一下交易密码", 7000, 9000, cues=[C.REQUEST])
    c.say(4, "agent", "在软件设置里面改就可以了", 10000, 12500)
    c.wait(20000)
    assert c.types() == ["guide_step_by_step"]
    assert c.nudges[0].reason == "客户提到年纪大(«眼睛花了»),办理业务 «我想改一下交易密码»"
    assert c.nudges[0].suggestion in RULES.nudges["guide_step_by_step"].cases["senior"]


def test_memory_written_before_senior_said_still_loads():
    c = Call()
    data = c.mem.model_dump(mode="json")
    del data["senior_said"]
    assert CallMemory.model_validate(data).senior_said == ""


@pytest.mark.parametrize(
    "text",
    [
        "我是老客户了，我想在手机App上查一下持仓",
        "我妈年纪大了，我想帮她在手机App上查一下持仓",
        "这个App老是闪退，我想查一下持仓",
    ],
)
def test_no_senior_guidance_without_the_customer_being_elderly(text):
    c = Call()
    c.say(1, "customer", text, 1000, 5000, cues=[C.REQUEST])
    c.say(2, "agent", "在交易软件持仓页自己看一下", 6000, 9000)
    c.wait(40000)
    assert "guide_step_by_step" not in c.types() and c.mem.senior_said == ""


def test_renewed_anger_after_a_brief_apology_gets_a_second_card():
    c = Call()
    c.say(1, "customer", "你们这个软件又崩了太差了", 1000, 3000, **ANGRY)
    c.say(2, "agent", "不好意思", 3500, 4500, cues=[C.EMPATHY])
    c.say(3, "customer", "不好意思有什么用", 5000, 7000, **ANGRY)
    assert c.types() == []  # one more upset turn: the apology still stands
    c.say(4, "customer", "气死我了你们到底管不管", 7500, 10000, **ANGRY)
    c.say(5, "customer", "什么破公司", 10500, 12000, **ANGRY)
    c.wait(30000)
    assert c.types().count("acknowledge_emotion") == 1 and "escalate_supervisor" in c.types()
    ack = next(n for n in c.nudges if n.type == "acknowledge_emotion")
    assert ack.trigger_seq == 4 and ack.suggestion in RULES.nudges["acknowledge_emotion"].cases["anger"]
    calm = Call(call_id="c-2")  # the apology worked: the customer calms down, nothing more
    calm.say(1, "customer", "你们这个软件又崩了太差了", 1000, 3000, **ANGRY)
    calm.say(2, "agent", "不好意思", 3500, 4500, cues=[C.EMPATHY])
    calm.say(3, "customer", "好吧那你帮我看看怎么回事", 5000, 7000)
    calm.wait(30000)
    assert "acknowledge_emotion" not in calm.types()


def test_acknowledge_emotion_at_most_twice_per_call():
    c = Call()
    for i in range(9):  # the agent never acknowledges; the customer stays angry
        c.say(i + 1, "customer", "气死我了太差了", 1000 + i * 5000, 3000 + i * 5000, **ANGRY)
    c.wait(60000)
    assert c.types().count("acknowledge_emotion") == RULES.nudges["acknowledge_emotion"].max_per_call == 2


def test_late_card_then_brief_apology_then_renewed_anger_gets_a_second_card():
    """The first card fires (agent silent past the grace), a bare 对不起 follows, the customer gets
    angrier: the supervisor is alerted and the agent gets a second, last card."""
    c = Call()
    c.say(1, "customer", "你们这个APP又闪退了太坑人了", 1000, 3000, **ANGRY)
    c.wait(8000)
    assert c.types() == ["acknowledge_emotion"]  # 3 s grace, then the card
    c.say(2, "agent", "对不起", 8000, 8800, cues=[C.EMPATHY])
    c.say(3, "customer", "一句对不起就完了我受够了", 9400, 12000, **ANGRY)
    c.wait(14000)
    assert c.types() == ["acknowledge_emotion"]  # one upset turn after the apology: it still stands
    c.say(4, "customer", "太离谱了你们到底有没有人管", 13000, 16000, **ANGRY)
    c.say(5, "customer", "你们这是欺负人", 17000, 19000, **ANGRY)
    c.say(6, "customer", "气死我了", 20000, 21000, **ANGRY)
    c.wait(40000)
    assert c.types().count("acknowledge_emotion") == 2 and c.types().count("escalate_supervisor") == 1
    second = [n for n in c.nudges if n.type == "acknowledge_emotion"][1]
    assert second.trigger_seq == 4 and second.suggestion != c.nudges[0].suggestion  # rotated wording


def test_emotion_card_covers_a_waiting_restatement_of_the_same_outburst():
    """An outburst over several turns is one moment: the emotion card for a later turn drops a
    restatement still waiting for an earlier one, and goes out first when both fall due together."""
    c = Call()
    c.say(1, "customer", "搞什么啊转账又失败了太差了", 1000, 3000, **ANGRY)
    c.say(2, "agent", "不好意思啊", 3500, 4500, cues=[C.EMPATHY])
    c.say(3, "customer", "别光说不好意思我要用钱的", 5000, 8000, cues=[C.REQUEST], **ANGRY)  # confirm due at 16 s
    c.say(4, "customer", "气死我了你们这破系统", 9000, 13000, **ANGRY)  # renewed: emotion due at 16 s
    c.say(5, "agent", "您可以换一张银行卡试试", 18000, 20000)
    c.wait(40000)
    assert c.types() == ["escalate_supervisor", "acknowledge_emotion"]
    calm = Call(call_id="c-2")  # no emotion card: the restatement stands
    calm.say(1, "customer", "我想查一下转账记录", 1000, 3000, cues=[C.REQUEST])
    calm.say(2, "agent", "转账记录在资金流水里", 3500, 5000)
    calm.wait(20000)
    assert calm.types() == ["confirm_request"]


def test_needs_falling_due_together_go_out_one_at_a_time():
    """Needs of different turns due in the same tick: one card, the others wait card_gap_s."""
    c = Call()
    c.say(1, "customer", "我想问一下这个怎么开通", 1000, 3000, cues=[C.REQUEST])  # confirm due at 11 s
    c.say(2, "agent", "嗯", 3200, 3500)
    c.say(3, "customer", "这个我不太明白", 4000, 5000, cues=[C.CONFUSION])  # guide due at 11 s
    c.wait(11000)
    assert c.types() == ["confirm_request"]  # the older need first; guidance waits
    c.wait(40000)
    assert sorted(c.types()) == ["confirm_request", "guide_step_by_step", "timely_response"]  # nothing lost
    times = [n.created_ts for n in c.nudges]
    assert all((b - a).total_seconds() >= RULES.card_gap_s for a, b in itertools.pairwise(times))
    angry = Call(call_id="c-2")  # a high-priority need due in the same tick goes out first and covers
    angry.say(1, "customer", "我想问一下这个怎么开通", 1000, 3000, cues=[C.REQUEST])  # confirm due at 11 s
    angry.say(2, "agent", "嗯", 3200, 3500)
    angry.say(3, "customer", "你们这什么破系统", 6000, 8000, **ANGRY)  # emotion due at 11 s
    angry.say(4, "agent", "您先重新登录一下", 14000, 16000)
    angry.wait(40000)
    assert angry.types() == ["acknowledge_emotion"]


def test_nothing_else_leaves_no_request_to_restate():
    c = Call()
    c.say(1, "customer", "那我回头让我儿子帮我看看吧", 1000, 4000, cues=[C.REQUEST])
    c.say(2, "agent", "您看您还有其他问题需要了解吗", 4500, 7000, cues=[C.CLOSING_QUESTION])
    c.say(3, "customer", "没有了", 7500, 8500, cues=[C.NOTHING_ELSE])
    c.say(4, "agent", "谢谢您的来电再见", 9000, 11000, cues=[C.CLOSING])
    c.wait(30000)
    assert c.types() == []
    asked = Call(call_id="c-2")  # a request in the same turn as 没有了 still wants its restatement
    asked.say(1, "customer", "我就想问一下佣金多少没别的了", 1000, 4000, cues=[C.REQUEST, C.NOTHING_ELSE])
    asked.say(2, "agent", "万分之三", 4500, 6000)
    asked.wait(20000)
    assert asked.types() == ["confirm_request"]


def test_dead_air_that_got_its_respond_card_gets_no_thanks_card_too():
    """One silence, one card: after timely_response, the agent speaking again after the same silence
    is not a second (thank_for_waiting) card; a silence after 我查一下 (no respond card) still is."""
    c = Call()
    c.say(1, "customer", "我的账户怎么登录不上了", 1000, 4000)
    c.say(2, "agent", "您重新下载一下软件试试", 22000, 25000)  # 18 s of dead air
    c.wait(40000)
    assert c.types() == ["timely_response"]
    checking = Call(call_id="c-2")
    checking.say(1, "customer", "我的账户怎么登录不上了", 1000, 4000)
    checking.say(2, "agent", "我查一下", 4500, 5500, cues=[C.HOLD_INTENT])
    checking.say(3, "agent", "您的账户被冻结了", 25000, 28000)  # 19.5 s of silence while checking
    checking.wait(40000)
    assert checking.types() == ["offer_hold_wording", "thank_for_waiting"]


# --- reassure_urgency --------------------------------------------------------------------------
def test_urgency_wants_action_now_not_only_soothing():
    c = Call()
    c.say(1, "customer", "马上收盘了我的单子挂不上来不及了", 1000, 3000, cues=[C.URGENCY], emotion="anxiety", score=0.9)
    c.say(2, "agent", "您别着急", 3300, 4000, cues=[C.EMPATHY])  # soothing, no action
    c.wait(15000)
    assert c.types() == ["reassure_urgency"]
    assert c.nudges[0].priority == "high"
    assert c.nudges[0].suggestion in RULES.nudges["reassure_urgency"].cases["market"]
    frozen = Call(call_id="c-2")  # one card for the turn: it covers acknowledge_emotion
    frozen.say(1, "customer", "我急用钱今天必须转出来", 1000, 3000, cues=[C.URGENCY], emotion="anxiety", score=0.9)
    frozen.say(2, "agent", "您的钱要明天才能转出", 4500, 6500)
    frozen.wait(20000)
    assert frozen.types() == ["reassure_urgency"]
    assert frozen.nudges[0].suggestion in RULES.nudges["reassure_urgency"].wordings
    ok = Call(call_id="c-3")
    ok.say(1, "customer", "我急用钱今天必须转出来", 1000, 3000, cues=[C.URGENCY], emotion="anxiety", score=0.9)
    ok.partial(2, "agent", "明白您很急", 3300, 4200)
    ok.say(2, "agent", "明白您很急我这就帮您看", 3300, 5500, cues=[C.EMPATHY])
    ok.wait(20000)
    assert ok.types() == []
