"""call history: calls, utterances, nudges, feedback, erasures

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("customer_hash", sa.String(64)),
        sa.Column("customer_name", sa.String(64)),
        sa.Column("customer_segment", sa.String(32)),
        sa.Column("started_ts", TS),
        sa.Column("ended_ts", TS),
        sa.Column("last_update_ts", TS),
        sa.Column("sentiment", sa.Float),
        sa.Column("sentiment_trend", sa.JSON),
        sa.Column("max_risk", sa.Float, nullable=False, server_default="0"),
        sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("nudges_sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("talk_ms_agent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("talk_ms_customer", sa.Integer, nullable=False, server_default="0"),
        sa.Column("topic", sa.String(32)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("worst_emotion", sa.String(16)),
        sa.Column("worst_emotion_score", sa.Float),
    )
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])
    op.create_index("ix_calls_customer_hash", "calls", ["customer_hash"])
    op.create_index("ix_calls_started_ts", "calls", ["started_ts"])
    op.create_index("ix_calls_topic", "calls", ["topic"])

    op.create_table(
        "utterances",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("speaker", sa.String(16), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sentiment", sa.Float, nullable=False),
        sa.Column("emotion", sa.String(16), nullable=False),
        sa.Column("emotion_score", sa.Float, nullable=False),
        sa.Column("cues", sa.JSON, nullable=False),
        sa.Column("start_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("end_ms", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ts", TS, nullable=False),
    )
    op.create_index("ix_utterances_ts", "utterances", ["ts"])

    op.create_table(
        "nudges",
        sa.Column("nudge_id", sa.String(300), primary_key=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("suggestion", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("trigger_seq", sa.Integer),
        sa.Column("created_ts", TS, nullable=False),
    )
    op.create_index("ix_nudges_call_id", "nudges", ["call_id"])
    op.create_index("ix_nudges_type", "nudges", ["type"])
    op.create_index("ix_nudges_created_ts", "nudges", ["created_ts"])

    op.create_table(
        "nudge_feedback",
        sa.Column("nudge_id", sa.String(300), primary_key=True),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("type", sa.String(64)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("ts", TS, nullable=False),
    )
    op.create_index("ix_nudge_feedback_call_id", "nudge_feedback", ["call_id"])

    op.create_table(
        "erasures",
        sa.Column("customer_hash", sa.String(64), primary_key=True),
        sa.Column("erased_ts", TS, nullable=False),
    )
    op.create_table(
        "erased_calls",
        sa.Column("call_id", sa.String(128), primary_key=True),
        sa.Column("erased_ts", TS, nullable=False),
    )
    op.create_index("ix_erased_calls_erased_ts", "erased_calls", ["erased_ts"])


def downgrade() -> None:
    for table in ("erased_calls", "erasures", "nudge_feedback", "nudges", "utterances", "calls"):
        op.drop_table(table)
