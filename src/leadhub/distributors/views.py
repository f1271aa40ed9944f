"""Distributor management pages (admins)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from leadhub import forms
from leadhub.auth.models import Role
from leadhub.auth.permissions import acting_user, role_required
from leadhub.distributors import service
from leadhub.distributors.schemas import DistributorCreate, DistributorUpdate
from leadhub.errors import DomainError
from leadhub.extensions import db

bp = Blueprint("distributors", __name__, url_prefix="/settings/distributors")

ADMINS = (Role.SUPERADMIN, Role.ADMIN)
CHECKBOXES = ("agents_see_unassigned",)


@bp.get("/")
@role_required(*ADMINS)
def index() -> Any:
    return render_template(
        "distributors/list.html", distributors=service.list_visible(db.session, user=acting_user())
    )


@bp.post("/")
@role_required(*ADMINS)
def create() -> Any:
    try:
        data = forms.parse(DistributorCreate, request.form, checkboxes=CHECKBOXES)
        distributor = service.create(db.session, data=data, actor=acting_user())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return redirect(url_for("distributors.index"))
    flash(_("Distributor %(name)s added.", name=distributor.name), "success")
    return redirect(url_for("distributors.index"))


@bp.route("/<int:distributor_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def edit(distributor_id: int) -> Any:
    actor = acting_user()
    distributor = service.get_visible(db.session, distributor_id=distributor_id, user=actor)
    if request.method == "POST":
        try:
            data = forms.parse(DistributorUpdate, request.form, checkboxes=(*CHECKBOXES, "active"))
            service.update(db.session, distributor=distributor, data=data, actor=actor)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("distributors.index"))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
    return render_template("distributors/form.html", distributor=distributor)
