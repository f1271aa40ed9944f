"""meta: what a Page token can reach (debug_token's answer) and when it was checked

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import leadhub.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("page_connection") as batch:
        batch.add_column(
            sa.Column(
                "token_info",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch.add_column(
            sa.Column("token_checked_at", leadhub.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("page_connection") as batch:
        batch.drop_column("token_checked_at")
        batch.drop_column("token_info")
