"""Record work on a lead; the timeline reads it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.interactions.models import Interaction, Kind, Outcome
from leadhub.leads.models import Lead

TIMELINE_LIMIT = 200


def record(
    session: Session,
    *,
    lead: Lead,
    kind: Kind,
    actor: User | None,
    body: str | None = None,
    outcome: Outcome | None = None,
    duration_seconds: int | None = None,
    occurred_at: datetime | None = None,
) -> Interaction:
    """Add one interaction row in the caller's transaction."""
    interaction = Interaction(
        lead_id=lead.id,
        kind=kind,
        outcome=outcome,
        body=body,
        duration_seconds=duration_seconds,
        actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else None,
        occurred_at=occurred_at or utcnow(),
    )
    session.add(interaction)
    return interaction


def for_lead(session: Session, *, lead_id: int, limit: int = TIMELINE_LIMIT) -> list[Interaction]:
    stmt = (
        select(Interaction)
        .where(Interaction.lead_id == lead_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))
