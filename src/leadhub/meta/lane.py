"""The webhook's fast lane: a signed delivery stored and answered in front of Flask's routing.

Meta's deliveries are LeadHub's busiest requests and its plainest: no session, no user, no form,
no page, only a body and its signature. Through Flask each one paid for all that anyway (the
request context, URL matching, the API key, CSRF and limiter hooks, the session, the metrics and
header hooks), as much CPU again as a bare endpoint's whole request. The lane, a WSGI middleware
in front of the app, answers a delivery it can accept itself, inside the app context: the same
checks, inbox and queue as the route (meta/api.py), the same headers and request id.

Everything else goes on to Flask as it came: another path, a body of no or too great a length,
and any delivery the lane would refuse or could not store, with the body it read put back. The
route then answers with the app's error handling (403, 400, 413, 503, 500) and logs why; a
second try at storing is harmless, the inbox being unique on the leadgen id.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, has_app_context

from leadhub import context, web
from leadhub.errors import DomainError
from leadhub.meta import api
from leadhub.metrics import webhooks_received
from leadhub.ops.limits import WEBHOOK_PATH

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastLane:
    """Wraps `app.wsgi_app`; POSTs to the webhook's path are tried here first."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.limit = int(app.config["MAX_CONTENT_LENGTH"])
        self.headers = [
            ("Content-Type", "application/json"),
            ("Content-Security-Policy", web.CSP),
            *web.SECURITY_HEADERS,
            ("Cache-Control", "no-store"),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != WEBHOOK_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if not length.isdigit() or not 0 < int(length) <= self.limit:
            return self.wsgi_app(environ, start_response)  # the route answers 400 or 413
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)  # for the route, should it answer instead
        request_id = web.request_id_of(environ.get("HTTP_X_REQUEST_ID", ""))
        environ["HTTP_X_REQUEST_ID"] = request_id  # the route's log lines share it
        answer = self._accept(body, environ, request_id)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        webhooks_received.inc()
        payload = json.dumps(answer).encode()
        start_response(
            "200 OK",
            [*self.headers, ("Content-Length", str(len(payload))), ("X-Request-ID", request_id)],
        )
        return [payload]

    def _app_context(self) -> Any:
        """The app's context, pushed for this delivery unless it is active already (as Flask
        does for a request: popping it would end the session of whoever pushed it)."""
        if has_app_context() and current_app._get_current_object() is self.app:  # type: ignore[attr-defined]
            return contextlib.nullcontext()
        return self.app.app_context()

    def _accept(self, body: bytes, environ: dict[str, Any], request_id: str) -> Any:
        """The answer to a delivery stored and queued; None for the route to answer."""
        ip = environ.get("REMOTE_ADDR")
        token = context.current.set(context.RequestContext(ip=ip, request_id=request_id))
        try:
            with self._app_context():
                try:
                    changes = api.signed_changes(body, environ.get("HTTP_X_HUB_SIGNATURE_256"))
                except (DomainError, api.NotConfigured):
                    return None  # refused: the route says so, in the app's words
                try:
                    return api.keep(changes)
                except Exception:
                    log.warning("a delivery was not stored; the route tries again", exc_info=True)
                    return None
        finally:
            context.current.reset(token)
