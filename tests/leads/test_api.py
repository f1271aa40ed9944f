"""The JSON API end to end: scope, validation, optimistic locking, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.auth import service as accounts
from leadhub.leads.models import Status


def test_list_returns_items_and_a_cursor(client, api_as, lead_factory):
    for _ in range(3):
        lead_factory()
    headers = api_as("admin")
    first = client.get("/api/v1/leads?limit=2", headers=headers).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/leads?limit=2&cursor={first['next_cursor']}", headers=headers)
    assert len(second.json["items"]) == 1 and second.json["next_cursor"] is None
    ids = [i["id"] for i in first["items"] + second.json["items"]]
    assert len(set(ids)) == 3


def test_an_agents_list_by_score_pages_through_their_leads_best_first(
    client, api_as, lead_factory, users
):
    """Read from the assignee's created-time index, which carries the score (migration 0016)."""
    agent = users["agent"]
    scores = [40, 90, 10, 90, 70]
    mine = [lead_factory(assignee_id=agent.id, score=score) for score in scores]
    lead_factory(assignee_id=users["agent_other"].id, score=99)
    headers = api_as("agent")
    seen, cursor = [], ""
    while True:
        page = client.get(f"/api/v1/leads?sort=score&limit=2{cursor}", headers=headers).json
        seen += [(item["score"], item["id"]) for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == sorted(((lead.score, lead.id) for lead in mine), reverse=True)


def test_an_admins_list_of_one_assignee_by_score_pages_best_first(
    client, api_as, lead_factory, users
):
    """One assignee's leads, sorted by score apart from everyone's score order, page by page."""
    agent = users["agent"]
    mine = [lead_factory(assignee_id=agent.id, score=s) for s in (40, 90, 10, 90, 70, 90)]
    lead_factory(assignee_id=users["agent_other"].id, score=99)
    lead_factory(score=95)
    headers = api_as("admin")
    seen, cursor = [], ""
    while True:
        url = f"/api/v1/leads?sort=score&assignee_id={agent.id}&score_min=20&limit=2{cursor}"
        page = client.get(url, headers=headers).json
        seen += [(item["score"], item["id"]) for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    expected = sorted(((x.score, x.id) for x in mine if x.score >= 20), reverse=True)
    assert seen == expected


def test_a_lead_has_the_documented_fields(client, api_as, lead_factory):
    lead = lead_factory(full_name="Maria Jensen")
    body = client.get(f"/api/v1/leads/{lead.id}", headers=api_as("admin")).json
    for field in (
        "id",
        "version",
        "status",
        "distributor_id",
        "assignee_id",
        "full_name",
        "email",
        "phone",
        "country",
        "language",
        "treatment",
        "score",
        "score_level",
        "source",
        "meta_lead_id",
        "page_id",
        "form_id",
        "ad_id",
        "ad_name",
        "campaign_id",
        "campaign_name",
        "platform",
        "created_time",
        "received_at",
        "tags",
        "duplicate_of_id",
        "answers",
    ):
        assert field in body, field
    assert body["full_name"] == "Maria Jensen" and body["source"] == "meta"


@pytest.mark.parametrize(
    "query",
    [
        "status=unknown",
        "score_min=abc",
        "score_min=90&score_max=10",
        "created_from=yesterday",
        "sort=random",
        "limit=1000",
        "platform=tiktok",
        "cursor=%%%",
    ],
)
def test_bad_filters_get_400_with_a_message(client, api_as, query):
    response = client.get(f"/api/v1/leads?{query}", headers=api_as("admin"))
    assert response.status_code == 400
    assert response.json["error"]["code"] in ("invalid_filter", "invalid_input")
    assert response.json["error"]["message"]


def test_several_statuses_filter_together(client, api_as, lead_factory):
    lead_factory(status=Status.NEW)
    lead_factory(status=Status.CONTACTED)
    lead_factory(status=Status.LOST)
    response = client.get("/api/v1/leads?status=new&status=contacted", headers=api_as("admin"))
    assert sorted(i["status"] for i in response.json["items"]) == ["contacted", "new"]
    response = client.get("/api/v1/leads?status=new,lost", headers=api_as("admin"))
    assert sorted(i["status"] for i in response.json["items"]) == ["lost", "new"]


@pytest.mark.parametrize(
    "role, status",
    [
        ("admin", 200),
        ("manager", 200),
        ("viewer", 200),
        ("agent", 200),
        ("manager_other", 404),
        ("agent_other", 404),
    ],
)
def test_reading_a_lead_respects_scope(client, api_as, lead_factory, role, status):
    lead = lead_factory()
    assert client.get(f"/api/v1/leads/{lead.id}", headers=api_as(role)).status_code == status


@pytest.mark.parametrize(
    "role, status",
    [("admin", 200), ("manager", 200), ("agent", 200), ("viewer", 403), ("manager_other", 404)],
)
def test_changing_a_lead_respects_role_and_scope(client, api_as, lead_factory, role, status):
    lead = lead_factory()
    response = client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=api_as(role),
        json={"version": lead.version, "status": "contacted"},
    )
    assert response.status_code == status, response.json


def test_patch_with_a_stale_version_gets_409_and_the_current_lead(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("manager")
    read_version = lead.version
    ok = client.patch(
        f"/api/v1/leads/{lead.id}", headers=headers, json={"version": read_version, "tags": ["vip"]}
    )
    assert ok.status_code == 200 and ok.json["version"] == read_version + 1
    stale = client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=headers,
        json={"version": read_version, "status": "contacted"},
    )
    assert stale.status_code == 409
    current = stale.json["error"]["details"]["current"]
    assert current["tags"] == ["vip"] and current["status"] == "new"


def test_patch_assigns_and_audits_with_ip(client, api_as, lead_factory, users, db_session):
    lead = lead_factory()
    response = client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=api_as("manager"),
        json={"version": lead.version, "assignee_id": users["agent"].id},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.json["assignee_id"] == users["agent"].id
    assert response.json["status"] == "assigned"
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_id == lead.id, AuditEvent.action == "lead.update"
        )
    ).one()
    assert event.ip == "203.0.113.9" and event.actor_id == users["manager"].id
    assert event.before["assignee_id"] is None and event.after["assignee_id"] == users["agent"].id
    assert event.request_id == response.headers["X-Request-ID"]


def test_a_disallowed_transition_is_400(client, api_as, lead_factory):
    lead = lead_factory(status=Status.CONVERTED)
    response = client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=api_as("manager"),
        json={"version": lead.version, "status": "new"},
    )
    assert response.status_code == 400
    assert "cannot become" in response.json["error"]["message"]


def test_create_a_manual_lead_normalizes_and_links_duplicates(
    client, api_as, distributor, lead_factory
):
    original = lead_factory(phone="+905321112233")
    response = client.post(
        "/api/v1/leads",
        headers=api_as("manager"),
        json={
            "full_name": "  Elif   Kaya ",
            "phone": "0532 111 22 33",
            "email": "Elif@Example.COM",
            "treatment": "dental_implants",
            "answers": {"budget": "5000"},
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["full_name"] == "Elif Kaya"
    assert body["phone"] == "+905321112233" and body["email"] == "elif@example.com"
    assert body["source"] == "manual" and body["distributor_id"] == distributor.id
    assert body["duplicate_of_id"] == original.id
    assert (
        client.get("/api/v1/leads?q=elif", headers=api_as("admin")).json["items"][0]["id"]
        == body["id"]
    )


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"full_name": "No Contact"}, None),
        ({"full_name": "X", "phone": "12"}, None),
        ({"full_name": "X", "email": "not-an-email"}, None),
        ({"full_name": "", "phone": "+905321112233"}, "full_name"),
        ({"full_name": "X", "phone": "+905321112233", "unknown": 1}, "unknown"),
    ],
)
def test_create_rejects_bad_input_clearly(client, api_as, payload, field):
    response = client.post("/api/v1/leads", headers=api_as("manager"), json=payload)
    assert response.status_code in (400, 422)
    error = response.json["error"]
    assert error["message"]
    if field:
        assert any(d["field"] == field for d in error["details"])


def test_admin_must_choose_a_distributor_and_a_manager_cannot_choose_another(
    client, api_as, other_distributor
):
    body = {"full_name": "Lead", "phone": "+905321112299"}
    assert client.post("/api/v1/leads", headers=api_as("admin"), json=body).status_code == 400
    body["distributor_id"] = other_distributor.id
    assert client.post("/api/v1/leads", headers=api_as("manager"), json=body).status_code == 404
    assert client.post("/api/v1/leads", headers=api_as("admin"), json=body).status_code == 201


def test_viewer_cannot_create(client, api_as):
    response = client.post(
        "/api/v1/leads", headers=api_as("viewer"), json={"full_name": "X", "phone": "+905321112233"}
    )
    assert response.status_code == 403


def test_log_a_call(client, api_as, lead_factory):
    lead = lead_factory()
    headers = api_as("agent")
    response = client.post(
        f"/api/v1/leads/{lead.id}/interactions",
        headers=headers,
        json={
            "kind": "call",
            "outcome": "answered",
            "duration_seconds": 95,
            "body": "Wants a quote",
        },
    )
    assert response.status_code == 201
    assert response.json["kind"] == "call" and response.json["actor_name"]
    after = client.get(f"/api/v1/leads/{lead.id}", headers=headers).json
    assert after["status"] == "contacted" and after["first_contacted_at"]


def test_interaction_kinds_are_checked(client, api_as, lead_factory):
    lead = lead_factory()
    response = client.post(
        f"/api/v1/leads/{lead.id}/interactions",
        headers=api_as("agent"),
        json={"kind": "status_change", "body": "sneaky"},
    )
    assert response.status_code == 422


def test_delete_and_restore_are_for_admins(client, api_as, lead_factory):
    lead = lead_factory()
    assert client.delete(f"/api/v1/leads/{lead.id}", headers=api_as("manager")).status_code == 403
    headers = api_as("admin")
    deleted = client.delete(f"/api/v1/leads/{lead.id}", headers=headers)
    assert deleted.status_code == 200 and deleted.json["deleted_at"]
    assert client.get("/api/v1/leads", headers=headers).json["items"] == []
    assert len(client.get("/api/v1/leads?deleted=true", headers=headers).json["items"]) == 1
    restored = client.post(f"/api/v1/leads/{lead.id}/restore", headers=headers)
    assert restored.status_code == 200 and restored.json["deleted_at"] is None


def test_unknown_lead_is_404(client, api_as):
    response = client.get("/api/v1/leads/999999", headers=api_as("admin"))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_body_over_1_mb_is_413(client, api_as):
    response = client.post(
        "/api/v1/leads",
        headers=api_as("admin"),
        data="x" * (1024 * 1024 + 10),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_counts_per_status(client, api_as, lead_factory):
    lead_factory()
    lead_factory(status=Status.CONTACTED)
    body = client.get("/api/v1/leads/counts", headers=api_as("manager")).json
    assert body["counts"]["new"] == 1 and body["counts"]["contacted"] == 1 and body["total"] == 2


def test_no_key_or_a_revoked_key_is_401(client, users, db_session):
    assert client.get("/api/v1/leads").status_code == 401
    key = accounts.create_api_key(db_session, user=users["admin"], name="x", actor=None)
    db_session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=headers).json["email"] == users["admin"].email
    api_key = accounts.list_api_keys(db_session, user=users["admin"])[0]
    accounts.revoke_api_key(db_session, key_id=api_key.id, actor=users["admin"])
    db_session.commit()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert key not in response.get_data(as_text=True)


def test_a_deactivated_users_key_stops_working(client, api_as, users, db_session):
    headers = api_as("agent")
    users["agent"].active = False
    db_session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "role, status",
    [("admin", 200), ("superadmin", 200), ("manager", 403), ("agent", 403), ("viewer", 403)],
)
def test_users_list_is_for_admins(client, api_as, role, status):
    assert client.get("/api/v1/users", headers=api_as(role)).status_code == status


def test_distributors_are_scoped(client, api_as, distributor, other_distributor):
    names = {d["name"] for d in client.get("/api/v1/distributors", headers=api_as("admin")).json}
    assert names == {distributor.name, other_distributor.name}
    names = {d["name"] for d in client.get("/api/v1/distributors", headers=api_as("manager")).json}
    assert names == {distributor.name}


def test_a_browser_session_calling_the_api_needs_the_csrf_token(client, login_as, lead_factory):
    from tests.conftest import csrf_token

    lead = lead_factory()
    login_as("admin")
    assert client.get(f"/api/v1/leads/{lead.id}").status_code == 200
    body = {"version": lead.version, "tags": ["x"]}
    assert client.patch(f"/api/v1/leads/{lead.id}", json=body).status_code == 400
    token = csrf_token(client)
    response = client.patch(f"/api/v1/leads/{lead.id}", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_the_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/leads/{lead_id}/restore",
        "/api/v1/leads/{lead_id}/interactions",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/distributors",
    ):
        assert path in spec["paths"], path
    assert not any(p.startswith("/leads") for p in spec["paths"])
