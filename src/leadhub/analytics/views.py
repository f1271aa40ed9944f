"""The /analytics page: period and scope pickers; the panels load from the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from leadhub.analytics.periods import REPORTS, resolve
from leadhub.analytics.reports import FORMATS
from leadhub.analytics.schemas import AnalyticsQuery
from leadhub.analytics.scope import scope_for
from leadhub.auth.models import Role
from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.distributors import service as distributors
from leadhub.errors import InvalidInput, NotFound
from leadhub.extensions import db
from leadhub.interactions.models import Kind
from leadhub.labels import label
from leadhub.leads.models import ScoreLevel, Status


def _labels() -> dict[str, str]:
    """Words the page's script shows for codes (statuses, levels, kinds)."""
    return {str(v.value): label(v) for v in (*Status, *ScoreLevel, *Kind)}


bp = Blueprint("analytics", __name__)


@bp.get("/analytics")
@role_required(*ALL_ROLES)
def index() -> Any:
    user = acting_user()
    notice, status = None, 200
    try:
        query = AnalyticsQuery.from_args(request.args)
        scope_for(db.session, user=user, distributor_id=query.distributor_id)
        period = resolve(query.period, tz=user.timezone, start=query.start, end=query.end)
    except (InvalidInput, NotFound) as exc:
        notice, status = exc, 400
        query = AnalyticsQuery()
        period = resolve(None, tz=user.timezone)
    return (
        render_template(
            "analytics/index.html",
            query=query,
            period=period,
            notice=notice,
            distributors=distributors.list_visible(db.session, user=user),
            agent_id=user.id if user.role is Role.AGENT else None,
            reports=REPORTS,
            formats=FORMATS,
            labels=_labels(),
        ),
        status,
    )
