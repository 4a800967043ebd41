"""Keep on each ticket whether its patient wants reminders of missing records, and how many went.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the follow-up columns; existing tickets were never asked, and none went out."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("follow_up", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("follow_ups_sent", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("follow_up_flagged_at", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    """Drop the follow-up columns."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("follow_up_flagged_at")
        batch.drop_column("follow_ups_sent")
        batch.drop_column("follow_up")
