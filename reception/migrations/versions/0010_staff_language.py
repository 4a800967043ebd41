"""Give each staff account the language reception speaks to it: en, fr or nl.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add staff_users.language; existing accounts keep English."""
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=32), nullable=False, server_default="en")
        )


def downgrade() -> None:
    """Drop staff_users.language."""
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("language")
