"""analytics: an index of live duplicate links

The distributors panel counts each period's leads that are, or have, a duplicate at another
distributor. A partial index of the live duplicates (a few in a hundred leads) serves both sides
of the link: the period's duplicates by created time, the duplicates of its leads by a scan.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LIVE_DUPLICATES = sa.text("duplicate_of_id IS NOT NULL AND deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_lead_analytics_duplicates",
        "lead",
        ["created_time", "id", "distributor_id", "duplicate_of_id"],
        sqlite_where=LIVE_DUPLICATES,
        postgresql_where=LIVE_DUPLICATES,
    )


def downgrade() -> None:
    op.drop_index("ix_lead_analytics_duplicates", table_name="lead")
