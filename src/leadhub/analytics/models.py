"""The indexes the analytics queries read beside the desk's: interactions, duplicate links.

A period's leads are read from the desk's created-time indexes, which carry the columns the
panels need (leads/models.py, ANALYTICS_COVERED): SQLite and PostgreSQL answer from the index.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead

INTERACTION_OCCURRED = Index(
    "ix_interaction_analytics_occurred",
    Interaction.occurred_at,
    Interaction.kind,
    Interaction.actor_id,
    Interaction.lead_id,
)

# Live duplicates only (a few in a hundred leads), for the distributors panel's shared
# duplicates: the period's duplicates are a range of it, the duplicates of the period's leads a
# scan of it; without it each side of a link was looked up among all the leads.
LIVE_DUPLICATES = "duplicate_of_id IS NOT NULL AND deleted_at IS NULL"
LEAD_DUPLICATES = Index(
    "ix_lead_analytics_duplicates",
    Lead.created_time,
    Lead.id,
    Lead.distributor_id,
    Lead.duplicate_of_id,
    sqlite_where=text(LIVE_DUPLICATES),
    postgresql_where=text(LIVE_DUPLICATES),
)
