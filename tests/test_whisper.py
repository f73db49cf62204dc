"""Supervisor whisper, the pure parts: text checks, the rate limit, the Nudge it becomes."""

from __future__ import annotations

import asyncio

import pytest

from services.gateway.calls import CallBook
from services.gateway.whisper import BURST, EVERY_S, MAX_CHARS, Whisperer, WhisperError, clean_text, make_whisper
from shared.config import Settings
from shared.ratelimit import KeyedBuckets
from shared.schemas import Nudge


def test_text_is_trimmed_and_bounded():
    assert clean_text("  先道歉,\n 再说明到账时间  ") == "先道歉, 再说明到账时间"
    assert clean_text("好" * MAX_CHARS) == "好" * MAX_CHARS
    for bad, words in (
        (None, "string"),
        ("   ", "empty"),
        ("好" * (MAX_CHARS + 1), "at most 200"),
        ("a\u200bb", "invisible"),
        ("a\x07b", "control"),
    ):
        with pytest.raises(WhisperError) as err:
            clean_text(bad)
        assert err.value.status == 422 and words in err.value.message


def test_the_rate_limit_is_a_burst_then_a_steady_pace():
    assert (BURST, EVERY_S) == (3, 3.0)
    limit = KeyedBuckets(rate=1 / EVERY_S, burst=BURST)  # what Whisperer keeps, per supervisor
    assert [limit.allow("s-001", now=t) for t in (0, 0.1, 0.2, 0.3)] == [True, True, True, False]
    assert limit.allow("s-002", now=0.3), "per supervisor"
    assert not limit.allow("s-001", now=2.0) and limit.allow("s-001", now=3.4)


def test_keyed_buckets_stay_bounded():
    limit = KeyedBuckets(rate=1.0, burst=1, max_keys=2)
    assert limit.allow("a", now=0) and limit.allow("b", now=0) and not limit.allow("a", now=0.1)
    assert limit.allow("c", now=0.2) and list(limit.buckets) == ["a", "c"], "b, used longest ago, is forgotten"


def test_a_whisper_is_a_high_priority_agent_nudge_with_its_sender():
    n = make_whisper("c-1", "a-001", "s-001", "值班主管 郑华", "先道歉")
    again = Nudge.model_validate_json(n.to_json())
    assert again.model_dump(mode="json") == n.model_dump(mode="json")
    assert (n.type, n.audience, n.priority, n.sender, n.agent_id) == (
        "supervisor_whisper",
        "agent",
        "high",
        "s-001",
        "a-001",
    )
    assert n.nudge_id.startswith("c-1:whisper:") and n.reason == "来自值班主管 郑华(s-001)"
    assert make_whisper("c-1", "a-001", "s-9", None, "x").nudge_id != n.nudge_id


def test_the_whisperer_checks_the_call_and_sends_once_checked():
    sent = []

    async def send(nudge):
        sent.append(nudge)

    book = CallBook()
    w = Whisperer(Settings(), book, send)

    def attempt(call_id, text="请先安抚客户"):
        try:
            return asyncio.run(w.send("s-001", call_id, text))
        except WhisperError as exc:
            return exc.status

    assert attempt("c-404") == 404
    book.on_state({"call_id": "c-1", "agent_id": "a-001", "started_ts": "2026-11-26T06:00:00.000Z"})
    assert attempt("c-1", "") == 422 and attempt(None) == 422
    n = attempt("c-1")
    assert isinstance(n, Nudge) and sent == [n] and n.reason == "来自值班主管 郑华(s-001)"
    book.on_state({"call_id": "c-1", "agent_id": "a-001", "ended_ts": "2026-11-26T06:05:00.000Z"})
    assert attempt("c-1") == 409 and len(sent) == 1

    async def down(nudge):
        raise ConnectionError("broker")

    book.on_state({"call_id": "c-2", "agent_id": "a-002"})
    assert asyncio.run(_status(Whisperer(Settings(), book, down), "c-2")) == 503


async def _status(w, call_id):
    try:
        await w.send("s-001", call_id, "hi")
    except WhisperError as exc:
        return exc.status
