"""The DomainError family that services raise and handlers turn into HTTP answers."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the usual name of gettext's no-op marker
    """Mark a message for the translation catalogs; pages translate it when they show it."""
    return message


class DomainError(Exception):
    """Something a user or client can be told about, with a stable code.

    `message` is an English template with %(name)s placeholders filled from `params`: the API
    answers in English, pages translate the template and fill in the same values.
    """

    status = 400
    code = "error"
    default_message = N_("The request could not be completed.")

    def __init__(self, message: str | None = None, *, details: Any = None, **params: Any) -> None:
        self.template = message or self.default_message
        self.params = params
        self.message = self.template % params if params else self.template
        self.details = details
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"
    default_message = N_("Some of the input is not valid.")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = N_("Sign in or send a valid API key.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = N_("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = N_("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = N_("Someone else changed this in the meantime.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = N_("Too many attempts. Wait a while and try again.")
