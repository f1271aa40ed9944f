"""lead: a person's leads in order in the email and phone indexes, not in two more

0014 added two partial indexes for intake's lookup of a person's first live lead. Every index
of `lead` is written by each update of an indexed column, and those two cost a bulk status
change of 100,000 leads 8.5 -> 11 s. The email and phone indexes now hold each value's leads
in order (created_time, id) instead, so the lookup's walk stops at the first live one, and the
partial indexes go.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
COLUMNS = {
    "email": ("ix_lead_email", "ix_lead_live_email"),
    "phone": ("ix_lead_phone", "ix_lead_live_phone"),
}


def upgrade() -> None:
    for column, (index, partial) in COLUMNS.items():
        op.drop_index(partial, table_name="lead")
        op.drop_index(index, table_name="lead")
        op.create_index(index, "lead", [column, "created_time", "id"])


def downgrade() -> None:
    for column, (index, partial) in COLUMNS.items():
        op.drop_index(index, table_name="lead")
        op.create_index(index, "lead", [column])
        op.create_index(
            partial,
            "lead",
            [column, "created_time", "id"],
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
