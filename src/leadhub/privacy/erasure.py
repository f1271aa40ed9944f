"""Erasure: an admin asks with a reason, a superadmin (another person) approves, LeadHub erases.

The requester may not approve their own request, superadmin or not: erasing cannot be undone,
so it always takes two people. The audit trail keeps who asked, who approved, when and why,
and how many leads; never the erased values.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.audit import service as audit
from leadhub.auth.models import Role, User
from leadhub.db import utcnow
from leadhub.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from leadhub.interactions.models import Interaction
from leadhub.leads.models import Lead
from leadhub.privacy import anonymise, person
from leadhub.privacy.models import AnonymisedCause, ErasureRequest, ErasureStatus
from leadhub.privacy.schemas import ErasureCreate

APPROVERS = (Role.SUPERADMIN,)
PAGE_SIZE = 50


def request_erasure(session: Session, *, data: ErasureCreate, actor: User) -> ErasureRequest:
    """Ask to erase every lead of a person; nothing is erased until a superadmin approves."""
    person.ensure_admin(actor)
    who = person.normalise(data)
    found = person.find(session, person=who, actor=actor)
    if not found:
        raise InvalidInput(N_("No lead matches this person; there is nothing to erase."))
    ids = [lead.id for lead in found]
    request = ErasureRequest(
        reason=data.reason.strip(),
        lead_ids=ids,
        lead_count=len(ids),
        requested_by_id=actor.id,
        requested_by_name=actor.name,
        requested_at=utcnow(),
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="privacy.erasure_requested",
        object_type="erasure_request",
        object_id=request.id,
        after={"lead_count": len(ids), "reason": request.reason},
    )
    return request


def get(session: Session, *, request_id: int, actor: User) -> ErasureRequest:
    person.ensure_admin(actor)
    request = session.get(ErasureRequest, request_id)
    if request is None:
        raise NotFound(N_("No such erasure request."))
    return request


def list_requests(
    session: Session, *, actor: User, before: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[ErasureRequest], int | None]:
    """Requests, pending first then newest, by keyset on the id within each group."""
    person.ensure_admin(actor)
    pending = list(
        session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.status == ErasureStatus.PENDING)
            .order_by(ErasureRequest.requested_at, ErasureRequest.id)
        )
    )
    stmt = (
        select(ErasureRequest)
        .where(ErasureRequest.status != ErasureStatus.PENDING)
        .order_by(ErasureRequest.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(ErasureRequest.id < before)
    decided = list(session.scalars(stmt))
    more = len(decided) > limit
    decided = decided[:limit]
    cursor = decided[-1].id if more and decided else None
    return (pending if before is None else []) + decided, cursor


def decide(
    session: Session, *, request: ErasureRequest, approve: bool, actor: User
) -> ErasureRequest:
    """A superadmin other than the requester approves (erase now) or rejects a pending request."""
    if actor.role not in APPROVERS:
        raise Forbidden(N_("Only a superadmin approves an erasure."))
    if request.requested_by_id == actor.id:
        raise Forbidden(N_("Someone other than the requester must decide on this erasure."))
    if request.status is not ErasureStatus.PENDING:
        raise Conflict(N_("This request was already decided."))
    request.decided_by_id = actor.id
    request.decided_by_name = actor.name
    request.decided_at = utcnow()
    if not approve:
        request.status = ErasureStatus.REJECTED
        _audit_decision(session, request=request, actor=actor, action="privacy.erasure_rejected")
        return request
    ids = list(request.lead_ids)
    distributors = dict(
        session.execute(select(Lead.id, Lead.distributor_id).where(Lead.id.in_(ids))).all()
    )
    pattern = _pattern_of(session, ids)
    erased = anonymise.anonymise(
        session, lead_ids=ids, cause=AnonymisedCause.ERASURE, erasure_request_id=request.id
    )
    anonymise.scrub_unlinked_inbox(session, pattern)
    request.status = ErasureStatus.DONE
    anonymise.scrub_request(session, request=request, pattern=pattern)
    _audit_decision(
        session, request=request, actor=actor, action="privacy.erasure_done", erased=erased
    )
    for lead_id, distributor_id in distributors.items():
        events.emit(
            session, events.LeadUpdated(lead_id, distributor_id, {"erased": (None, True)}, actor.id)
        )
    return request


def _pattern_of(session: Session, ids: list[int]):  # noqa: ANN202 - a compiled pattern or None
    """The person's values before they go, to clean the request's own reason of them."""
    rows = session.execute(select(*anonymise.PERSON_COLUMNS).where(Lead.id.in_(ids))).all()
    bodies = session.scalars(select(Interaction.body).where(Interaction.lead_id.in_(ids))).all()
    return anonymise.pattern_of(anonymise.tokens_of(rows, bodies))


def _audit_decision(
    session: Session, *, request: ErasureRequest, actor: User, action: str, erased: int = 0
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        object_type="erasure_request",
        object_id=request.id,
        after={
            "requested_by": request.requested_by_name,
            "requested_at": request.requested_at,
            "reason": request.reason,
            "lead_count": request.lead_count,
            "erased": erased,
        },
    )
