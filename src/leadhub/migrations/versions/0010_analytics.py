"""analytics: what the funnel and reports need

Each lead keeps when it was first assigned (`assigned_at`) and the furthest pipeline stage it
has reached (`pipeline_stage`: 0 new, 1 assigned, 2 contacted, 3 converted), so the funnel counts
a converted lead as new, assigned, contacted and converted. Existing leads are backfilled from
their status, assignee, contact and conversion times and their timeline (assignment and status
change interactions). Covering indexes serve each panel's read of a period.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadhub.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
COVERED = ("assignee_id", "pipeline_stage", "status", "first_contacted_at", "score_level")

# The same stage numbers as leadhub.analytics.stages (kept apart: a migration never imports the
# application). Status-change interactions read "old → new[: reason]".
BACKFILL = (
    """
    UPDATE lead SET assigned_at = (
        SELECT min(i.occurred_at) FROM interaction i
        WHERE i.lead_id = lead.id AND i.kind = 'assignment' AND i.body IS NOT NULL
    )
    WHERE assigned_at IS NULL
    """,
    "UPDATE lead SET assigned_at = received_at"
    " WHERE assigned_at IS NULL AND assignee_id IS NOT NULL",
    "UPDATE lead SET pipeline_stage = 1 WHERE assigned_at IS NOT NULL OR status = 'assigned'",
    """
    UPDATE lead SET pipeline_stage = 2
    WHERE first_contacted_at IS NOT NULL OR status = 'contacted' OR EXISTS (
        SELECT 1 FROM interaction i
        WHERE i.lead_id = lead.id AND i.kind = 'status_change' AND i.body LIKE '%→ contacted%'
    )
    """,
    """
    UPDATE lead SET pipeline_stage = 3
    WHERE converted_at IS NOT NULL OR status = 'converted' OR EXISTS (
        SELECT 1 FROM interaction i
        WHERE i.lead_id = lead.id AND i.kind = 'status_change' AND i.body LIKE '%→ converted%'
    )
    """,
)


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(
            sa.Column("assigned_at", leadhub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("pipeline_stage", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    for statement in BACKFILL:
        op.execute(statement)
    for name, columns in (
        ("ix_lead_analytics_created", ("created_time", "distributor_id", *COVERED)),
        ("ix_lead_analytics_distributor", ("distributor_id", "created_time", *COVERED)),
    ):
        op.create_index(name, "lead", list(columns), sqlite_where=LIVE, postgresql_where=LIVE)
    op.create_index(
        "ix_interaction_analytics_occurred",
        "interaction",
        ["occurred_at", "kind", "actor_id", "lead_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_interaction_analytics_occurred", table_name="interaction")
    op.drop_index("ix_lead_analytics_distributor", table_name="lead")
    op.drop_index("ix_lead_analytics_created", table_name="lead")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("pipeline_stage")
        batch.drop_column("assigned_at")
