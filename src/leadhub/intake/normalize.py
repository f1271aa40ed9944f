"""Turn what people type into clean values: E.164 phones, valid emails, tidy names."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadhub.errors import N_, InvalidInput

DEFAULT_REGION = "TR"
_SPACES = re.compile(r"\s+")


def phone_e164(raw: str | None, *, region: str | None = None) -> str | None:
    """A phone number in E.164 form, read with `region` when it has no country code."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw.strip(), (region or DEFAULT_REGION).upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(N_("%(value)s is not a phone number."), value=raw) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(N_("%(value)s is not a possible phone number."), value=raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(phone: str | None) -> str | None:
    """The two-letter country of an E.164 number, if phonenumbers knows it."""
    if not phone:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or None
    except phonenumbers.NumberParseException:
        return None


def email_address(raw: str | None) -> str | None:
    """A syntactically valid email, lower-cased; no network look-ups."""
    if raw is None or not raw.strip():
        return None
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(N_("%(value)s is not an email address."), value=raw) from exc
    return result.normalized.lower()


def person_name(raw: str | None) -> str | None:
    if raw is None:
        return None
    cleaned = _SPACES.sub(" ", unicodedata.normalize("NFC", raw)).strip()
    return cleaned[:255] or None


def language(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    code = raw.strip().replace("-", "_").split("_")[0].lower()
    if not code.isalpha() or len(code) not in (2, 3):
        raise InvalidInput(N_("%(value)s is not a language code."), value=raw)
    return code
