"""Settings → Meta in the browser's terms: forms, links, alerts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub import crypto
from leadhub.meta import service as meta
from leadhub.meta.models import ConnectionStatus, InboxStatus, LeadForm, MetaApp, WebhookEvent
from tests.conftest import post_form
from tests.meta.conftest import PAGE_ID, lead_payload
from tests.meta.test_connect import PageGraph


@pytest.mark.parametrize(
    "role, status",
    [("superadmin", 200), ("admin", 200), ("manager", 403), ("agent", 403), ("viewer", 403)],
)
def test_meta_settings_are_for_admins(client, login_as, role, status):
    login_as(role)
    assert client.get("/settings/meta/").status_code == status


def test_superadmin_saves_the_app_and_secrets_are_never_shown(client, login_as, db_session):
    login_as("superadmin")
    post_form(
        client, "/settings/meta/app", app_id="1234", app_secret="very-secret", verify_token="tok"
    )
    row = db_session.get(MetaApp, 1)
    assert row.app_id == "1234" and crypto.decrypt(row.app_secret_encrypted) == "very-secret"
    page = client.get("/settings/meta/").get_data(as_text=True)
    assert "very-secret" not in page and "1234" in page
    login_as("admin")
    assert post_form(client, "/settings/meta/app", app_id="9").status_code == 403


def test_admin_connects_a_page_and_maps_a_form(
    client, login_as, distributor, monkeypatch, db_session
):
    monkeypatch.setattr(meta, "graph_client", lambda session, config: PageGraph())
    login_as("admin")
    response = post_form(
        client,
        "/settings/meta/pages",
        distributor_id=distributor.id,
        page_id=PAGE_ID,
        token="EAAB-secret-token",
    )
    assert response.status_code == 302
    page = client.get("/settings/meta/").get_data(as_text=True)
    assert "Istanbul Smile Clinic" in page and "EAAB-secret-token" not in page
    form = db_session.scalars(select(LeadForm)).first()
    key = form.questions["questions"][0]["key"]
    assert client.get(f"/settings/meta/forms/{form.id}").status_code == 200
    post_form(
        client,
        f"/settings/meta/forms/{form.id}",
        **{f"map:{key}": "full_name"},
        treatment="veneers",
    )
    db_session.expire_all()
    form = db_session.get(LeadForm, form.id)
    assert form.field_mapping == {key: "full_name"} and form.treatment == "veneers"
    refused = post_form(
        client, f"/settings/meta/forms/{form.id}", **{"map:not-a-question": "email"}
    )
    assert "Map the form" in refused.get_data(as_text=True)


def test_a_page_needing_a_token_is_announced_to_admins(client, login_as, page, db_session):
    page.status = ConnectionStatus.NEEDS_REAUTH
    db_session.commit()
    login_as("admin")
    assert 'id="meta-reauth-alert"' in client.get("/leads").get_data(as_text=True)
    login_as("manager")
    assert 'id="meta-reauth-alert"' not in client.get("/leads").get_data(as_text=True)


def test_replay_a_failed_delivery(client, login_as, page, graph, db_session):
    ids = meta.record_changes(
        db_session, [{"leadgen_id": "991", "page_id": PAGE_ID, "form_id": None, "ad_id": None}]
    )
    event = db_session.get(WebhookEvent, ids[0])
    event.status, event.last_error = InboxStatus.FAILED, "Meta was confused"
    db_session.commit()
    login_as("admin")
    assert "Meta was confused" in client.get("/settings/meta/").get_data(as_text=True)
    graph.leads["991"] = lead_payload("991")
    post_form(client, f"/settings/meta/deliveries/{ids[0]}/replay")
    db_session.expire_all()
    assert db_session.get(WebhookEvent, ids[0]).status is InboxStatus.DONE
