"""Add the funnel counts: how many conversations reached each step before the handoff, per day.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the funnel_counts table, one row per day, step and language."""
    op.create_table(
        "funnel_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "step", "language", name=op.f("pk_funnel_counts")),
    )


def downgrade() -> None:
    """Drop the funnel_counts table."""
    op.drop_table("funnel_counts")
