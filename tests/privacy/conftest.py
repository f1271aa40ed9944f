"""Privacy fixtures: one person's leads in two distributors, the Meta simulator, an outbox row."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from leadhub.db import Base, utcnow
from leadhub.meta import service as meta
from leadhub.meta.graph import GraphClient
from leadhub.simulator import Faults, World, build_payload, create_app, sign
from tests.factories import InteractionFactory

VERSION = "v27.0"
NAME = "Zeynep Kılıçaslan"
EMAIL = "zeynep.kilicaslan@example.org"
PHONE = "+905321234567"
CITY = "Eskişehir"
ANSWER = "Type 2 diabetes since 2019"
NOTE = "Prefers calls after six, ask for Mehmet Bey"
META_ID = "998877665544332211"
OTHER = {
    "full_name": "Omar Haddad",
    "email": "omar.haddad@example.net",
    "phone": "+971501112233",
    "city": "Sharjah",
    "answer": "Knee surgery in 2021",
}


@pytest.fixture
def person_leads(lead_factory, other_distributor) -> list[Any]:
    """The same person twice (two distributors, by phone and by email) and one other person."""
    first = lead_factory(
        full_name=NAME,
        email=EMAIL,
        phone=PHONE,
        city=CITY,
        meta_lead_id=META_ID,
        answers={"medical_history": ANSWER, "which_treatment": "hair_transplant"},
        consent={"kvkk_consent": True, "marketing_consent": False},
        privacy_policy_url="https://clinic.example.com/privacy",
    )
    second = lead_factory(
        distributor_id=other_distributor.id,
        full_name=NAME,
        email=EMAIL,
        phone=None,
        answers={"medical_history": ANSWER},
    )
    other = lead_factory(
        full_name=OTHER["full_name"],
        email=OTHER["email"],
        phone=OTHER["phone"],
        city=OTHER["city"],
        answers={"medical_history": OTHER["answer"]},
    )
    InteractionFactory(lead_id=first.id, body=NOTE)
    return [first, second, other]


def add_outbox(db_session: Any, *, lead_id: int, to_address: str, subject: str) -> bool:
    """An email in the notifications outbox about a lead, when that table exists."""
    table = Base.metadata.tables.get("notification_outbox")
    if table is None:
        return False
    db_session.execute(
        insert(table).values(
            event_key=f"test:{lead_id}:{subject}"[:200],
            to_address=to_address,
            kind="hot_lead",
            template="hot_lead",
            language="en",
            lead_id=lead_id,
            params={"name": subject},
            subject=subject,
            body_text=f"About {subject}",
            status="sent",
            attempts=1,
            next_attempt_at=utcnow(),
            created_at=utcnow(),
        )
    )
    db_session.commit()
    return True


@pytest.fixture
def world():
    return World.seed_default(pages=1, forms_per_page=1, seed=11)


@pytest.fixture
def simulated(app, world, monkeypatch):
    """LeadHub's Graph client talks to the simulator in-process (as tests/meta does)."""
    graph_app = create_app(world, version=VERSION, faults=Faults(world, seed=11))
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
    connection = meta.connect_page(
        db_session,
        distributor=distributor,
        page_id=page.id,
        token=page.access_token,
        actor=None,
        graph=simulated(db_session, None),
    )
    db_session.commit()
    return connection


def deliver(client: Any, world: Any, leads: list[Any]) -> Any:
    body = build_payload(leads)
    return client.post(
        "/api/v1/meta/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, world.app_secret),
        },
    )
