"""Words shown for stored values (statuses, roles, kinds), translated at render time."""

from __future__ import annotations

from typing import Any


def _l(message: str) -> str:
    """Marks a label for the catalogs (pybabel extract -k _l); label() translates it."""
    return message


LABELS: dict[str, str] = {
    # statuses
    "new": _l("New"),
    "assigned": _l("Assigned"),
    "contacted": _l("Contacted"),
    "converted": _l("Converted"),
    "lost": _l("Lost"),
    "invalid": _l("Invalid"),
    # roles
    "superadmin": _l("Superadmin"),
    "admin": _l("Admin"),
    "manager": _l("Manager"),
    "agent": _l("Agent"),
    "viewer": _l("Viewer"),
    # sources and platforms
    "meta": _l("Meta Lead Ads"),
    "manual": _l("Entered by hand"),
    "import": _l("Imported"),
    "facebook": _l("Facebook"),
    "instagram": _l("Instagram"),
    "other": _l("Other"),
    # interactions and timeline
    "call": _l("Call"),
    "email": _l("Email"),
    "whatsapp": _l("WhatsApp"),
    "meeting": _l("Meeting"),
    "note": _l("Note"),
    "status_change": _l("Status change"),
    "assignment": _l("Assignment"),
    "auto_assignment": _l("Automatic assignment"),
    # assignment rules and why they chose (leadhub.assignment.rules)
    "round_robin": _l("Round robin"),
    "least_open": _l("Fewest open leads"),
    "fallback": _l("Fallback"),
    "assign_pool": _l("among all active agents"),
    "assign_language": _l("speaks the lead's language"),
    "assign_treatment": _l("handles the lead's treatment"),
    "assign_language_treatment": _l("speaks the lead's language and handles its treatment"),
    "assign_no_match": _l("nobody matched the filters"),
    "assign_outside_hours": _l("outside working hours"),
    "assign_no_agents": _l("no active agents"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "restore": _l("Restored"),
    # outcomes
    "answered": _l("Answered"),
    "no_answer": _l("No answer"),
    "busy": _l("Busy"),
    "wrong_number": _l("Wrong number"),
    "sent": _l("Sent"),
    "replied": _l("Replied"),
    # treatments
    "hair_transplant": _l("Hair transplant"),
    "dental_implants": _l("Dental implants"),
    "teeth_whitening": _l("Teeth whitening"),
    "veneers": _l("Veneers"),
    "rhinoplasty": _l("Rhinoplasty"),
    "liposuction": _l("Liposuction"),
    "breast_aesthetics": _l("Breast aesthetics"),
    "bariatric_surgery": _l("Bariatric surgery"),
    "eye_surgery": _l("Eye surgery"),
    # Page connections and deliveries
    "active": _l("Active"),
    "needs_reauth": _l("Needs a new token"),
    "disabled": _l("Disabled"),
    "pending": _l("Waiting"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "orphan": _l("Page not connected"),
    # score levels
    "hot": _l("Hot"),
    "warm": _l("Warm"),
    "medium": _l("Medium"),
    "cool": _l("Cool"),
    "cold": _l("Cold"),
}


def label(value: Any) -> str:
    """The translated word for an enum or code; unknown values are shown as they are."""
    key = getattr(value, "value", value)
    if key is None:
        return ""
    from leadhub.web import translate

    found = LABELS.get(str(key))
    return translate(found) if found is not None else str(key).replace("_", " ")
