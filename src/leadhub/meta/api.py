"""Meta's webhook: the handshake, and deliveries stored in the inbox within milliseconds."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request

from leadhub.auth.permissions import public
from leadhub.errors import N_, Forbidden, InvalidInput
from leadhub.extensions import db
from leadhub.meta import inbox, service

log = logging.getLogger(__name__)

bp = APIBlueprint("meta_api", __name__, tag="Meta")


@bp.get("/meta/webhook")
@public
@bp.doc(summary="Meta's subscription handshake: echoes hub.challenge for the right verify token")
def handshake() -> Any:
    settings = service.app_settings(db.session, current_app.config)
    token = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") == "subscribe"
        and settings.verify_token
        and hmac.compare_digest(token.encode(), settings.verify_token.encode())
    ):
        return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")
    raise Forbidden(N_("The verify token does not match."))


@bp.post("/meta/webhook")
@public
@bp.doc(summary="Lead deliveries from Meta, signed with X-Hub-Signature-256")
def deliver() -> Any:
    # A delivery that can be accepted is answered by the fast lane (meta/lane.py) in front of
    # Flask; this route answers the others, and any the lane could not store.
    try:
        changes = signed_changes(
            request.get_data(cache=True), request.headers.get("X-Hub-Signature-256")
        )
    except NotConfigured:
        log.error("a webhook arrived but the Meta app secret is not set; Meta will retry")
        return service_unavailable()
    except Forbidden:
        log.warning("webhook with a bad or missing signature refused")
        raise
    return keep(changes)


class NotConfigured(Exception):
    """No Meta app secret yet: no delivery can be checked."""


def signed_changes(body: bytes, signature: str | None) -> list[dict[str, Any]]:
    """A delivery's leadgen changes, once its signature is checked; logs nothing, so a caller
    that only tries (the fast lane) can hand a refusal to the route, which says why."""
    settings = service.app_settings(db.session, current_app.config)
    if not settings.app_secret:
        raise NotConfigured
    if not service.signature_ok(body, signature, settings.app_secret):
        raise Forbidden(N_("The signature does not match."))
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise InvalidInput(N_("The body is not JSON.")) from exc
    return service.leadgen_changes(parsed)


def keep(changes: list[dict[str, Any]]) -> dict[str, int]:
    """Store a delivery's changes durably and queue a job for each new one; Meta's answer."""
    queued = inbox.store(changes)
    return {"received": len(changes), "queued": len(queued)}


def service_unavailable() -> Any:
    body = {
        "error": {
            "code": "not_configured",
            "message": "The Meta app secret is not set; try again later.",
            "details": None,
        }
    }
    return body, 503
