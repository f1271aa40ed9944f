"""The Assignment settings page of a distributor."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from leadhub import forms
from leadhub.assignment import service
from leadhub.assignment.models import NoMatch, Strategy
from leadhub.assignment.schemas import CHECKBOXES, from_form
from leadhub.auth.models import Role
from leadhub.auth.permissions import acting_user, role_required
from leadhub.distributors import service as distributors
from leadhub.errors import DomainError
from leadhub.extensions import db
from leadhub.leads.models import TREATMENTS

bp = Blueprint("assignment", __name__, url_prefix="/settings/assignment")

EDITORS = (Role.SUPERADMIN, Role.ADMIN, Role.MANAGER)


@bp.get("/")
@role_required(*EDITORS)
def index() -> Any:
    """Admins choose a distributor; a manager goes straight to their own."""
    actor = acting_user()
    visible = distributors.list_visible(db.session, user=actor)
    if actor.role is Role.MANAGER and len(visible) == 1:
        return redirect(url_for("assignment.edit", distributor_id=visible[0].id))
    return render_template("assignment/index.html", distributors=visible)


@bp.route("/<int:distributor_id>", methods=["GET", "POST"])
@role_required(*EDITORS)
def edit(distributor_id: int) -> Any:
    actor = acting_user()
    distributor = distributors.get_visible(db.session, distributor_id=distributor_id, user=actor)
    settings = service.get(db.session, distributor=distributor, actor=actor)
    values = settings.as_dict()
    status = 200
    if request.method == "POST":
        try:
            data = from_form(request.form, agent_ids=[a.user_id for a in settings.agents])
            service.update(db.session, distributor=distributor, data=data, actor=actor)
            db.session.commit()
            flash(_("Assignment rules saved."), "success")
            return redirect(url_for("assignment.edit", distributor_id=distributor.id))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
            settings = service.get(db.session, distributor=distributor, actor=actor)
            values = _as_submitted(settings.as_dict(), request.form)
            status = 422
    page = render_template(
        "assignment/edit.html",
        settings=settings,
        values=values,
        strategies=[
            (Strategy.OFF, _("Off (manual assignment only)")),
            (Strategy.ROUND_ROBIN, _("Round robin")),
            (Strategy.LEAST_OPEN, _("Fewest open leads")),
        ],
        treatments=TREATMENTS,
    )
    return page, status


def _as_submitted(values: dict[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """The page again with what the user typed, so a mistake is corrected, not retyped."""
    values = dict(values)
    for key, kind in (("strategy", Strategy), ("no_match", NoMatch)):
        if form.get(key) in {member.value for member in kind}:
            values[key] = kind(form[key])
    for key in ("timezone", "start", "end"):
        values[key] = form.get(key, "")
    for key in CHECKBOXES:
        values[key] = key in form
    values["work_days"] = [int(d) for d in form.getlist("work_days") if d.isdigit()]
    fallback = form.get("fallback_user_id", "")
    values["fallback_user_id"] = int(fallback) if fallback.isdigit() else None
    values["agents"] = [
        {
            **agent,
            "languages": [form.get(f"languages_{agent['user_id']}", "")],
            "treatments": form.getlist(f"treatments_{agent['user_id']}"),
        }
        for agent in values["agents"]
    ]
    return values
