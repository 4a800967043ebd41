"""Add the topic counts: how many times patients asked about each FAQ topic, per day and language.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the topic_counts table, one row per day, topic and language."""
    op.create_table(
        "topic_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "topic", "language", name=op.f("pk_topic_counts")),
    )


def downgrade() -> None:
    """Drop the topic_counts table."""
    op.drop_table("topic_counts")
