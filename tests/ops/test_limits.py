"""Limits: API_RATE_LIMIT per API key with 429 + Retry-After; Meta's webhook is never limited."""

from __future__ import annotations

from tests.meta.conftest import SAMPLES, sign

WEBHOOK = "/api/v1/meta/webhook"
BODY = (SAMPLES / "webhook_leadgen.json").read_bytes()


def test_each_api_key_has_its_own_hourly_allowance(client, app, api_as, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per hour")
    first, second = api_as("admin"), api_as("manager")
    for _ in range(3):
        assert client.get("/api/v1/leads", headers=first).status_code == 200
    refused = client.get("/api/v1/leads", headers=first)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    error = refused.json["error"]
    assert error["code"] == "rate_limited" and error["message"] and "request_id" in error
    # another key of another user is not held back by the first one's calls
    assert client.get("/api/v1/leads", headers=second).status_code == 200


def test_the_default_allowance_is_a_thousand_an_hour(client, api_as):
    response = client.get("/api/v1/leads", headers=api_as("admin"))
    assert response.headers["X-RateLimit-Limit"] == "1000"


def test_meta_is_never_rate_limited(client, app, meta_app, page, graph, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2 per hour")
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(BODY)}
    for n in range(12):
        graph.leads.clear()
        graph.errors = []
        response = client.post(WEBHOOK, data=BODY, headers=headers)
        assert response.status_code != 429, n
        assert "X-RateLimit-Limit" not in response.headers


def test_a_webhook_body_over_the_limit_is_413_in_the_error_shape(client, meta_app):
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}
    response = client.post(WEBHOOK, data=body, headers=headers)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
