"""The scoring API: the summary, a lead's score with its reasons, a rescore's progress."""

from __future__ import annotations

import pytest

from leadhub.scoring import service
from leadhub.scoring.engine import FACTORS


def test_the_summary_in_the_callers_scope(client, api_as, lead_factory, other_distributor):
    lead_factory(score=92, full_name="Ours")
    lead_factory(score=45, full_name="Ours Too")
    lead_factory(score=97, full_name="Theirs", distributor_id=other_distributor.id)
    body = client.get("/api/v1/scoring/summary", headers=api_as("manager")).json
    assert body["rule_set_version"] == 1
    assert body["levels"] == [
        {"level": "hot", "count": 1},
        {"level": "warm", "count": 0},
        {"level": "medium", "count": 1},
        {"level": "cool", "count": 0},
        {"level": "cold", "count": 0},
    ]
    assert body["recommendations"] == [
        {"name": "high_unassigned", "count": 1, "capped": False},
        {"name": "abandoned", "count": 0, "capped": False},
        {"name": "low_busy", "count": 0, "capped": False},
    ]
    assert [lead["full_name"] for lead in body["top"]] == ["Ours", "Ours Too"]
    assert set(body["top"][0]) >= {"id", "score", "score_level", "status", "created_time"}
    admin = client.get("/api/v1/scoring/summary", headers=api_as("admin")).json
    assert admin["levels"][0] == {"level": "hot", "count": 2}


def test_a_signed_in_page_may_poll_the_summary(client, login_as):
    login_as("viewer")
    response = client.get("/api/v1/scoring/summary")
    assert response.status_code == 200 and response.json["top"] == []


def test_a_leads_score_and_why(client, api_as, lead_factory, db_session):
    lead = lead_factory(score_version=None, answers={"age": "30"}, treatment="veneers")
    service.score_lead(db_session, lead=lead)
    db_session.commit()
    body = client.get(f"/api/v1/leads/{lead.id}/score", headers=api_as("agent")).json
    assert body["lead_id"] == lead.id and body["rule_set_version"] == 1
    assert body["score"] == lead.score and body["level"] == lead.score_level.value
    assert [item["factor"] for item in body["breakdown"]] == list(FACTORS)
    assert sum(item["points"] for item in body["breakdown"]) == body["score"]
    assert sum(item["max"] for item in body["breakdown"]) == 100
    service_item = body["breakdown"][2]
    assert service_item == {
        "factor": "service",
        "points": 20,
        "max": 25,
        "reason": "Veneers: worth 80 of 100",
        "reason_code": "service.value",
        "params": {"treatment": "veneers", "value": 80},
    }
    assert body["breakdown"][4]["reason"] == "Age 30 is within the target 20–55"


def test_an_unscored_lead_has_an_empty_breakdown(client, api_as, lead_factory):
    lead = lead_factory(score=0, score_version=None)
    body = client.get(f"/api/v1/leads/{lead.id}/score", headers=api_as("admin")).json
    assert body == {
        "lead_id": lead.id,
        "score": 0,
        "level": "cold",
        "rule_set_version": None,
        "breakdown": [],
    }


@pytest.mark.parametrize(
    "role, status",
    [
        ("admin", 200),
        ("manager", 200),
        ("viewer", 200),
        ("manager_other", 404),
        ("agent_other", 404),
    ],
)
def test_a_score_is_read_within_scope(client, api_as, lead_factory, role, status):
    lead = lead_factory()
    assert client.get(f"/api/v1/leads/{lead.id}/score", headers=api_as(role)).status_code == status


def test_signed_out_callers_get_401(client, lead_factory):
    lead = lead_factory()
    for url in (
        "/api/v1/scoring/summary",
        f"/api/v1/leads/{lead.id}/score",
        "/api/v1/scoring/runs/1",
    ):
        response = client.get(url)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("role, status", [("superadmin", 200), ("admin", 403), ("manager", 403)])
def test_a_rescores_progress_is_for_the_superadmin(client, api_as, db_session, role, status):
    run = service.start_run(db_session)
    db_session.commit()
    response = client.get(f"/api/v1/scoring/runs/{run.id}", headers=api_as(role))
    assert response.status_code == status
    if status == 200:
        assert response.json["status"] == "queued" and response.json["percent"] == 0
        assert response.json["rule_set_version"] == 1 and response.json["everything"] is True


def test_an_unknown_run_is_404(client, api_as):
    assert client.get("/api/v1/scoring/runs/999", headers=api_as("superadmin")).status_code == 404


def test_the_api_lists_a_recommended_list(client, api_as, lead_factory):
    lead_factory(full_name="Hot Nobody", score=91)
    lead_factory(full_name="Cold Nobody", score=5)
    body = client.get("/api/v1/leads?recommendation=high_unassigned", headers=api_as("admin")).json
    assert [lead["full_name"] for lead in body["items"]] == ["Hot Nobody"]
    bad = client.get("/api/v1/leads?recommendation=lucky", headers=api_as("admin"))
    assert bad.status_code == 400 and bad.json["error"]["code"] == "invalid_filter"


def test_the_openapi_document_describes_scoring(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/scoring/summary", "/api/v1/leads/{lead_id}/score"} <= set(spec["paths"])
