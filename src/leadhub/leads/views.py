"""The lead desk: the list with filters and search, the lead page, quick actions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from leadhub import forms
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.auth.permissions import ALL_ROLES, LEAD_WRITERS, acting_user, can, role_required
from leadhub.distributors import service as distributors
from leadhub.errors import N_, DomainError, InvalidInput
from leadhub.extensions import db
from leadhub.intake import service as intake
from leadhub.interactions.models import USER_KINDS, Outcome
from leadhub.leads import service
from leadhub.leads.models import TREATMENTS, Platform, Status
from leadhub.leads.schemas import (
    PAGE_SIZES,
    InteractionCreate,
    LeadCreate,
    LeadFilter,
    LeadUpdate,
    validation_details,
)

bp = Blueprint("leads", __name__)

ADMINS = (Role.SUPERADMIN, Role.ADMIN)


@bp.get("/")
@role_required(*ALL_ROLES)
def home() -> Any:
    return redirect(url_for("leads.index"))


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}


@bp.get("/leads")
@role_required(*ALL_ROLES)
def index() -> Any:
    user = acting_user()
    status_code = 200
    notice = None
    try:
        filters = LeadFilter.from_args(request.args)
        if filters.limit not in PAGE_SIZES:
            raise InvalidInput(N_("Page size is 25, 50 or 100."))
        if filters.deleted and not can(user, "restore"):
            raise InvalidInput(N_("Only admins see deleted leads."))
    except InvalidInput as exc:
        notice = exc
        status_code = 400
        filters = LeadFilter()
    page = service.list_visible(db.session, user=user, filters=filters)
    counts = service.count_by_status(db.session, user=user)
    visible_distributors = distributors.list_visible(db.session, user=user)
    staff = accounts.staff_choices(db.session, actor=user)
    names = dict(staff)
    names.update(_names({lead.assignee_id for lead in page.items} - names.keys() - {None}))
    return render_template(
        "leads/list.html",
        page=page,
        filters=filters,
        kept=filters.without_paging(),
        notice=notice,
        counts=counts,
        total=sum(counts.values()),
        statuses=list(Status),
        platforms=list(Platform),
        treatments=TREATMENTS,
        page_sizes=PAGE_SIZES,
        distributors=visible_distributors,
        distributor_names={d.id: d.name for d in visible_distributors},
        staff=staff,
        names=names,
        can_restore=can(user, "restore"),
    ), status_code


@bp.route("/leads/new", methods=["GET", "POST"])
@role_required(*LEAD_WRITERS)
def new() -> Any:
    user = acting_user()
    status_code = 200
    if request.method == "POST":
        try:
            data = forms.parse(LeadCreate, request.form)
            lead = intake.create_manual(db.session, data=data, actor=user)
            db.session.commit()
            flash(_("Lead added."), "success")
            if lead.duplicate_of_id:
                flash(
                    _("This person already has lead #%(id)s.", id=lead.duplicate_of_id), "warning"
                )
            return redirect(url_for("leads.detail", lead_id=lead.id))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
            status_code = exc.status
    return render_template(
        "leads/new.html",
        form=request.form,
        treatments=TREATMENTS,
        distributors=distributors.list_visible(db.session, user=user),
    ), status_code


@bp.get("/leads/<int:lead_id>")
@role_required(*ALL_ROLES)
def detail(lead_id: int) -> Any:
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    distributor = (
        distributors.get_visible(db.session, distributor_id=lead.distributor_id, user=user)
        if user.role is not Role.AGENT
        else user.distributor
    )
    staff = (
        accounts.staff_for_distributor(db.session, lead.distributor_id)
        if can(user, "assign")
        else []
    )
    return render_template(
        "leads/detail.html",
        lead=lead,
        distributor=distributor,
        assignee=db.session.get(User, lead.assignee_id) if lead.assignee_id else None,
        timeline=service.timeline(db.session, lead=lead),
        duplicates=service.later_duplicates(db.session, lead=lead, user=user),
        next_statuses=service.allowed_statuses(lead, user),
        staff=staff,
        kinds=USER_KINDS,
        outcomes=list(Outcome),
        can_write=can(user, "update"),
        can_assign=can(user, "assign"),
        can_claim=can(user, "claim") and lead.assignee_id is None,
        can_delete=can(user, "delete"),
    )


def _apply(lead_id: int, action: Any) -> Any:
    """Run a quick action on a lead and come back to its page with the outcome."""
    user = acting_user()
    lead = service.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    try:
        action(user, lead)
        db.session.commit()
        flash(_("Saved."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("leads.detail", lead_id=lead_id))


def _update_from_form(user: User, lead: Any, **fields: Any) -> None:
    try:
        version = int(request.form.get("version", ""))
    except ValueError as exc:
        raise InvalidInput(N_("Reload the page and try again.")) from exc
    try:
        data = LeadUpdate.model_validate({"version": version, **fields})
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc
    service.update(db.session, lead=lead, data=data, actor=user)


@bp.post("/leads/<int:lead_id>/status")
@role_required(*LEAD_WRITERS)
def change_status(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        _update_from_form(
            user,
            lead,
            status=request.form.get("status") or None,
            lost_reason=request.form.get("lost_reason") or None,
        )

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/assign")
@role_required(*LEAD_WRITERS)
def assign(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        raw = request.form.get("assignee_id", "")
        _update_from_form(user, lead, assignee_id=int(raw) if raw.isdigit() else None)

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/tags")
@role_required(*LEAD_WRITERS)
def tags(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        names = [t for t in request.form.get("tags", "").split(",") if t.strip()]
        _update_from_form(user, lead, tags=names)

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/interactions")
@role_required(*LEAD_WRITERS)
def add_interaction(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        data = forms.parse(InteractionCreate, request.form)
        service.log_interaction(db.session, lead=lead, data=data, actor=user)

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/delete")
@role_required(*ADMINS)
def delete(lead_id: int) -> Any:
    return _apply(lead_id, lambda user, lead: service.delete(db.session, lead=lead, actor=user))


@bp.post("/leads/<int:lead_id>/restore")
@role_required(*ADMINS)
def restore(lead_id: int) -> Any:
    return _apply(lead_id, lambda user, lead: service.restore(db.session, lead=lead, actor=user))
