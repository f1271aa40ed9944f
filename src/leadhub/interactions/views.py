"""Settings → Lost reasons: the list a lost lead's reason is chosen from (admins keep it)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from leadhub import forms
from leadhub.auth.models import Role
from leadhub.auth.permissions import acting_user, role_required
from leadhub.errors import DomainError
from leadhub.extensions import db
from leadhub.interactions import reasons

bp = Blueprint("reasons", __name__)

ADMINS = (Role.SUPERADMIN, Role.ADMIN)


@bp.route("/settings/lost-reasons", methods=["GET", "POST"])
@role_required(*ADMINS)
def index() -> Any:
    status_code = 200
    if request.method == "POST":
        try:
            reasons.create_lost_reason(
                db.session, name=request.form.get("name", ""), actor=acting_user()
            )
            db.session.commit()
            flash(_("Reason added."), "success")
            return redirect(url_for("reasons.index"))
        except DomainError as exc:
            db.session.rollback()

            forms.flash_error(exc)
            status_code = exc.status
    return render_template(
        "settings/lost_reasons.html", reasons=reasons.list_lost_reasons(db.session)
    ), status_code


@bp.post("/settings/lost-reasons/<int:reason_id>")
@role_required(*ADMINS)
def update(reason_id: int) -> Any:

    try:
        reason = reasons.get_lost_reason(db.session, reason_id=reason_id)
        reasons.update_lost_reason(
            db.session,
            reason=reason,
            name=request.form.get("name", ""),
            active=request.form.get("active") == "true",
            actor=acting_user(),
        )
        db.session.commit()
        flash(_("Saved."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("reasons.index"))
