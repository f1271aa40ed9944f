"""The lead desk: the list with filters and search, the lead page, quick actions."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from leadhub import forms
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.auth.permissions import ALL_ROLES, LEAD_WRITERS, acting_user, can, role_required
from leadhub.bulk import views as bulk_views
from leadhub.db import utcnow
from leadhub.distributors import service as distributors
from leadhub.errors import N_, Conflict, DomainError, InvalidInput
from leadhub.extensions import db
from leadhub.intake import service as intake
from leadhub.interactions import reasons
from leadhub.interactions import service as interactions
from leadhub.interactions.models import USER_KINDS, Outcome
from leadhub.leads import export, service
from leadhub.leads.models import TREATMENTS, Platform, Status
from leadhub.leads.schemas import (
    PAGE_SIZES,
    InteractionCreate,
    LeadCreate,
    LeadFilter,
    LeadUpdate,
    NoteEdit,
    validation_details,
)
from leadhub.privacy import access, consent

bp = Blueprint("leads", __name__)

ADMINS = (Role.SUPERADMIN, Role.ADMIN)
GREETING_LANGUAGES = ("en", "tr", "ar")


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
        can_export=user.role in export.EXPORTERS,
        export_columns=list(export.COLUMNS),
        default_export_columns=export.DEFAULT_COLUMNS,
        bulk=bulk_views.desk_context(user, filters),
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
    access.record_request(db.session, user=user, kind=access.VIEW, lead_ids=[lead.id])
    db.session.commit()  # the access record stays, whatever happens to the page
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
        lost_reasons=reasons.list_lost_reasons(db.session, active_only=True),
        invalid_reasons=reasons.INVALID_REASON_LABELS,
        whatsapp=whatsapp_link(lead, distributor.name if distributor else None),
        all_tags=service.list_tags(db.session),
        can_write=can(user, "update"),
        can_assign=can(user, "assign"),
        can_claim=can(user, "claim") and lead.assignee_id is None,
        can_delete=can(user, "delete"),
    )


def export_download(user: User, args: Any) -> Response:
    """Stream an export of the filter in `args` (plus `format` and `columns`) as a download.

    Everything is checked before the first byte goes out; the audit record is committed when
    the stream ends, also when the download is cut short.
    """
    export.ensure_can_export(user)
    args = args.copy()
    fmt = export.parse_format(args.pop("format", None))
    columns = export.parse_columns(args.poplist("columns"))
    filters = LeadFilter.from_args(args)
    if filters.deleted and not can(user, "restore"):
        raise InvalidInput(N_("Only admins see deleted leads."))
    session = db.session

    def body() -> Any:
        try:
            yield from export.stream(
                session,
                user=user,
                filters=filters,
                columns=columns,
                fmt=fmt,
                between_batches=session.commit,
            )
        finally:
            session.commit()

    name = export.filename(fmt, utcnow())
    return Response(
        stream_with_context(body()),
        mimetype=export.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/leads/export")
@role_required(*export.EXPORTERS)
def export_leads() -> Any:
    """The desk's current filter as a file, with the columns ticked in the export form."""
    return export_download(acting_user(), request.args)


def whatsapp_link(lead: Any, clinic: str | None) -> str | None:
    """A wa.me link opening a chat with the lead, greeting them in their language."""
    language = (lead.language or "en")[:2].lower()
    first_name = (lead.full_name or "").split(" ")[0]
    with force_locale(language if language in GREETING_LANGUAGES else "en"):
        greeting = _(
            "Hello %(name)s, this is %(clinic)s. Thank you for your enquiry. "
            "When would be a good time to talk?",
            name=first_name,
            clinic=clinic or _("the clinic"),
        )
    return interactions.whatsapp_link(lead.phone, " ".join(greeting.split()))


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
            lost_reason_id=request.form.get("lost_reason_id") or None,
            invalid_reason=request.form.get("invalid_reason") or None,
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


@bp.post("/leads/<int:lead_id>/tags/add")
@role_required(*LEAD_WRITERS)
def add_tag(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        _check_version(lead)
        service.tag_lead(db.session, lead=lead, add=request.form.get("tag", ""), actor=user)

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/tags/remove")
@role_required(*LEAD_WRITERS)
def remove_tag(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        _check_version(lead)
        service.tag_lead(db.session, lead=lead, remove=request.form.get("tag", ""), actor=user)

    return _apply(lead_id, act)


def _check_version(lead: Any) -> None:
    if request.form.get("version", "") != str(lead.version):
        raise Conflict(N_("This lead was changed since you read it."))


@bp.post("/leads/<int:lead_id>/notes/<int:interaction_id>")
@role_required(*LEAD_WRITERS)
def edit_note(lead_id: int, interaction_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        data = forms.parse(NoteEdit, request.form)
        service.edit_note(
            db.session, lead=lead, interaction_id=interaction_id, data=data, actor=user
        )

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/interactions")
@role_required(*LEAD_WRITERS)
def add_interaction(lead_id: int) -> Any:
    def act(user: User, lead: Any) -> None:
        data = forms.parse(InteractionCreate, request.form)
        service.log_interaction(db.session, lead=lead, data=data, actor=user)
        consent.flash_if_missing(db.session, lead=lead, kind=data.kind)

    return _apply(lead_id, act)


@bp.post("/leads/<int:lead_id>/delete")
@role_required(*ADMINS)
def delete(lead_id: int) -> Any:
    return _apply(lead_id, lambda user, lead: service.delete(db.session, lead=lead, actor=user))


@bp.post("/leads/<int:lead_id>/restore")
@role_required(*ADMINS)
def restore(lead_id: int) -> Any:
    return _apply(lead_id, lambda user, lead: service.restore(db.session, lead=lead, actor=user))


@bp.route("/settings/tags", methods=["GET", "POST"])
@role_required(*ADMINS)
def tag_settings() -> Any:
    """The clinic's tags: create one with its colour; rename, recolour or delete the others."""
    status_code = 200
    if request.method == "POST":
        try:
            service.create_tag(
                db.session,
                name=request.form.get("name", ""),
                color=request.form.get("color", ""),
                actor=acting_user(),
            )
            db.session.commit()
            flash(_("Tag added."), "success")
            return redirect(url_for("leads.tag_settings"))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
            status_code = exc.status
    return render_template("settings/tags.html", tags=service.list_tags(db.session)), status_code


@bp.post("/settings/tags/<int:tag_id>")
@role_required(*ADMINS)
def update_tag(tag_id: int) -> Any:
    try:
        tag = service.get_tag(db.session, tag_id=tag_id)
        service.update_tag(
            db.session,
            tag=tag,
            name=request.form.get("name", ""),
            color=request.form.get("color", ""),
            actor=acting_user(),
        )
        db.session.commit()
        flash(_("Saved."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("leads.tag_settings"))


@bp.post("/settings/tags/<int:tag_id>/delete")
@role_required(*ADMINS)
def delete_tag(tag_id: int) -> Any:
    tag = service.get_tag(db.session, tag_id=tag_id)
    service.delete_tag(db.session, tag=tag, actor=acting_user())
    db.session.commit()
    flash(_("Tag deleted."), "success")
    return redirect(url_for("leads.tag_settings"))
