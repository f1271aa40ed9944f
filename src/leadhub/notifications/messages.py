"""What a notification says: its subject, its in-app line, and its email in the reader's language.

Emails are Jinja templates under templates/notifications/email/, an HTML part (autoescaped, so
lead data cannot inject markup) and a plain-text part, rendered with the recipient's locale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _

from leadhub.auth.models import LANGUAGES
from leadhub.labels import label
from leadhub.web import RTL_LANGUAGES

# Paths in LeadHub that messages link to, joined to PUBLIC_BASE_URL (no request to build them).
LEAD_PATH = "/leads/{lead_id}"
DESK_PATH = "/leads"
META_PATH = "/settings/meta"
INBOX_PATH = "/notifications"
PREFERENCES_PATH = "/settings/notifications"

TEMPLATES = (
    "hot_lead",
    "assigned",
    "status_changed",
    "speed_to_lead",
    "speed_to_lead_escalation",
    "meta_reauth",
    "webhook_failures",
    "daily_summary",
    "weekly_report",
    "monthly_report",
    "digest",
)


def _name(params: Mapping[str, Any]) -> str:
    return params.get("name") or _("(no name)")


def subject(template: str, params: Mapping[str, Any]) -> str:
    """The subject line, also the in-app line; call it inside the reader's locale."""
    name = _name(params)
    if template == "hot_lead":
        return _("New lead scoring %(score)s: %(name)s", score=params.get("score", 0), name=name)
    if template == "assigned":
        return _("Lead assigned to you: %(name)s", name=name)
    if template == "status_changed":
        return _("%(name)s is now %(status)s", name=name, status=label(params.get("status") or ""))
    if template == "speed_to_lead":
        return _(
            "Not contacted for %(minutes)s minutes: %(name)s",
            minutes=params.get("minutes", 0),
            name=name,
        )
    if template == "speed_to_lead_escalation":
        return _(
            "Escalation: %(name)s still not contacted after %(minutes)s minutes",
            name=name,
            minutes=params.get("minutes", 0),
        )
    if template == "meta_reauth":
        return _(
            "The Facebook Page %(page)s needs a new access token",
            page=params.get("page") or params.get("page_id") or "",
        )
    if template == "webhook_failures":
        return _("%(count)s lead deliveries failed in the last hour", count=params.get("count", 0))
    if template == "daily_summary":
        return _("Your LeadHub summary for %(date)s", date=params.get("date", ""))
    if template == "weekly_report":
        return _("Weekly lead report: %(period)s", period=params.get("period", ""))
    if template == "monthly_report":
        return _("Monthly lead report: %(period)s", period=params.get("period", ""))
    if template == "digest":
        return _("%(count)s LeadHub alerts in the last minutes", count=params.get("count", 0))
    return _("LeadHub notification")


def link_path(template: str, params: Mapping[str, Any], lead_id: int | None) -> str:
    """Where the message sends its reader."""
    if lead_id is not None:
        return LEAD_PATH.format(lead_id=lead_id)
    if template in ("meta_reauth", "webhook_failures"):
        return META_PATH
    if template == "digest":
        return INBOX_PATH
    return DESK_PATH


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)
    unsubscribe_url: str | None = None


UNSUBSCRIBE_PATH = "/notifications/unsubscribe/{token}"


def unsubscribe_url(config: Mapping[str, Any], token: str) -> str:
    return config["PUBLIC_BASE_URL"].rstrip("/") + UNSUBSCRIBE_PATH.format(token=token)


@contextmanager
def reader_locale(language: str) -> Iterator[str]:
    """gettext, label() and templates in `language`, whatever the request's language is."""
    language = language if language in LANGUAGES else "en"
    remembered = g.get("_language")
    g._language = language  # web.translate (templates' _) remembers the language per request
    try:
        with force_locale(language):
            yield language
    finally:
        if remembered is None:
            g.pop("_language", None)
        else:
            g._language = remembered


def render(
    *,
    template: str,
    language: str,
    params: Mapping[str, Any],
    lead_id: int | None,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    attachments: list[Attachment] | None = None,
) -> Rendered:
    """Subject, plain text and HTML of one message, in the recipient's language."""
    config = config or current_app.config
    base = config["PUBLIC_BASE_URL"].rstrip("/")
    with reader_locale(language) as lang:
        context = {
            "params": params,
            "lang": lang,
            "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
            "base_url": base,
            "link": base + link_path(template, params, lead_id),
            "lead_url": base + LEAD_PATH.format(lead_id=lead_id) if lead_id else None,
            "prefs_url": base + PREFERENCES_PATH,
            "meta_url": base + META_PATH,
            "desk_url": base + DESK_PATH,
            **(extra or {}),
        }
        line = subject(template, params)
        context["subject"] = line
        # Straight from the environment: a page's context processors need a request, a job has none.
        env = current_app.jinja_env
        html = env.get_template(f"notifications/email/{template}.html").render(**context)
        text = env.get_template(f"notifications/email/{template}.txt").render(**context)
    return Rendered(
        subject=" ".join(line.split())[:255],
        text=text,
        html=html,
        attachments=attachments or [],
        unsubscribe_url=(extra or {}).get("unsubscribe_url"),
    )


# Example data for the admin preview of every template (no real person's data).
SAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "hot_lead": {
        "name": "Ayşe <Yılmaz>",
        "score": 72,
        "treatment": "hair_transplant",
        "distributor": "Istanbul Smile",
        "phone": "+905321234567",
    },
    "assigned": {"name": "John Smith", "treatment": "dental_implants", "actor": "Mert Manager"},
    "status_changed": {"name": "محمد علي", "status": "contacted", "actor": "Ayse Agent"},
    "speed_to_lead": {"name": "John Smith", "minutes": 15, "treatment": "veneers"},
    "speed_to_lead_escalation": {"name": "John Smith", "minutes": 30, "assignee": "Ayse Agent"},
    "meta_reauth": {"page": "Istanbul Smile Clinic", "page_id": "104857291038475"},
    "webhook_failures": {"count": 12},
    "daily_summary": {
        "date": "2026-11-26",
        "new_leads": 42,
        "hot_waiting": 5,
        "overdue": 3,
        "converted_yesterday": 2,
        "held": {"hot_lead": 4, "status_changed": 7},
    },
    "weekly_report": {
        "period": "2026-11-16 – 2026-11-22",
        "new_leads": 310,
        "contacted": 250,
        "converted": 31,
        "lost": 40,
        "average_score": 47,
        "by_status": {"new": 20, "assigned": 30, "contacted": 180, "converted": 31, "lost": 40},
    },
    "monthly_report": {
        "period": "2026-10",
        "new_leads": 1290,
        "contacted": 1100,
        "converted": 140,
        "lost": 200,
        "average_score": 45,
        "by_status": {"new": 50, "contacted": 800, "converted": 140, "lost": 200},
    },
    "digest": {"count": 25},
}
SAMPLE_DIGEST_ITEMS = [
    {"subject": "New lead scoring 72: Ayşe Yılmaz", "link": "/leads/1"},
    {"subject": "Lead assigned to you: John Smith", "link": "/leads/2"},
]


def preview(template: str, language: str) -> Rendered:
    """A template rendered with example data, for the admin preview page."""
    params = SAMPLE_PARAMS[template]
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    extra = (
        {"items": [{**i, "link": base + i["link"]} for i in SAMPLE_DIGEST_ITEMS]}
        if template == "digest"
        else {}
    )
    extra["unsubscribe_url"] = base + UNSUBSCRIBE_PATH.format(token="example")  # noqa: S106
    lead_id = 1 if template not in ("meta_reauth", "webhook_failures", "digest") else None
    if template in ("daily_summary", "weekly_report", "monthly_report"):
        lead_id = None
    return render(template=template, language=language, params=params, lead_id=lead_id, extra=extra)
