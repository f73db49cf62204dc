"""Utterance analysis: sentiment, emotion, cues, robustness (pure, no broker)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.analysis import Analysis, analyze_text, analyze_utterance
from shared.cues import AGENT_CUES, ALL_CUES, CUSTOMER_CUES, PII_CUES
from shared.schemas import Utterance

EMOTIONS = {"anger", "anxiety", "confusion", "sadness", "satisfaction", "neutral"}


def valid(result: Analysis) -> None:
    assert isinstance(result, Analysis)
    assert 0.0 <= result.sentiment <= 1.0
    assert result.emotion in EMOTIONS
    assert 0.0 <= result.emotion_score <= 1.0
    assert all(c in ALL_CUES for c in result.cues)
    assert len(result.cues) == len(set(result.cues))
    assert isinstance(result.text, str)


def test_issue_example_is_negative_unlike_snownlp():
    r = analyze_text("我上周买的那只基金，收益一直不对，我想问一下是不是你们系统算错了")
    assert r.sentiment < 0.4 and r.emotion == "confusion"


def test_angry_waiting_customer():
    r = analyze_text("你们这服务太差了,我都等了半个小时了", "customer")
    assert r.emotion == "anger" and r.emotion_score > 0.8 and r.sentiment < 0.2
    assert "waiting_complaint" in r.cues


def test_negation_and_degree():
    assert analyze_text("我不是生气，就是有点着急，马上收盘了").emotion == "anxiety"
    assert analyze_text("不着急，你慢慢查，我等着").emotion == "neutral"
    strong = analyze_text("你们的服务太差了").sentiment
    weak = analyze_text("你们的服务有点差").sentiment
    assert strong < weak < 0.5


def test_rhetorical_question_is_anger():
    r = analyze_text("凭什么收我这么多手续费，难道不用提前告诉我吗")
    assert r.emotion == "anger" and r.sentiment < 0.3
    assert analyze_text("开户的时候说免费，这不是骗人吗").emotion == "anger"


def test_emotions_cover_the_classes():
    cases = {
        "我的钱还没到账，下午就要交房租了，急死我了": "anxiety",
        "我不太明白这个融资融券是怎么操作的": "confusion",
        "唉，我的养老钱这回全亏光了": "sadness",
        "太好了，问题解决了，谢谢你这么耐心": "satisfaction",
        "我想查一下我的持仓": "neutral",
        "再不处理我就打12386投诉你们！": "anger",
    }
    for text, emotion in cases.items():
        assert analyze_text(text).emotion == emotion, text


def test_customer_cues():
    cues = analyze_text("我要投诉，叫你们领导来，等了半天了，马上收盘了", "customer").cues
    for cue in ("complaint_threat", "asks_for_manager", "waiting_complaint", "urgency"):
        assert cue in cues
    assert "gratitude" in analyze_text("好的谢谢，没有别的问题了").cues
    assert "nothing_else" in analyze_text("好的谢谢，没有别的问题了").cues
    assert "request" in analyze_text("能不能帮我查一下分红").cues
    assert "confusion" in analyze_text("这个我看不懂").cues
    assert "suggestion" in analyze_text("建议你们把转账入口放到首页").cues


def test_agent_cues_and_speaker_split():
    a = lambda t: analyze_text(t, "agent").cues  # noqa: E731
    assert {"greeting"} <= set(a("您好，很高兴为您服务"))
    assert {"hold_intent"} <= set(a("我查一下")) and "hold_asked" not in a("我查一下")
    assert {"hold_intent", "hold_asked"} <= set(a("我帮您核实一下，您方便在线等待吗？"))
    assert "empathy" in a("非常理解您的心情，给您添麻烦了")
    assert "request_restated" in a("跟您确认一下，您是想撤单，对吗？")
    assert "impolite" in a("你听不懂吗？这不归我管")
    assert "promise_returns" in a("这只基金保本，肯定涨")
    assert "promise_returns" not in a("我们不能保证保本，投资有风险")
    assert "closing" in a("感谢您的来电，祝您生活愉快，再见")
    assert "closing_question" in a("请问还有其他问题吗？")
    assert "thanks_for_waiting" in a("感谢您的耐心等待")
    assert "step_guidance" in a("第一步，您先打开APP，点击右下角的我的")
    # Cue sides: customer cues only for customers, agent cues only for agents.
    assert not set(analyze_text("谢谢您的来电，再见", "customer").cues) & set(AGENT_CUES)
    assert not set(analyze_text("我要投诉，谢谢", "agent").cues) & set(CUSTOMER_CUES)


def test_agent_courtesy_is_not_an_emotion():
    r = analyze_text("非常抱歉让您久等了，感谢您的耐心等待", "agent")
    assert r.emotion == "neutral" and r.sentiment > 0.6
    assert analyze_text("你听不懂吗？我已经说过了", "agent").emotion == "anger"


def test_partials_are_cheap_and_neutral_unless_strong():
    r = analyze_text("我想查一下", "customer", partial=True)
    assert r.sentiment == 0.5 and r.emotion == "neutral"
    strong = analyze_text("你们这什么破系统，气死我了，我要投诉", "customer", partial=True)
    assert strong.sentiment < 0.3 and strong.emotion == "anger"
    assert "complaint_threat" in strong.cues


def test_robust_inputs():
    for text in (
        "",
        "   ",
        "😡😡😡",
        "the app keeps crashing, 太差了!!!",
        "你們這個系統怎麼又登不上了",
        "ＡＢＣ１２３！？",
        "。。。？？？",
        "\x00\u200b\ufeff",
        "a" * 10_000,
        "太差了" * 3400,
        "謝謝你，問題已經解決了",
        "😊👍",
    ):
        valid(analyze_text(text, "customer"))
        valid(analyze_text(text, "agent", partial=True))
    assert analyze_text("").sentiment == 0.5 and analyze_text("").emotion == "neutral"
    assert analyze_text("你們這個系統太差了").emotion == "anger"  # traditional
    assert analyze_text("等了一个小时😡😡").emotion == "anger"
    assert analyze_text("謝謝你，問題已經解決了").emotion == "satisfaction"


def test_results_are_independent_copies():
    first = analyze_text("我要投诉")
    first.cues.append("mutated")
    assert "mutated" not in analyze_text("我要投诉").cues


def test_analyze_utterance_record():
    ts = datetime(2026, 11, 23, 8, 0, 14, tzinfo=UTC)
    event = Utterance(
        type="utterance",
        call_id="c-1",
        seq=17,
        speaker="customer",
        text="你们这服务太差了,我手机13812345678",
        is_final=True,
        ts=ts,
    )
    record = analyze_utterance(event)
    assert record.call_id == "c-1" and record.seq == 17 and record.emotion == "anger"
    assert "13812345678" not in record.text and "pii:phone" in record.cues
    assert record.ingest_ts == ts and record.is_final


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["customer", "agent"]), st.booleans())
def test_property_any_text_gives_valid_analysis(text, speaker, partial):
    result = analyze_text(text, speaker, partial=partial)
    valid(result)
    side = CUSTOMER_CUES if speaker == "customer" else AGENT_CUES
    assert all(c in side or c in PII_CUES for c in result.cues)


@settings(max_examples=80, deadline=None)
@given(
    st.text(
        alphabet="我你们的不太很没有是了吗呢啊差好急慌懂谢气投诉等一二三四五六七八九零幺两洞"
        "0123456789０１２３ ，。！？!?-",
        max_size=80,
    )
)
def test_property_domain_alphabet(text):
    valid(analyze_text(text))


def test_calm_question_about_a_worrying_fact_is_not_an_emotion():
    # Situation words (登录不上, 冻结, 卖不出去) in a calm question are what is asked
    # about; feeling words (急死, 担心) still count.
    for text in (
        "你好，我想问一下，我的交易软件登录不上去了，一直提示账号或密码错误。",
        "我想查一下我的账户为什么被冻结了。",
        "你好，我想问一下我的融券为什么卖不出去了。",
    ):
        a = analyze_text(text, "customer")
        assert a.emotion == "neutral", (text, a)
    assert analyze_text("我的交易软件登录不上去了，急死我了", "customer").emotion == "anxiety"
    assert analyze_text("我想问一下，我的钱一直没到账，我好担心", "customer").emotion == "anxiety"


def test_suggestion_is_not_confusion_and_sarcasm_is_anger():
    a = analyze_text("我给你们提个建议，你们交易软件的条件单设置太复杂了，我觉得你们应该做个简单模式。", "customer")
    assert a.emotion == "neutral" and "suggestion" in a.cues and "confusion" not in a.cues
    for text in (
        "呵呵，你们的系统可真稳定，一到开盘就崩",
        "又是系统升级？上个月也是这个理由",
        "你们客服是不是都只会说“请您耐心等待”这一句",
    ):
        assert analyze_text(text, "customer").emotion == "anger", text
    assert "pii:password" in analyze_text("那您把您的交易密码告诉我一下，我登录进去帮您看看。", "agent").cues
