"""Record when a ticket was closed or cancelled, and when its personal data was erased.

Revision ID: 0004
Revises: 0003
Create Date: 2026-04-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
FINAL_STATUSES = ("closed", "cancelled")


def upgrade() -> None:
    """Add closed_at and erased_at; final tickets were closed when they last changed."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("closed_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("erased_at", UTC_DATETIME, nullable=True))
        batch.create_index("ix_tickets_closed_at", ["closed_at"])
    tickets = sa.table(
        "tickets",
        sa.column("status", sa.String()),
        sa.column("updated_at", UTC_DATETIME),
        sa.column("closed_at", UTC_DATETIME),
    )
    op.execute(
        tickets.update()
        .where(tickets.c.status.in_(FINAL_STATUSES))
        .values(closed_at=tickets.c.updated_at)
    )


def downgrade() -> None:
    """Drop erased_at and closed_at."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_closed_at")
        batch.drop_column("erased_at")
        batch.drop_column("closed_at")
