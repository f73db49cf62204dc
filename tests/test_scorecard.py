"""The call scorecard (质检): the standard's validation and each check, pure (no broker, no DB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.recorder.judge import Turn
from services.recorder.scorecard import score
from services.recorder.scorecard_spec import DEFAULT_PATH, SpecWatcher, load_spec, parse_spec
from shared.yaml_lines import YamlError

SPEC = load_spec()


def agent(seq, text, *cues, at=0, end=None):
    return Turn(seq, "agent", text, cues=tuple(cues), start_ms=at, end_ms=end if end is not None else at + 1500)


def customer(seq, text, *cues, at=0, end=None, emotion="neutral", score_=0.0):
    return Turn(seq, "customer", text, emotion, score_, tuple(cues), at, end if end is not None else at + 1500)


GOOD_CALL = [
    agent(1, "您好,很高兴为您服务,请问有什么可以帮您?", "greeting", at=0),
    customer(
        2, "我的登录不上了,我想重置密码,你们这服务太差了", "request", at=2000, end=5000, emotion="anger", score_=0.8
    ),
    agent(3, "非常理解您的心情,给您添麻烦了", "empathy", at=5500),
    agent(4, "跟您确认一下,您是想重置登录密码,对吗?", "request_restated", at=7200),
    customer(5, "对,我觉得你们应该把登录做简单点", "suggestion", at=9500),
    agent(6, "您的建议非常好,我们一定反馈给相关部门", at=11500),
    agent(7, "这个问题帮您核实一下,您方便在线等待吗?", "hold_asked", "hold_intent", at=13500),
    customer(8, "好的", at=15500, end=16000),
    agent(9, "感谢您的耐心等待,已经帮您提交了重置申请", "thanks_for_waiting", at=40000),
    customer(10, "好的谢谢", "gratitude", at=42000, emotion="satisfaction", score_=0.7),
    agent(11, "您看您还有其他问题吗?", "closing_question", at=44000),
    customer(12, "没有了", "nothing_else", at=46000),
    agent(13, "谢谢您的来电,再见", "closing", at=48000),
]


def items(card):
    return {i["key"]: i for i in card["items"]}


def test_a_model_call_scores_full_marks_with_evidence_lines():
    card = score(GOOD_CALL, SPEC)
    assert card["total"] == 100 and card["version"] == 1
    got = items(card)
    assert set(got) == set(SPEC.items)
    assert all(i["status"] == "pass" for i in got.values()), {k: i["note"] for k, i in got.items()}
    assert [e["seq"] for e in got["greeting"]["evidence"]] == [1]
    assert [e["seq"] for e in got["understanding"]["evidence"]] == [3]
    assert [e["seq"] for e in got["affirmation"]["evidence"]] == [6]
    assert [e["seq"] for e in got["confirm_request"]["evidence"]] == [4]
    assert [e["seq"] for e in got["hold_etiquette"]["evidence"]] == [7, 9]
    assert [e["seq"] for e in got["closing"]["evidence"]] == [11, 13]
    assert got["greeting"]["evidence"][0] == {
        "seq": 1,
        "speaker": "agent",
        "text": "您好,很高兴为您服务,请问有什么可以帮您?",
    }
    assert sum(i["weight"] for i in got.values()) == 100


def test_a_careless_call_fails_each_standard_with_the_line_that_shows_it():
    calls = [
        agent(1, "喂,什么事", at=0),
        customer(2, "我要转账,钱怎么还没到账,气死我了", "request", at=1500, end=4000, emotion="anger", score_=0.9),
        agent(3, "你听不懂吗,我已经说过了", "impolite", at=14000),  # 10 s of dead air, then rude
        customer(4, "我建议你们改一改", "suggestion", at=16000, end=19000),
        agent(5, "请问您的密码是多少", "pii:password", at=17000),  # cuts in, asks for the password
        agent(6, "我查一下", "hold_intent", at=21000),  # no asking, no thanks
        agent(7, "您的身份证号是[身份证号]对吧", "pii:id_card", at=40000),
        agent(8, "这只基金保证赚钱,稳赚不赔", "promise_returns", at=42000),
        customer(9, "行吧", at=44000),
        agent(10, "嗯", at=45500),
    ]
    card = score(calls, SPEC)
    got = items(card)
    assert {k: i["status"] for k, i in got.items()} == {
        "greeting": "fail",
        "attention": "partial",
        "respect": "fail",
        "understanding": "fail",
        "affirmation": "fail",
        "confirm_request": "fail",
        "hold_etiquette": "fail",
        "privacy": "fail",
        "compliance": "fail",
        "closing": "fail",
    }
    assert [e["seq"] for e in got["greeting"]["evidence"]] == [1]
    assert [e["seq"] for e in got["attention"]["evidence"]] == [2] and "10 秒" in got["attention"]["note"]
    assert [e["seq"] for e in got["respect"]["evidence"]] == [3, 5]
    assert [e["seq"] for e in got["understanding"]["evidence"]] == [2]
    assert [e["seq"] for e in got["confirm_request"]["evidence"]] == [2]
    assert [e["seq"] for e in got["hold_etiquette"]["evidence"]] == [6]
    assert [e["seq"] for e in got["privacy"]["evidence"]] == [5, 7]
    assert got["privacy"]["evidence"][1]["text"] == "您的身份证号是[身份证号]对吧", "evidence is the redacted line"
    assert [e["seq"] for e in got["compliance"]["evidence"]] == [8]
    assert [e["seq"] for e in got["closing"]["evidence"]] == [10]
    # only the 0.5 of attention earns points: 10 * 0.5 of 100
    assert card["total"] == 5


def test_items_that_do_not_apply_leave_the_total_alone():
    calm = [
        agent(1, "您好,很高兴为您服务", "greeting", at=0),
        customer(2, "我问一下佣金是多少", at=2000),
        agent(3, "佣金是万分之二点五", at=4000),
        customer(4, "没有了", "nothing_else", at=6000),
        agent(5, "您看您还有其他问题吗?谢谢您的来电", "closing_question", "closing", at=8000),
    ]
    got = items(score(calm, SPEC))
    assert {k for k, i in got.items() if i["status"] == "na"} == {
        "understanding",
        "affirmation",
        "confirm_request",
        "hold_etiquette",
    }
    assert all(got[k]["score"] is None and got[k]["points"] is None for k in ("understanding", "hold_etiquette"))
    assert score(calm, SPEC)["total"] == 100


def test_partial_credit_closing_hold_and_interruptions():
    call = [
        agent(1, "您好", "greeting", at=0),
        customer(2, "我想开通创业板,请问需要什么条件呢", "request", at=1000, end=6000),
        agent(3, "跟您确认一下,您是想开通创业板对吗", "request_restated", at=3000, end=6500),  # 3 s overlap
        agent(4, "我查一下,您方便在线等待吗", "hold_intent", "hold_asked", at=7000),
        agent(5, "查到了,需要两年交易经验", at=30000),  # no thanks
        agent(6, "谢谢您的来电", "closing", at=32000),
    ]
    got = items(score(call, SPEC))
    assert got["respect"]["status"] == "partial" and [e["seq"] for e in got["respect"]["evidence"]] == [3]
    assert got["hold_etiquette"]["score"] == 0.5 and got["hold_etiquette"]["note"] == "等待后未致谢"
    assert got["closing"]["score"] == 0.5 and "未询问客户还有其他问题" in got["closing"]["note"]


def test_a_dead_air_during_an_announced_hold_is_not_a_lapse():
    call = [
        agent(1, "您好", "greeting", at=0),
        agent(2, "我帮您核实一下,您方便在线等待吗?", "hold_asked", "hold_intent", at=2000),
        customer(3, "好的", at=4000, end=4500),
        agent(4, "感谢您的耐心等待", "thanks_for_waiting", at=60000),
    ]
    assert items(score(call, SPEC))["attention"]["status"] == "na"


def test_weights_and_items_are_data(tmp_path):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    text = text.replace(
        "    weight: 10\n    phrases: [您好", "    enabled: false\n    weight: 10\n    phrases: [您好", 1
    )
    spec = parse_spec(text)
    card = score([agent(1, "喂", at=0), agent(2, "谢谢您的来电", "closing", at=2000)], spec)
    assert "greeting" not in items(card)


@pytest.mark.parametrize(
    "old, new, words",
    [
        (
            "    weight: 15\n    phrases: [理解您的心情",
            "    weight: -1\n    phrases: [理解您的心情",
            "items.understanding.weight",
        ),
        ("  greeting:", "  greetings:", "unknown check(s) greetings"),
        ("      max_silence_s: 7 ", "      max_silence: 7 ", "items.attention.params.max_silence"),
        ("    principle: 理解\n    weight: 15", "    principle: 礼貌\n    weight: 15", "items.understanding.principle"),
        ("      last_agent_turns: 3", "      last_agent_turns: many", "items.closing.params.last_agent_turns"),
    ],
)
def test_a_broken_standard_is_refused_with_its_line(old, new, words):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    first_changed = (
        next(i for i, (a, b) in enumerate(zip(text.splitlines(), broken.splitlines(), strict=False)) if a != b) + 1
    )
    with pytest.raises(YamlError) as err:
        parse_spec(broken, "scorecard.yaml")
    assert f"scorecard.yaml line {first_changed}: " in str(err.value) and words in str(err.value), str(err.value)


def test_bad_yaml_and_closing_phrases_are_refused():
    with pytest.raises(YamlError, match=r"x.yaml line 2, column \d+: invalid YAML"):
        parse_spec("version: 1\nitems: [a: b: c]\n", "x.yaml")
    with pytest.raises(YamlError, match=r"params\.question_phrases"):
        parse_spec("version: 1\nitems:\n  closing: {label: 结束语, principle: 人性化, weight: 5, phrases: [再见]}\n")
    with pytest.raises(YamlError, match="at least one enabled item"):
        parse_spec("version: 1\nitems:\n  closing: {label: 结束语, principle: 人性化, weight: 0}\n")


def test_the_watcher_keeps_the_standard_in_force_when_a_reload_fails(tmp_path: Path):
    path = tmp_path / "scorecard.yaml"
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    watcher = SpecWatcher(path)
    first = watcher.current()
    path.write_text("version: 1\nitems: {nope: {}}\n", encoding="utf-8")
    assert watcher.current() is first and "nope" in watcher.last_error
    path.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace("weight: 5\n", "weight: 7\n", 1), encoding="utf-8")
    assert watcher.current().items["affirmation"].weight == 7 and watcher.last_error is None
    with pytest.raises(YamlError):
        broken = tmp_path / "broken.yaml"
        broken.write_text("items: 3\n", encoding="utf-8")
        SpecWatcher(broken).current()
