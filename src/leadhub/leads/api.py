"""JSON API for leads: list, read, create, change, work, delete, restore."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import request

from leadhub.auth.models import Role
from leadhub.auth.permissions import ALL_ROLES, LEAD_WRITERS, acting_user, role_required
from leadhub.errors import N_, Conflict
from leadhub.extensions import db
from leadhub.intake import service as intake
from leadhub.interactions import reasons
from leadhub.leads import export, service
from leadhub.leads.schemas import (
    InteractionCreate,
    InteractionRead,
    LeadCreate,
    LeadExportQuery,
    LeadFilter,
    LeadPage,
    LeadRead,
    LeadUpdate,
    LostReasonRead,
    NoteEdit,
    StatusCounts,
)
from leadhub.leads.views import export_download
from leadhub.privacy import access, consent

bp = APIBlueprint("leads_api", __name__, tag="Leads")

ADMINS = (Role.SUPERADMIN, Role.ADMIN)


def _read(lead: Any) -> dict[str, Any]:
    return LeadRead.model_validate(lead).model_dump(mode="json")


@bp.get("/leads")
@role_required(*ALL_ROLES)
@bp.input(LeadFilter, location="query", arg_name="query_filters")
@bp.output(LeadPage)
@bp.doc(security="BearerAuth", summary="Leads in scope, newest or best first, by cursor")
def list_leads(query_filters: LeadFilter) -> Any:
    filters = LeadFilter.from_args(request.args)  # repeated `status` values are allowed here
    page = service.list_visible(db.session, user=acting_user(), filters=filters)
    return {"items": [_read(lead) for lead in page.items], "next_cursor": page.next_cursor}


@bp.get("/leads/counts")
@role_required(*ALL_ROLES)
@bp.output(StatusCounts)
@bp.doc(security="BearerAuth", summary="Live leads per status in the caller's scope")
def lead_counts() -> Any:
    counts = service.count_by_status(db.session, user=acting_user())
    return {"counts": {s.value: n for s, n in counts.items()}, "total": sum(counts.values())}


@bp.get("/leads/export")
@role_required(*export.EXPORTERS)
@bp.input(LeadExportQuery, location="query", arg_name="query_export")
@bp.doc(
    security="BearerAuth",
    summary="Stream the leads matching the desk's filters as CSV, JSON Lines or XLSX",
    description=(
        "`columns` is a comma-separated list of: " + ", ".join(export.COLUMNS) + ". "
        "Admins and managers only; one audit record per export."
    ),
    responses={
        200: {
            "description": "The file, streamed",
            "content": {media: {} for media in export.MEDIA_TYPES.values()},
        },
        400: "Unknown format, column or filter",
    },
)
def export_leads(query_export: LeadExportQuery) -> Any:
    return export_download(acting_user(), request.args)


@bp.get("/leads/<int:lead_id>")
@role_required(*ALL_ROLES)
@bp.output(LeadRead)
@bp.doc(security="BearerAuth", summary="One lead")
def get_lead(lead_id: int) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    access.record_request(db.session, user=user, kind=access.API_READ, lead_ids=[lead.id])
    db.session.commit()
    return _read(lead)


@bp.post("/leads")
@role_required(*LEAD_WRITERS)
@bp.input(LeadCreate, arg_name="data")
@bp.output(LeadRead, status_code=201)
@bp.doc(security="BearerAuth", summary="Enter a lead by hand (source: manual)")
def create_lead(data: LeadCreate) -> Any:
    lead = intake.create_manual(db.session, data=data, actor=acting_user())
    db.session.commit()
    return _read(lead), 201


@bp.patch("/leads/<int:lead_id>")
@role_required(*LEAD_WRITERS)
@bp.input(LeadUpdate, arg_name="data")
@bp.output(LeadRead)
@bp.doc(
    security="BearerAuth",
    summary="Change status, assignee or tags; send the version you read",
    responses={409: "The lead changed since you read it; the body holds the current lead"},
)
def update_lead(lead_id: int, data: LeadUpdate) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user)
    if data.version != lead.version:
        raise Conflict(
            N_("This lead was changed since you read it."), details={"current": _read(lead)}
        )
    service.update(db.session, lead=lead, data=data, actor=user)
    db.session.commit()
    return _read(lead)


@bp.post("/leads/<int:lead_id>/interactions")
@role_required(*LEAD_WRITERS)
@bp.input(InteractionCreate, arg_name="data")
@bp.output(InteractionRead, status_code=201)
@bp.doc(security="BearerAuth", summary="Log a call, email, WhatsApp message, meeting or note")
def add_interaction(lead_id: int, data: InteractionCreate) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user)
    interaction = service.log_interaction(db.session, lead=lead, data=data, actor=user)
    missing = consent.missing_for_kind(db.session, lead_id=lead.id, kind=data.kind)
    db.session.commit()
    read = InteractionRead.model_validate(interaction)
    read.consent_missing = missing.value if missing is not None else None
    return read.model_dump(mode="json"), 201


@bp.patch("/leads/<int:lead_id>/interactions/<int:interaction_id>")
@role_required(*LEAD_WRITERS)
@bp.input(NoteEdit, arg_name="data")
@bp.output(InteractionRead)
@bp.doc(
    security="BearerAuth",
    summary="Correct a note: its author only, within 15 minutes of writing it",
    responses={403: "Not the author, or the 15 minutes are over"},
)
def edit_note(lead_id: int, interaction_id: int, data: NoteEdit) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user)
    interaction = service.edit_note(
        db.session, lead=lead, interaction_id=interaction_id, data=data, actor=user
    )
    db.session.commit()
    return InteractionRead.model_validate(interaction).model_dump(mode="json")


@bp.get("/lost-reasons")
@role_required(*ALL_ROLES)
@bp.output(list[LostReasonRead])
@bp.doc(security="BearerAuth", summary="The reasons a lead can be lost for (send lost_reason_id)")
def lost_reasons() -> Any:
    found = reasons.list_lost_reasons(db.session, active_only=True)
    return [LostReasonRead.model_validate(r).model_dump(mode="json") for r in found]


@bp.delete("/leads/<int:lead_id>")
@role_required(*ADMINS)
@bp.output(LeadRead)
@bp.doc(security="BearerAuth", summary="Move a lead to the deleted view (admin and up)")
def delete_lead(lead_id: int) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    service.delete(db.session, lead=lead, actor=user)
    db.session.commit()
    return _read(lead)


@bp.post("/leads/<int:lead_id>/restore")
@role_required(*ADMINS)
@bp.output(LeadRead)
@bp.doc(security="BearerAuth", summary="Bring a deleted lead back (admin and up)")
def restore_lead(lead_id: int) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    service.restore(db.session, lead=lead, actor=user)
    db.session.commit()
    return _read(lead)
