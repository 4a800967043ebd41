"""Create the outbox: jobs to deliver, in order per lane, with their attempts and leases.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the outbox_jobs table and its indexes."""
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("available_at", sa.Float(), nullable=False),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
        sa.UniqueConstraint("queue", "key", name="uq_outbox_jobs_queue_key"),
    )
    op.create_index("ix_outbox_jobs_lane_head", "outbox_jobs", ["queue", "lane", "done_at", "id"])
    op.create_index("ix_outbox_jobs_done_at", "outbox_jobs", ["done_at"])


def downgrade() -> None:
    """Drop the outbox_jobs table."""
    op.drop_index("ix_outbox_jobs_done_at", table_name="outbox_jobs")
    op.drop_index("ix_outbox_jobs_lane_head", table_name="outbox_jobs")
    op.drop_table("outbox_jobs")
