"""Settings → Meta: the app, Page connections, form mappings, and deliveries that need a hand."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from leadhub import forms
from leadhub.auth.models import Role
from leadhub.auth.permissions import acting_user, role_required
from leadhub.distributors import service as distributors
from leadhub.errors import N_, DomainError, InvalidInput, NotFound
from leadhub.extensions import db
from leadhub.intake.meta import MAPPABLE
from leadhub.leads.models import TREATMENTS
from leadhub.meta import jobs, service
from leadhub.meta.models import LeadForm

bp = Blueprint("meta", __name__, url_prefix="/settings/meta")

ADMINS = (Role.SUPERADMIN, Role.ADMIN)


@bp.get("/")
@role_required(*ADMINS)
def index() -> Any:
    user = acting_user()
    settings = service.app_settings(db.session, current_app.config)
    today = datetime.combine(
        datetime.now(ZoneInfo(user.timezone)).date(), time.min, tzinfo=ZoneInfo(user.timezone)
    )
    connections = service.list_connections(db.session)
    return render_template(
        "meta/index.html",
        settings=settings,
        from_environment={
            name: bool(current_app.config.get(name))
            for name in ("META_APP_ID", "META_APP_SECRET", "META_VERIFY_TOKEN")
        },
        webhook_url=current_app.config["PUBLIC_BASE_URL"] + url_for("meta_api.deliver"),
        connections=connections,
        tokens={c.id: service.token_status(c) for c in connections},
        now=datetime.now(UTC),
        leads_today=service.leads_today_by_form(db.session, since=today),
        problems=service.problems(db.session),
        distributors=distributors.list_visible(db.session, user=user),
    )


@bp.post("/app")
@role_required(Role.SUPERADMIN)
def save_app() -> Any:
    service.save_app_settings(
        db.session,
        app_id=request.form.get("app_id", ""),
        app_secret=request.form.get("app_secret") or None,
        verify_token=request.form.get("verify_token") or None,
        actor=acting_user(),
    )
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("meta.index"))


@bp.post("/pages")
@role_required(*ADMINS)
def connect_page() -> Any:
    from leadhub.meta.graph import GraphError

    user = acting_user()
    graph = service.graph_client(db.session, current_app.config)
    try:
        raw_id = request.form.get("distributor_id", "")
        if not raw_id.isdigit():
            raise InvalidInput(N_("Choose the distributor this Page belongs to."))
        distributor = distributors.get_visible(db.session, distributor_id=int(raw_id), user=user)
        connection = service.connect_page(
            db.session,
            distributor=distributor,
            page_id=request.form.get("page_id", ""),
            token=request.form.get("token", "").strip(),
            actor=user,
            graph=graph,
        )
        db.session.commit()
        flash(
            _(
                "Connected %(page)s with %(forms)s lead forms.",
                page=connection.page_name or connection.page_id,
                forms=len(connection.forms),
            ),
            "success",
        )
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    except GraphError as exc:
        db.session.rollback()
        flash(_("Meta refused: %(reason)s", reason=exc.message), "danger")
    finally:
        graph.close()
    return redirect(url_for("meta.index"))


@bp.post("/pages/<int:connection_id>/token")
@role_required(*ADMINS)
def check_token(connection_id: int) -> Any:
    """Run debug_token again on a Page's stored token and show what Meta says now."""
    from leadhub.meta.graph import GraphError

    user = acting_user()
    connection = service.get_connection(db.session, connection_id=connection_id)
    distributors.get_visible(db.session, distributor_id=connection.distributor_id, user=user)
    page = connection.page_name or connection.page_id
    graph = service.graph_client(db.session, current_app.config)
    try:
        service.check_token(db.session, connection=connection, graph=graph, actor=user)
        db.session.commit()
        if connection.token_info.get("is_valid"):
            flash(_("Meta says the token of %(page)s works.", page=page), "success")
        else:
            flash(_("Meta says the token of %(page)s is not valid.", page=page), "danger")
    except GraphError as exc:
        db.session.rollback()
        flash(_("Meta refused: %(reason)s", reason=exc.message), "danger")
    finally:
        graph.close()
    return redirect(url_for("meta.index", _anchor=f"page-{connection_id}"))


@bp.route("/forms/<int:form_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def form(form_id: int) -> Any:
    lead_form = db.session.get(LeadForm, form_id)
    if lead_form is None:
        raise NotFound(N_("No such lead form."))
    if request.method == "POST":
        mapping = {
            key.removeprefix("map:"): value
            for key, value in request.form.items()
            if key.startswith("map:")
        }
        try:
            service.update_form(
                db.session,
                form=lead_form,
                mapping=mapping,
                treatment=request.form.get("treatment") or None,
                actor=acting_user(),
            )
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("meta.index"))
        except DomainError as exc:
            db.session.rollback()
            forms.flash_error(exc)
    return render_template(
        "meta/form.html", form=lead_form, targets=MAPPABLE, treatments=TREATMENTS
    )


@bp.post("/deliveries/<int:event_id>/replay")
@role_required(*ADMINS)
def replay(event_id: int) -> Any:
    try:
        event = service.replay(db.session, event_id=event_id, actor=acting_user())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return redirect(url_for("meta.index"))
    jobs.process_event(event.id)
    flash(_("Sent again."), "success")
    return redirect(url_for("meta.index"))
