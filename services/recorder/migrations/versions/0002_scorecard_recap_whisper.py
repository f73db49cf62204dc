"""scorecard and post-call summary per call; the sender of a supervisor whisper

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("score", sa.Integer))
        batch.add_column(sa.Column("scorecard", sa.JSON))
        batch.add_column(sa.Column("recap", sa.JSON))
        batch.create_index("ix_calls_score", ["score"])
    with op.batch_alter_table("nudges") as batch:
        batch.add_column(sa.Column("sender", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("nudges") as batch:
        batch.drop_column("sender")
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_score")
        batch.drop_column("recap")
        batch.drop_column("scorecard")
        batch.drop_column("score")
