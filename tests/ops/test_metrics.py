"""/metrics: who may scrape it, and what the counters say after real requests."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import socketio

from leadhub import metrics
from leadhub.db import utcnow
from tests.meta.conftest import SAMPLES, lead_payload, sign

WEBHOOK = "/api/v1/meta/webhook"
BODY = (SAMPLES / "webhook_leadgen.json").read_bytes()


def sample_value(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in the exposition text (0 when it is absent)."""
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def scrape(client, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_metrics_need_the_token_when_one_is_set(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-me-please")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert "leadhub_queue_depth" in scrape(client, "scrape-me-please")


def test_without_a_token_only_this_machine_may_scrape(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", None)
    assert "leadhub_queue_depth" in scrape(client)  # the test client comes from 127.0.0.1
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert outside.status_code == 403


def test_webhooks_graph_calls_ingest_latency_and_routes_are_counted(
    client, meta_app, page, graph, db_session
):
    before = scrape(client)
    graph.leads["1290384756102938"] = lead_payload("1290384756102938")
    # one lead made at Meta a few seconds ago (live), one in January (a late delivery)
    just_now = (utcnow() - timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    graph.leads["1290384756102939"] = lead_payload("1290384756102939", created_time=just_now)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(BODY)}
    assert client.post(WEBHOOK, data=BODY, headers=headers).status_code == 200
    refused = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=00"}
    assert client.post(WEBHOOK, data=BODY, headers=refused).status_code == 403
    assert client.get("/healthz").status_code == 200
    metrics.observe_graph_call(400, code=190)
    metrics.emails_sent.inc()
    metrics.emails_failed.inc()
    after = scrape(client)

    def grew(name: str, labels: str = "") -> float:
        return sample_value(after, name, labels) - sample_value(before, name, labels)

    assert grew("leadhub_webhooks_received_total") == 1
    assert grew("leadhub_webhooks_rejected_total", 'status="403"') == 1
    assert grew("leadhub_graph_calls_total", 'status="400"') == 1
    assert grew("leadhub_graph_errors_total", 'code="190"') == 1
    assert grew("leadhub_emails_sent_total") == 1 and grew("leadhub_emails_failed_total") == 1
    assert grew("leadhub_ingest_seconds_count") == 1  # the live one only
    assert grew("leadhub_ingest_seconds_bucket", 'le="30.0"') == 1
    route = 'method="GET",route="/healthz",status="200"'
    assert grew("leadhub_http_request_seconds_count", route) == 1
    # the webhook's ack is only counted, never timed per route
    assert 'method="POST",route="/api/v1/meta/webhook"' not in after
    assert "leadhub_queue_oldest_age_seconds" in after and "leadhub_failed_deliveries" in after


def test_routes_are_labelled_by_their_rule_not_their_path(client, app):
    client.get("/api/v1/leads/12345")
    client.get("/no/such/page/at/all")
    text = scrape(client)
    assert "/api/v1/leads/12345" not in text and "/no/such/page" not in text
    assert 'route="/api/v1/leads/<int:lead_id>"' in text or 'route="unmatched"' in text
    assert 'route="unmatched"' in text


def test_open_socket_io_connections_are_counted(live, people):
    from prometheus_client import REGISTRY

    def open_connections() -> float:
        return REGISTRY.get_sample_value("leadhub_socketio_connections") or 0.0

    def settled() -> float:
        """The gauge once earlier tests' clients are gone: their servers see them go late (a
        closed client may be noticed only at its next missed ping), up to 30 s after."""
        deadline = time.monotonic() + 30
        while open_connections() and time.monotonic() < deadline:
            time.sleep(0.1)
        return open_connections()

    before = settled()
    refused = live.listener()
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(token="not-a-key")
    assert open_connections() == before  # a refused connection is not counted
    listener = live.listener().connect(token=live.api_key(people["admin"]))
    assert open_connections() == before + 1
    listener.close()
    deadline = time.monotonic() + 10
    while open_connections() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_connections() == before
