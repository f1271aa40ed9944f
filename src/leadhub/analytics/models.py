"""Indexes the analytics queries read: a period's leads and interactions, covered.

Each panel reads the leads created in a period (clinic-wide, or within one distributor) and
needs only these columns, so SQLite and PostgreSQL answer from the index alone.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead

LIVE = {
    "sqlite_where": text("deleted_at IS NULL"),
    "postgresql_where": text("deleted_at IS NULL"),
}
COVERED = (
    Lead.assignee_id,
    Lead.pipeline_stage,
    Lead.status,
    Lead.first_contacted_at,
    Lead.score_level,
)

LEAD_CREATED = Index(
    "ix_lead_analytics_created", Lead.created_time, Lead.distributor_id, *COVERED, **LIVE
)
LEAD_DISTRIBUTOR_CREATED = Index(
    "ix_lead_analytics_distributor", Lead.distributor_id, Lead.created_time, *COVERED, **LIVE
)
INTERACTION_OCCURRED = Index(
    "ix_interaction_analytics_occurred",
    Interaction.occurred_at,
    Interaction.kind,
    Interaction.actor_id,
    Interaction.lead_id,
)
