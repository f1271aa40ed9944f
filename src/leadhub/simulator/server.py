"""The Graph API paths LeadHub calls, served from a World as graph.facebook.com would."""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import operator
import re
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, request

from leadhub.simulator import graph
from leadhub.simulator.faults import Faults
from leadhub.simulator.graph import GraphError
from leadhub.simulator.world import LEAD_FIELDS, LeadForm, Token, World, graph_time

SCOPES = (
    "ads_management",
    "leads_retrieval",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
    "pages_manage_ads",
    "public_profile",
)
LEAD_DEFAULT_FIELDS = ("id", "created_time", "field_data")
FORM_FIELDS = (
    "id",
    "name",
    "status",
    "locale",
    "created_time",
    "leads_count",
    "organic_leads_count",
    "expired_leads_count",
    "page",
    "page_id",
    "questions",
    "privacy_policy_url",
    "follow_up_action_url",
)
FORM_DEFAULT_FIELDS = ("id", "name", "status", "locale")
PAGE_FIELDS = ("id", "name", "category", "link")
SUBSCRIBABLE_FIELDS = {"leadgen", "feed", "messages", "mention", "ratings"}
_FILTER_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "GREATER_THAN": operator.gt,
    "GREATER_THAN_OR_EQUAL": operator.ge,
    "LESS_THAN": operator.lt,
}
_VERSION = re.compile(r"^v\d+\.\d+$")


def create_app(world: World, *, version: str = "v27.0", faults: Faults | None = None) -> Flask:
    """A Flask app that answers like graph.facebook.com/{version} for the given world."""
    app = Flask("leadhub.simulator")
    faults = faults or Faults(world)
    if faults.world is None:
        faults.world = world
    meter = graph.UsageMeter(world.clock)
    app.extensions["meta_simulator"] = {"world": world, "faults": faults, "version": version}
    prefix = f"/{version}"

    @app.errorhandler(GraphError)
    def graph_error(error: GraphError) -> Response:
        return error.response()

    @app.errorhandler(404)
    def no_route(_: Exception) -> Response:
        first = request.path.strip("/").split("/")[0]
        if _VERSION.match(first) and first != version:
            return graph.deprecated_version(version).response()
        return graph.unknown_path(request.path).response()

    @app.errorhandler(405)
    def bad_method(_: Exception) -> Response:
        return graph.unsupported(request.method, request.path.rsplit("/", 1)[-1]).response()

    @app.before_request
    def misbehave() -> Response | None:
        g.page_id, g.usage_kind, g.throttled = _owner_page(world, request.path), "leadgen", None
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        fault = faults.take()
        if fault is None:
            return None
        if fault.kind == "timeout":
            time.sleep(fault.seconds)
            return None
        if fault.kind == "rate_limit":
            g.throttled = fault.regain_minutes
            error = graph.rate_limited()
            error.status = fault.status
            return error.response()
        return graph.server_error(fault.status).response()

    @app.after_request
    def usage_headers(response: Response) -> Response:
        page_id = g.get("page_id")
        leads = sum(world.leads_count(f.id) for f in world.forms(page_id)) if page_id else 0
        headers = meter.headers(
            page_id, g.get("usage_kind", "leadgen"), leads=leads, throttled=g.get("throttled")
        )
        response.headers.update(headers)
        return response

    def authenticate() -> Token:
        """The caller's token, checked like Meta: known, unexpired, with a matching proof."""
        value = request.values.get("access_token") or _bearer(request.headers)
        if not value:
            raise graph.missing_token()
        if world.app_secret and value == world.app_token:
            return Token(value, "APP", None, issued_at=0)
        token = world.token(value)
        if token is None:
            raise graph.invalid_token()
        if token.expired:
            raise graph.expired_token(token.expires_at, world.clock())
        if world.app_secret:
            proof = request.values.get("appsecret_proof")
            if not proof:
                raise graph.proof_missing()
            key = world.app_secret.encode()
            expected = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof.lower(), expected):
                raise graph.proof_invalid()
        return token

    def require_page(token: Token, page_id: str, *, usage: str = "leadgen") -> None:
        g.page_id, g.usage_kind = page_id, usage
        if token.kind == "APP":
            raise graph.page_token_required()
        if token.page_id != page_id:
            raise graph.permission_denied()

    @app.get(f"{prefix}/debug_token")
    def debug_token() -> Response:
        authenticate()
        g.usage_kind = "pages"
        input_token = request.args.get("input_token")
        if not input_token:
            raise graph.invalid_parameter("The parameter input_token is required")
        return graph.json_response({"data": _describe(world, input_token)})

    @app.route(f"{prefix}/<object_id>", methods=["GET", "POST", "DELETE"])
    def node(object_id: str) -> Response:
        token = authenticate()
        if object_id == "me" and token.page_id:
            object_id = token.page_id
        if request.method != "GET":
            raise graph.unsupported(request.method, object_id)
        if lead := world.lead(object_id):
            require_page(token, lead.page_id)
            fields = graph.parse_fields(request.args.get("fields"), LEAD_FIELDS, "Lead")
            return graph.json_response(lead.graph(fields or LEAD_DEFAULT_FIELDS))
        if form := world.form(object_id):
            require_page(token, form.page_id)
            fields = graph.parse_fields(request.args.get("fields"), FORM_FIELDS, "LeadgenForm")
            return graph.json_response(_form_graph(world, form, fields or FORM_DEFAULT_FIELDS))
        if page := world.page(object_id):
            g.page_id, g.usage_kind = page.id, "pages"
            if token.kind != "APP" and token.page_id != page.id:
                raise graph.permission_denied()
            fields = graph.parse_fields(request.args.get("fields"), PAGE_FIELDS, "Page")
            full = {
                "id": page.id,
                "name": page.name,
                "category": "Medical & health",
                "link": f"https://www.facebook.com/{page.id}",
            }
            wanted = fields or ("name", "id")
            return graph.json_response({k: v for k, v in full.items() if k in wanted})
        if ad := world.ad(object_id):
            form = world.form(ad.form_id)
            require_page(token, form.page_id if form else "")
            return graph.json_response({"id": ad.id, "name": ad.name, "adset_id": ad.adset_id})
        raise graph.unsupported("GET", object_id)

    @app.route(f"{prefix}/<object_id>/<edge>", methods=["GET", "POST", "DELETE"])
    def edge(object_id: str, edge: str) -> Response:
        token = authenticate()
        if object_id == "me" and token.page_id:
            object_id = token.page_id
        form, ad, page = world.form(object_id), world.ad(object_id), world.page(object_id)
        if edge == "leads" and (form or ad) and request.method == "GET":
            owner = form or world.form(ad.form_id if ad else "")
            require_page(token, owner.page_id if owner else "")
            leads = world.leads(form_id=form.id) if form else world.leads(ad_id=object_id)
            return graph.json_response(_leads_listing(leads))
        if page and edge == "leadgen_forms" and request.method == "GET":
            require_page(token, page.id)
            fields = graph.parse_fields(request.args.get("fields"), FORM_FIELDS, "LeadgenForm")
            forms = sorted(world.forms(page.id), key=lambda f: (f.created_time, int(f.id)))
            return graph.json_response(
                _listing(
                    forms[::-1],
                    lambda f: (f.created_time, f.id),
                    lambda f: _form_graph(world, f, fields or FORM_DEFAULT_FIELDS),
                )
            )
        if page and edge == "subscribed_apps":
            require_page(token, page.id, usage="pages")
            return graph.json_response(_subscribed_apps(world, page.id))
        if not (form or ad or page or world.lead(object_id)):
            raise graph.unsupported(request.method, object_id)
        if request.method != "GET":
            raise graph.unsupported(request.method, f"{object_id}/{edge}")
        raise graph.nonexisting_field(edge, "LeadgenForm" if form else "Page" if page else "Ad")

    return app


def _bearer(headers: Any) -> str | None:
    scheme, _, value = headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "oauth") and value.strip() else None


def _owner_page(world: World, path: str) -> str | None:
    """The Page that owns the object a path is about, for the usage headers."""
    parts = path.strip("/").split("/")
    object_id = parts[1] if len(parts) > 1 else ""
    if page := world.page(object_id):
        return page.id
    if lead := world.lead(object_id):
        return lead.page_id
    form = world.form(object_id) or (
        world.form(ad.form_id) if (ad := world.ad(object_id)) else None
    )
    return form.page_id if form else None


def _form_graph(world: World, form: LeadForm, fields: Sequence[str]) -> dict:
    leads = world.leads(form_id=form.id)
    page = world.page(form.page_id)
    full = {
        "id": form.id,
        "name": form.name,
        "status": form.status,
        "locale": form.locale,
        "created_time": graph_time(form.created_time),
        "leads_count": len(leads),
        "organic_leads_count": sum(1 for lead in leads if lead.is_organic),
        "expired_leads_count": 0,
        "page": {"name": page.name if page else "", "id": form.page_id},
        "page_id": form.page_id,
        "questions": form.questions,
        "privacy_policy_url": form.privacy_policy_url,
        "follow_up_action_url": "https://clinic.example.com/thank-you",
    }
    return {k: v for k, v in full.items() if k in fields or k == "id"}


def _leads_listing(leads: list) -> dict:
    fields = graph.parse_fields(request.args.get("fields"), LEAD_FIELDS, "Lead")
    raw_filter = request.args.get("filtering")
    if raw_filter:
        leads = _time_filtered(leads, _filters(raw_filter))
    return _listing(
        leads,
        lambda lead: (lead.created_time, lead.id),
        lambda lead: lead.graph(fields or LEAD_DEFAULT_FIELDS),
    )


def _time_filtered(leads: list, rules: list[tuple[str, Callable[[int, int], bool], int]]) -> list:
    """The leads (newest first) whose time_created passes every rule: slices, by bisection."""
    for _field, check, value in rules:  # every rule is on time_created (_filters checks)
        cut = bisect.bisect_left if check is operator.gt else bisect.bisect_right
        at = cut(leads, -value, key=lambda lead: -lead.created_time)
        leads = leads[at:] if check is operator.lt else leads[:at]
    return leads


def _filters(raw: str) -> list[tuple[str, Callable[[int, int], bool], int]]:
    try:
        rules = json.loads(raw)
    except ValueError as exc:
        raise graph.invalid_parameter("param filtering must be an array") from exc
    if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
        raise graph.invalid_parameter("param filtering must be an array")
    checks = []
    for rule in rules:
        field, op, value = rule.get("field"), rule.get("operator"), rule.get("value")
        if field != "time_created":
            raise graph.invalid_parameter(f"Filtering field {field} is invalid")
        if op not in _FILTER_OPERATORS:
            raise graph.invalid_parameter(f"Filtering operator {op} is invalid for {field}")
        try:
            checks.append((field, _FILTER_OPERATORS[op], int(value)))
        except (TypeError, ValueError) as exc:
            raise graph.invalid_parameter(f"Filtering value {value!r} is invalid") from exc
    return checks


def _listing(
    items: Sequence[Any],
    key: Callable[[Any], tuple[int, str]],
    render: Callable[[Any], dict],
) -> dict:
    """A Graph collection: `data` plus cursors, `previous` and `next` only where they exist."""
    limit = graph.parse_limit(request.args.get("limit"))
    after, before = request.args.get("after"), request.args.get("before")
    page, has_previous, has_next = graph.window(items, key, limit=limit, after=after, before=before)
    if not page:
        return {"data": []}
    cursors = {
        "before": graph.encode_cursor(key(page[0])),
        "after": graph.encode_cursor(key(page[-1])),
    }
    paging: dict[str, Any] = {"cursors": cursors}
    kept = [
        (k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before", "limit")
    ]
    base = f"{request.host_url.rstrip('/')}{request.path}?"
    if has_previous:
        paging["previous"] = base + urlencode(
            [*kept, ("limit", limit), ("before", cursors["before"])]
        )
    if has_next:
        paging["next"] = base + urlencode([*kept, ("limit", limit), ("after", cursors["after"])])
    return {"data": [render(item) for item in page], "paging": paging}


def _subscribed_apps(world: World, page_id: str) -> dict:
    if request.method == "GET":
        page = world.page(page_id)
        if not page or not page.subscribed_fields:
            return {"data": []}
        app = {
            "category": "Business",
            "link": "https://clinic.example.com/leadhub",
            "name": world.app_name,
            "id": world.app_id,
            "subscribed_fields": list(page.subscribed_fields),
        }
        return {"data": [app]}
    if request.method == "DELETE":
        world.unsubscribe(page_id)
        return {"success": True}
    raw = request.values.get("subscribed_fields", "")
    fields = [name.strip() for name in raw.strip("[]").replace('"', "").split(",") if name.strip()]
    if not fields:
        raise graph.invalid_parameter("The parameter subscribed_fields is required")
    if unknown := [name for name in fields if name not in SUBSCRIBABLE_FIELDS]:
        choices = ", ".join(sorted(SUBSCRIBABLE_FIELDS))
        raise graph.invalid_parameter(
            f'Param subscribed_fields[0] must be one of {{{choices}}} - got "{unknown[0]}"'
        )
    world.subscribe(page_id, fields)
    return {"success": True}


def _describe(world: World, value: str) -> dict:
    """What `GET /debug_token` says about a token."""
    if world.app_secret and value == world.app_token:
        return {
            "app_id": world.app_id,
            "type": "APP",
            "application": world.app_name,
            "is_valid": True,
            "scopes": [],
        }
    token = world.token(value)
    if token is None or token.page_id is None:
        error = graph.invalid_token()
        return {"error": {"code": 190, "message": error.message}, "is_valid": False, "scopes": []}
    described: dict[str, Any] = {
        "app_id": world.app_id,
        "type": "PAGE",
        "application": world.app_name,
        "data_access_expires_at": token.issued_at + 90 * 86400,
    }
    if token.expired:
        error = graph.expired_token(token.expires_at, world.clock())
        described["error"] = {"code": 190, "message": error.message, "subcode": 463}
    described |= {
        "expires_at": token.expires_at,
        "is_valid": not token.expired,
        "issued_at": token.issued_at,
        "profile_id": token.page_id,
        "scopes": SCOPES,
        "granular_scopes": [
            {
                "scope": s,
                "target_ids": [world.ad_account_id if s == "ads_management" else token.page_id],
            }
            for s in SCOPES
            if s != "public_profile"
        ],
        "user_id": world.user_id,
    }
    return described
