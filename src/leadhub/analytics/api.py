"""JSON API for analytics: one endpoint per panel, and the reports as files."""

from __future__ import annotations

from datetime import date
from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from leadhub.analytics import reports, service
from leadhub.analytics.periods import Period, resolve
from leadhub.analytics.schemas import (
    AnalyticsArgs,
    AnalyticsQuery,
    CampaignsRead,
    DistributorsRead,
    FunnelRead,
    SpeedRead,
    StaffRead,
    TrendsRead,
)
from leadhub.analytics.scope import Scope, scope_for
from leadhub.auth.permissions import ALL_ROLES, acting_user, role_required
from leadhub.errors import N_, InvalidInput
from leadhub.extensions import db

bp = APIBlueprint("analytics_api", __name__, tag="Analytics")


def read_query() -> tuple[AnalyticsQuery, Scope, Period]:
    """The request's checked parameters, the caller's scope and the period in their time zone."""
    user = acting_user()
    query = AnalyticsQuery.from_args(request.args)
    scope = scope_for(
        db.session, user=user, distributor_id=query.distributor_id, campaign_id=query.campaign_id
    )
    period = resolve(query.period, tz=user.timezone, start=query.start, end=query.end)
    return query, scope, period


def _doc(summary: str) -> Any:
    return bp.doc(security="BearerAuth", summary=summary)


@bp.get("/analytics/funnel")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(FunnelRead)
@_doc("The funnel new → assigned → contacted → converted, with lost and invalid reasons")
def funnel(args: AnalyticsArgs) -> Any:
    _, scope, period = read_query()
    return service.funnel(db.session, scope=scope, period=period)


@bp.get("/analytics/speed")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(SpeedRead)
@_doc("Speed to lead: median and p90 seconds to first contact, share within the SLA")
def speed(args: AnalyticsArgs) -> Any:
    query, scope, period = read_query()
    return service.speed(db.session, scope=scope, period=period, sla_minutes=query.sla_minutes)


@bp.get("/analytics/distributors")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(DistributorsRead)
@_doc("Distributors ranked: leads, contact and conversion rates, response, duplicates")
def distributors(args: AnalyticsArgs) -> Any:
    query, scope, period = read_query()
    return service.distributors(
        db.session, scope=scope, period=period, sort=query.sort, descending=query.order == "desc"
    )


@bp.get("/analytics/staff")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(StaffRead)
@_doc("Staff members: assigned, contacted, converted, response, open now, interactions")
def staff(args: AnalyticsArgs) -> Any:
    _, scope, period = read_query()
    return service.staff(db.session, scope=scope, period=period)


@bp.get("/analytics/campaigns")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(CampaignsRead)
@_doc("Leads, average score and conversion by campaign, ad set, ad, form or platform")
def campaigns(args: AnalyticsArgs) -> Any:
    query, scope, period = read_query()
    return service.campaigns(db.session, scope=scope, period=period, by=query.by)


@bp.get("/analytics/trends")
@role_required(*ALL_ROLES)
@bp.input(AnalyticsArgs, location="query", arg_name="args")
@bp.output(TrendsRead)
@_doc("Leads per day, week or month by level and status; interactions by kind")
def trends(args: AnalyticsArgs) -> Any:
    query, scope, period = read_query()
    return service.trends(db.session, scope=scope, period=period, bucket=query.bucket)


@bp.get("/reports/<kind>")
@role_required(*ALL_ROLES)
@bp.input(reports.ReportArgs, location="query", arg_name="args")
@bp.doc(
    security="BearerAuth",
    summary="The daily, weekly or monthly report as HTML, JSON, CSV or PDF",
    responses={200: {"description": "the report file", "content": reports.CONTENT_DOC}},
)
def report(kind: str, args: reports.ReportArgs) -> Any:
    return report_response(kind)


def report_response(kind: str) -> Response:
    """The report named by the URL and query string, as a download (shared with the page)."""
    user = acting_user()
    fmt = request.args.get("format") or "pdf"
    on = _date(request.args.get("date"))
    distributor_id = _int(request.args.get("distributor_id"))
    body = reports.render_report(
        db.session, period=kind, fmt=fmt, user=user, on=on, distributor_id=distributor_id
    )
    name = reports.file_name(kind, fmt, reports.report_period_for(kind, user=user, on=on))
    return Response(
        body,
        mimetype=reports.MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(N_("Give the date as YYYY-MM-DD.")) from exc


def _int(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(N_("No such distributor."))
    return int(value)
