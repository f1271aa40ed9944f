"""assignment rules per distributor

One `assignment_rule` per distributor (strategy, matching filters, working hours, fallback and
round robin's place), and `agent_skill`: the languages an agent speaks and the treatments an
agent handles. No rule means manual assignment only, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadhub.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("match_language", sa.Boolean(), nullable=False),
        sa.Column("match_treatment", sa.Boolean(), nullable=False),
        sa.Column("no_match", sa.String(length=32), nullable=False),
        sa.Column("hours_enabled", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("work_days", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("fallback_user_id", sa.Integer(), nullable=True),
        sa.Column("last_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributor.id"],
            name=op.f("fk_assignment_rule_distributor_id_distributor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fallback_user_id"],
            ["user_account.id"],
            name=op.f("fk_assignment_rule_fallback_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_rule")),
        sa.UniqueConstraint("distributor_id", name=op.f("uq_assignment_rule_distributor_id")),
    )
    op.create_table(
        "agent_skill",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_agent_skill_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "value", name=op.f("pk_agent_skill")),
    )


def downgrade() -> None:
    op.drop_table("agent_skill")
    op.drop_table("assignment_rule")
