"""GET/PUT /api/v1/distributors/{id}/assignment-rules: roles, scope, validation, effect."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.db import db

URL = "/api/v1/distributors/{}/assignment-rules"


@pytest.mark.parametrize(
    "role, status",
    [
        ("superadmin", 200),
        ("admin", 200),
        ("manager", 200),
        ("manager_other", 404),
        ("agent", 403),
        ("viewer", 403),
    ],
)
def test_reading_the_rule_respects_roles_and_scope(client, api_as, distributor, role, status):
    response = client.get(URL.format(distributor.id), headers=api_as(role))
    assert response.status_code == status, response.json
    if status == 200:
        assert response.json["strategy"] == "off"  # no rule yet: manual only
        assert response.json["distributor_id"] == distributor.id
    else:
        assert response.json["error"]["code"] in ("forbidden", "not_found")


def test_an_unknown_distributor_is_404(client, api_as):
    response = client.get(URL.format(999_999), headers=api_as("admin"))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "role, status", [("admin", 200), ("manager", 200), ("manager_other", 404), ("agent", 403)]
)
def test_setting_the_rule_respects_roles_and_scope(client, api_as, distributor, role, status):
    body = {"strategy": "round_robin"}
    response = client.put(URL.format(distributor.id), json=body, headers=api_as(role))
    assert response.status_code == status, response.json
    if status == 200:
        assert response.json["strategy"] == "round_robin"


def test_a_rule_set_through_the_api_assigns_new_leads(client, api_as, distributor, agents):
    body = {
        "strategy": "round_robin",
        "match_language": True,
        "hours_enabled": False,
        "agents": [{"user_id": agents[1].id, "languages": ["ar"], "treatments": ["veneers"]}],
    }
    response = client.put(URL.format(distributor.id), json=body, headers=api_as("admin"))
    assert response.status_code == 200, response.json
    listed = {a["user_id"]: a for a in response.json["agents"]}
    assert listed[agents[1].id]["languages"] == ["ar"]
    assert listed[agents[1].id]["treatments"] == ["veneers"]
    assert listed[agents[0].id]["languages"] == []  # not named: left as it was
    created = client.post(
        "/api/v1/leads",
        json={
            "distributor_id": distributor.id,
            "full_name": "Layla Haddad",
            "phone": "+971501234567",
            "language": "ar",
        },
        headers=api_as("admin"),
    )
    assert created.status_code == 201, created.json
    assert created.json["assignee_id"] == agents[1].id
    assert created.json["status"] == "assigned"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assignment_rule.update")
    ).all()
    assert len(events) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"strategy": "fastest"}, "strategy"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"hours_enabled": True, "start": "18:00", "end": "09:00"}, None),
        ({"start": "9am"}, "start"),
        ({"work_days": [7]}, "work_days"),
        ({"agents": [{"user_id": 1, "languages": ["english!"]}]}, "agents.0.languages"),
        ({"agents": [{"user_id": 1, "treatments": ["magic"]}]}, "agents.0.treatments"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_gets_a_clear_error(client, api_as, distributor, body, field):
    response = client.put(URL.format(distributor.id), json=body, headers=api_as("admin"))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "invalid_input"
    if field:
        assert any(field in (d.get("field") or "") for d in error["details"]), error


def test_a_fallback_of_another_distributor_is_refused(client, api_as, distributor, users):
    body = {"strategy": "round_robin", "fallback_user_id": users["agent_other"].id}
    response = client.put(URL.format(distributor.id), json=body, headers=api_as("admin"))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_input"
    assert "fallback" in response.json["error"]["message"].lower()


def test_skills_of_another_distributors_agent_are_refused(client, api_as, distributor, users):
    body = {"agents": [{"user_id": users["agent_other"].id, "languages": ["ar"]}]}
    response = client.put(URL.format(distributor.id), json=body, headers=api_as("manager"))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_input"
    assert str(users["agent_other"].id) in response.json["error"]["message"]


def test_the_api_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    path = spec["paths"]["/api/v1/distributors/{distributor_id}/assignment-rules"]
    assert {"get", "put"} <= set(path)
