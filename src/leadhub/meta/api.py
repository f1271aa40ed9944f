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
from leadhub.meta import inbox, jobs, service
from leadhub.queue import enqueue_soon

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
    body = request.get_data(cache=True)
    settings = service.app_settings(db.session, current_app.config)
    if not settings.app_secret:
        log.error("a webhook arrived but the Meta app secret is not set; Meta will retry")
        return service_unavailable()
    if not service.signature_ok(
        body, request.headers.get("X-Hub-Signature-256"), settings.app_secret
    ):
        log.warning("webhook with a bad or missing signature refused")
        raise Forbidden(N_("The signature does not match."))
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise InvalidInput(N_("The body is not JSON.")) from exc
    changes = service.leadgen_changes(parsed)
    queued = inbox.store(changes)
    for event_id in queued:
        enqueue_soon(jobs.process_event, event_id)
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
