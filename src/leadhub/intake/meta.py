"""Read a lead in Meta's format (GET /{lead-id}) into LeadHub's fields, losing nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadhub.errors import N_, InvalidInput
from leadhub.intake import normalize
from leadhub.leads.models import TREATMENTS, Platform

# Meta's standard question keys and the lead field each fills.
STANDARD_FIELDS = {
    "full_name": "full_name",
    "email": "email",
    "work_email": "email",
    "phone_number": "phone",
    "work_phone_number": "phone",
    "city": "city",
    "country": "country",
    "treatment": "treatment",
    "which_treatment": "treatment",
    "language": "language",
}
MAPPABLE = ("full_name", "email", "phone", "city", "country", "language", "treatment")
PLATFORMS = {
    "fb": Platform.FACEBOOK,
    "facebook": Platform.FACEBOOK,
    "ig": Platform.INSTAGRAM,
    "instagram": Platform.INSTAGRAM,
}
META_TIME = "%Y-%m-%dT%H:%M:%S%z"


@dataclass
class ParsedLead:
    meta_lead_id: str
    created_time: datetime
    fields: dict[str, Any]  # Lead attributes
    answers: dict[str, Any]
    consent: dict[str, bool]
    warnings: dict[str, Any] = field(default_factory=dict)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _id(value: Any) -> str | None:
    """Meta writes ids as strings or bare numbers; LeadHub keeps strings."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | str) and str(value).strip().isdigit():
        return str(value).strip()
    return None


def meta_time(value: Any) -> datetime | None:
    """Meta's `2026-01-01T00:00:00+0000`, or Unix seconds, as an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        for parse in (lambda v: datetime.strptime(v, META_TIME), datetime.fromisoformat):
            try:
                parsed = parse(value.strip())
            except ValueError:
                continue
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def region_of_locale(locale: str | None) -> str | None:
    """`tr_TR` -> `TR`."""
    if locale and "_" in locale:
        region = locale.split("_")[-1].upper()
        return region if len(region) == 2 and region.isalpha() else None
    return None


def _answers(field_data: Any) -> dict[str, Any]:
    if not isinstance(field_data, list):
        raise InvalidInput(N_("field_data is not a list."))
    answers: dict[str, Any] = {}
    for item in field_data:
        if not isinstance(item, dict) or not _text(item.get("name")):
            continue
        values = item.get("values")
        values = [str(v) for v in values] if isinstance(values, list) else [str(values or "")]
        answers[str(item["name"])] = values[0] if len(values) == 1 else values
    return answers


def _consent(responses: Any) -> dict[str, bool]:
    if not isinstance(responses, list):
        return {}
    return {
        str(item["checkbox_key"]): str(item.get("is_checked", "")) == "1"
        for item in responses
        if isinstance(item, dict) and item.get("checkbox_key")
    }


def parse(
    payload: Any,
    *,
    mapping: dict[str, str] | None = None,
    locale: str | None = None,
    default_region: str | None = None,
    form_treatment: str | None = None,
) -> ParsedLead:
    """Map Meta's lead through the form's mapping; unreadable values become warnings."""
    if not isinstance(payload, dict):
        raise InvalidInput(N_("The lead is not a JSON object."))
    meta_lead_id = _id(payload.get("id"))
    if meta_lead_id is None:
        raise InvalidInput(N_("The lead has no id."))
    answers = _answers(payload.get("field_data", []))
    warnings: dict[str, Any] = {}
    raw: dict[str, str] = {}
    keys = {**STANDARD_FIELDS, **(mapping or {})}
    for key, value in answers.items():
        target = keys.get(key)
        if target in MAPPABLE and target not in raw:
            raw[target] = value if isinstance(value, str) else " ".join(value)
    if "full_name" not in raw and ("first_name" in answers or "last_name" in answers):
        raw["full_name"] = f"{answers.get('first_name', '')} {answers.get('last_name', '')}"
    country = (raw.get("country") or "").strip().upper()
    region = country if len(country) == 2 and country.isalpha() else None
    region = region or region_of_locale(locale) or default_region
    fields: dict[str, Any] = {"full_name": normalize.person_name(raw.get("full_name"))}
    try:
        fields["phone"] = normalize.phone_e164(raw.get("phone"), region=region)
    except InvalidInput:
        fields["phone"], warnings["phone"] = None, raw.get("phone")
    try:
        fields["email"] = normalize.email_address(raw.get("email"))
    except InvalidInput:
        fields["email"], warnings["email"] = None, raw.get("email")
    fields["city"] = normalize.person_name(raw.get("city"))
    fields["country"] = region or normalize.region_of(fields["phone"])
    try:
        fields["language"] = normalize.language(raw.get("language")) or (
            locale.split("_")[0].lower() if locale else None
        )
    except InvalidInput:
        fields["language"], warnings["language"] = None, raw.get("language")
    treatment = (raw.get("treatment") or "").strip().lower().replace(" ", "_")
    fields["treatment"] = form_treatment or (treatment if treatment in TREATMENTS else None)
    created = meta_time(payload.get("created_time"))
    if created is None:
        warnings["created_time"] = payload.get("created_time")
        created = datetime.now(UTC)
    fields.update(
        page_id=_id(payload.get("page_id")),
        form_id=_id(payload.get("form_id")),
        ad_id=_id(payload.get("ad_id")),
        ad_name=_text(payload.get("ad_name")),
        adset_id=_id(payload.get("adset_id")),
        adset_name=_text(payload.get("adset_name")),
        campaign_id=_id(payload.get("campaign_id")),
        campaign_name=_text(payload.get("campaign_name")),
        platform=PLATFORMS.get(str(payload.get("platform", "")).lower(), Platform.OTHER),
        is_organic=bool(payload.get("is_organic")),
    )
    for name in ("ad_name", "adset_name", "campaign_name"):
        if fields[name]:
            fields[name] = fields[name][:255]
    return ParsedLead(
        meta_lead_id=meta_lead_id,
        created_time=created,
        fields=fields,
        answers=answers,
        consent=_consent(payload.get("custom_disclaimer_responses")),
        warnings=warnings,
    )
