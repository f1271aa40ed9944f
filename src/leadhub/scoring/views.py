"""The scoring dashboard, the superadmin's rule-set page, and "why this score" on a lead's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from leadhub import forms
from leadhub.auth.models import Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.errors import N_, DomainError, InvalidInput
from leadhub.extensions import db
from leadhub.labels import label
from leadhub.leads.models import TREATMENTS, ScoreLevel, Status
from leadhub.leads.schemas import validation_details
from leadhub.scoring import engine, jobs, reasons, service
from leadhub.scoring.engine import FACTORS, FRESHNESS, LEVELS
from leadhub.scoring.schemas import RuleSetInput
from leadhub.web import current_language, translate

bp = Blueprint("scoring", __name__)


@bp.app_template_global("score_reasons")
def score_reasons(lead: Any) -> list[dict[str, Any]]:
    """The stored breakdown of a lead, factor by factor, in the reader's language."""
    breakdown = lead.score_breakdown or {}
    rows = []
    for factor in FACTORS:
        entry = breakdown.get(factor)
        if not entry:
            continue
        rows.append(
            {
                "factor": factor,
                "name": reasons.factor_name(factor, translate),
                "points": entry.get("points", 0),
                "max": entry.get("max", 0),
                "text": reasons.explain(
                    entry, translate=translate, label=label, locale=current_language()
                ),
            }
        )
    return rows


def _duration(hours: int) -> str:
    return format_timedelta(timedelta(hours=hours), locale=current_language(), threshold=1.0)


def _labels() -> dict[str, str]:
    """Words the dashboard's script needs when it redraws with fresh numbers."""
    values = [*ScoreLevel, *Status, *TREATMENTS]
    return {str(getattr(v, "value", v)): label(v) for v in values}


@bp.get("/scoring")
@role_required(*ALL_ROLES)
def dashboard() -> Any:
    user = acting_user()
    summary = service.summary(db.session, user=user)
    titles = {
        name: service.recommendation_title(name, summary.rules) for name in service.RECOMMENDATIONS
    }
    return render_template(
        "scoring/dashboard.html",
        summary=summary,
        rules=summary.rules,
        titles=titles,
        levels=[*LEVELS, ScoreLevel.COLD],
        factors=FACTORS,
        factor_names={f: reasons.factor_name(f, translate) for f in FACTORS},
        freshness=[(_duration(hours), share) for hours, share in FRESHNESS],
        contact_shares={
            "phone": engine.PHONE_SHARE,
            "email": engine.EMAIL_SHARE,
            "full_name": engine.FULL_NAME_SHARE,
            "first_name": engine.FIRST_NAME_SHARE,
        },
        engagement_shares={"call": engine.ANSWERED_CALL_SHARE, "meeting": engine.MEETING_SHARE},
        per_year=engine.SHARE_PER_YEAR_AWAY,
        labels=_labels(),
        is_superadmin=user.role is Role.SUPERADMIN,
    )


def _form_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The rule-set form's fields as RuleSetInput's shape (validation is the schema's job)."""
    ages: dict[str, list[str]] = {}
    for treatment in TREATMENTS:
        low = form.get(f"age_min_{treatment}", "").strip()
        high = form.get(f"age_max_{treatment}", "").strip()
        if low or high:
            ages[treatment] = [low, high]
    return {
        "weights": {f: form.get(f"weight_{f}", "").strip() for f in FACTORS},
        "treatment_values": {t: form.get(f"value_{t}", "").strip() for t in TREATMENTS},
        "age_ranges": ages,
        "level_thresholds": {
            level.value: form.get(f"threshold_{level.value}", "").strip() for level in LEVELS
        },
        "abandoned_hours": form.get("abandoned_hours", "").strip(),
    }


def _parse_rules(form: MultiDict[str, str]) -> RuleSetInput:
    try:
        return RuleSetInput.model_validate(_form_values(form))
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc


def _shown(rule_set: Any) -> dict[str, Any]:
    """A rule set as the form's initial values."""
    return {
        "weights": rule_set.weights,
        "treatment_values": rule_set.treatment_values,
        "age_ranges": rule_set.age_ranges,
        "level_thresholds": rule_set.level_thresholds,
        "abandoned_hours": rule_set.abandoned_hours,
    }


def _rules_page(values: dict[str, Any], status: int = 200) -> Any:
    current = service.active_rule_set(db.session)
    return render_template(
        "scoring/rules.html",
        current=current,
        values=values,
        factors=FACTORS,
        factor_names={f: reasons.factor_name(f, translate) for f in FACTORS},
        treatments=TREATMENTS,
        levels=LEVELS,
        versions=service.list_rule_sets(db.session),
        run=service.latest_run(db.session),
    ), status


@bp.get("/scoring/rules")
@role_required(Role.SUPERADMIN)
def rules() -> Any:
    return _rules_page(_shown(service.active_rule_set(db.session)))


@bp.post("/scoring/rules")
@role_required(Role.SUPERADMIN)
def save_rules() -> Any:
    user = acting_user()
    try:
        data = _parse_rules(request.form)
        rule_set, run = service.change_rules(db.session, data=data, actor=user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        forms.flash_error(exc)
        return _rules_page(_form_values(request.form), status=exc.status)
    jobs.rescore(run.id)
    flash(
        _(
            "Version %(version)s is in force; every lead is being rescored.",
            version=rule_set.version,
        ),
        "success",
    )
    return redirect(url_for("scoring.rules"))


@bp.get("/scoring/rules/<int:version>")
@role_required(Role.SUPERADMIN)
def rule_set(version: int) -> Any:
    found = service.get_rule_set(db.session, version=version)
    return render_template(
        "scoring/rule_set.html",
        rule_set=found,
        factors=FACTORS,
        factor_names={f: reasons.factor_name(f, translate) for f in FACTORS},
        treatments=TREATMENTS,
        levels=LEVELS,
    )
