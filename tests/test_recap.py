"""The post-call summary (通话小结), pure: every line it shows was said on the call."""

from __future__ import annotations

from services.recorder.judge import Turn
from services.recorder.recap import recap


def t(seq, speaker, text, *cues, emotion="neutral", score=0.0):
    return Turn(seq, speaker, text, emotion, score, tuple(cues), seq * 2000, seq * 2000 + 1500)


RESET = [
    t(1, "agent", "您好,很高兴为您服务", "greeting"),
    t(2, "customer", "你好,我的账户登录不上了"),
    t(3, "customer", "我想重置一下登录密码", "request"),
    t(4, "agent", "跟您确认一下,您是想重置登录密码,对吗?", "request_restated"),
    t(5, "customer", "对的"),
    t(6, "agent", "已经帮您提交了重置申请,24小时内会有短信通知您"),
    t(7, "customer", "好的,谢谢你", "gratitude", emotion="satisfaction", score=0.8),
    t(8, "agent", "谢谢您的来电,再见", "closing"),
]


def test_what_was_wanted_done_promised_and_how_it_ended():
    r = recap(RESET, "login", "resolved")
    assert r["topic"] == "login" and r["topic_label"] == "登录"
    assert r["wanted"] == {"seq": 3, "speaker": "customer", "text": "我想重置一下登录密码"}
    assert [x["seq"] for x in r["done"]] == [6]
    assert r["outcome"] == "resolved" and r["outcome_label"] == "已解决"
    assert r["outcome_line"]["seq"] == 7
    assert [x["seq"] for x in r["follow_ups"]] == [6]
    assert r["emotion"] == "neutral"
    assert (
        r["text"]
        == "登录:我想重置一下登录密码 → 已经帮您提交了重置申请,24小时内会有短信通知您 → 已解决;待跟进:已经帮您提交了重置申请,24小时内会有短信通知您"
    )


def test_every_line_is_quoted_from_the_transcript():
    said = {(x.seq, x.text) for x in RESET}
    r = recap(RESET, "login", "resolved")
    quoted = [r["wanted"], r["outcome_line"], *r["done"], *r["follow_ups"]]
    assert all((q["seq"], q["text"]) in said for q in quoted)


def test_escalated_call_without_a_request_falls_back_on_topic_and_the_complaint_line():
    turns = [
        t(1, "customer", "喂"),
        t(2, "customer", "我转账三天了还没到账", emotion="anger", score=0.8),
        t(3, "agent", "我帮您查一下", "hold_intent"),
        t(4, "customer", "叫你们领导来,我要投诉", "asks_for_manager", "complaint_threat", emotion="anger", score=0.9),
        t(5, "agent", "非常抱歉,我马上帮您转接值班主管,稍后主管会给您回电", "empathy"),
    ]
    r = recap(turns, "transfer", "escalated")
    assert r["wanted"]["seq"] == 2, "the first line that names the topic"
    assert r["outcome_line"]["seq"] == 4
    assert [x["seq"] for x in r["done"]] == [5]  # 转接
    assert [x["seq"] for x in r["follow_ups"]] == [5]  # 回电
    assert r["emotion"] == "anger" and r["text"].startswith("转账到账:我转账三天了还没到账 → ")


def test_a_call_with_no_agent_action_says_so_plainly():
    turns = [t(1, "customer", "你们这个手续费怎么这么贵", emotion="anger", score=0.7), t(2, "agent", "这个是统一标准")]
    r = recap(turns, "fees", "unresolved")
    assert r["done"] == [] and r["follow_ups"] == []
    assert r["outcome_line"]["seq"] == 1
    assert r["text"] == "手续费:你们这个手续费怎么这么贵 → 未解决"


def test_long_lines_are_cut_and_an_empty_call_is_fine():
    long = "我想问一下" + "这个产品的收益" * 30
    r = recap([t(1, "customer", long, "request")], "fund", None)
    assert len(r["wanted"]["text"]) == 121 and r["wanted"]["text"].endswith("…")
    assert r["outcome_label"] == "未结束"
    empty = recap([], None, "unresolved")
    assert empty["wanted"] is None and empty["text"] == "其他 → 未解决"
