"""LeadHub against the Meta simulator: the real Graph client, real signed deliveries, faults."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from leadhub.leads.models import Lead, Source
from leadhub.meta import service as meta
from leadhub.meta.graph import GraphClient
from leadhub.meta.models import ConnectionStatus, InboxStatus, PageConnection, WebhookEvent
from leadhub.simulator import Faults, World, build_payload, create_app, sign

VERSION = "v27.0"


@pytest.fixture
def world():
    return World.seed_default(pages=1, forms_per_page=2, seed=7)


@pytest.fixture
def faults(world):
    return Faults(world, seed=7)


@pytest.fixture
def simulated(app, world, faults, monkeypatch):
    """LeadHub's Graph client talks to the simulator in-process; retries do not really sleep."""
    graph_app = create_app(world, version=VERSION, faults=faults)
    monkeypatch.setitem(app.config, "META_APP_ID", world.app_id)
    monkeypatch.setitem(app.config, "META_APP_SECRET", world.app_secret)
    monkeypatch.setitem(app.config, "META_VERIFY_TOKEN", "verify")

    def client(session, config):
        return GraphClient(
            base_url="http://graph.test",
            version=VERSION,
            app_id=world.app_id,
            app_secret=world.app_secret,
            transport=httpx.WSGITransport(app=graph_app),
            sleep=lambda s: None,
        )

    monkeypatch.setattr(meta, "graph_client", client)
    return client


@pytest.fixture
def connected(simulated, world, db_session, distributor):
    page = world.pages()[0]
    graph = simulated(db_session, None)
    connection = meta.connect_page(
        db_session,
        distributor=distributor,
        page_id=page.id,
        token=page.access_token,
        actor=None,
        graph=graph,
    )
    db_session.commit()
    return connection


def deliver(client, world, leads, **options):
    body = build_payload(leads, **options)
    return client.post(
        "/api/v1/meta/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, world.app_secret),
        },
    )


def leads_in(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Lead))


def test_connecting_a_simulated_page_reads_its_forms(connected, world):
    assert connected.subscribed and connected.status is ConnectionStatus.ACTIVE
    assert {f.form_id for f in connected.forms} == {f.id for f in world.forms()}
    assert all(f.questions["questions"] for f in connected.forms)


def test_webhook_deliveries_become_leads_with_everything_meta_sent(
    client, connected, world, db_session
):
    made = world.add_leads(5)
    response = deliver(client, world, made)
    assert response.status_code == 200 and response.json["queued"] == 5
    stored = {lead.meta_lead_id: lead for lead in db_session.scalars(select(Lead))}
    assert set(stored) == {lead.id for lead in made}
    for original in made:
        lead = stored[original.id]
        assert lead.source is Source.META and lead.distributor_id == connected.distributor_id
        assert lead.form_id == original.form_id
        assert lead.answers  # every answer kept
        assert lead.full_name or lead.intake_warnings


def test_duplicate_and_out_of_order_deliveries_make_each_lead_once(
    client, connected, world, db_session
):
    made = world.add_leads(4)
    for batch in (made, list(reversed(made)), made[:2], made):
        assert deliver(client, world, batch, numeric_ids=True).status_code == 200
    assert leads_in(db_session) == 4
    assert db_session.scalar(select(func.count()).select_from(WebhookEvent)) == 4


def test_graph_500s_and_rate_limits_are_retried_until_the_lead_arrives(
    client, connected, world, faults, db_session
):
    faults.fail_next(2, status=500)
    faults.rate_limit_next(1, regain_minutes=0)
    made = world.add_leads(1)
    assert deliver(client, world, made).status_code == 200
    assert leads_in(db_session) == 1


def test_an_expired_token_waits_for_a_new_one_then_nothing_is_lost(
    client, connected, world, db_session, distributor, simulated
):
    page = world.pages()[0]
    world.expire_token(page.id)
    made = world.add_leads(3)
    deliver(client, world, made)
    assert leads_in(db_session) == 0
    db_session.expire_all()
    assert db_session.get(PageConnection, connected.id).status is ConnectionStatus.NEEDS_REAUTH
    new_token = world.renew_token(page.id)
    meta.connect_page(
        db_session,
        distributor=distributor,
        page_id=page.id,
        token=new_token,
        actor=None,
        graph=simulated(db_session, None),
    )
    db_session.commit()
    waiting = db_session.scalars(
        select(WebhookEvent.id).where(WebhookEvent.status == InboxStatus.PENDING)
    ).all()
    for event_id in waiting:  # what the reconciler does two minutes later
        meta.process_event(db_session, event_id=event_id, graph=simulated(db_session, None))
    db_session.commit()
    assert leads_in(db_session) == 3


def test_a_poll_catches_leads_no_webhook_announced(connected, world, db_session, simulated):
    world.add_leads(30)
    graph = simulated(db_session, None)
    total = 0
    for form in connected.forms:
        total += meta.sync_form(db_session, form=form, graph=graph, since=None).created
    assert total == 30 == leads_in(db_session)
