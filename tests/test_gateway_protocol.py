"""The gateway's websocket protocol (docs/websocket.md), without a broker.

The real app in FastAPI's TestClient on a fake feed (tests/gatewaykit.py):
records go through the same ``Relay`` the Kafka feed uses, what the gateway
produces lands in ``feed.produced``. Every wait is in-band (the next message,
or the pong of a ping); every message received is checked against
``shared.socket_messages``. The same protocol across real processes and a
real broker: tests/test_e2e.py, tests/test_whisper.py, tests/test_contract.py.
"""

from __future__ import annotations

import time

import pytest

from services.gateway import hub
from services.gateway.sockets import MAX_CLIENT_MESSAGE
from shared.schemas import NudgeFeedback
from tests.gatewaykit import Gateway, gateway

pytestmark = pytest.mark.timeout(30)  # a protocol bug must fail, not hang on a receive


@pytest.fixture
def gw():
    with gateway() as g:
        yield g


def kinds(msgs: list[dict]) -> list[str]:
    return [m["kind"] for m in msgs]


def nudge_ids(msgs: list[dict]) -> list[str]:
    return [m["nudge_id"] for m in msgs if m["kind"] == "nudge"]


def lines(msgs: list[dict]) -> list[tuple[int, bool]]:
    return [(m["seq"], m["is_final"]) for m in msgs if m["kind"] == "transcript"]


# ------------------------------------------------------------------ sign-in and close codes


@pytest.mark.parametrize(
    "case",
    ["missing", "garbage", "other secret", "other audience", "expired", "lifetime over the maximum"],
)
def test_agent_socket_closes_4401_without_a_good_token(gw: Gateway, case: str):
    now = time.time()
    token = {
        "missing": None,
        "garbage": "not-a-jwt",
        "other secret": gw.forged("a-001", "agent", exp=now + 60, secret="x" * 64),
        "other audience": gw.forged("a-001", "agent", exp=now + 60, aud="someone-else"),
        "expired": gw.forged("a-001", "agent", exp=now - 1),
        "lifetime over the maximum": gw.forged("a-001", "agent", exp=now + gw.settings.token_max_ttl_s + 3600),
    }[case]
    with gw.connect("/ws/agent", token, "agent") as ws:
        assert ws.close_code() == 4401


def test_a_role_opens_only_its_own_socket(gw: Gateway):
    with gw.connect("/ws/agent", gw.token("s-001", "supervisor"), "agent") as ws:
        assert ws.close_code() == 4403
    with gw.connect("/ws/wall", gw.token("a-001", "agent"), "supervisor") as ws:
        assert ws.close_code() == 4403


def test_token_as_subprotocol_and_never_needed_in_the_url(gw: Gateway):
    """The pages' way: ["heartline", "heartline.bearer.<JWT>"]; the gateway selects "heartline"."""
    good = ["heartline", "heartline.bearer." + gw.token("a-001")]
    with gw.connect("/ws/agent", None, "agent", subprotocols=good) as ws:
        assert ws.ws.accepted_subprotocol == "heartline"
        assert ws.settle() == []
    with gw.connect("/ws/agent", None, "agent", subprotocols=["heartline", "heartline.bearer.nope"]) as ws:
        assert ws.close_code() == 4401


def test_a_token_that_expires_while_connected_closes_4401(gw: Gateway):
    exp = int(time.time() + 1.3)  # 0.3-1.3 s from now: admitted, then closed at its exp
    with gw.connect("/ws/agent", gw.forged("a-001", "agent", exp=exp), "agent") as ws:
        assert ws.settle() == []  # admitted and served
        assert ws.close_code() == 4401
        assert time.time() >= exp - 0.05


def test_origin_of_another_site_closes_1008(gw: Gateway):
    token = gw.token("a-001")
    with gw.connect("/ws/agent", token, "agent", headers={"origin": "http://testserver"}) as ws:
        assert ws.settle() == []
    with gw.connect("/ws/agent", token, "agent", headers={"origin": "https://evil.example"}) as ws:
        assert ws.close_code() == 1008


# ------------------------------------------------------------------ the agent's greeting and routing


def test_agent_greeting_is_its_live_calls_state_first(gw: Gateway):
    """Per live call, oldest first: call, transcript, call_state, open nudges. Not another agent's
    calls, not ended ones, not alerts, not answered nudges."""
    gw.state("c-new", "a-001", started_ts="2026-11-23T08:05:00.000Z")
    gw.state("c-old", "a-001", started_ts="2026-11-23T08:00:00.000Z")
    gw.state("c-other", "a-002")
    gw.state("c-ended", "a-001", ended_ts="2026-11-23T08:03:00.000Z")
    gw.line("c-old", 1, "我的钱什么时候到账")
    gw.line("c-old", 2, "我帮您查一下", speaker="agent")
    gw.line("c-old", 3, "还要等", is_final=False)
    gw.nudge("c-old", "a-001", "acknowledge_emotion")
    gw.nudge("c-old", "a-001", "confirm_request", trigger_seq=2)
    gw.nudge("c-old", "a-001", "escalate_supervisor", audience="supervisor")
    gw.nudge("c-other", "a-002")
    gw.publish(
        gw.topics.nudge_feedback,
        [NudgeFeedback(nudge_id="c-old:2:confirm_request", call_id="c-old", action="accepted")],
    )

    with gw.agent("a-001") as a:
        got = a.settle()
    assert kinds(got) == ["call", "transcript", "transcript", "transcript", "call_state", "nudge", "call", "call_state"]
    assert [m["call_id"] for m in got if m["kind"] == "call"] == ["c-old", "c-new"]
    assert lines(got) == [(1, True), (2, True), (3, False)]
    assert nudge_ids(got) == ["c-old:1:acknowledge_emotion"]


def test_a_nudge_reaches_its_agent_only_on_every_socket_of_that_agent_once(gw: Gateway):
    gw.state("c-1", "a-001")
    gw.state("c-2", "a-002")
    with gw.agent("a-001") as tab1, gw.agent("a-001") as tab2, gw.agent("a-002") as other, gw.wall() as wall:
        for ws in (tab1, tab2, other, wall):
            ws.settle()
        n = gw.nudge("c-1", "a-001")
        gw.nudges([n, n])  # redelivered by Kafka: shown once
        gw.line("c-1", 1, "太慢了")
        for tab in (tab1, tab2):
            got = tab.settle()
            assert nudge_ids(got) == [n.nudge_id] and lines(got) == [(1, True)]
        assert other.settle() == []
        assert wall.settle() == []  # an agent's nudge and line reach only a wall that listens in


def test_alerts_go_to_every_wall_and_never_to_the_agent(gw: Gateway):
    gw.state("c-1", "a-001")
    with gw.agent("a-001") as a, gw.wall("s-001") as w1, gw.wall("s-002") as w2:
        for ws in (a, w1, w2):
            ws.settle()
        alert = gw.nudge("c-1", "a-001", "escalate_supervisor", audience="supervisor")
        assert a.settle() == []
        assert nudge_ids(w1.settle()) == nudge_ids(w2.settle()) == [alert.nudge_id]


def test_what_arrived_before_the_agent_was_known_is_sent_once_without_alerts(gw: Gateway):
    """Records of a call read before its call-state (a restarted gateway reads the topics in any
    order): its transcript and agent nudges go to the agent when the state names them, once;
    an alert stays on the wall."""
    gw.line("c-1", 1, "我要投诉")
    gw.nudge("c-1", None, "acknowledge_emotion")
    gw.nudge("c-1", None, "escalate_supervisor", audience="supervisor")
    with gw.agent("a-001") as a:
        assert a.settle() == []
        gw.state("c-1", "a-001")
        got = a.settle()
        assert kinds(got) == ["call", "transcript", "nudge", "call_state"]
        assert nudge_ids(got) == ["c-1:1:acknowledge_emotion"]
        gw.state("c-1", "a-001", on_hold=True)  # a hold changes the call: not the transcript again
        assert kinds(a.settle()) == ["call", "call_state"]


def test_a_bad_record_is_skipped_and_the_next_one_delivered(gw: Gateway):
    gw.state("c-1", "a-001")
    with gw.agent("a-001") as a:
        a.settle()
        garbage = [b"not json", b"[1]", b'{"call_id": "c-1"}', b"\xff\xfe"]
        for topic in (gw.topics.call_state, gw.topics.utterance_analysis, gw.topics.nudges, gw.topics.nudge_feedback):
            gw.raw(topic, "c-1", garbage)
        n = gw.nudge("c-1", "a-001")
        assert nudge_ids(a.settle()) == [n.nudge_id]


def test_an_ended_call_and_a_tombstone(gw: Gateway):
    """An ended call leaves the greeting but can still be resumed (its last lines); a tombstone
    forgets it."""
    gw.state("c-1", "a-001")
    with gw.agent("a-001") as a:
        a.settle()
        gw.state("c-1", "a-001", ended_ts="2026-11-23T08:09:00.000Z")
        got = a.settle()
        assert kinds(got) == ["call", "call_state"] and got[0]["ended_ts"]
    gw.line("c-1", 9, "谢谢,再见")
    with gw.agent("a-001") as a:
        assert a.settle() == []
        a.send({"kind": "resume", "call_id": "c-1", "after_seq": 8})
        assert kinds(a.settle()) == ["call", "transcript", "call_state", "resumed"]
    gw.tombstone("c-1")
    with gw.agent("a-001") as a:
        assert a.settle() == []
        a.send({"kind": "resume", "call_id": "c-1", "after_seq": -1})
        assert kinds(a.settle()) == ["error"]


# ------------------------------------------------------------------ resume


def test_resume_after_a_reconnect_sends_what_was_missed_and_no_nudge_twice(gw: Gateway):
    gw.state("c-1", "a-001")
    with gw.agent("a-001") as a:
        a.settle()
        for seq in (1, 2, 3):
            gw.line("c-1", seq)
        first = gw.nudge("c-1", "a-001", trigger_seq=2)
        before = a.settle()
        assert lines(before) == [(1, True), (2, True), (3, True)] and nudge_ids(before) == [first.nudge_id]
    # offline: two more lines, a second nudge
    gw.line("c-1", 4)
    gw.line("c-1", 5, is_final=False)
    second = gw.nudge("c-1", "a-001", "confirm_request", trigger_seq=4)
    with gw.agent("a-001") as a:
        greeting = a.settle()
        assert nudge_ids(greeting) == [first.nudge_id, second.nudge_id]  # open nudges, the greeting's rule
        a.send({"kind": "resume", "call_id": "c-1", "after_seq": 3, "seen_nudges": [first.nudge_id]})
        resumed = a.settle()
        assert kinds(resumed)[-1] == "resumed" and resumed[-1] == {"kind": "resumed", "call_id": "c-1", "after_seq": 3}
        # seq > after_seq only (the greeting carried them too: the desk keeps one line per (seq, speaker))
        assert lines(resumed) == [(4, True), (5, False)]
        assert nudge_ids(resumed) == []  # a nudge_id is sent at most once per connection
        gw.line("c-1", 5)  # live again: the final replaces the partial
        assert lines(a.settle()) == [(5, True)]


@pytest.mark.parametrize(
    "resume",
    [
        {"kind": "resume", "call_id": "c-theirs", "after_seq": -1},  # another agent's call
        {"kind": "resume", "call_id": "c-nope", "after_seq": -1},
        {"kind": "resume", "call_id": "c-1", "after_seq": "3"},
        {"kind": "resume", "call_id": "c-1", "after_seq": 3, "seen_nudges": "c-1:1:x"},
    ],
)
def test_a_bad_resume_is_an_error_and_sends_nothing_else(gw: Gateway, resume: dict):
    gw.state("c-1", "a-001")
    gw.state("c-theirs", "a-002")
    gw.line("c-theirs", 1, "别人的通话")
    with gw.agent("a-001") as a:
        a.settle()
        a.send(resume)
        got = a.settle()
        assert kinds(got) == ["error"] and got[0]["error"].startswith("resume:")


# ------------------------------------------------------------------ bounded send queues


@pytest.fixture
def small_queues(monkeypatch):
    monkeypatch.setattr(hub, "QUEUE_LIMIT", 8)
    return 8


def test_a_client_that_cannot_keep_up_is_closed_4408_and_loses_no_nudge(gw: Gateway, small_queues: int):
    gw.state("c-1", "a-001")
    gw.state("c-2", "a-002")
    with gw.agent("a-001") as slow, gw.agent("a-002") as other:
        slow.settle()
        other.settle()
        burst = [gw.make_nudge("c-1", "a-001", trigger_seq=i) for i in range(small_queues * 2)]
        gw.nudges(burst)  # more than its queue holds, before its sender can run
        assert slow.close_code() == 4408
        gw.nudge("c-2", "a-002")
        assert nudge_ids(other.settle()) == ["c-2:1:acknowledge_emotion"]  # the others go on
    with gw.agent("a-001") as again:  # reconnect: every open nudge is in the greeting
        assert nudge_ids(again.settle()) == [n.nudge_id for n in burst]


def test_partial_lines_that_do_not_fit_are_dropped_and_the_socket_stays(gw: Gateway, small_queues: int):
    gw.state("c-1", "a-001")
    with gw.agent("a-001") as a:
        a.settle()
        growing = [gw.make_line("c-1", 1, "我" * n, is_final=False) for n in range(1, small_queues * 3)]
        gw.publish(gw.topics.utterance_analysis, growing)
        gw.line("c-1", 1, "最后的结果")
        got = a.settle()
        assert len(got) <= small_queues + 1
        assert lines(got)[-1] == (1, True) and got[-1]["text"] == "最后的结果"


def test_a_greeting_larger_than_the_queue_is_sent_whole(gw: Gateway, small_queues: int):
    """The state on connect is queued whole (a wall with more live calls than the queue holds
    still connects); the bound applies to live messages queued after it."""
    risks = [round(0.05 * n, 2) for n in range(small_queues + 4)]
    for n, risk in enumerate(risks):
        gw.state(f"c-{n}", f"a-{n:03}", risk=risk)
    with gw.wall() as w:
        gw.nudges([gw.make_nudge("c-1", "a-001", "escalate_supervisor", audience="supervisor")])  # live, behind it
        got = w.settle()
        assert [m["risk"] for m in got if m["kind"] == "call_state"] == sorted(risks, reverse=True)
        assert kinds(got)[-2:] == ["stats", "nudge"]
        gw.nudges(
            [
                gw.make_nudge("c-2", "a-002", "escalate_supervisor", audience="supervisor", trigger_seq=n)
                for n in range(small_queues + 1)
            ]
        )
        assert w.close_code() == 4408


def test_more_than_the_burst_of_client_messages_closes_4429(gw: Gateway):
    with gw.agent("a-001") as a:
        for n in range(100):  # burst 40, then 20 a second: 100 within 3 s cannot all be allowed
            a.send({"kind": "ping", "t": n})
        assert a.close_code() == 4429


# ------------------------------------------------------------------ malformed client messages


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        '{"kind": 7}',
        '{"no": "kind"}',
        '{"kind": "subscribe"}',
        '{"kind": "whisper", "call_id": "c-1", "text": "agents cannot whisper"}',
        '{"kind": "feedback", "nudge_id": "c-1:1:acknowledge_emotion", "action": "liked"}',
        '{"kind": "feedback", "nudge_id": "c-unknown:1:x", "action": "accepted"}',
        '{"kind": "feedback", "nudge_id": ["c-1:1:acknowledge_emotion"], "action": "accepted"}',
        '{"kind": "feedback", "nudge_id": {"a": 1}, "action": "accepted"}',
        "x" * (MAX_CLIENT_MESSAGE + 1),
    ],
)
def test_a_malformed_agent_message_gets_an_error_and_the_socket_stays(gw: Gateway, text: str):
    gw.state("c-1", "a-001")
    gw.nudge("c-1", "a-001")
    with gw.agent("a-001") as a:
        a.settle()
        a.send(text)
        got = a.settle()
        assert kinds(got) == ["error"] and got[0]["error"]
        assert text[:40] not in got[0]["error"]  # says what was wrong, not what was sent
    assert gw.feed.produced == []


def test_a_binary_frame_gets_an_error(gw: Gateway):
    with gw.agent("a-001") as a:
        a.ws.send_bytes(b'{"kind": "ping"}')
        assert kinds(a.settle()) == ["error"]
    with gw.wall() as w:
        w.ws.send_bytes(b"\x00\x01")
        got = w.settle()
        assert kinds([m for m in got if m["kind"] != "stats"]) == ["error"]


# ------------------------------------------------------------------ feedback to the producer side


def test_feedback_goes_to_nudge_feedback_and_closes_the_nudge(gw: Gateway):
    """用了 (accepted) and 忽略 (dismissed): acknowledged, produced keyed by call id, counted,
    and an answered nudge is not in the next greeting."""
    gw.state("c-1", "a-001")
    used = gw.nudge("c-1", "a-001", "acknowledge_emotion")
    ignored = gw.nudge("c-1", "a-001", "confirm_request", trigger_seq=2)
    with gw.agent("a-001") as a:
        a.settle()
        a.send({"kind": "feedback", "nudge_id": used.nudge_id, "action": "accepted"})
        a.send({"kind": "feedback", "nudge_id": ignored.nudge_id, "action": "dismissed"})
        assert a.settle() == [
            {"kind": "feedback_ack", "nudge_id": used.nudge_id, "action": "accepted"},
            {"kind": "feedback_ack", "nudge_id": ignored.nudge_id, "action": "dismissed"},
        ]
    assert [(t, k) for t, k, _ in gw.feed.produced] == [(gw.topics.nudge_feedback, b"c-1")] * 2
    sent = [NudgeFeedback.model_validate(r) for r in gw.feed.sent(gw.topics.nudge_feedback)]
    assert [(f.nudge_id, f.call_id, f.agent_id, f.type, f.action) for f in sent] == [
        (used.nudge_id, "c-1", "a-001", "acknowledge_emotion", "accepted"),
        (ignored.nudge_id, "c-1", "a-001", "confirm_request", "dismissed"),
    ]
    gw.echo()  # read back from the topic: counted once
    stats = gw.client.get("/api/rules/stats").json()
    assert stats["types"]["acknowledge_emotion"]["accepted"] == 1
    assert stats["types"]["confirm_request"]["dismissed"] == 1
    with gw.agent("a-001") as a:
        assert nudge_ids(a.settle()) == []


def test_an_agent_cannot_answer_another_agents_nudge(gw: Gateway):
    gw.state("c-1", "a-001")
    n = gw.nudge("c-1", "a-001")
    with gw.agent("a-002") as intruder:
        intruder.send({"kind": "feedback", "nudge_id": n.nudge_id, "action": "dismissed"})
        assert kinds(intruder.settle()) == ["error"]
    assert gw.feed.produced == []
    with gw.agent("a-001") as a:
        assert nudge_ids(a.settle()) == [n.nudge_id]


# ------------------------------------------------------------------ the supervisor wall


def test_wall_greeting_is_worst_first_then_alerts_then_stats(gw: Gateway):
    for call_id, risk in (("c-calm", 0.1), ("c-worst", 0.95), ("c-mid", 0.5), ("c-bad", 0.7)):
        gw.state(call_id, "a-" + call_id[2:5], risk=risk)
    gw.state("c-gone", "a-009", risk=1.0, ended_ts="2026-11-23T08:09:00.000Z")
    alert = gw.nudge("c-worst", "a-wor", "escalate_supervisor", audience="supervisor")
    gw.nudge("c-worst", "a-wor", "acknowledge_emotion")
    with gw.wall() as w:
        got = w.settle()
    assert kinds(got) == ["call_state"] * 4 + ["nudge", "stats"]
    assert [m["call_id"] for m in got[:4]] == ["c-worst", "c-bad", "c-mid", "c-calm"]
    assert nudge_ids(got) == [alert.nudge_id]
    assert {k: got[-1][k] for k in ("live_calls", "at_risk", "nudges_per_min")} == {
        "live_calls": 4,
        "at_risk": 2,
        "nudges_per_min": 2,
    }


def test_wall_updates_are_coalesced_per_call(gw: Gateway):
    gw.state("c-1", "a-001", risk=0.1)
    gw.state("c-2", "a-002", risk=0.2)
    with gw.wall() as w:
        w.settle()
        for risk in (0.2, 0.4, 0.6, 0.8):
            gw.state("c-1", "a-001", risk=risk)
        gw.state("c-2", "a-002", risk=0.3)
        assert w.settle() == []  # nothing before the flush tick
        gw.flush()
        got = w.settle()
        assert sorted((m["call_id"], m["risk"]) for m in got) == [("c-1", 0.8), ("c-2", 0.3)]
        assert kinds(got) == ["call_state", "call_state"]
        gw.flush()
        assert w.settle() == []  # nothing changed: nothing sent
        gw.state("c-2", "a-002", risk=0.3, ended_ts="2026-11-23T08:09:00.000Z")
        gw.flush()
        assert [(m["call_id"], bool(m["ended_ts"])) for m in w.settle()] == [("c-2", True)]
        gw.housekeep()
        (stats,) = w.settle()
        assert stats["kind"] == "stats" and stats["live_calls"] == 1


def test_listen_in_sends_the_call_so_far_then_live_until_unwatch(gw: Gateway):
    gw.state("c-1", "a-001")
    gw.state("c-2", "a-002")
    gw.line("c-1", 1, "我等了半个小时")
    gw.line("c-1", 2, "非常抱歉", speaker="agent")
    n1 = gw.nudge("c-1", "a-001")
    with gw.wall("s-001") as w, gw.wall("s-002") as bystander:
        w.settle()
        bystander.settle()
        w.send({"kind": "watch", "call_id": "c-1"})
        got = w.settle()
        assert kinds(got) == ["call", "transcript", "transcript", "nudge"]
        assert lines(got) == [(1, True), (2, True)] and nudge_ids(got) == [n1.nudge_id]
        gw.line("c-1", 3, "还要多久", is_final=False)
        gw.line("c-2", 1, "别的通话")
        n2 = gw.nudge("c-1", "a-001", "reassure_urgency", trigger_seq=3)
        got = w.settle()
        assert lines(got) == [(3, False)] and nudge_ids(got) == [n2.nudge_id]
        assert bystander.settle() == []
        w.send({"kind": "unwatch"})
        w.settle()
        gw.line("c-1", 3, "还要多久啊")
        assert w.settle() == []
        w.send({"kind": "watch", "call_id": "c-nope"})
        assert kinds(w.settle()) == ["error"]


# ------------------------------------------------------------------ whisper: supervisors only


def test_a_whisper_is_produced_as_a_nudge_and_reaches_the_agent(gw: Gateway):
    gw.state("c-1", "a-001")
    with gw.wall("s-001") as w, gw.agent("a-001") as a, gw.agent("a-002") as other:
        for ws in (w, a, other):
            ws.settle()
        w.send({"kind": "watch", "call_id": "c-1"})
        w.settle()
        w.send({"kind": "whisper", "call_id": "c-1", "text": "  先向客户道歉,\n再说明到账时间  "})
        (ack,) = w.settle()
        assert ack["kind"] == "whisper_ack" and ack["call_id"] == "c-1"
        (produced,) = gw.feed.produced
        assert produced[:2] == (gw.topics.nudges, b"c-1")
        (rec,) = gw.feed.sent(gw.topics.nudges)
        assert rec["nudge_id"] == ack["nudge_id"]
        assert (rec["type"], rec["audience"], rec["priority"], rec["sender"], rec["agent_id"]) == (
            "supervisor_whisper",
            "agent",
            "high",
            "s-001",
            "a-001",
        )
        assert rec["suggestion"] == "先向客户道歉, 再说明到账时间"
        assert a.settle() == []  # the agent gets it from the topic, like every gateway
        gw.echo()
        (card,) = a.settle()
        assert card["kind"] == "nudge" and card["nudge_id"] == ack["nudge_id"]
        assert nudge_ids(w.settle()) == [ack["nudge_id"]]  # the listen-in panel shows it too
        assert other.settle() == []
        a.send({"kind": "feedback", "nudge_id": ack["nudge_id"], "action": "accepted"})  # 收到
        assert kinds(a.settle()) == ["feedback_ack"]


@pytest.mark.parametrize(
    "msg, status",
    [
        ({"kind": "whisper", "call_id": "c-nope", "text": "你好"}, 404),
        ({"kind": "whisper", "call_id": "c-ended", "text": "你好"}, 409),
        ({"kind": "whisper", "call_id": "c-1", "text": "   "}, 422),
        ({"kind": "whisper", "call_id": "c-1", "text": "a" * 201}, 422),
        ({"kind": "whisper", "call_id": "c-1", "text": "看\u200b这里"}, 422),
        ({"kind": "whisper", "call_id": "c-1"}, 422),
        ({"kind": "whisper", "text": "你好"}, 422),
    ],
)
def test_a_refused_whisper_says_why_and_produces_nothing(gw: Gateway, msg: dict, status: int):
    gw.state("c-1", "a-001")
    gw.state("c-ended", "a-002", ended_ts="2026-11-23T08:09:00.000Z")
    with gw.wall() as w:
        w.settle()
        w.send(msg)
        (err,) = w.settle()
        assert (err["kind"], err["about"], err["status"], err["call_id"]) == (
            "error",
            "whisper",
            status,
            msg.get("call_id"),
        )
    assert gw.feed.produced == []


def test_feedback_the_broker_does_not_take_is_refused_and_the_socket_stays(gw: Gateway):
    """Broker down: the agent hears "not recorded, send it again" (with when), the socket stays
    open, nothing is counted; sent again once the broker is back, it is recorded once."""
    gw.state("c-1", "a-001")
    nudge = gw.nudge("c-1", "a-001", "acknowledge_emotion")
    with gw.agent("a-001") as a:
        a.settle()
        gw.feed.broken = True
        a.send({"kind": "feedback", "nudge_id": nudge.nudge_id, "action": "accepted"})
        (refused,) = a.settle()
        assert refused["kind"] == "error" and refused["about"] == "feedback"
        assert refused["nudge_id"] == nudge.nudge_id and refused["retry_after_s"] > 0
        assert gw.client.get("/api/rules/stats").json()["types"].get("acknowledge_emotion", {}).get("accepted", 0) == 0
        gw.feed.broken = False
        a.send({"kind": "feedback", "nudge_id": nudge.nudge_id, "action": "accepted"})
        assert a.settle() == [{"kind": "feedback_ack", "nudge_id": nudge.nudge_id, "action": "accepted"}]
    assert len(gw.feed.sent(gw.topics.nudge_feedback)) == 1


def test_whispers_are_rate_limited_and_a_broker_outage_is_a_503(gw: Gateway):
    gw.state("c-1", "a-001")
    with gw.wall("s-001") as w, gw.wall("s-002") as w2:
        w.settle()
        w2.settle()
        for n in range(4):
            w.send({"kind": "whisper", "call_id": "c-1", "text": f"第{n}条"})
        got = w.settle()
        assert kinds(got) == ["whisper_ack"] * 3 + ["error"] and got[-1]["status"] == 429
        gw.feed.broken = True
        w2.send({"kind": "whisper", "call_id": "c-1", "text": "另一位主管"})  # the limit is per supervisor
        (err,) = w2.settle()
        assert err["status"] == 503
    assert len(gw.feed.produced) == 3


def test_only_a_supervisor_token_may_whisper_over_http(gw: Gateway):
    gw.state("c-1", "a-001")
    body = {"call_id": "c-1", "text": "先道歉"}
    as_agent = gw.client.post("/api/whisper", json=body, headers={"authorization": f"Bearer {gw.token('a-001')}"})
    assert as_agent.status_code == 403
    assert gw.client.post("/api/whisper", json=body).status_code == 401
    supervisor = {"authorization": f"Bearer {gw.token('s-001', 'supervisor')}"}
    ok = gw.client.post("/api/whisper", json=body, headers=supervisor)
    assert ok.status_code == 202 and ok.json()["agent_id"] == "a-001"
    assert [r["sender"] for r in gw.feed.sent(gw.topics.nudges)] == ["s-001"]


def test_a_send_the_broker_never_acknowledges_gives_up_in_bounded_time(monkeypatch):
    """Guards: with the broker down, aiokafka waits 40 s for an acknowledgement, and the socket
    that sent the feedback read nothing else meanwhile. The feed gives up after SEND_TIMEOUT_S."""
    import asyncio

    from services.gateway import feed as feed_module
    from shared.config import Settings

    class Silent:
        async def send_and_wait(self, *args, **kwargs):
            await asyncio.sleep(3600)

    monkeypatch.setattr(feed_module, "SEND_TIMEOUT_S", 0.2)
    feed = feed_module.Feed(Settings(kafka="127.0.0.1:1"), relay=None)
    feed.producer = Silent()

    async def attempt() -> float:
        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await feed.send_feedback(b"c-1", b"{}")
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(attempt()) < 2
