"""Call history store on SQLite and PostgreSQL: idempotency, judgement, memory, retention, erasure.

PostgreSQL tests use a fresh database per session (dropped afterwards) on
HEARTLINE_TEST_PG (default 127.0.0.1:5432, user postgres). Where no server
answers they are skipped — except under CI (env CI set), where they fail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from services.recorder import db, judge, repeat
from services.recorder.models import Call
from services.recorder.queries import acceptance, history, review_call, review_calls
from services.recorder.store import hash_customer
from shared.schemas import NudgeFeedback
from tests.storekit import NOW, PHONE, angry_login_call, nudge, said, snapshot, state

# ---------------------------------------------------------------- judgement (pure)


def test_topic_and_outcome_judgement():
    T = judge.Turn
    login = [T(1, "customer", "登录不上去了,提示密码错误", "anger", 0.8), T(2, "customer", "算了", "anger", 0.7)]
    assert judge.topic(login) == "login"
    assert judge.outcome(login) == "unresolved"
    assert judge.worst_emotion(login) == ("anger", 0.8)
    thanks = login + [T(3, "customer", "好了,谢谢你", "satisfaction", 0.7, ("gratitude",))]
    assert judge.outcome(thanks) == "resolved"
    assert judge.outcome(login + [T(3, "customer", "没有了", cues=("nothing_else",))], escalated=False) == "unresolved"
    calm_done = [T(1, "customer", "我想问一下佣金是多少"), T(2, "customer", "没有了", cues=("nothing_else",))]
    assert judge.topic(calm_done) == "fees" and judge.outcome(calm_done) == "resolved"
    manager = [T(1, "customer", "转账三天都没到账,叫你们领导来", "anger", 0.9, ("asks_for_manager",))]
    assert judge.topic(manager) == "transfer" and judge.outcome(manager) == "escalated"
    assert judge.topic([T(1, "customer", "我要投诉你们")]) == "complaint"
    assert judge.topic([T(1, "customer", "转账到账了吗,我要投诉")]) == "transfer"
    assert judge.topic([T(1, "agent", "登录密码")]) == "other", "only the customer's words classify"
    assert judge.summary_line(1, None) == "首次来电"
    assert (
        judge.summary_line(3, {"topic": "login", "outcome": "unresolved", "worst_emotion": "anger"})
        == "本周第3次来电,上次因登录问题不满"
    )


# ---------------------------------------------------------------- store (both databases)


def test_migrations_are_idempotent_and_reversible(store):
    db.upgrade(store.engine)  # again: nothing to do
    assert {"calls", "utterances", "nudges", "nudge_feedback", "erasures", "erased_calls"} <= set(
        inspect(store.engine).get_table_names()
    )
    db.downgrade(store.engine)
    assert "calls" not in inspect(store.engine).get_table_names()
    db.upgrade(store.engine)
    assert "calls" in inspect(store.engine).get_table_names()


def test_call_is_recorded_and_reapplying_changes_nothing(store):
    recs = angry_login_call("c-1", NOW - timedelta(days=1))
    assert store.apply(recs, now=NOW) == {"c-1"}
    first = snapshot(store)
    store.apply(recs, now=NOW)  # the whole topic again
    store.apply(list(reversed(recs)), now=NOW)  # and in another order
    assert snapshot(store) == first
    row = review_call(store, "c-1")
    assert row["topic"] == "login" and row["outcome"] == "unresolved" and row["worst_emotion"] == "anger"
    assert row["max_risk"] == 0.7 and row["sentiment_trend"] == [0.4, 0.2]
    assert [u["seq"] for u in row["transcript"]] == [1, 2, 3]
    assert [(n["type"], n["action"]) for n in row["nudges"]] == [("acknowledge_emotion", "dismissed")]
    assert row["customer"]["known"]
    dump = repr(first)
    assert PHONE not in dump, "the customer id is stored only as a salted hash"
    with store.session() as s:
        assert s.get(Call, "c-1").customer_hash == hash_customer("test-salt", PHONE)


def test_older_state_never_overwrites_newer(store):
    start = NOW - timedelta(hours=1)
    live = state("c-2", start, risk=0.9, escalated=True, sentiment=0.1)
    live.last_update_ts = start + timedelta(minutes=1)
    ended = state("c-2", start, end=start + timedelta(minutes=5), risk=0.2, sentiment=0.6)
    store.apply([ended, live], now=NOW)
    with store.session() as s:
        call = s.get(Call, "c-2")
        assert call.ended_ts is not None and call.escalated and call.max_risk == 0.9 and call.sentiment == 0.6
        assert call.outcome == "escalated"


def test_history_summary_and_open_issue(store):
    monday = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    store.apply(angry_login_call("h-1", monday), now=NOW)
    store.apply(angry_login_call("h-2", monday + timedelta(days=1)), now=NOW)
    store.apply([state("h-3", NOW), said("h-3", 1, "我还是登录不上")], now=NOW)
    out = history(store, "h-3", limit=5)
    assert out["summary"] == "本周第3次来电,上次因登录问题不满"
    assert out["calls_this_week"] == 3
    assert [c["call_id"] for c in out["calls"]] == ["h-2", "h-1"]
    assert out["open_issue"]["topic"] == "login" and out["open_issue"]["call_id"] == "h-2"
    assert history(store, "nope") is None
    store.apply([state("anon", NOW, customer_id=None)], now=NOW)
    assert history(store, "anon")["customer"]["known"] is False


def test_repeat_caller_fires_only_for_the_same_open_topic(store):
    store.apply(angry_login_call("r-1", NOW - timedelta(days=2)), now=NOW)
    spec = repeat.RepeatRule("rules/default.yaml").current()
    store.apply([state("r-2", NOW), said("r-2", 1, "你好", at=NOW)], now=NOW)
    assert repeat.check(store, "r-2", spec, 7, NOW) == (False, None), "undecided until a topic is heard"
    store.apply([said("r-2", 3, "登录还是提示密码错误", at=NOW)], now=NOW)
    decided, n = repeat.check(store, "r-2", spec, 7, NOW)
    assert decided and n.nudge_id == "r-2:repeat:repeat_caller" and n.type == "repeat_caller"
    assert n.audience == "agent" and "登录" in n.suggestion and "登录" in n.reason and n.trigger_seq == 3
    # another topic, or an issue older than the window: nothing
    store.apply([state("r-3", NOW, agent="a-002")] + [said("r-3", i, "我想问一下佣金") for i in (1, 3, 5)], now=NOW)
    assert repeat.check(store, "r-3", spec, 7, NOW) == (True, None)
    assert repeat.check(store, "r-2", spec, 1, NOW) == (False, None)


def test_review_queries_and_acceptance(store):
    store.apply(angry_login_call("v-1", NOW - timedelta(hours=3), agent="a-001"), now=NOW)
    calm = [
        state("v-2", NOW - timedelta(hours=2), agent="a-002", customer_id="c-99"),
        said("v-2", 1, "我想问一下佣金"),
        nudge("v-2", 1, "confirm_request", agent="a-002"),
        NudgeFeedback(
            nudge_id="v-2:1:confirm_request",
            call_id="v-2",
            agent_id="a-002",
            type="confirm_request",
            action="accepted",
            ts=NOW,
        ),
        said("v-2", 3, "好的,谢谢", cues=("gratitude",)),
        state("v-2", NOW - timedelta(hours=2), end=NOW - timedelta(hours=1), agent="a-002", customer_id="c-99"),
    ]
    store.apply(calm + [state("live", NOW)], now=NOW)
    every = review_calls(store)
    assert every["total"] == 2 and {c["call_id"] for c in every["calls"]} == {"v-1", "v-2"}, "finished calls only"
    assert [c["call_id"] for c in review_calls(store, agent="a-002")["calls"]] == ["v-2"]
    assert [c["call_id"] for c in review_calls(store, min_risk=0.5)["calls"]] == ["v-1"]
    assert [c["call_id"] for c in review_calls(store, nudge_type="confirm_request")["calls"]] == ["v-2"]
    assert review_calls(store, escalated=True)["total"] == 0
    assert review_calls(store, since=NOW - timedelta(minutes=150))["total"] == 1
    acc = acceptance(store)
    assert acc["by_agent"]["a-002"]["accepted"] == 1 and acc["by_agent"]["a-002"]["acceptance_rate"] == 1.0
    assert acc["by_type"]["acknowledge_emotion"]["dismissed"] == 1
    assert acc["by_type"]["acknowledge_emotion"]["acceptance_rate"] == 0.0


def test_retention_purge(store):
    old_start = NOW - timedelta(days=100)
    old = angry_login_call("old-1", old_start)
    store.apply(old, now=old_start + timedelta(hours=1))
    store.apply(angry_login_call("new-1", NOW - timedelta(days=3)), now=NOW)
    result = store.purge(now=NOW)
    assert result["calls"] == 1 and result["utterances"] == 3 and result["nudges"] == 1 and result["feedback"] == 1
    assert review_call(store, "old-1") is None and review_call(store, "new-1") is not None
    before = snapshot(store)
    store.apply(old, now=NOW)  # the compacted call-state still holds the old call: it does not come back
    assert snapshot(store) == before


def test_customer_export_and_delete(store):
    store.apply(angry_login_call("e-1", NOW - timedelta(days=2)), now=NOW)
    store.apply([state("e-2", NOW - timedelta(days=1), customer_id="someone-else")], now=NOW)
    out = store.export_customer(PHONE)
    assert [c["call_id"] for c in out["calls"]] == ["e-1"]
    assert out["calls"][0]["transcript"] and out["calls"][0]["nudges"]
    assert PHONE not in repr(out)
    gone = store.delete_customer(PHONE, now=NOW)
    assert gone["calls"] == 1 and gone["utterances"] == 3
    assert store.export_customer(PHONE)["calls"] == []
    store.apply(angry_login_call("e-1", NOW - timedelta(days=2)), now=NOW)  # re-consumed: stays erased
    assert store.export_customer(PHONE)["calls"] == []
    assert review_call(store, "e-2") is not None
    store.apply([state("e-3", NOW + timedelta(hours=1))], now=NOW)  # a new call after the request is recorded
    assert [c["call_id"] for c in store.export_customer(PHONE)["calls"]] == ["e-3"]
