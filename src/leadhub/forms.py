"""HTML forms become the same pydantic schemas the JSON API uses."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from leadhub.errors import N_, DomainError, InvalidInput
from leadhub.leads.schemas import validation_details

M = TypeVar("M", bound=BaseModel)


def parse(
    model: type[M],
    form: MultiDict[str, str],
    *,
    lists: tuple[str, ...] = (),
    checkboxes: tuple[str, ...] = (),
) -> M:
    """Validate a submitted form with `model`; empty fields count as not given."""
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        if key in lists:
            data[key] = [v for v in form.getlist(key) if v.strip()]
        elif form.get(key, "").strip() != "":
            data[key] = form[key].strip()
    for key in checkboxes:
        data[key] = key in form
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(N_("Please correct the form."), details=validation_details(exc)) from exc


def translated(exc: DomainError) -> str:
    """A service's message in the reader's language, with its values filled in."""
    return _(exc.template, **exc.params)


def flash_error(exc: DomainError) -> None:
    """Show a service's refusal on the next page, with the fields it names."""
    flash(translated(exc), "danger")
    if isinstance(exc.details, list):
        for item in exc.details:
            field = item.get("field")
            flash(f"{field}: {item['message']}" if field else item["message"], "danger")
