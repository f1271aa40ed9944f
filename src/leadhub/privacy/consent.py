"""Consent: the form's checkboxes and policy, and each purpose an admin marks (audited)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.auth.models import Role, User
from leadhub.db import utcnow
from leadhub.errors import N_, Forbidden
from leadhub.interactions.models import Kind
from leadhub.leads.models import Lead
from leadhub.meta.models import LeadForm
from leadhub.privacy.models import LeadConsent, Purpose
from leadhub.privacy.schemas import ConsentSet

# Who may mark consent: it is a legal record, so admins, not the desk.
CONSENT_EDITORS = (Role.SUPERADMIN, Role.ADMIN)
CHANNELS = (Purpose.PHONE, Purpose.WHATSAPP, Purpose.EMAIL)
# The purpose whose consent a logged contact of this kind relies on.
CHANNEL_OF_KIND = {
    Kind.CALL: Purpose.PHONE,
    Kind.WHATSAPP: Purpose.WHATSAPP,
    Kind.EMAIL: Purpose.EMAIL,
}
FIELDS = ("granted", "source", "given_at")


def for_lead(session: Session, *, lead_id: int) -> dict[Purpose, LeadConsent]:
    stmt = select(LeadConsent).where(LeadConsent.lead_id == lead_id)
    return {row.purpose: row for row in session.scalars(stmt)}


def missing_channels(consents: dict[Purpose, LeadConsent]) -> list[Purpose]:
    """Contact channels without a recorded 'yes': contacting through them earns a warning."""
    return [p for p in CHANNELS if not (p in consents and consents[p].granted)]


def privacy_policy_url(session: Session, *, lead: Lead) -> str | None:
    """The policy the person saw: kept with the lead, else (older leads) the form's current one."""
    if lead.privacy_policy_url or not lead.form_id:
        return lead.privacy_policy_url
    return session.scalar(
        select(LeadForm.privacy_policy_url).where(LeadForm.form_id == lead.form_id)
    )


def set_consent(session: Session, *, lead: Lead, data: ConsentSet, actor: User) -> LeadConsent:
    """Mark one purpose's consent on a lead the actor can see; the change is audited."""
    if actor.role not in CONSENT_EDITORS:
        raise Forbidden(N_("Only admins record consent."))
    row = session.get(LeadConsent, (lead.id, data.purpose))
    before = audit.snapshot(row, FIELDS) if row else {name: None for name in FIELDS}
    if row is None:
        row = LeadConsent(lead_id=lead.id, purpose=data.purpose)
        session.add(row)
    row.granted = data.granted
    row.source = data.source
    row.given_at = data.given_at or utcnow()
    row.recorded_by_id = actor.id
    row.recorded_by_name = actor.name
    row.recorded_at = utcnow()
    after = audit.snapshot(row, FIELDS)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lead.consent",
        object_type="lead",
        object_id=lead.id,
        before={"purpose": data.purpose.value, **before},
        after={"purpose": data.purpose.value, **after},
    )
    return row


def missing_for_kind(session: Session, *, lead_id: int, kind: Kind | str) -> Purpose | None:
    """The channel a contact of this kind uses, when the person has not agreed to it."""
    purpose = CHANNEL_OF_KIND.get(Kind(kind))
    if purpose is None:
        return None
    row = session.get(LeadConsent, (lead_id, purpose))
    return None if row is not None and row.granted else purpose


def flash_if_missing(session: Session, *, lead: Lead, kind: Kind | str) -> None:
    """On a page: after logging a contact, warn when its channel has no recorded consent."""
    from flask import flash
    from flask_babel import gettext as _

    from leadhub.privacy.labels import PURPOSES

    purpose = missing_for_kind(session, lead_id=lead.id, kind=kind)
    if purpose is not None:
        flash(
            _(
                "No recorded consent to contact this person by %(channel)s. The contact was "
                "logged; ask for consent and let an admin record it.",
                channel=PURPOSES[purpose],
            ),
            "warning",
        )
