"""lead: the first live lead of an email or phone, read from an index

Intake links a new lead to the first live lead with the same email or phone. Per address it
read every lead of that address to find the earliest (a common address has hundreds); ordered
partial indexes of the live leads answer with the first entry.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
INDEXES = {"ix_lead_live_email": "email", "ix_lead_live_phone": "phone"}


def upgrade() -> None:
    for name, column in INDEXES.items():
        op.create_index(
            name,
            "lead",
            [column, "created_time", "id"],
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="lead")
