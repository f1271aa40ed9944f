"""A person's file as a PDF (leadhub.pdf: Unicode font, Arabic shaping) in the reader's language."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadhub.pdf import Document

FIELD_LABELS = {
    "id": "#",
    "status": _l("Status"),
    "full_name": _l("Name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "city": _l("City"),
    "country": _l("Country"),
    "treatment": _l("Treatment"),
    "created_time": _l("Created"),
    "distributor": _l("Distributor"),
    "meta_lead_id": _l("Meta lead id"),
}


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(data: dict[str, Any]) -> bytes:
    """Every lead of the person: its fields, answers, consent, timeline and emails sent."""
    person = data["person"]
    pdf = Document(
        title=_("Personal data held by LeadHub"),
        subtitle=_(
            "%(who)s · generated %(when)s",
            who=" / ".join(v for v in (person["phone"], person["email"]) if v),
            when=data["generated_at"],
        ),
    )
    if not data["leads"]:
        pdf.paragraph(_("No lead matches this person."))
    for lead in data["leads"]:
        pdf.heading(_("Lead #%(id)s", id=lead["id"]))
        pdf.table_rows(
            [_("Field"), _("Value")],
            [[str(label), _text(lead.get(key))] for key, label in FIELD_LABELS.items()],
        )
        pdf.heading(_("Form answers"))
        answers = [[str(k), _text(v)] for k, v in (lead["answers"] or {}).items()]
        if answers:
            pdf.table_rows([_("Question"), _("Answer")], answers)
        else:
            pdf.paragraph(_("No answers."))
        pdf.heading(_("Consent"))
        given = lead["consent"]
        rows = [[str(k), _("yes") if v else _("no")] for k, v in given["form_answers"].items()]
        rows += [
            [
                p["purpose"],
                (_("yes") if p["granted"] else _("no")) + f" ({p['source']}, {p['given_at']})",
            ]
            for p in given["purposes"]
        ]
        if given["privacy_policy_url"]:
            pdf.paragraph(_("Privacy policy: %(url)s", url=given["privacy_policy_url"]))
        if rows:
            pdf.table_rows([_("Consent"), _("Given")], rows)
        pdf.heading(_("Timeline"))
        timeline = [
            [
                item["at"] or "",
                item["kind"],
                item["by"] or "",
                _text(item["text"] or item["changes"]),
            ]
            for item in lead["timeline"]
        ]
        if timeline:
            pdf.table_rows([_("When"), _("What"), _("Who"), _("Details")], timeline)
        else:
            pdf.paragraph(_("Nothing yet."))
        pdf.heading(_("Emails sent"))
        emails = [
            [_text(m.get("created_at")), _text(m.get("to_address")), _text(m.get("subject"))]
            for m in lead["emails_sent"]
        ]
        if emails:
            pdf.table_rows([_("When"), _("To"), _("Subject")], emails)
        else:
            pdf.paragraph(_("None."))
    return pdf.to_bytes()
