"""Logs: JSON lines with the request id in production, and no personal data, only ids."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select

from leadhub.app import configure_logging
from leadhub.leads.models import Lead
from leadhub.ops.logs import JsonFormatter
from tests.meta.conftest import SAMPLES, lead_payload, sign

WEBHOOK = "/api/v1/meta/webhook"
BODY = (SAMPLES / "webhook_leadgen.json").read_bytes()
PERSON = {
    "full_name": "Maria Jensen",
    "email": "maria.jensen@example.com",
    "phone_number": "+4520123456",
}


def test_json_lines_carry_the_request_id(client, app):
    formatter = JsonFormatter()
    record = logging.LogRecord("leadhub.web", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
    record.request_id = "abc123def456"
    entry = json.loads(formatter.format(record))
    assert entry["request_id"] == "abc123def456" and entry["message"] == "failed x"
    assert entry["level"] == "ERROR" and entry["logger"] == "leadhub.web" and entry["time"]


def test_production_logs_are_json(app, monkeypatch):
    logger = logging.getLogger("leadhub")
    handlers = [h for h in logger.handlers if h.filters]
    previous = [h.formatter for h in handlers]
    monkeypatch.setitem(app.config, "LOG_FORMAT", "json")
    try:
        configure_logging(app)
        assert handlers and all(isinstance(h.formatter, JsonFormatter) for h in handlers)
    finally:
        for handler, formatter in zip(handlers, previous, strict=True):
            handler.setFormatter(formatter)


def test_a_lead_leaves_no_personal_data_in_the_logs(
    client, meta_app, page, graph, db_session, caplog, api_as
):
    caplog.set_level(logging.DEBUG)
    for leadgen_id in ("1290384756102938", "1290384756102939"):
        graph.leads[leadgen_id] = lead_payload(leadgen_id)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(BODY)}
    assert client.post(WEBHOOK, data=BODY, headers=headers).status_code == 200
    lead = db_session.scalars(select(Lead).where(Lead.meta_lead_id == "1290384756102938")).one()
    assert lead.email == PERSON["email"]  # the lead did come in, with the person's details
    key = api_as("admin")
    assert client.get(f"/api/v1/leads/{lead.id}", headers=key).status_code == 200
    assert client.get("/api/v1/leads?q=Maria", headers=key).status_code == 200
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records, "nothing was logged at all: the test would prove nothing"
    for value in (*PERSON.values(), "Jensen", "maria.jensen", "20123456"):
        assert value not in logged, f"{value!r} is in the logs"
