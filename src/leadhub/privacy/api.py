"""JSON API for patients' data: consent, who read a lead, a person's file, erasure requests."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.db import utcnow
from leadhub.extensions import db
from leadhub.leads import service as leads
from leadhub.leads.models import Lead
from leadhub.privacy import access, consent, document, erasure, person
from leadhub.privacy.models import AccessKind
from leadhub.privacy.schemas import (
    AccessPage,
    AccessQuery,
    ConsentRead,
    ConsentSet,
    ErasureCreate,
    ErasureDecision,
    ErasureRead,
    LeadConsentRead,
    PersonQuery,
)

bp = APIBlueprint("privacy_api", __name__, tag="Patients' data")

ADMINS = person.PRIVACY_ADMINS


def _consent_of(lead: Lead) -> dict[str, Any]:
    consents = consent.for_lead(db.session, lead_id=lead.id)
    return LeadConsentRead(
        lead_id=lead.id,
        form_answers=lead.consent or {},
        privacy_policy_url=consent.privacy_policy_url(db.session, lead=lead),
        purposes=[ConsentRead.model_validate(row) for row in consents.values()],
        missing_channels=consent.missing_channels(consents),
    ).model_dump(mode="json")


@bp.get("/leads/<int:lead_id>/consent")
@role_required(*ALL_ROLES)
@bp.output(LeadConsentRead)
@bp.doc(
    security="BearerAuth",
    summary="A lead's consent: the form's answers and policy, each purpose an admin marked",
)
def get_consent(lead_id: int) -> Any:
    lead = leads.get_visible(db.session, lead_id=lead_id, user=acting_user(), include_deleted=True)
    return _consent_of(lead)


@bp.put("/leads/<int:lead_id>/consent")
@role_required(*ADMINS)
@bp.input(ConsentSet, arg_name="data")
@bp.output(LeadConsentRead)
@bp.doc(security="BearerAuth", summary="Record whether the person agreed to one purpose (admins)")
def put_consent(lead_id: int, data: ConsentSet) -> Any:
    user = acting_user()
    lead = leads.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    consent.set_consent(db.session, lead=lead, data=data, actor=user)
    db.session.commit()
    return _consent_of(lead)


@bp.get("/leads/<int:lead_id>/access")
@role_required(*ADMINS)
@bp.input(AccessQuery, location="query", arg_name="query")
@bp.output(AccessPage)
@bp.doc(
    security="BearerAuth",
    summary="Everyone who opened, read or exported a lead, newest first (admins)",
)
def lead_access(lead_id: int, query: AccessQuery) -> Any:
    lead = leads.get_visible(db.session, lead_id=lead_id, user=acting_user(), include_deleted=True)
    rows, cursor = access.for_lead(
        db.session, lead_id=lead.id, before=query.cursor, limit=query.limit
    )
    return {"items": [row.__dict__ for row in rows], "next_cursor": cursor}


@bp.post("/privacy/person")
@role_required(*ADMINS)
@bp.input(PersonQuery, arg_name="query")
@bp.doc(
    security="BearerAuth",
    summary="Everything about a person, by phone or email, across all distributors (admins)",
    description=(
        "POST, so the phone or email is never in a URL. `?format=pdf` answers a PDF instead of "
        "JSON. Each download is an access record on every lead of the person."
    ),
    responses={
        200: {
            "description": "The person's file",
            "content": {"application/json": {}, "application/pdf": {}},
        }
    },
)
def person_file(query: PersonQuery) -> Any:
    user = acting_user()
    who = person.normalise(query)
    found = person.find(db.session, person=who, actor=user)
    data = person.dossier(db.session, leads_found=found, person=who)
    access.record_request(
        db.session, user=user, kind=AccessKind.PERSON_EXPORT, lead_ids=[lead.id for lead in found]
    )
    db.session.commit()
    pdf = request.args.get("format") == "pdf"
    name = person.filename("pdf" if pdf else "json", utcnow())
    return Response(
        document.render(data) if pdf else person.to_json(data),
        mimetype="application/pdf" if pdf else "application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _erasure(request: Any) -> dict[str, Any]:
    return ErasureRead.model_validate(request).model_dump(mode="json")


@bp.post("/privacy/erasures")
@role_required(*ADMINS)
@bp.input(ErasureCreate, arg_name="data")
@bp.output(ErasureRead, status_code=201)
@bp.doc(security="BearerAuth", summary="Ask to erase a person (admins); a superadmin decides")
def create_erasure(data: ErasureCreate) -> Any:
    created = erasure.request_erasure(db.session, data=data, actor=acting_user())
    db.session.commit()
    return _erasure(created), 201


@bp.get("/privacy/erasures")
@role_required(*ADMINS)
@bp.output(list[ErasureRead])
@bp.doc(security="BearerAuth", summary="Erasure requests: pending first, then the latest decided")
def list_erasures() -> Any:
    found, _cursor = erasure.list_requests(db.session, actor=acting_user())
    return [_erasure(r) for r in found]


@bp.post("/privacy/erasures/<int:request_id>/decision")
@role_required(*erasure.APPROVERS)
@bp.input(ErasureDecision, arg_name="data")
@bp.output(ErasureRead)
@bp.doc(
    security="BearerAuth",
    summary="Approve (erase now) or reject a request: a superadmin other than the requester",
)
def decide_erasure(request_id: int, data: ErasureDecision) -> Any:
    user = acting_user()
    found = erasure.get(db.session, request_id=request_id, actor=user)
    erasure.decide(db.session, request=found, approve=data.approve, actor=user)
    db.session.commit()
    return _erasure(found)
