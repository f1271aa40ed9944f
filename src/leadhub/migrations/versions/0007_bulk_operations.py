"""bulk operations: jobs and their per-lead results

A bulk operation (`bulk_operation`) names its leads in `bulk_operation_item`: pending until its
job works them, then done (with the values it replaced, for undo) or skipped with a reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadhub.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS = ("status", "assign", "tag_add", "tag_remove", "note", "delete", "restore", "undo")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, leadhub.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bulk_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum(*KINDS, name="bulkkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("params", _json(), nullable=False),
        sa.Column("selection", _json(), nullable=False),
        sa.Column("state", _json(), nullable=False),
        sa.Column("distributor_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="bulkstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("last_lead_id", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("undo_of_id", sa.Integer(), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        _time("created_at", False),
        _time("started_at", True),
        _time("finished_at", True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user_account.id"], name=op.f("fk_bulk_operation_owner_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["distributor_id"],
            ["distributor.id"],
            name=op.f("fk_bulk_operation_distributor_id_distributor"),
        ),
        sa.ForeignKeyConstraint(
            ["undo_of_id"],
            ["bulk_operation.id"],
            name=op.f("fk_bulk_operation_undo_of_id_bulk_operation"),
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"],
            ["bulk_operation.id"],
            name=op.f("fk_bulk_operation_undone_by_id_bulk_operation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operation")),
    )
    op.create_index("ix_bulk_operation_owner", "bulk_operation", ["owner_id", "id"])
    op.create_table(
        "bulk_operation_item",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "pending",
                "done",
                "skipped",
                "failed",
                name="outcome",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("before", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["bulk_operation.id"],
            name=op.f("fk_bulk_operation_item_operation_id_bulk_operation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operation_id", "lead_id", name=op.f("pk_bulk_operation_item")),
    )
    op.create_index(
        "ix_bulk_operation_item_outcome", "bulk_operation_item", ["operation_id", "outcome"]
    )


def downgrade() -> None:
    op.drop_index("ix_bulk_operation_item_outcome", table_name="bulk_operation_item")
    op.drop_table("bulk_operation_item")
    op.drop_index("ix_bulk_operation_owner", table_name="bulk_operation")
    op.drop_table("bulk_operation")
