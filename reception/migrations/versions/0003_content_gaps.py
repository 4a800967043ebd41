"""Add the gap report: questions the assistant did not understand, without who asked them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the content_gaps table and its indexes."""
    op.create_table(
        "content_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("normalised", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("asked_at", UTC_DATETIME, nullable=False),
        sa.Column("handled_at", UTC_DATETIME, nullable=True),
        sa.Column("handled_by", sa.String(length=254), nullable=True),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_gaps")),
    )
    op.create_index("ix_content_gaps_asked_at", "content_gaps", ["asked_at"])
    op.create_index("ix_content_gaps_normalised", "content_gaps", ["normalised", "language"])


def downgrade() -> None:
    """Drop the content_gaps table."""
    op.drop_index("ix_content_gaps_normalised", table_name="content_gaps")
    op.drop_index("ix_content_gaps_asked_at", table_name="content_gaps")
    op.drop_table("content_gaps")
