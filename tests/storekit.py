"""History-store test data: call-state, analyses, nudges and feedback as the recorder
reads them, a whole angry login call, and a store's rows as plain tuples.
The ``store`` and ``pg_server`` fixtures are in conftest.py."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.recorder.models import Base
from services.recorder.store import Store
from shared.schemas import CallState, Customer, Nudge, NudgeFeedback, TalkMs, UtteranceAnalysis

PG_SERVER = os.environ.get("HEARTLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
PHONE = "13800138000"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # a Thursday, 14:00 in Beijing


def state(call_id, start, end=None, customer_id=PHONE, agent="a-001", **kw) -> CallState:
    return CallState(
        call_id=call_id,
        agent_id=agent,
        started_ts=start,
        ended_ts=end,
        customer=Customer(id=customer_id, name="王先生", segment="senior"),
        last_update_ts=end or start,
        talk_ms=TalkMs(agent=1000, customer=2000),
        **kw,
    )


def said(call_id, seq, text, speaker="customer", emotion="neutral", score=0.5, cues=(), at=None) -> UtteranceAnalysis:
    at = at or NOW
    return UtteranceAnalysis(
        call_id=call_id,
        seq=seq,
        speaker=speaker,
        text=text,
        sentiment=0.3,
        emotion=emotion,
        emotion_score=score,
        cues=list(cues),
        start_ms=seq * 2000,
        end_ms=seq * 2000 + 1500,
        ts=at,
        ingest_ts=at,
        analyzed_ts=at,
    )


def nudge(call_id, seq, ntype="acknowledge_emotion", agent="a-001", audience="agent", at=None) -> Nudge:
    return Nudge(
        nudge_id=f"{call_id}:{seq}:{ntype}",
        call_id=call_id,
        agent_id=agent,
        type=ntype,
        audience=audience,
        title="先安抚情绪",
        suggestion="非常理解您的心情",
        reason="客户情绪: 愤怒",
        trigger_seq=seq,
        created_ts=at or NOW,
    )


def angry_login_call(call_id, start, agent="a-001") -> list:
    end = start + timedelta(minutes=4)
    return [
        state(call_id, start, agent=agent),
        said(call_id, 1, "我的交易软件登录不上去了,一直提示密码错误", emotion="anger", score=0.8, at=start),
        said(call_id, 2, "我查一下", speaker="agent", at=start),
        said(call_id, 3, "算了算了,你们这什么破系统", emotion="anger", score=0.85, at=start),
        nudge(call_id, 1, agent=agent, at=start),
        NudgeFeedback(
            nudge_id=f"{call_id}:1:acknowledge_emotion",
            call_id=call_id,
            agent_id=agent,
            type="acknowledge_emotion",
            action="dismissed",
            ts=start,
        ),
        state(call_id, start, end=end, agent=agent, risk=0.7, sentiment_trend=[0.4, 0.2]),
    ]


def snapshot(store: Store) -> dict:
    out = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out
