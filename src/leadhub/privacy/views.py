"""Pages for patients' data: a person's file and erasure, consent and access on a lead's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from leadhub import forms
from leadhub.auth.permissions import acting_user, role_required
from leadhub.db import utcnow
from leadhub.errors import N_, DomainError, InvalidInput
from leadhub.extensions import db
from leadhub.leads import service as leads
from leadhub.leads.models import Lead
from leadhub.privacy import access, anonymise, consent, document, erasure, jobs, person, retention
from leadhub.privacy.labels import ACCESS, ERASURE, PURPOSES, SOURCES
from leadhub.privacy.models import AccessKind, LeadConsent, Purpose
from leadhub.privacy.schemas import ConsentSet, ErasureCreate, PersonQuery

bp = Blueprint("privacy", __name__)
bp.record_once(lambda state: anonymise.configure(state.app.config["LEADHUB_ENCRYPTION_KEY"]))

ADMINS = person.PRIVACY_ADMINS
PANEL_ACCESS_ROWS = 10
__all__ = ["bp", "jobs"]  # jobs: imported so the daily retention task is registered


@dataclass(frozen=True)
class LeadPrivacy:
    """What a lead's page shows about consent and access."""

    policy_url: str | None
    consents: dict[Purpose, LeadConsent]
    missing: list[Purpose]
    anonymised: bool
    can_edit: bool
    access_rows: list[access.AccessRow]
    more_access: bool


@bp.app_template_global("privacy_panel")
def privacy_panel(lead: Lead) -> LeadPrivacy:
    """Consent, missing channels and (for admins) the latest readers of a lead; once a request."""
    cache = g.setdefault("privacy_panels", {})
    if lead.id not in cache:
        session = db.session
        consents = consent.for_lead(session, lead_id=lead.id)
        is_admin = current_user.is_authenticated and current_user.role in ADMINS
        rows, cursor = (
            access.for_lead(session, lead_id=lead.id, limit=PANEL_ACCESS_ROWS)
            if is_admin
            else ([], None)
        )
        cache[lead.id] = LeadPrivacy(
            policy_url=consent.privacy_policy_url(session, lead=lead),
            consents=consents,
            missing=consent.missing_channels(consents),
            anonymised=bool(person.anonymised_ids(session, [lead.id])),
            can_edit=is_admin,
            access_rows=rows,
            more_access=cursor is not None,
        )
    return cache[lead.id]


@bp.app_template_global("privacy_labels")
def privacy_labels() -> dict[str, Any]:
    return {"purposes": PURPOSES, "sources": SOURCES, "access": ACCESS, "erasure": ERASURE}


@bp.app_template_global("retention_runs")
def retention_runs(distributor_id: int) -> list[retention.RunView]:
    """The last retention passes of a distributor, for its settings page."""
    return retention.recent_runs(db.session, distributor_id=distributor_id)


@bp.post("/leads/<int:lead_id>/consent")
@role_required(*ADMINS)
def set_consent(lead_id: int) -> Any:
    user = acting_user()
    lead = leads.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    try:
        submitted = request.form.copy()
        given_at = submitted.pop("given_at_local", "").strip()  # a datetime-local field, in UTC
        if given_at:
            submitted["given_at"] = given_at + "Z"
        data = forms.parse(ConsentSet, submitted, checkboxes=("granted",))
        consent.set_consent(db.session, lead=lead, data=data, actor=user)
        db.session.commit()
        flash(_("Consent recorded."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("leads.detail", lead_id=lead_id) + "#privacy-consent")


@bp.get("/leads/<int:lead_id>/access")
@role_required(*ADMINS)
def lead_access(lead_id: int) -> Any:
    user = acting_user()
    lead = leads.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    raw = request.args.get("cursor", "")
    before = int(raw) if raw.isdigit() else None
    rows, cursor = access.for_lead(db.session, lead_id=lead.id, before=before)
    return render_template("privacy/access.html", lead=lead, rows=rows, next_cursor=cursor)


@bp.get("/settings/privacy")
@role_required(*ADMINS)
def index() -> Any:
    return _page()


def _page(
    *, query: PersonQuery | None = None, status: int = 200, found: list[Lead] | None = None
) -> Any:
    user = acting_user()
    raw = request.args.get("cursor", "")
    requests_, cursor = erasure.list_requests(
        db.session, actor=user, before=int(raw) if raw.isdigit() else None
    )
    ids = [lead.id for lead in found or []]
    return render_template(
        "privacy/index.html",
        query=query,
        found=found,
        anonymised=person.anonymised_ids(db.session, ids),
        distributor_names=_distributor_names(),
        requests=requests_,
        next_cursor=cursor,
        can_approve=user.role in erasure.APPROVERS,
    ), status


def _distributor_names() -> dict[int, str]:
    from leadhub.distributors import service as distributors

    return {d.id: d.name for d in distributors.list_visible(db.session, user=acting_user())}


def _query() -> PersonQuery:
    submitted = request.form.copy()
    submitted.pop("format", None)
    return forms.parse(PersonQuery, submitted)


@bp.post("/settings/privacy/find")
@role_required(*ADMINS)
def find() -> Any:
    """Search by POST, so a phone or email never lands in a URL or a server's access log."""
    try:
        query = _query()
        found = person.find(db.session, person=person.normalise(query), actor=acting_user())
    except InvalidInput as exc:
        forms.flash_error(exc)
        return _page(status=400)
    if not found:
        flash(_("No lead matches this person."), "info")
    return _page(query=query, found=found)


@bp.post("/settings/privacy/download")
@role_required(*ADMINS)
def download() -> Any:
    """The person's file as JSON or PDF; the reading is recorded for each of their leads."""
    user = acting_user()
    fmt = request.form.get("format", "json")
    if fmt not in ("json", "pdf"):
        raise InvalidInput(N_("Choose JSON or PDF."))
    try:
        query = _query()
        who = person.normalise(query)
        found = person.find(db.session, person=who, actor=user)
    except InvalidInput as exc:
        forms.flash_error(exc)
        return redirect(url_for("privacy.index"))
    data = person.dossier(db.session, leads_found=found, person=who)
    access.record_request(
        db.session, user=user, kind=AccessKind.PERSON_EXPORT, lead_ids=[lead.id for lead in found]
    )
    db.session.commit()
    body = person.to_json(data) if fmt == "json" else document.render(data)
    return Response(
        body,
        mimetype="application/json" if fmt == "json" else "application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{person.filename(fmt, utcnow())}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/settings/privacy/erasures")
@role_required(*ADMINS)
def request_erasure() -> Any:
    try:
        data = forms.parse(ErasureCreate, request.form)
        created = erasure.request_erasure(db.session, data=data, actor=acting_user())
        db.session.commit()
        flash(
            _(
                "Erasure of %(count)s leads requested; a superadmin must approve it.",
                count=created.lead_count,
            ),
            "success",
        )
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("privacy.index"))


@bp.post("/settings/privacy/erasures/<int:request_id>/decide")
@role_required(*erasure.APPROVERS)
def decide(request_id: int) -> Any:
    user = acting_user()
    try:
        found = erasure.get(db.session, request_id=request_id, actor=user)
        approve = request.form.get("decision") == "approve"
        erasure.decide(db.session, request=found, approve=approve, actor=user)
        db.session.commit()
        flash(_("Erased.") if approve else _("Request rejected."), "success")
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
    return redirect(url_for("privacy.index"))
