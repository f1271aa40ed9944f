"""working leads: the admin's list of lost reasons, note edits

Lost leads need a reason from `lost_reason` (seeded with common ones; the names are English and
shown translated while an admin has not renamed them). A note's last edit time is kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadhub.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The same words as leadhub.interactions.reasons.DEFAULT_LOST_REASONS (kept apart: a migration
# never imports the application).
DEFAULT_LOST_REASONS = (
    "Price",
    "Chose another clinic",
    "No answer after several attempts",
    "Not interested any more",
    "Health reasons",
    "Timing",
)


def upgrade() -> None:
    lost_reason = op.create_table(
        "lost_reason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", leadhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lost_reason")),
        sa.UniqueConstraint("name", name=op.f("uq_lost_reason_name")),
    )
    now = leadhub.db.utcnow()
    op.bulk_insert(
        lost_reason,
        [
            {"name": name, "active": True, "position": position, "created_at": now}
            for position, name in enumerate(DEFAULT_LOST_REASONS, 1)
        ],
    )
    with op.batch_alter_table("interaction") as batch:
        batch.add_column(
            sa.Column("edited_at", leadhub.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("interaction") as batch:
        batch.drop_column("edited_at")
    op.drop_table("lost_reason")
