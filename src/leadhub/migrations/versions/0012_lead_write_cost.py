"""lead: fewer indexes to write

Every index of `lead` is written on nearly every change of a lead, so the analytics pair is
folded into the desk's created-time indexes (which now carry its columns), the clinic-wide
status and treatment indexes give way to those filters trailing the created-time keys,
and the duplicate link is indexed only where there is one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"
FILTERED = ["status", "treatment"]
COVERED = ["assignee_id", "pipeline_stage", "first_contacted_at", "score_level"]

# Name -> (columns, condition) before and after.
BEFORE = {
    "ix_lead_created": (["created_time", "id"], LIVE),
    "ix_lead_distributor_created": (["distributor_id", "created_time", "id", *FILTERED], LIVE),
    "ix_lead_status_created": (["status", "created_time", "id"], LIVE),
    "ix_lead_treatment_created": (["treatment", "created_time", "id"], LIVE),
    "ix_lead_analytics_created": (
        ["created_time", "distributor_id", *COVERED[:2], "status", *COVERED[2:]],
        LIVE,
    ),
    "ix_lead_analytics_distributor": (
        ["distributor_id", "created_time", *COVERED[:2], "status", *COVERED[2:]],
        LIVE,
    ),
    "ix_lead_duplicate_of": (["duplicate_of_id"], None),
}
AFTER = {
    "ix_lead_created": (["created_time", "id", *FILTERED, "distributor_id", *COVERED], LIVE),
    "ix_lead_distributor_created": (
        ["distributor_id", "created_time", "id", *FILTERED, *COVERED],
        LIVE,
    ),
    "ix_lead_duplicate_of": (["duplicate_of_id"], "duplicate_of_id IS NOT NULL"),
}


def _swap(
    drop: dict[str, tuple[list[str], str | None]], create: dict[str, tuple[list[str], str | None]]
) -> None:
    for name in drop:
        op.drop_index(name, table_name="lead")
    for name, (columns, condition) in create.items():
        where = (
            {}
            if condition is None
            else {
                "sqlite_where": sa.text(condition),
                "postgresql_where": sa.text(condition),
            }
        )
        op.create_index(name, "lead", columns, **where)


def upgrade() -> None:
    _swap(BEFORE, AFTER)


def downgrade() -> None:
    _swap(AFTER, BEFORE)
