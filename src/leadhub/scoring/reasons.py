"""Why a factor gave its points, in words: English for the API, the reader's language on pages."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta

from leadhub.errors import N_
from leadhub.labels import LABELS

FACTOR_NAMES = {
    "contact": N_("Contact information"),
    "freshness": N_("Freshness"),
    "service": N_("Service"),
    "engagement": N_("Engagement"),
    "age_fit": N_("Age fit"),
}

TEMPLATES = {
    "contact": N_("%(phone)s, %(email)s, %(name)s"),
    "freshness.within": N_("Less than %(age)s old when scored"),
    "freshness.older": N_("Older than %(age)s when scored"),
    "service.value": N_("%(treatment)s: worth %(value)s of 100"),
    "service.unlisted": N_("%(treatment)s is not in the table: worth %(value)s of 100, as other"),
    "service.unknown": N_("No treatment given: worth %(value)s of 100, as other"),
    "engagement.none": N_("No answered call, reply or meeting yet"),
    "engagement.some": N_(
        "Answered calls: %(answered_calls)s, replies: %(replies)s, meetings: %(meetings)s"
    ),
    "age.unknown": N_("Age not given: a neutral share"),
    "age.no_range": N_("Age %(age)s; no target age for this treatment: a neutral share"),
    "age.in_range": N_("Age %(age)s is within the target %(min)s–%(max)s"),
    "age.outside": N_("Age %(age)s is outside the target %(min)s–%(max)s"),
}

CONTACT_WORDS = {
    ("phone", True): N_("valid phone"),
    ("phone", False): N_("no valid phone"),
    ("email", True): N_("valid email"),
    ("email", False): N_("no valid email"),
    ("name", "full"): N_("full name"),
    ("name", "first_only"): N_("first name only"),
    ("name", "none"): N_("no name"),
}

Translate = Callable[[str], str]


def _english(message: str) -> str:
    return message


def _english_label(value: Any) -> str:
    return LABELS.get(str(value), str(value).replace("_", " "))


def explain(
    entry: Mapping[str, Any],
    *,
    translate: Translate = _english,
    label: Callable[[Any], str] = _english_label,
    locale: str = "en",
) -> str:
    """One stored factor entry ({points, max, reason, params}) as a sentence."""
    code = str(entry.get("reason", ""))
    params = dict(entry.get("params") or {})
    template = TEMPLATES.get(code)
    if template is None:
        return code
    if code == "contact":
        params = {
            key: translate(CONTACT_WORDS.get((key, params.get(key)), str(params.get(key))))
            for key in ("phone", "email", "name")
        }
    elif code.startswith("freshness."):
        hours = timedelta(hours=int(params.get("hours", 0)))
        params["age"] = format_timedelta(hours, locale=locale, threshold=1.0)
    elif "treatment" in params:
        params["treatment"] = label(params["treatment"])
    try:
        return translate(template) % params
    except (KeyError, ValueError, TypeError):
        return translate(template)


def factor_name(factor: str, translate: Translate = _english) -> str:
    name = FACTOR_NAMES.get(factor)
    return translate(name) if name else factor
