"""Keep the facts of the service-level clocks on each ticket, dated from its audit log.

first_contact_at: the first message to the patient or the first status change;
decided_at: the first move to an appointment, closed or cancelled;
pauses: each wait for records, [from, until]; due_at: the next due time, which reception
works out at start-up from these facts and its calendar.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:00:00
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DECISIONS = ("appointment_scheduled", "closed", "cancelled")
WAITING = "waiting_for_records"


def upgrade() -> None:
    """Add the columns, then date each ticket's clocks from its audit log."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("first_contact_at", UTC_DATETIME, nullable=True))
        batch.add_column(sa.Column("decided_at", UTC_DATETIME, nullable=True))
        batch.add_column(
            sa.Column("pauses", JSON_DOCUMENT, nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("due_at", UTC_DATETIME, nullable=True))
        batch.create_index("ix_tickets_due_at", ["due_at"])
    _date_clocks_from_the_audit_log()


def downgrade() -> None:
    """Drop the clocks' columns."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_due_at")
        batch.drop_column("due_at")
        batch.drop_column("pauses")
        batch.drop_column("decided_at")
        batch.drop_column("first_contact_at")


def _date_clocks_from_the_audit_log() -> None:
    """Replay each ticket's status changes and messages into the clocks' facts."""
    connection = op.get_bind()
    events = sa.table(
        "ticket_events",
        sa.column("id", sa.Integer()),
        sa.column("ticket_id", sa.Integer()),
        sa.column("at", UTC_DATETIME),
        sa.column("action", sa.String()),
        sa.column("new_value", sa.Text()),
    )
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer()),
        sa.column("first_contact_at", UTC_DATETIME),
        sa.column("decided_at", UTC_DATETIME),
        sa.column("pauses", JSON_DOCUMENT),
    )
    rows = connection.execute(
        sa.select(events.c.ticket_id, events.c.at, events.c.action, events.c.new_value)
        .where(events.c.action.in_(("status_changed", "message_sent")))
        .order_by(events.c.ticket_id, events.c.at, events.c.id)
    )
    facts: dict[int, _Facts] = {}
    for ticket_id, at, action, new_value in rows:
        fact = facts.setdefault(ticket_id, _Facts())
        fact.note(at if at.tzinfo else at.replace(tzinfo=UTC), action, new_value)
    for ticket_id, fact in facts.items():
        connection.execute(
            tickets.update()
            .where(tickets.c.id == ticket_id)
            .values(first_contact_at=fact.first, decided_at=fact.decided, pauses=fact.pauses)
        )


@dataclass
class _Facts:
    """What one ticket's audit log says about its clocks, so far."""

    first: datetime | None = None
    decided: datetime | None = None
    pauses: list[list[str | None]] = field(default_factory=list)

    def note(self, at: datetime, action: str, new_value: str | None) -> None:
        """Take in one event, oldest first."""
        self.first = self.first or at
        if action != "status_changed":
            return
        waiting = bool(self.pauses) and self.pauses[-1][1] is None
        if waiting and new_value != WAITING:
            self.pauses[-1][1] = at.isoformat()
        elif new_value == WAITING and not waiting:
            self.pauses.append([at.isoformat(), None])
        if new_value in DECISIONS and self.decided is None:
            self.decided = at
