"""Request plumbing shared by pages and the API: request ids, security headers, errors, locale."""

from __future__ import annotations

import functools
import logging
import re
import uuid
from datetime import datetime
from typing import Any

from babel import Locale, dates
from flask import Flask, Response, g, jsonify, render_template, request, session
from flask_babel import get_locale, get_timezone, get_translations
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from leadhub import context
from leadhub.auth.models import LANGUAGES
from leadhub.errors import DomainError

log = logging.getLogger("leadhub.web")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
RTL_LANGUAGES = frozenset({"ar"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
# on every answer, with the CSP above (unless a page sets its own), X-Request-ID and no-store
SECURITY_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def begin_request() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = request_id_of(supplied)
    context.current.set(context.RequestContext(ip=request.remote_addr, request_id=g.request_id))


def request_id_of(supplied: str) -> str:
    """The client's X-Request-ID when it is a sane one, else a new id."""
    return supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex


def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    for name, value in SECURITY_HEADERS:
        response.headers[name] = value
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Any:
    """One shape for every error: JSON under /api, a friendly page everywhere else."""
    if status >= 500:
        log.exception("request %s failed", g.get("request_id"))
    if wants_json():
        body = {
            "error": {
                "code": code,
                "message": message,
                "details": details,
                "request_id": g.get("request_id"),
            }
        }
        response = jsonify(body)
    else:
        response = Response(
            render_template(
                "errors/error.html",
                status=status,
                message=message,
                details=details,
                request_id=g.get("request_id"),
            ),
            mimetype="text/html",
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _friendly(status: int) -> str:
    return {
        400: _("The request was not understood."),
        401: _("Sign in to continue."),
        403: _("You are not allowed to do this."),
        404: _("This page does not exist, or you may not see it."),
        405: _("This action is not available here."),
        413: _("The request is too large (the limit is 1 MB)."),
        429: _("Too many attempts. Wait a while and try again."),
        500: _("Something went wrong on our side. It has been logged."),
    }.get(status, _("The request could not be completed."))


def _validation_details(detail: Any) -> tuple[str, list[dict[str, str]]]:
    """APIFlask's {location: {field: [messages]}} as (location, [{field, message}])."""
    location = next(iter(detail), "json") if isinstance(detail, dict) and detail else "json"
    fields = detail.get(location, {}) if isinstance(detail, dict) else {}
    items = [
        {"field": field, "message": message}
        for field, messages in (fields.items() if isinstance(fields, dict) else [])
        for message in (messages if isinstance(messages, list) else [messages])
    ]
    return location, items


def register_errors(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        message = exc.message if wants_json() else _(exc.template, **exc.params)
        return error_response(exc.status, exc.code, message, exc.details)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return error_response(
            400,
            "csrf_failed",
            _("The form expired or was not sent from LeadHub. Reload and try again."),
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> Any:
        if exc.response is not None:  # a page of its own, e.g. the sign-in form with a notice
            return exc.response
        headers = {k: v for k, v in exc.get_headers() if k == "Retry-After"}
        return error_response(429, "rate_limited", _friendly(429), None, headers or None)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return http_error(exc.code or 500, exc.headers if hasattr(exc, "headers") else None)
        return error_response(500, "internal_error", _friendly(500))

    def http_error(status: int, headers: Any = None, detail: Any = None) -> Any:
        if status == 422 or (status == 400 and detail):
            location, details = _validation_details(detail)
            if location == "query":
                return error_response(400, "invalid_filter", "Some filters are not valid.", details)
            return error_response(422, "invalid_input", "The request body is not valid.", details)
        retry = (
            {"Retry-After": headers["Retry-After"]}
            if headers and "Retry-After" in headers
            else None
        )
        message = _friendly(status)
        return error_response(status, ERROR_CODES.get(status, "error"), message, None, retry)

    app.error_processor(lambda error: http_error(error.status_code, error.headers, error.detail))


def select_locale() -> str:
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    """The request's language, looked up once per request."""
    language = g.get("_language")
    if language is None:
        language = g._language = str(get_locale() or "en")
    return language


@functools.lru_cache(maxsize=8192)
def _catalog_text(language: str, message: str) -> str:
    return get_translations().ugettext(message)


def translate(message: str) -> str:
    """gettext, remembered per language: a page asks for the same words many times."""
    return _catalog_text(current_language(), message)


def install_fast_gettext(app: Flask) -> None:
    """Templates' _() through translate(); the rest as Flask-Babel installed it."""
    app.jinja_env.install_gettext_callables(
        gettext=translate,
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )


@functools.lru_cache(maxsize=64)
def _datetime_pattern(locale: str, fmt: str) -> tuple[Any, Locale]:
    """The locale's date-time pattern, parsed once: formatting then costs a quarter of Babel's."""
    parsed = Locale.parse(locale)
    if fmt not in ("short", "medium", "long", "full"):
        return dates.parse_pattern(fmt), parsed
    combined = dates.get_datetime_format(fmt, locale=parsed).replace("'", "")
    combined = combined.replace("{0}", dates.get_time_format(fmt, locale=parsed).pattern)
    combined = combined.replace("{1}", dates.get_date_format(fmt, locale=parsed).pattern)
    return dates.parse_pattern(combined), parsed


def localtime(value: datetime | None, fmt: str = "short") -> str:
    """A UTC time shown in the reader's time zone and language (a Jinja filter)."""
    if value is None:
        return ""
    pattern, locale = _datetime_pattern(current_language(), fmt)
    return pattern.apply(value.astimezone(get_timezone()), locale)


def select_timezone() -> str:
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return "UTC"
