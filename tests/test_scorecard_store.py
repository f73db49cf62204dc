"""Scorecard, post-call summary and whispers in the history store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from services.recorder.queries import history, review_call, review_calls, score_trend
from shared.schemas import Nudge
from tests.storekit import NOW, angry_login_call, said, snapshot, state


def polite_call(call_id, start, agent="a-002"):
    end = start + timedelta(minutes=2)
    return [
        state(call_id, start, agent=agent),
        said(call_id, 1, "您好,很高兴为您服务", speaker="agent", cues=("greeting",), at=start),
        said(call_id, 2, "我想问一下佣金是多少", cues=("request",), at=start),
        said(call_id, 3, "跟您确认一下,您是想了解佣金标准对吗", speaker="agent", cues=("request_restated",), at=start),
        said(call_id, 4, "没有了,谢谢", cues=("nothing_else", "gratitude"), at=start),
        said(
            call_id,
            5,
            "您看您还有其他问题吗?谢谢您的来电",
            speaker="agent",
            cues=("closing_question", "closing"),
            at=start,
        ),
        state(call_id, start, end=end, agent=agent),
    ]


def test_a_finished_call_is_scored_and_summarised_once_it_ends(store):
    start = NOW - timedelta(hours=1)
    records = angry_login_call("c-sc1", start)
    store.apply(records[:-1], now=NOW)  # not ended yet: no scorecard
    live = review_call(store, "c-sc1")
    assert live["scorecard"] is None and live["recap"] is None and live["score"] is None
    store.apply(records[-1:], now=NOW)
    done = review_call(store, "c-sc1")
    card = done["scorecard"]
    assert 0 <= card["total"] <= 100 and done["score"] == card["total"]
    items = {i["key"]: i for i in card["items"]}
    # the agent never greeted, never soothed the angry customer, never closed
    assert items["greeting"]["status"] == "fail" and items["understanding"]["status"] == "fail"
    assert items["understanding"]["evidence"][0] == {
        "seq": 1,
        "speaker": "customer",
        "text": "我的交易软件登录不上去了,一直提示密码错误",
    }
    assert items["closing"]["status"] == "fail" and items["hold_etiquette"]["status"] == "na"
    assert card["total"] == 60  # greeting 10, understanding 15, closing 5 lost of the 75 that apply
    assert done["recap"]["topic"] == "login" and done["recap"]["outcome"] == "unresolved"
    assert done["recap"]["wanted"]["seq"] == 1
    listed = review_calls(store)["calls"][0]
    assert listed["call_id"] == "c-sc1" and listed["score"] == card["total"]


def test_scoring_is_idempotent_and_follows_late_lines(store):
    start = NOW - timedelta(hours=2)
    store.apply(polite_call("c-sc2", start), now=NOW)
    first = review_call(store, "c-sc2")
    assert first["scorecard"]["total"] == 100, first["scorecard"]
    before = snapshot(store)
    store.apply(list(reversed(polite_call("c-sc2", start))), now=NOW)  # redelivered, any order
    assert snapshot(store) == before
    # a final that arrives after call_ended still counts: the agent was rude
    store.apply([said("c-sc2", 6, "你听不懂吗", speaker="agent", cues=("impolite",), at=start)], now=NOW)
    again = review_call(store, "c-sc2")["scorecard"]
    assert {i["key"]: i["status"] for i in again["items"]}["respect"] == "fail"
    assert again["total"] < 100


def test_per_agent_trend_over_the_week(store):
    for day in range(3):
        start = NOW - timedelta(days=day, hours=1)
        store.apply(polite_call(f"c-tr-good-{day}", start, agent="a-good"), now=NOW)
        store.apply(angry_login_call(f"c-tr-bad-{day}", start, agent="a-bad"), now=NOW)
    trend = score_trend(store, NOW - timedelta(days=7), NOW + timedelta(hours=1))
    assert len(trend["days"]) == 8 and trend["days"][-1] == "2026-11-26"
    good, bad = trend["agents"]["a-good"], trend["agents"]["a-bad"]
    assert good["calls"] == bad["calls"] == 3
    assert good["avg"] == 100 and bad["avg"] == 60
    assert good["by_day"][-3:] == [100, 100, 100] and good["by_day"][0] is None
    assert good["calls_by_day"][-3:] == [1, 1, 1]
    assert bad["weakest"] == {"key": "closing", "label": "规范结束语", "avg": 0.0}  # ties: by key
    only = score_trend(store, NOW - timedelta(days=7), NOW + timedelta(hours=1), agent="a-bad")
    assert list(only["agents"]) == ["a-bad"]


def test_the_next_call_of_the_customer_sees_the_last_summary(store):
    store.apply(angry_login_call("c-rc1", NOW - timedelta(days=1)), now=NOW)
    store.apply([state("c-rc2", NOW)], now=NOW)
    hist = history(store, "c-rc2")
    recap = hist["last_recap"]
    assert recap["call_id"] == "c-rc1" and recap["topic_label"] == "登录" and recap["outcome"] == "unresolved"
    assert recap["wanted"]["text"] == "我的交易软件登录不上去了,一直提示密码错误"
    assert history(store, "c-rc1")["last_recap"] is None, "the first call has no earlier call"


def test_a_whisper_is_stored_with_its_sender(store):
    start = NOW - timedelta(minutes=5)
    whisper = Nudge(
        nudge_id="c-wh1:whisper:abc",
        call_id="c-wh1",
        agent_id="a-003",
        type="supervisor_whisper",
        priority="high",
        title="主管提示",
        suggestion="先道歉,再说明到账时间",
        reason="来自主管 s-001",
        sender="s-001",
        created_ts=start,
    )
    store.apply([state("c-wh1", start, agent="a-003"), whisper], now=NOW)
    nudges = review_call(store, "c-wh1")["nudges"]
    assert [(n["type"], n["sender"], n["suggestion"]) for n in nudges] == [
        ("supervisor_whisper", "s-001", "先道歉,再说明到账时间")
    ]
