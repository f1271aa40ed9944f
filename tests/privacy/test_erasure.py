"""Erasure: two people decide, nothing personal stays anywhere, counts stay, Meta cannot undo it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, func, select
from sqlalchemy import Enum as SAEnum

from leadhub.audit.models import AuditEvent
from leadhub.db import Base
from leadhub.leads.models import Lead, LeadSearchTerm, LeadStatusCount
from leadhub.meta import service as meta
from leadhub.meta.models import PageConnection, WebhookEvent
from leadhub.privacy import anonymise
from leadhub.privacy.models import (
    AnonymisedLead,
    ErasedMetaLead,
    ErasureRequest,
    ErasureStatus,
    LeadConsent,
    Purpose,
)
from tests.conftest import post_form
from tests.privacy.conftest import (
    ANSWER,
    CITY,
    EMAIL,
    META_ID,
    NAME,
    NOTE,
    OTHER,
    PHONE,
    add_outbox,
    deliver,
)

REASON = "Asked by email on 2026-11-20, ticket 4411"


def text_cells(db_session) -> list[tuple[str, str, str]]:
    """Every text and JSON value of every table LeadHub has, as (table, column, text)."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, String | Text | JSON) and not isinstance(c.type, SAEnum)
        ]
        if not columns:
            continue
        for row in db_session.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                found.append((table.name, column.name, text))
    return found


def leftovers(db_session, values: list[str]) -> list[tuple[str, str, str]]:
    db_session.expire_all()
    lowered = [v.lower() for v in values]
    return [
        (table, column, value)
        for table, column, value in text_cells(db_session)
        for v in lowered
        if v in value.lower()
    ]


def erase(client, login_as, *, email: str = EMAIL, phone: str = "") -> ErasureRequest:
    login_as("admin")
    response = post_form(
        client, "/settings/privacy/erasures", email=email, phone=phone, reason=REASON
    )
    assert response.status_code == 302
    from leadhub.db import db

    request = db.session.scalars(select(ErasureRequest).order_by(ErasureRequest.id.desc())).first()
    login_as("superadmin")
    response = post_form(
        client, f"/settings/privacy/erasures/{request.id}/decide", decision="approve"
    )
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.get(ErasureRequest, request.id)


@pytest.fixture
def worked(client, login_as, person_leads, db_session, api_as):
    """The person's leads worked through the real pages: consent, an edit, a search export."""
    first, second, other = person_leads
    login_as("admin")
    post_form(client, f"/leads/{first.id}/consent", purpose="phone", source="written", granted="on")
    post_form(client, f"/leads/{first.id}/interactions", kind="call", body=f"Spoke to {NAME}")
    post_form(client, f"/leads/{second.id}/tags", version=second.version, tags="vip")
    client.get(f"/leads/export?format=csv&q={NAME.split()[0]}")
    client.get(f"/leads/{first.id}")
    headers = api_as("admin")
    created = client.post(
        "/api/v1/leads",
        json={
            "distributor_id": first.distributor_id,
            "full_name": NAME,
            "phone": PHONE,
            "city": CITY,
            "answers": {"medical_history": ANSWER},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.json
    add_outbox(db_session, lead_id=first.id, to_address=EMAIL, subject=f"Hot lead: {NAME}")
    db_session.add(
        WebhookEvent(
            leadgen_id=META_ID,
            page_id="104857291038475",
            change={"leadgen_id": META_ID},
            payload={"id": META_ID, "field_data": [{"name": "email", "values": [EMAIL]}]},
            lead_id=first.id,
        )
    )
    db_session.commit()
    return [first, second, other, db_session.get(Lead, created.json["id"])]


PERSONAL = [NAME, EMAIL, PHONE, CITY, ANSWER, NOTE, META_ID, "Kılıçaslan"]


def test_erasure_leaves_no_personal_value_in_any_table(client, login_as, worked, db_session):
    assert leftovers(db_session, PERSONAL)  # the scan finds them before
    request = erase(client, login_as, phone=PHONE, email=EMAIL)
    assert request.status is ErasureStatus.DONE and request.lead_count == 3
    assert leftovers(db_session, PERSONAL) == []
    other = db_session.get(Lead, worked[2].id)
    assert (
        other.full_name == OTHER["full_name"]
        and other.answers["medical_history"] == OTHER["answer"]
    )


def test_erased_leads_stay_as_anonymous_rows_with_their_work(client, login_as, worked, db_session):
    first = worked[0]
    db_session.expire_all()
    score = db_session.get(Lead, first.id).score
    erase(client, login_as)
    db_session.expire_all()
    lead = db_session.get(Lead, first.id)
    assert lead.full_name is None and lead.email is None and lead.phone is None
    assert lead.answers == {} and lead.consent == {} and lead.meta_lead_id is None
    assert lead.treatment == "hair_transplant" and lead.score == score
    assert db_session.get(AnonymisedLead, first.id).erasure_request_id is not None
    assert db_session.get(LeadConsent, (first.id, Purpose.PHONE)) is None
    terms = (
        select(func.count()).select_from(LeadSearchTerm).where(LeadSearchTerm.lead_id == first.id)
    )
    assert db_session.scalar(terms) == 0
    login_as("admin")
    page = client.get(f"/leads/{first.id}").get_data(as_text=True)
    assert 'id="lead-anonymised"' in page and NAME not in page


def test_the_erasure_is_audited_without_the_erased_data(
    client, login_as, worked, db_session, users
):
    request = erase(client, login_as)
    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "erasure_request", AuditEvent.object_id == request.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["privacy.erasure_requested", "privacy.erasure_done"]
    assert events[0].actor_id == users["admin"].id and events[1].actor_id == users["superadmin"].id
    assert events[1].after["reason"] == REASON and events[1].after["erased"] == 2
    dumped = json.dumps([e.after for e in events], ensure_ascii=False)
    assert all(value not in dumped for value in PERSONAL)


def test_a_reason_naming_the_person_is_cleaned(client, login_as, person_leads, db_session):
    login_as("admin")
    post_form(client, "/settings/privacy/erasures", email=EMAIL, reason=f"{NAME} asked by phone")
    request = db_session.scalars(select(ErasureRequest)).one()
    login_as("superadmin")
    post_form(client, f"/settings/privacy/erasures/{request.id}/decide", decision="approve")
    db_session.expire_all()
    assert db_session.get(ErasureRequest, request.id).reason == "[erased] asked by phone"


def counts(client, api_as) -> dict[str, Any]:
    headers = api_as("superadmin")
    summary = client.get("/api/v1/scoring/summary", headers=headers).json
    return {
        "status": client.get("/api/v1/leads/counts", headers=headers).json,
        "levels": summary["levels"],
        "recommendations": summary["recommendations"],
        "top": [(t["id"], t["score"]) for t in summary["top"]],
    }


def test_analytics_counts_are_the_same_after_erasure(client, login_as, api_as, worked, db_session):
    before = counts(client, api_as)
    table = select(
        LeadStatusCount.distributor_id,
        LeadStatusCount.assignee_key,
        LeadStatusCount.status,
        LeadStatusCount.n,
    )
    rows_before = sorted(db_session.execute(table).all())
    erase(client, login_as)
    assert counts(client, api_as) == before
    assert sorted(db_session.execute(table).all()) == rows_before


def test_a_webhook_or_backfill_after_erasure_does_not_bring_the_person_back(
    app, client, login_as, connected, world, db_session, simulated
):
    made = world.add_leads(1)
    assert deliver(client, world, made).status_code == 200
    original = db_session.scalar(select(Lead).where(Lead.meta_lead_id == made[0].id))
    assert original is not None and original.email
    name, email, phone = original.full_name, original.email, original.phone
    erase(client, login_as, email=email)
    assert db_session.get(ErasedMetaLead, anonymise.meta_hash(made[0].id)).lead_id == original.id
    total = db_session.scalar(select(func.count()).select_from(Lead))
    again = deliver(app.test_client(), world, made)  # Meta sends it again (no staff session)
    assert again.status_code == 200, again.get_data(as_text=True)
    # and a backfill reads it again (the Page's row afresh: each request ends the session it
    # was read in, and the webhook's job ran on a session of its own)
    for form in db_session.get(PageConnection, connected.id).forms:
        meta.sync_form(db_session, form=form, graph=simulated(db_session, None), since=None)
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Lead)) == total
    assert leftovers(db_session, [v for v in (name, email, phone, made[0].id) if v]) == []


def test_the_hash_of_an_erased_meta_id_is_keyed(app):
    with app.app_context():
        first = anonymise.meta_hash("12345")
        assert first == anonymise.meta_hash("12345") and len(first) == 64
        assert first != anonymise.meta_hash("12346")
        import hashlib

        assert first != hashlib.sha256(b"12345").hexdigest()


def test_the_requester_may_not_approve_their_own_request(client, login_as, api_as, person_leads):
    headers = api_as("superadmin")
    created = client.post(
        "/api/v1/privacy/erasures", json={"email": EMAIL, "reason": REASON}, headers=headers
    )
    assert created.status_code == 201 and created.json["lead_count"] == 2
    response = client.post(
        f"/api/v1/privacy/erasures/{created.json['id']}/decision",
        json={"approve": True},
        headers=headers,
    )
    assert response.status_code == 403
    assert "Someone other than the requester" in response.json["error"]["message"]


def test_a_rejected_request_erases_nothing_and_cannot_be_decided_twice(
    client, api_as, person_leads, db_session
):
    created = client.post(
        "/api/v1/privacy/erasures", json={"email": EMAIL, "reason": REASON}, headers=api_as("admin")
    ).json
    url = f"/api/v1/privacy/erasures/{created['id']}/decision"
    headers = api_as("superadmin")
    assert client.post(url, json={"approve": False}, headers=headers).json["status"] == "rejected"
    assert client.post(url, json={"approve": True}, headers=headers).status_code == 409
    db_session.expire_all()
    assert db_session.get(Lead, person_leads[0].id).full_name == NAME
    listed = client.get("/api/v1/privacy/erasures", headers=headers).json
    assert [r["status"] for r in listed] == ["rejected"]


def test_nothing_to_erase_is_a_clear_error(client, api_as):
    response = client.post(
        "/api/v1/privacy/erasures",
        json={"email": "nobody@example.com", "reason": REASON},
        headers=api_as("admin"),
    )
    assert response.status_code == 400
    assert "nothing to erase" in response.json["error"]["message"]


@pytest.mark.parametrize("role", ["manager", "agent", "viewer"])
def test_only_admins_request_an_erasure(client, login_as, api_as, person_leads, role):
    response = client.post(
        "/api/v1/privacy/erasures", json={"email": EMAIL, "reason": REASON}, headers=api_as(role)
    )
    assert response.status_code == 403
    login_as(role)
    response = post_form(client, "/settings/privacy/erasures", email=EMAIL, reason=REASON)
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "manager", "agent", "viewer"])
def test_only_a_superadmin_approves(client, login_as, api_as, person_leads, db_session, role):
    created = client.post(
        "/api/v1/privacy/erasures", json={"email": EMAIL, "reason": REASON}, headers=api_as("admin")
    ).json
    url = f"/api/v1/privacy/erasures/{created['id']}/decision"
    assert client.post(url, json={"approve": True}, headers=api_as(role)).status_code == 403
    login_as(role)
    response = post_form(
        client, f"/settings/privacy/erasures/{created['id']}/decide", decision="approve"
    )
    assert response.status_code == 403
    db_session.expire_all()
    assert db_session.get(ErasureRequest, created["id"]).status is ErasureStatus.PENDING


def test_a_delivery_that_never_became_a_lead_loses_the_person_too(
    client, login_as, worked, db_session
):
    """Meta sent the person's answers once more and they could not be read: a failed inbox row,
    no lead. Erasure finds their values there as well; other people's failed rows stay."""
    theirs = {
        "field_data": [{"name": "email", "values": [EMAIL]}, {"name": "city", "values": ["?"]}]
    }
    others = {"field_data": [{"name": "email", "values": ["someone.else@example.com"]}]}
    for leadgen_id, payload in (("990001", theirs), ("990002", others)):
        db_session.add(
            WebhookEvent(
                leadgen_id=leadgen_id,
                status="failed",
                payload=payload,
                change={"leadgen_id": leadgen_id},
                last_error="unreadable answers",
            )
        )
    db_session.commit()

    erase(client, login_as)

    assert leftovers(db_session, [EMAIL]) == []
    kept = db_session.scalar(select(WebhookEvent).where(WebhookEvent.leadgen_id == "990002"))
    assert kept.payload == others
