"""Call state is forgotten after a call ends: the gateway's CallBook and the nudger's table rule."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest

from services.gateway import calls as gw


def _state(call_id: str, ended: bool) -> dict:
    return {"call_id": call_id, "agent_id": "a-001", "ended_ts": "2026-11-23T08:00:00.000Z" if ended else None}


def test_callbook_forgets_ended_calls_after_the_grace_period_and_silent_ones_later():
    book = gw.CallBook()
    book.on_state(_state("ended", True))
    book.on_state(_state("live", False))
    book.on_nudge({"call_id": "live", "nudge_id": "live:1:x", "type": "x", "audience": "agent"})
    t0 = book.calls["ended"].last_seen
    assert book.expire(t0 + gw.ENDED_KEEP_S - 1) == []
    assert book.expire(t0 + gw.ENDED_KEEP_S + 1) == ["ended"]
    assert "live" in book.calls and book.calls["live"].nudges
    assert book.expire(t0 + gw.SILENT_EXPIRY_S - 1) == []
    assert book.expire(t0 + gw.SILENT_EXPIRY_S + 1) == ["live"]
    assert book.calls == {}


def test_callbook_stays_bounded_per_call():
    book = gw.CallBook()
    book.on_state(_state("c", False))
    for seq in range(gw.TRANSCRIPT_LIMIT + 50):
        book.on_analysis({"call_id": "c", "seq": seq, "speaker": "customer", "is_final": True, "text": "x"})
    for i in range(gw.NUDGE_LIMIT + 50):
        book.on_nudge({"call_id": "c", "nudge_id": f"c:{i}:x", "type": "x", "audience": "agent"})
    assert len(book.calls["c"].transcript) == gw.TRANSCRIPT_LIMIT
    assert len(book.calls["c"].nudges) == gw.NUDGE_LIMIT


@pytest.fixture
def nudger(monkeypatch):
    """The nudger worker module (imported with a bootstrap that connects nowhere)."""
    from shared.config import get_settings

    monkeypatch.setenv("HEARTLINE_KAFKA", "127.0.0.1:1")
    get_settings.cache_clear()
    try:
        yield importlib.import_module("services.nudger.worker")
    finally:
        get_settings.cache_clear()


def test_nudger_forgets_a_call_after_ended_keep_s_or_silence(nudger):
    from shared.schemas import CallState

    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    ended = CallState(call_id="c", ended_ts=now - timedelta(seconds=nudger.ENDED_KEEP_S + 1), last_update_ts=now)
    recent = CallState(call_id="c", ended_ts=now - timedelta(seconds=nudger.ENDED_KEEP_S - 1), last_update_ts=now)
    live = CallState(call_id="c", last_update_ts=now - timedelta(seconds=60))
    silent = CallState(call_id="c", last_update_ts=now - timedelta(seconds=nudger.SILENT_EXPIRY_S + 1))
    assert nudger.expired(ended, now)
    assert not nudger.expired(recent, now)
    assert not nudger.expired(live, now)
    assert nudger.expired(silent, now)
