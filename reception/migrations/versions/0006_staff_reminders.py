"""Add staff reminders: a member of staff's note to themselves to come back to a ticket.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the staff_reminders table and its indexes."""
    op.create_table(
        "staff_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("done_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_staff_reminders_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_reminders_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_reminders")),
    )
    op.create_index("ix_staff_reminders_ticket_id", "staff_reminders", ["ticket_id"])
    op.create_index("ix_staff_reminders_staff_id", "staff_reminders", ["staff_id"])
    op.create_index("ix_staff_reminders_due_at", "staff_reminders", ["due_at"])


def downgrade() -> None:
    """Drop the staff_reminders table."""
    op.drop_index("ix_staff_reminders_due_at", table_name="staff_reminders")
    op.drop_index("ix_staff_reminders_staff_id", table_name="staff_reminders")
    op.drop_index("ix_staff_reminders_ticket_id", table_name="staff_reminders")
    op.drop_table("staff_reminders")
