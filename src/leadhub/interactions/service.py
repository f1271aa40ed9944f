"""Record work on a lead; the timeline reads it back."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.errors import N_, Forbidden, InvalidInput, NotFound
from leadhub.interactions.models import Interaction, Kind, Outcome
from leadhub.leads.models import Lead

TIMELINE_LIMIT = 200
NOTE_EDIT_WINDOW = timedelta(minutes=15)


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


def get_for_lead(session: Session, *, lead_id: int, interaction_id: int) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or interaction.lead_id != lead_id:
        raise NotFound(N_("No such entry on this lead's timeline."))
    return interaction


def note_editable_until(interaction: Interaction) -> datetime | None:
    """Until when its author may still edit a note; None for anything that is not a note."""
    if interaction.kind is not Kind.NOTE:
        return None
    return interaction.created_at + NOTE_EDIT_WINDOW


def edit_note(session: Session, *, interaction: Interaction, body: str, actor: User) -> Interaction:
    """Change a note's text: its author only, within NOTE_EDIT_WINDOW; audited with both texts."""
    until = note_editable_until(interaction)
    if until is None:
        raise InvalidInput(N_("Only notes can be edited."))
    if interaction.actor_id != actor.id:
        raise Forbidden(N_("Only the author of a note may edit it."))
    if utcnow() > until:
        raise Forbidden(
            N_("A note can be edited for %(minutes)s minutes after it is written; add a new one."),
            minutes=int(NOTE_EDIT_WINDOW.total_seconds() // 60),
        )
    if body == interaction.body:
        return interaction
    before = interaction.body
    interaction.body = body
    interaction.edited_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="lead.note_edit",
        object_type="lead",
        object_id=interaction.lead_id,
        before={"interaction_id": interaction.id, "body": before},
        after={"interaction_id": interaction.id, "body": body},
    )
    return interaction


def whatsapp_link(phone: str | None, text: str) -> str | None:
    """A wa.me link that opens a chat with `phone` (digits only, as wa.me wants) and `text`."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 7:
        return None
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"
