"""Pages: the bell's list, notification preferences, distributor settings, the admin outbox and
the template preview, and the Watch button of a lead."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from leadhub import forms
from leadhub.auth import service as accounts
from leadhub.auth.models import LANGUAGES, Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, public, role_required
from leadhub.distributors import service as distributors
from leadhub.errors import N_, DomainError, InvalidInput
from leadhub.extensions import db
from leadhub.leads import service as leads
from leadhub.leads.schemas import validation_details
from leadhub.notifications import jobs, messages, service
from leadhub.notifications.models import CHOSEN_KINDS, SUMMARISABLE, Delivery, OutboxStatus
from leadhub.notifications.schemas import DistributorSettings, NotificationPrefs

bp = Blueprint("notifications", __name__)
M = TypeVar("M", bound=BaseModel)

ADMINS = (Role.SUPERADMIN, Role.ADMIN)
SETTING_EDITORS = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)


@bp.app_context_processor
def bell() -> dict[str, Any]:
    """The header's unread count (one indexed count), and whether a lead page's user watches."""
    unread = 0
    if current_user and current_user.is_authenticated:
        unread = service.unread_count(db.session, user=current_user)

    def watching(lead_id: int) -> bool:
        return service.is_watching(db.session, lead_id=lead_id, user=acting_user())

    return {"notifications_unread": unread, "is_watching": watching}


def _safe_back(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.get("/notifications")
@role_required(*ALL_ROLES)
def index() -> Any:
    user = acting_user()
    unread_only = request.args.get("unread") == "1"
    try:
        page = service.list_for(
            db.session, user=user, cursor=request.args.get("cursor"), unread=unread_only
        )
    except DomainError as exc:
        forms.flash_error(exc)
        return redirect(url_for("notifications.index"))
    return render_template(
        "notifications/list.html",
        items=[service.describe(n) for n in page.items],
        next_cursor=page.next_cursor,
        unread_only=unread_only,
    )


@bp.post("/notifications/read")
@role_required(*ALL_ROLES)
def mark_read() -> Any:
    user = acting_user()
    ids = [int(v) for v in request.form.getlist("id") if v.isdigit()]
    try:
        service.mark_read(db.session, user=user, ids=ids, everything="all" in request.form)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(_safe_back(url_for("notifications.index")))


def _validated(model: type[M], data: dict[str, Any]) -> M:
    """A form's values through the same schema the API uses; errors as a form error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc


def _kinds_from_form(default: str | None) -> dict[str, str]:
    chosen = {
        kind.value: request.form.get(f"kind_{kind.value}") or default for kind in CHOSEN_KINDS
    }
    return {kind: value for kind, value in chosen.items() if value}


def _choices() -> list[tuple[Any, list[Delivery]]]:
    return [
        (kind, list(Delivery) if kind in SUMMARISABLE else [Delivery.INSTANT, Delivery.OFF])
        for kind in CHOSEN_KINDS
    ]


@bp.route("/settings/notifications", methods=["GET", "POST"])
@role_required(*ALL_ROLES)
def preferences() -> Any:
    user = acting_user()
    if request.method == "POST":
        try:
            data = _validated(
                NotificationPrefs,
                {
                    "kinds": _kinds_from_form(Delivery.INSTANT.value),
                    "email": "email" in request.form,
                    "in_app": "in_app" in request.form,
                    "summary_hour": request.form.get("summary_hour", "8"),
                },
            )
            service.update_prefs(db.session, user=user, data=data)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("notifications.preferences"))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
    distributor_id = user.distributor_id if user.role is Role.MANAGER else None
    return render_template(
        "notifications/preferences.html",
        prefs=service.get_prefs(db.session, user=user),
        choices=_choices(),
        hours=range(24),
        distributor_id=distributor_id,
        can_edit_distributors=user.role in SETTING_EDITORS,
        distributors=distributors.list_visible(db.session, user=user)
        if user.role in ADMINS
        else [],
    )


@bp.route("/settings/notifications/distributors/<int:distributor_id>", methods=["GET", "POST"])
@role_required(*SETTING_EDITORS)
def distributor_settings(distributor_id: int) -> Any:
    user = acting_user()
    distributor = distributors.get_visible(db.session, distributor_id=distributor_id, user=user)
    if request.method == "POST":
        try:
            data = _validated(
                DistributorSettings,
                {
                    "speed_to_lead_minutes": request.form.get("speed_to_lead_minutes", "15"),
                    "score_threshold": request.form.get("score_threshold", "30"),
                    "default_kinds": _kinds_from_form(None),
                },
            )
            service.update_settings(
                db.session, distributor_id=distributor.id, data=data, actor=user
            )
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(
                url_for("notifications.distributor_settings", distributor_id=distributor.id)
            )
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
    return render_template(
        "notifications/distributor_settings.html",
        distributor=distributor,
        settings=service.get_settings(db.session, distributor_id=distributor.id, user=user),
        choices=_choices(),
    ), (200 if request.method == "GET" else 400)


@bp.post("/leads/<int:lead_id>/watch")
@role_required(*ALL_ROLES)
def watch(lead_id: int) -> Any:
    user = acting_user()
    lead = leads.get_visible(db.session, lead_id=lead_id, user=user)
    on = request.form.get("watch") == "1"
    service.watch(db.session, lead=lead, user=user, on=on)
    db.session.commit()
    flash(
        _("You will hear about this lead's status changes.")
        if on
        else _("You no longer watch this lead."),
        "info",
    )
    return redirect(url_for("leads.detail", lead_id=lead.id))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> Any:
    """An email footer's link: one kind off for one person, no sign-in (the token is signed)."""
    secret = current_app.config["SECRET_KEY"]
    try:
        user_id, kind = service.read_unsubscribe_token(secret, token)
        user = accounts.get(db.session, user_id)
        if request.method == "POST":
            service.unsubscribe(db.session, user_id=user_id, kind=kind)
            db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return render_template(
            "errors/error.html", status=400, message=forms.translated(exc), details=None
        ), 400
    return render_template(
        "notifications/unsubscribe.html",
        email=user.email,
        kind=kind,
        done=request.method == "POST",
    )


@bp.get("/settings/notifications/outbox")
@role_required(*ADMINS)
def outbox() -> Any:
    user = acting_user()
    status_value = request.args.get("status") or None
    if status_value is not None and status_value not in OutboxStatus._value2member_map_:
        abort(400)
    status = OutboxStatus(status_value) if status_value else None
    try:
        page = service.list_outbox(
            db.session, user=user, status=status, cursor=request.args.get("cursor")
        )
    except DomainError as exc:
        forms.flash_error(exc)
        return redirect(url_for("notifications.outbox"))
    return render_template(
        "notifications/outbox.html",
        messages=page.items,
        next_cursor=page.next_cursor,
        status=status_value,
        counts=service.outbox_counts(db.session, user=user),
        statuses=list(OutboxStatus),
    )


@bp.get("/settings/notifications/outbox/<int:message_id>")
@role_required(*ADMINS)
def outbox_message(message_id: int) -> Any:
    message = service.get_message(db.session, message_id=message_id, user=acting_user())
    return render_template("notifications/outbox_message.html", message=message)


@bp.post("/settings/notifications/outbox/<int:message_id>/retry")
@role_required(*ADMINS)
def retry(message_id: int) -> Any:
    try:
        service.retry_message(db.session, message_id=message_id, actor=acting_user())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return redirect(url_for("notifications.outbox_message", message_id=message_id))
    jobs.kick_send()
    flash(_("The message will be sent again."), "success")
    return redirect(url_for("notifications.outbox_message", message_id=message_id))


@bp.get("/settings/notifications/templates")
@role_required(*ADMINS)
def templates() -> Any:
    template = request.args.get("template") or messages.TEMPLATES[0]
    language = request.args.get("language") or "en"
    if template not in messages.TEMPLATES or language not in LANGUAGES:
        abort(404)
    return render_template(
        "notifications/templates.html",
        templates=messages.TEMPLATES,
        languages=LANGUAGES,
        template=template,
        language=language,
        rendered=messages.preview(template, language),
    )
