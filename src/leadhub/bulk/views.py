"""The desk's bulk actions: the form behind the selected rows, a job's page, undo."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from leadhub import forms
from leadhub.auth.models import Role, User
from leadhub.auth.permissions import LEAD_WRITERS, acting_user, can, role_required
from leadhub.bulk import api, jobs, reasons, service, undo
from leadhub.bulk.models import BulkKind
from leadhub.bulk.schemas import BulkRequest
from leadhub.errors import N_, DomainError, Forbidden, InvalidInput
from leadhub.extensions import db
from leadhub.interactions import reasons as lead_reasons
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Status
from leadhub.leads.schemas import LeadFilter, validation_details

bp = Blueprint("bulk", __name__)

FILTER_PREFIX = "filter."
ASSIGNABLE = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER, Role.AGENT)
ACTION_LABELS = {
    BulkKind.STATUS: N_("Change status"),
    BulkKind.ASSIGN: N_("Assign"),
    BulkKind.TAG_ADD: N_("Add a tag"),
    BulkKind.TAG_REMOVE: N_("Remove a tag"),
    BulkKind.NOTE: N_("Add a note"),
    BulkKind.DELETE: N_("Delete"),
    BulkKind.RESTORE: N_("Restore"),
    BulkKind.UNDO: N_("Undo"),
}


def actions_for(user: User, *, deleted: bool) -> list[BulkKind]:
    """The bulk actions the desk offers `user` on the live (or the deleted) list."""
    if deleted:
        return [BulkKind.RESTORE] if can(user, "restore") else []
    return [
        kind
        for kind, right in service.RIGHTS.items()
        if kind is not BulkKind.RESTORE and can(user, right)
    ]


def desk_context(user: User, filters: LeadFilter) -> dict[str, Any] | None:
    """What the desk's bulk bar needs, or None when the user has no bulk action here."""
    actions = actions_for(user, deleted=filters.deleted)
    if not actions:
        return None
    people: list[User] = []
    if BulkKind.ASSIGN in actions:  # who may be given leads: active staff, in the user's scope
        stmt = select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE))
        if user.role not in (Role.SUPERADMIN, Role.ADMIN):
            stmt = stmt.where(User.distributor_id == user.distributor_id)
        people = list(db.session.scalars(stmt.order_by(User.name, User.id)))
    return {
        "actions": [(kind.value, _(ACTION_LABELS[kind])) for kind in actions],
        "statuses": list(Status),
        "lost_reasons": lead_reasons.list_lost_reasons(db.session, active_only=True),
        "invalid_reasons": lead_reasons.INVALID_REASON_LABELS,
        "staff": people,
        "agents": [person for person in people if person.role is Role.AGENT],
        "tags": leads.list_tags(db.session),
        "filters": filters.without_paging(),
        "deleted": filters.deleted,
    }


def _filter_from(form: MultiDict[str, str]) -> LeadFilter:
    args: MultiDict[str, str] = MultiDict()
    for key in form:
        if key.startswith(FILTER_PREFIX):
            for value in form.getlist(key):
                args.add(key.removeprefix(FILTER_PREFIX), value)
    return LeadFilter.from_args(args)


def _request_from(form: MultiDict[str, str]) -> BulkRequest:
    """The bulk form as the API's request: ticked rows (`id:version`) or the whole filter."""
    data: dict[str, Any] = {}
    for key in ("action", "status", "lost_reason_id", "invalid_reason", "tag", "note"):
        value = form.get(key, "").strip()
        if value:
            data[key] = value
    if form.get("mode") == "round_robin":
        data["agent_ids"] = [v for v in form.getlist("agent_ids") if v.strip()]
    elif data.get("action") == "assign" and form.get("assignee_id", "").strip():
        data["assignee_id"] = form["assignee_id"].strip()
    if form.get("scope") == "filter":
        data["filter"] = _filter_from(form)
    else:
        ids, versions = [], {}
        for value in form.getlist("ids"):
            lead_id, _sep, version = value.partition(":")
            if not lead_id.isdigit():
                raise InvalidInput(N_("Reload the page and try again."))
            ids.append(int(lead_id))
            if version.isdigit():
                versions[int(lead_id)] = int(version)
        if not ids:
            raise InvalidInput(N_("Tick the leads to change first."))
        data["ids"], data["versions"] = ids, versions
    try:
        return BulkRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc


def _back() -> Any:
    target = request.form.get("back", "")
    if not target.startswith("/leads") or target.startswith("//"):
        target = url_for("leads.index")
    return redirect(target)


@bp.post("/leads/bulk")
@role_required(*LEAD_WRITERS)
def start() -> Any:
    """Start a bulk operation from the desk and show its job page."""
    try:
        operation_id = api.start(_request_from(request.form))
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        if isinstance(exc, Forbidden) and isinstance(exc.details, dict):
            shown = ", ".join(f"#{i}" for i in exc.details.get("lead_ids", [])[:50])
            flash(_("Leads outside your scope: %(ids)s", ids=shown), "danger")
        return _back()
    return redirect(url_for("bulk.job", operation_id=operation_id))


@bp.get("/leads/bulk/count")
@role_required(*LEAD_WRITERS)
def count() -> Any:
    """How many leads the desk's filter matches (for "select all N leads")."""
    user = acting_user()
    filters = LeadFilter.from_args(request.args)
    if filters.deleted and not can(user, "restore"):
        raise InvalidInput(N_("Only admins see deleted leads."))
    matching = service.matching(user, filters).with_only_columns(Lead.id).subquery()
    return jsonify({"count": db.session.scalar(select(func.count()).select_from(matching))})


@bp.get("/leads/bulk/<int:operation_id>")
@role_required(*LEAD_WRITERS)
def job(operation_id: int) -> Any:
    """A bulk operation's progress (kept live by bulk.js) and result."""
    user = acting_user()
    operation = service.get_readable(db.session, operation_id=operation_id, user=user)
    report = service.report(db.session, operation=operation, user=user)
    return render_template(
        "leads/bulk_job.html",
        operation=operation,
        report=report,
        action_label=_(ACTION_LABELS[operation.kind]),
        reason_text=lambda code: _(reasons.message(code)),
    )


@bp.post("/leads/bulk/<int:operation_id>/undo")
@role_required(*LEAD_WRITERS)
def undo_operation(operation_id: int) -> Any:
    """Undo the last bulk operation; its undo has a job page of its own."""
    try:
        undo_id = undo.start_undo(db.session, operation_id=operation_id, actor=acting_user()).id
        db.session.commit()
        jobs.run(undo_id)
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return redirect(url_for("bulk.job", operation_id=operation_id))
    return redirect(url_for("bulk.job", operation_id=undo_id))
