"""the desk's indexes hold live leads only; search terms carry their lead's distributor

A list then finds its page from an index alone (ids and sort keys, no row visits to check
`deleted_at`), and a manager's or agent's search reads only their distributor's terms.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Index name -> columns before and after; each becomes partial on `deleted_at IS NULL`. Within a
# scope, status and treatment trail the sort key: a filter on them is checked in the index.
FILTERED = ["status", "treatment"]
LIST_INDEXES = {
    "ix_lead_created": (["created_time", "id"], []),
    "ix_lead_score": (["score", "id"], []),
    "ix_lead_distributor_created": (["distributor_id", "created_time", "id"], FILTERED),
    "ix_lead_distributor_score": (["distributor_id", "score", "id"], FILTERED),
    "ix_lead_assignee_created": (["assignee_id", "created_time", "id"], FILTERED),
    "ix_lead_assignee_score": (["assignee_id", "score", "id"], FILTERED),
    "ix_lead_status_created": (["status", "created_time", "id"], []),
    "ix_lead_treatment_created": (["treatment", "created_time", "id"], []),
}
UNASSIGNED_INDEXES = {
    "ix_lead_unassigned_created": (["distributor_id", "created_time", "id"], FILTERED),
    "ix_lead_unassigned_score": (["distributor_id", "score", "id"], FILTERED),
}


def _where(condition: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def _rebuild(live: bool) -> None:
    live_only = "deleted_at IS NULL"
    for name, (columns, trailing) in LIST_INDEXES.items():
        op.drop_index(name, table_name="lead")
        if live:
            op.create_index(name, "lead", columns + trailing, **_where(live_only))
        else:
            op.create_index(name, "lead", columns)
    for name, (columns, trailing) in UNASSIGNED_INDEXES.items():
        unassigned = "assignee_id IS NULL"
        op.drop_index(name, table_name="lead")
        if live:
            op.create_index(
                name, "lead", columns + trailing, **_where(f"{live_only} AND {unassigned}")
            )
        else:
            op.create_index(name, "lead", columns, **_where(unassigned))


def upgrade() -> None:
    _rebuild(live=True)
    op.add_column("lead_search_term", sa.Column("distributor_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE lead_search_term SET distributor_id = "
        "(SELECT lead.distributor_id FROM lead WHERE lead.id = lead_search_term.lead_id)"
    )
    with op.batch_alter_table("lead_search_term") as batch:
        batch.alter_column("distributor_id", existing_type=sa.Integer(), nullable=False)
    op.create_index(
        "ix_lead_search_term_distributor",
        "lead_search_term",
        ["distributor_id", "term", "lead_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_lead_search_term_distributor", table_name="lead_search_term")
    with op.batch_alter_table("lead_search_term") as batch:
        batch.drop_column("distributor_id")
    _rebuild(live=False)
