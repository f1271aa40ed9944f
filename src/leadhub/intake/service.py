"""The one door every lead comes in through: normalize, link duplicates, store, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.permissions import ensure_can
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, InvalidInput, NotFound
from leadhub.intake import meta, normalize
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Source
from leadhub.leads.schemas import LeadCreate, LeadUpdate
from leadhub.meta.models import LeadForm, PageConnection

CREATE_AUDIT_FIELDS = (
    "distributor_id",
    "full_name",
    "email",
    "phone",
    "treatment",
    "source",
    "meta_lead_id",
)


def find_original(session: Session, *, email: str | None, phone: str | None) -> Lead | None:
    """The first live lead of the same person (same phone or email), if any."""
    conditions = []
    if email:
        conditions.append(Lead.email == email)
    if phone:
        conditions.append(Lead.phone == phone)
    if not conditions:
        return None
    stmt = (
        select(Lead)
        .where(Lead.deleted_at.is_(None), or_(*conditions))
        .order_by(Lead.created_time, Lead.id)
        .limit(1)
    )
    return session.scalar(stmt)


def _distributor_for(session: Session, *, data: LeadCreate, actor: User) -> Distributor:
    if actor.role in CLINIC_ROLES:
        if data.distributor_id is None:
            raise InvalidInput(N_("Choose the distributor this lead belongs to."))
        distributor = session.get(Distributor, data.distributor_id)
    else:
        if data.distributor_id not in (None, actor.distributor_id):
            raise NotFound(N_("No such distributor."))
        distributor = session.get(Distributor, actor.distributor_id)
    if distributor is None:
        raise NotFound(N_("No such distributor."))
    if not distributor.active:
        raise InvalidInput(N_("This distributor is not active."))
    return distributor


def create_manual(session: Session, *, data: LeadCreate, actor: User) -> Lead:
    """A lead staff enter by hand (a phone call, a walk-in); source `manual`."""
    ensure_can(actor, "create")
    distributor = _distributor_for(session, data=data, actor=actor)
    region = data.country or distributor.country
    phone = normalize.phone_e164(data.phone, region=region)
    email = normalize.email_address(data.email)
    original = find_original(session, email=email, phone=phone)
    lead = Lead(
        distributor_id=distributor.id,
        source=Source.MANUAL,
        full_name=normalize.person_name(data.full_name),
        email=email,
        phone=phone,
        country=(data.country or normalize.region_of(phone) or distributor.country or None),
        city=normalize.person_name(data.city),
        language=normalize.language(data.language) or distributor.language,
        treatment=data.treatment.strip().lower() if data.treatment else None,
        answers=data.answers,
        duplicate_of_id=(original.duplicate_of_id or original.id) if original else None,
    )
    if lead.country:
        lead.country = lead.country.upper()
    _store(session, lead=lead, actor=actor)
    assignee_id = data.assignee_id or (actor.id if actor.role is Role.AGENT else None)
    if assignee_id is not None or data.tags:
        changes = LeadUpdate(version=lead.version, assignee_id=assignee_id, tags=data.tags or None)
        leads.update(session, lead=lead, data=changes, actor=actor)
    return lead


def _store(session: Session, *, lead: Lead, actor: User | None) -> None:
    """Insert a new lead, audit it, and tell the rest of LeadHub once the transaction commits."""
    session.add(lead)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lead.create",
        object_type="lead",
        object_id=lead.id,
        after=audit.snapshot(lead, CREATE_AUDIT_FIELDS),
    )
    events.emit(session, events.LeadCreated(lead.id, lead.distributor_id))


def find_by_meta_id(session: Session, meta_lead_id: str) -> Lead | None:
    """The lead with this Meta id, deleted or not: a lead Meta sends again is the same lead."""
    return session.scalar(select(Lead).where(Lead.meta_lead_id == meta_lead_id))


def ingest_meta(
    session: Session,
    *,
    payload: dict[str, Any],
    connection: PageConnection,
    form: LeadForm | None = None,
) -> tuple[Lead, bool]:
    """Store a lead fetched from Meta once, however often it arrives; (lead, created)."""
    distributor = connection.distributor
    parsed = meta.parse(
        payload,
        mapping=form.field_mapping if form else None,
        locale=form.locale if form else None,
        default_region=distributor.country,
        form_treatment=form.treatment if form else None,
    )
    existing = find_by_meta_id(session, parsed.meta_lead_id)
    if existing is not None:
        return existing, False
    fields = parsed.fields
    original = find_original(session, email=fields["email"], phone=fields["phone"])
    lead = Lead(
        distributor_id=distributor.id,
        source=Source.META,
        meta_lead_id=parsed.meta_lead_id,
        created_time=parsed.created_time,
        page_name=connection.page_name,
        form_name=form.name if form else None,
        answers=parsed.answers,
        consent=parsed.consent,
        intake_warnings=parsed.warnings,
        duplicate_of_id=(original.duplicate_of_id or original.id) if original else None,
        **{
            **fields,
            "page_id": fields["page_id"] or connection.page_id,
            "language": fields["language"] or distributor.language,
        },
    )
    try:
        with session.begin_nested():  # two deliveries of one lead racing: the second one reads
            _store(session, lead=lead, actor=None)
    except IntegrityError:
        existing = find_by_meta_id(session, parsed.meta_lead_id)
        if existing is None:
            raise
        return existing, False
    return lead, True
