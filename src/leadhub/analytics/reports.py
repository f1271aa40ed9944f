"""Daily, weekly and monthly reports as HTML, JSON, CSV and PDF.

`render_report` is the one entry point: the page, the API, the CLI and the scheduled emails all
call it, so a report reads the same wherever it is opened. Words are in the reader's language
when an app context is there (flask-babel); times and periods in their time zone.
"""

from __future__ import annotations

import csv
import io
import json
from contextlib import nullcontext
from datetime import date
from typing import Any

from flask import has_app_context, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from leadhub.analytics import service
from leadhub.analytics.periods import Period, report_period
from leadhub.analytics.scope import scope_for
from leadhub.auth.models import User
from leadhub.errors import N_, InvalidInput
from leadhub.labels import label
from leadhub.leads.export import neutralise
from leadhub.pdf import Document

FORMATS = ("html", "json", "csv", "pdf")
MIMETYPES = {
    "html": "text/html",
    "json": "application/json",
    "csv": "text/csv",
    "pdf": "application/pdf",
}
CONTENT_DOC = {mimetype: {"schema": {"type": "string"}} for mimetype in MIMETYPES.values()}
DEFAULT_TZ = "Europe/Istanbul"


class ReportArgs(BaseModel):
    """Query parameters of a report download (checked by render_report: 400 when wrong)."""

    date: str | None = Field(default=None, max_length=10, description="a day in the period")
    format: str | None = Field(default=None, max_length=4, description="html, json, csv or pdf")
    distributor_id: str | None = Field(default=None, max_length=12)


def report_period_for(kind: str, *, user: User | None, on: date | None = None) -> Period:
    return report_period(kind, tz=user.timezone if user else DEFAULT_TZ, on=on)


def collect(
    session: Session,
    *,
    period: Period,
    user: User | None,
    distributor_id: int | None = None,
) -> dict[str, Any]:
    """Every panel of the period for the user's scope: the report's data."""
    scope = scope_for(session, user=user, distributor_id=distributor_id)
    return {
        "period": period.as_dict(),
        "scope": {"distributor_id": distributor_id, "distributor": scope.distributor_name},
        "funnel": service.funnel(session, scope=scope, period=period),
        "speed": service.speed(session, scope=scope, period=period),
        "distributors": service.distributors(session, scope=scope, period=period),
        "staff": service.staff(session, scope=scope, period=period),
        "campaigns": service.campaigns(session, scope=scope, period=period),
        "platforms": service.campaigns(session, scope=scope, period=period, by="platform"),
        "trends": service.trends(session, scope=scope, period=period, bucket="day"),
    }


def render_report(
    session: Session,
    *,
    period: str,
    fmt: str,
    user: User | None = None,
    on: date | None = None,
    distributor_id: int | None = None,
) -> bytes:
    """The `period` ("daily", "weekly", "monthly") report holding day `on` (default: the last
    complete one) as `fmt` ("html", "json", "csv", "pdf"), for `user`'s scope and language
    (None: the whole clinic, in English)."""
    if fmt not in FORMATS:
        raise InvalidInput(N_("A report is HTML, JSON, CSV or PDF."))
    found = report_period_for(period, user=user, on=on)
    data = collect(session, period=found, user=user, distributor_id=distributor_id)
    data["kind"] = period
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2).encode()
    language = user.language if user else "en"
    with force_locale(language) if has_app_context() else nullcontext():
        rows = sections(data)
        if fmt == "csv":
            return _csv(rows)
        if fmt == "html":
            return render_template(
                "analytics/report.html", data=data, sections=rows, title=title(data)
            ).encode()
        return _pdf(data, rows)


def file_name(kind: str, fmt: str, period: Period) -> str:
    return f"leadhub-{kind}-{period.start.isoformat()}.{fmt}"


def _t(message: str, **params: Any) -> str:
    return _(message, **params) if has_app_context() else message % params if params else message


def _label(code: str) -> str:
    return label(code) if has_app_context() else code.replace("_", " ")


def title(data: dict[str, Any]) -> str:
    names = {
        "daily": _t("Daily report"),
        "weekly": _t("Weekly report"),
        "monthly": _t("Monthly report"),
    }
    period = data["period"]
    text = f"{names[data['kind']]}: {period['from']} – {period['to']} ({period['timezone']})"
    if data["scope"]["distributor"]:
        text += f" · {data['scope']['distributor']}"
    return text


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


Section = tuple[str, list[str], list[list[Any]]]


def sections(data: dict[str, Any]) -> list[Section]:
    """The report as titled tables: what the HTML, CSV and PDF forms all show."""
    funnel, speed = data["funnel"], data["speed"]
    previous = {s["status"]: s["count"] for s in funnel["previous"]["stages"]}
    stage_rows = [
        [_label(s["status"]), s["count"], _percent(s["rate"]), previous[s["status"]]]
        for s in funnel["stages"]
    ]
    stage_rows += [
        [_label(c["status"]), c["count"], _percent(c["rate"]), ""] for c in funnel["closed"]
    ]
    reason_rows = [
        [_label(c["status"]), r["reason"] or "—", r["count"]]
        for c in funnel["closed"]
        for r in c["reasons"]
    ]
    speed_rows = [
        [_t("Leads"), speed["leads"], speed["previous"]["leads"]],
        [_t("Contacted"), speed["contacted"], speed["previous"]["contacted"]],
        [
            _t("Median minutes to first contact"),
            _minutes(speed["median_seconds"]),
            _minutes(speed["previous"]["median_seconds"]),
        ],
        [
            _t("p90 minutes to first contact"),
            _minutes(speed["p90_seconds"]),
            _minutes(speed["previous"]["p90_seconds"]),
        ],
        [
            _t("Contacted within %(minutes)s minutes", minutes=speed["sla_minutes"]),
            _percent(speed["sla_share"]),
            _percent(speed["previous"]["sla_share"]),
        ],
    ]
    distributor_rows = [
        [
            d["rank"],
            d["name"] or "—",
            d["leads"],
            _percent(d["contact_rate"]),
            _percent(d["conversion_rate"]),
            _minutes(d["median_seconds"]),
            d["duplicates"],
        ]
        for d in data["distributors"]["items"]
    ]
    staff_rows = [
        [
            s["name"] or "—",
            s["assigned"],
            s["contacted"],
            s["converted"],
            _percent(s["conversion_rate"]),
            _minutes(s["median_seconds"]),
            s["open_now"],
            ", ".join(f"{_label(kind)} {n}" for kind, n in sorted(s["interactions"].items())),
        ]
        for s in data["staff"]["items"]
    ]
    campaign_rows = [
        [
            c["name"] or c["key"] or "—",
            c["leads"],
            c["average_score"],
            _percent(c["conversion_rate"]),
        ]
        for c in data["campaigns"]["items"] + data["platforms"]["items"]
    ]
    trends = data["trends"]
    trend_rows = [
        [label, trends["leads"][i], *(trends["by_level"][lv][i] for lv in trends["by_level"])]
        for i, label in enumerate(trends["labels"])
    ]
    return [
        (_t("Funnel"), [_t("Stage"), _t("Leads"), _t("Rate"), _t("Previous period")], stage_rows),
        (_t("Lost and invalid reasons"), [_t("Status"), _t("Reason"), _t("Leads")], reason_rows),
        (_t("Speed to lead"), ["", _t("This period"), _t("Previous period")], speed_rows),
        (
            _t("By distributor"),
            [
                "#",
                _t("Distributor"),
                _t("Leads"),
                _t("Contact rate"),
                _t("Conversion rate"),
                _t("Median minutes"),
                _t("Shared duplicates"),
            ],
            distributor_rows,
        ),
        (
            _t("By staff member"),
            [
                _t("Staff member"),
                _t("Assigned"),
                _t("Contacted"),
                _t("Converted"),
                _t("Conversion rate"),
                _t("Median minutes"),
                _t("Open now"),
                _t("Interactions"),
            ],
            staff_rows,
        ),
        (
            _t("By campaign and platform"),
            [_t("Campaign"), _t("Leads"), _t("Average score"), _t("Conversion rate")],
            campaign_rows,
        ),
        (
            _t("Leads per day"),
            [_t("Day"), _t("Leads"), *(_label(level) for level in trends["by_level"])],
            trend_rows,
        ),
    ]


def _csv(rows: list[Section]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for heading, header, body in rows:
        writer.writerow([neutralise(heading)])
        writer.writerow([neutralise(str(cell)) for cell in header])
        for row in body:
            writer.writerow([neutralise(str(cell)) for cell in row])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode()


def _pdf(data: dict[str, Any], rows: list[Section]) -> bytes:
    pdf = Document(title=title(data), subtitle="LeadHub", landscape=True)
    for heading, header, body in rows:
        pdf.heading(heading)
        if body:
            pdf.table_rows([str(h) for h in header], [[str(c) for c in row] for row in body])
        else:
            pdf.paragraph(_t("Nothing in this period."))
    return pdf.to_bytes()
