"""A person's rights: find everything about them by phone or email, and hand it over."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadhub.audit.service import jsonable
from leadhub.auth.models import Role, User
from leadhub.db import Base, utcnow
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Forbidden, InvalidInput
from leadhub.intake import normalize
from leadhub.leads import service as leads
from leadhub.leads.models import Lead
from leadhub.privacy import consent
from leadhub.privacy.models import AccessRecord, AccessRecordLead, AnonymisedLead
from leadhub.privacy.schemas import PersonQuery

# A person's file and erasure are clinic-wide: admins find, export and ask; a superadmin erases.
PRIVACY_ADMINS = (Role.SUPERADMIN, Role.ADMIN)
MAX_LEADS = 500  # one person; more matches mean a shared address or number, to be narrowed
# The outbox of the notifications domain, read by name so privacy does not import its models.
OUTBOX_TABLE = "notification_outbox"
OUTBOX_COLUMNS = ("to_address", "subject", "body_text", "status", "sent_at", "created_at")


@dataclass(frozen=True)
class Person:
    """What a query was normalised to, as intake stores it."""

    phone: str | None
    email: str | None


def ensure_admin(user: User) -> None:
    if user.role not in PRIVACY_ADMINS:
        raise Forbidden(N_("Only admins handle a person's data."))


def normalise(query: PersonQuery) -> Person:
    """E.164 phone (Turkey when no country code is given) and lower-case email, as intake does."""
    return Person(
        phone=normalize.phone_e164(query.phone) if query.phone else None,
        email=normalize.email_address(query.email) if query.email else None,
    )


def find(session: Session, *, person: Person, actor: User) -> list[Lead]:
    """Every lead of this person across all distributors, deleted ones too, oldest first.

    An equality on the phone or email index each (no scan), whatever the number of leads.
    """
    ensure_admin(actor)
    conditions = []
    if person.phone:
        conditions.append(Lead.phone == person.phone)
    if person.email:
        conditions.append(Lead.email == person.email)
    if not conditions:
        raise InvalidInput(N_("Give a phone number or an email address."))
    stmt = select(Lead).where(or_(*conditions)).order_by(Lead.created_time, Lead.id)
    found = list(session.scalars(stmt.limit(MAX_LEADS + 1)))
    if len(found) > MAX_LEADS:
        raise InvalidInput(
            N_("More than %(count)s leads match; search by phone and email together."),
            count=MAX_LEADS,
        )
    return found


LEAD_FIELDS = (
    "id",
    "status",
    "source",
    "full_name",
    "email",
    "phone",
    "country",
    "city",
    "language",
    "treatment",
    "created_time",
    "received_at",
    "first_contacted_at",
    "converted_at",
    "lost_reason",
    "meta_lead_id",
    "page_name",
    "form_name",
    "campaign_name",
    "ad_name",
    "platform",
    "score",
    "score_level",
    "deleted_at",
)


def dossier(session: Session, *, leads_found: list[Lead], person: Person) -> dict[str, Any]:
    """Everything LeadHub holds about the person, JSON-ready: one entry per lead."""
    ids = [lead.id for lead in leads_found]
    names = dict(session.execute(select(Distributor.id, Distributor.name)).all()) if ids else {}
    emails = _emails_sent(session, ids)
    readers = _readers(session, ids)
    entries = []
    for lead in leads_found:
        consents = consent.for_lead(session, lead_id=lead.id)
        entries.append(
            {
                **{name: jsonable(getattr(lead, name)) for name in LEAD_FIELDS},
                "distributor": names.get(lead.distributor_id),
                "answers": jsonable(lead.answers),
                "consent": {
                    "form_answers": jsonable(lead.consent),
                    "privacy_policy_url": consent.privacy_policy_url(session, lead=lead),
                    "purposes": [
                        {
                            "purpose": row.purpose.value,
                            "granted": row.granted,
                            "source": row.source.value,
                            "given_at": jsonable(row.given_at),
                            "recorded_by": row.recorded_by_name,
                        }
                        for row in consents.values()
                    ],
                },
                "timeline": [
                    {
                        "at": jsonable(item.at),
                        "kind": item.kind,
                        "by": item.actor_name,
                        "outcome": item.outcome,
                        "text": item.body,
                        "changes": jsonable(item.changes),
                    }
                    for item in leads.timeline(session, lead=lead)
                ],
                "emails_sent": emails.get(lead.id, []),
                "read_by": readers.get(lead.id, []),
            }
        )
    return {
        "generated_at": jsonable(utcnow()),
        "person": {"phone": person.phone, "email": person.email},
        "lead_count": len(entries),
        "leads": entries,
    }


def _emails_sent(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Messages of the notifications outbox about these leads (by its lead index)."""
    table = Base.metadata.tables.get(OUTBOX_TABLE)
    if table is None or not ids or "lead_id" not in table.c:
        return {}
    columns = [table.c[name] for name in OUTBOX_COLUMNS if name in table.c]
    stmt = (
        select(table.c.lead_id, *columns)
        .where(table.c.lead_id.in_(ids))
        .order_by(table.c.lead_id, table.c.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in session.execute(stmt):
        values = dict(row._mapping)
        found.setdefault(values.pop("lead_id"), []).append(jsonable(values))
    return found


def _readers(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Who opened, read or exported these leads: the recipients a person may ask about."""
    if not ids:
        return {}
    stmt = (
        select(
            AccessRecordLead.lead_id, AccessRecord.actor_name, AccessRecord.kind, AccessRecord.at
        )
        .join(AccessRecord, AccessRecord.id == AccessRecordLead.record_id)
        .where(AccessRecordLead.lead_id.in_(ids))
        .order_by(AccessRecordLead.lead_id, AccessRecord.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for lead_id, name, kind, at in session.execute(stmt):
        found.setdefault(lead_id, []).append({"by": name, "kind": kind.value, "at": jsonable(at)})
    return found


def anonymised_ids(session: Session, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    stmt = select(AnonymisedLead.lead_id).where(AnonymisedLead.lead_id.in_(ids))
    return set(session.scalars(stmt))


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def filename(kind: str, now: datetime) -> str:
    return f"person-{now:%Y%m%d-%H%M%S}.{kind}"
