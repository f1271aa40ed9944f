"""Every route states who may use it; the framework's own endpoints are the only exceptions."""

from __future__ import annotations

import re

FRAMEWORK_ENDPOINTS = {"static", "openapi.spec"}


def test_every_route_has_an_explicit_access_rule(app):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "access_rule", None):
            missing.append(f"{rule.rule} ({rule.endpoint})")
    assert not missing, "routes without @role_required or @public: " + ", ".join(missing)


def test_public_routes_are_only_the_expected_ones(app):
    public = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access_rule", None) == "public"
    }
    assert public == {
        "/login",
        "/language",
        "/healthz",
        "/readyz",
        "/metrics",  # a Bearer METRICS_TOKEN, or from this machine only (leadhub.metrics)
        "/api/v1/meta/webhook",
        # a signed, single-purpose link from the footer of an email (leadhub.notifications)
        "/notifications/unsubscribe/<token>",
    }


def test_signed_out_pages_redirect_to_login_and_api_answers_401(app, client):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in FRAMEWORK_ENDPOINTS or view.access_rule == "public":
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
            assert response.json["error"]["code"] == "unauthorized"
        elif method == "GET":
            assert response.status_code == 302, url
            assert "/login" in response.headers["Location"]
        else:
            # a signed-out POST without a CSRF token is refused before anything else
            assert response.status_code in (302, 400), url
