"""lead: an assignee's leads in one index, which carries their score

Every index of `lead` gets a new entry on each change of a status or an assignee, and the
assignee's score index was among the dearest: its entries are in score order, so a bulk change
of 100,000 leads wrote nearly every one of its pages (and each page's full image after every
checkpoint). An assignee holds a few thousand leads, so their list by score is now read from
the assignee's created-time index, which carries the score for it, and sorted; the score
index goes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
FILTERED = ["status", "treatment"]
CREATED = ["assignee_id", "created_time", "id", *FILTERED]
SCORE = ["assignee_id", "score", "id", *FILTERED]


def _create(name: str, columns: list[str]) -> None:
    op.create_index(name, "lead", columns, sqlite_where=LIVE, postgresql_where=LIVE)


def upgrade() -> None:
    op.drop_index("ix_lead_assignee_score", table_name="lead")
    op.drop_index("ix_lead_assignee_created", table_name="lead")
    _create("ix_lead_assignee_created", [*CREATED, "score"])


def downgrade() -> None:
    op.drop_index("ix_lead_assignee_created", table_name="lead")
    _create("ix_lead_assignee_created", CREATED)
    _create("ix_lead_assignee_score", SCORE)
