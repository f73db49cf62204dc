"""The call-history tables (SQLAlchemy 2). Migrations: ``migrations/``.

Natural keys only, so every write is an idempotent upsert: a call is its
``call_id``, an utterance ``(call_id, seq, speaker)``, a nudge its
``nudge_id``, feedback the ``nudge_id`` it answers. No foreign keys: the
four topics arrive in any order, and an utterance may land before its call.
Customer ids are stored only as a salted SHA-256 (``customer_hash``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite keeps no zone: stored as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Ts = UtcDateTime()


class Base(DeclarativeBase):
    pass


class Call(Base):
    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_name: Mapped[str | None] = mapped_column(String(64))
    customer_segment: Mapped[str | None] = mapped_column(String(32))
    started_ts: Mapped[datetime | None] = mapped_column(Ts, index=True)
    ended_ts: Mapped[datetime | None] = mapped_column(Ts)
    last_update_ts: Mapped[datetime | None] = mapped_column(Ts)
    sentiment: Mapped[float | None] = mapped_column(Float)
    sentiment_trend: Mapped[list | None] = mapped_column(JSON)
    max_risk: Mapped[float] = mapped_column(Float, default=0.0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    nudges_sent: Mapped[int] = mapped_column(Integer, default=0)
    talk_ms_agent: Mapped[int] = mapped_column(Integer, default=0)
    talk_ms_customer: Mapped[int] = mapped_column(Integer, default=0)
    # Derived from the stored rows by services.recorder.judge (re-derived on change: at most every 10 s live).
    topic: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    worst_emotion: Mapped[str | None] = mapped_column(String(16))
    worst_emotion_score: Mapped[float | None] = mapped_column(Float)
    # Set once the call has ended (services.recorder.scorecard / .recap), re-derived like the above.
    score: Mapped[int | None] = mapped_column(Integer, index=True)  # the scorecard's total, 0..100
    scorecard: Mapped[dict | None] = mapped_column(JSON)
    recap: Mapped[dict | None] = mapped_column(JSON)


class UtteranceRow(Base):
    __tablename__ = "utterances"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    speaker: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)  # PII redacted by the analyzer
    sentiment: Mapped[float] = mapped_column(Float)
    emotion: Mapped[str] = mapped_column(String(16))
    emotion_score: Mapped[float] = mapped_column(Float)
    cues: Mapped[list] = mapped_column(JSON, default=list)
    start_ms: Mapped[int] = mapped_column(Integer, default=0)
    end_ms: Mapped[int] = mapped_column(Integer, default=0)
    ts: Mapped[datetime] = mapped_column(Ts, index=True)


class NudgeRow(Base):
    __tablename__ = "nudges"

    nudge_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64), index=True)
    audience: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    trigger_seq: Mapped[int | None] = mapped_column(Integer)
    created_ts: Mapped[datetime] = mapped_column(Ts, index=True)
    sender: Mapped[str | None] = mapped_column(String(64))  # the supervisor of a supervisor_whisper
    source: Mapped[str | None] = mapped_column(String(64))  # the knowledge entry of a knowledge_answer


class FeedbackRow(Base):
    """What the agent did with a nudge: the first answer counts (as on the desktop)."""

    __tablename__ = "nudge_feedback"

    nudge_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime] = mapped_column(Ts)


class Erasure(Base):
    """A customer erased on request: their calls that started before ``erased_ts``
    are never recorded again, even when a topic is re-consumed from the start."""

    __tablename__ = "erasures"

    customer_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_ts: Mapped[datetime] = mapped_column(Ts)


class ErasedCall(Base):
    """Calls removed by an erasure; late or re-read records of them are dropped."""

    __tablename__ = "erased_calls"

    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    erased_ts: Mapped[datetime] = mapped_column(Ts, index=True)
