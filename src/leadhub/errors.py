"""The DomainError family that services raise and handlers turn into HTTP answers."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Something a user or client can be told about, with a stable code."""

    status = 400
    code = "error"
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"
    default_message = "Some of the input is not valid."


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = "Sign in or send a valid API key."


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = "Someone else changed this in the meantime."


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = "Too many attempts. Wait a while and try again."
