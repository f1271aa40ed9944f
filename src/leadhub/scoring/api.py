"""JSON API for scoring: the dashboard's summary, a lead's score with its reasons, rescore runs."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from leadhub.auth.models import Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.extensions import db
from leadhub.leads import service as leads
from leadhub.leads.models import Lead
from leadhub.scoring import reasons, service
from leadhub.scoring.engine import FACTORS
from leadhub.scoring.schemas import LeadScoreRead, RunRead, SummaryRead, TopLead

bp = APIBlueprint("scoring_api", __name__, tag="Scoring")


def score_of(lead: Lead) -> dict[str, Any]:
    """A lead's stored score, its level, the version that made it and why, factor by factor."""
    breakdown = (lead.score_breakdown or {}) if lead.score_version is not None else {}
    items = [
        {
            "factor": factor,
            "points": entry["points"],
            "max": entry["max"],
            "reason": reasons.explain(entry),
            "reason_code": entry["reason"],
            "params": entry.get("params") or {},
        }
        for factor in FACTORS
        if (entry := breakdown.get(factor))
    ]
    read = LeadScoreRead(
        lead_id=lead.id,
        score=lead.score,
        level=lead.score_level,
        rule_set_version=lead.score_version,
        breakdown=items,
    )
    return read.model_dump(mode="json")


@bp.get("/scoring/summary")
@role_required(*ALL_ROLES)
@bp.output(SummaryRead)
@bp.doc(
    security="BearerAuth",
    summary="Leads per level, the three recommended lists' counts and the top 20, in scope",
)
def summary() -> Any:
    found = service.summary(db.session, user=acting_user())
    read = SummaryRead(
        rule_set_version=found.rule_set_version,
        levels=[{"level": level, "count": n} for level, n in found.levels.items()],
        recommendations=[
            {"name": name, "count": n, "capped": found.capped[name]}
            for name, n in found.recommendations.items()
        ],
        top=[TopLead.model_validate(lead) for lead in found.top],
    )
    return read.model_dump(mode="json")


@bp.get("/leads/<int:lead_id>/score")
@role_required(*ALL_ROLES)
@bp.output(LeadScoreRead)
@bp.doc(security="BearerAuth", summary="A lead's score, level, rule-set version and breakdown")
def lead_score(lead_id: int) -> Any:
    user = acting_user()
    lead = leads.get_visible(db.session, lead_id=lead_id, user=user, include_deleted=True)
    return score_of(lead)


@bp.get("/scoring/runs/<int:run_id>")
@role_required(Role.SUPERADMIN)
@bp.output(RunRead)
@bp.doc(security="BearerAuth", summary="A background rescore and its progress (superadmin)")
def run(run_id: int) -> Any:
    found = service.get_run(db.session, run_id=run_id)
    return RunRead.model_validate(found).model_dump(mode="json")
