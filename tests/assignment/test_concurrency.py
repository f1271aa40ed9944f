"""Leads arriving together on separate connections: round robin stays perfectly even."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from leadhub import crypto
from leadhub.app import create_app
from leadhub.assignment.models import AssignmentRule, Strategy
from leadhub.auth.models import Role, User
from leadhub.db import db
from leadhub.distributors.models import Distributor
from leadhub.intake import service as intake
from leadhub.leads.models import Lead
from leadhub.leads.schemas import LeadCreate
from leadhub.meta.models import PageConnection
from leadhub.migrate import upgrade
from tests.meta.conftest import lead_payload

AGENTS = 7
LEADS = 60
THREADS = 10  # the pool holds 15 connections; each intake may use two


def _fresh_database(database_url: str, tmp_path) -> str:  # noqa: ANN001
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'assign_race.db'}"
    url = make_url(database_url)
    name = f"{url.database}_assign_race"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    race_url = url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(race_url)
    with engine.begin() as conn:  # from nothing, whatever an earlier schema left behind
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return race_url


@pytest.fixture
def race(app, database_url, db_session, tmp_path):  # noqa: ANN001
    """LeadHub on a database of its own, with a distributor, its agents and a round robin rule."""
    url = _fresh_database(database_url, tmp_path)
    upgrade(url)
    previous = db.engine
    race_app = create_app({"DATABASE_URL": url, "TESTING": True})
    with db.transaction() as session:
        distributor = Distributor(name="Race Agency", country="TR", language="tr")
        session.add(distributor)
        session.flush()
        session.add_all(
            User(
                email=f"race{n}@example.com",
                name=f"Race Agent {n}",
                role=Role.AGENT,
                distributor_id=distributor.id,
            )
            for n in range(AGENTS)
        )
        manager = User(
            email="race-manager@example.com",
            name="Race Manager",
            role=Role.MANAGER,
            distributor_id=distributor.id,
        )
        page = PageConnection(
            distributor_id=distributor.id,
            page_id="104857392077001",
            page_name="Race Page",
            token_encrypted=crypto.encrypt("token"),
        )
        session.add_all([manager, page])
        session.add(AssignmentRule(distributor_id=distributor.id, strategy=Strategy.ROUND_ROBIN))
        session.flush()
        ids = {"distributor": distributor.id, "manager": manager.id, "page": page.id}
    yield race_app, ids
    race_engine, db.engine = db.engine, previous
    db.session.remove()
    db.session.configure(bind=previous)
    race_engine.dispose()


def _spread() -> Counter[int]:
    with db.transaction() as session:
        return Counter(session.scalars(select(Lead.assignee_id)))


def _run_together(work) -> None:  # noqa: ANN001
    start = threading.Barrier(THREADS)

    def one_thread(n: int) -> None:
        start.wait()
        for i in range(n, LEADS, THREADS):
            work(i)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(one_thread, range(THREADS)))


def test_leads_entered_at_once_are_spread_evenly(race):
    race_app, ids = race

    def enter(i: int) -> None:
        with race_app.app_context(), db.transaction() as session:
            data = LeadCreate(
                distributor_id=ids["distributor"],
                full_name=f"Racer {i}",
                phone=f"+90532{7000000 + i:07d}",
            )
            intake.create_manual(session, data=data, actor=session.get(User, ids["manager"]))

    _run_together(enter)
    spread = _spread()
    assert sum(spread.values()) == LEADS and None not in spread
    assert len(spread) == AGENTS
    assert max(spread.values()) - min(spread.values()) <= 1, spread


def test_leads_from_meta_at_once_are_spread_evenly(race):
    race_app, ids = race

    def ingest(i: int) -> None:
        payload = lead_payload(
            str(9100000 + i),
            field_data=[
                {"name": "full_name", "values": [f"Meta Racer {i}"]},
                {"name": "phone_number", "values": [f"+4522{100000 + i}"]},
            ],
        )
        with race_app.app_context(), db.transaction() as session:
            page = session.get(PageConnection, ids["page"])
            intake.ingest_meta(session, payload=payload, connection=page)

    _run_together(ingest)
    spread = _spread()
    assert sum(spread.values()) == LEADS and None not in spread
    assert len(spread) == AGENTS
    assert max(spread.values()) - min(spread.values()) <= 1, spread
