"""scoring: versioned rule sets (the default one seeded as version 1) and rescore runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:34:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadhub.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


# A copy of leadhub.scoring.defaults as it was when this migration was written: a migration
# must build the same database whatever the code says later.
DEFAULT_RULE_SET = {
    "weights": {"contact": 30, "freshness": 20, "service": 25, "engagement": 15, "age_fit": 10},
    "treatment_values": {
        "hair_transplant": 90,
        "dental_implants": 100,
        "teeth_whitening": 30,
        "veneers": 80,
        "rhinoplasty": 85,
        "liposuction": 75,
        "breast_aesthetics": 85,
        "bariatric_surgery": 95,
        "eye_surgery": 70,
        "other": 40,
    },
    "age_ranges": {
        "hair_transplant": [25, 55],
        "dental_implants": [35, 75],
        "teeth_whitening": [18, 55],
        "veneers": [20, 55],
        "rhinoplasty": [18, 45],
        "liposuction": [22, 55],
        "breast_aesthetics": [20, 50],
        "bariatric_surgery": [25, 60],
        "eye_surgery": [20, 60],
    },
    "level_thresholds": {"hot": 80, "warm": 60, "medium": 40, "cool": 20},
    "abandoned_hours": 48,
}


def upgrade() -> None:
    rule_set = op.create_table(
        "scoring_rule_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("weights", _json(), nullable=False),
        sa.Column("treatment_values", _json(), nullable=False),
        sa.Column("age_ranges", _json(), nullable=False),
        sa.Column("level_thresholds", _json(), nullable=False),
        sa.Column("abandoned_hours", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=120), nullable=True),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_scoring_rule_set_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_rule_set")),
        sa.UniqueConstraint("version", name=op.f("uq_scoring_rule_set_version")),
    )
    with op.batch_alter_table("scoring_rule_set", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scoring_rule_set_active",
            ["active"],
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.create_table(
        "scoring_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("rescore", "freshness", name="runkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="runstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=True),
        sa.Column("everything", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("last_lead_id", sa.Integer(), nullable=False),
        sa.Column("window_end", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", leadhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_scoring_run_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributor.id"],
            name=op.f("fk_scoring_run_distributor_id_distributor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_run")),
    )
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.create_index("ix_scoring_run_kind_created", ["kind", "created_at"], unique=False)

    op.bulk_insert(
        rule_set,
        [{**DEFAULT_RULE_SET, "version": 1, "active": True, "created_at": datetime.now(UTC)}],
    )


def downgrade() -> None:
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.drop_index("ix_scoring_run_kind_created")
    op.drop_table("scoring_run")
    with op.batch_alter_table("scoring_rule_set", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_scoring_rule_set_active",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )
    op.drop_table("scoring_rule_set")
