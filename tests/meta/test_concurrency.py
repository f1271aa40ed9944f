"""Deliveries racing each other on a real server and real connections: still one lead each."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from leadhub import crypto
from leadhub.app import create_app
from leadhub.db import Base, db
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead
from leadhub.meta import service as meta
from leadhub.meta.models import InboxSource, LeadForm, PageConnection, WebhookEvent
from leadhub.migrate import upgrade
from tests.meta.conftest import APP_SECRET, FORM_ID, PAGE_ID, SAMPLES, lead_payload, sign


class SlowGraph:
    """A Graph stand-in that answers slowly, so racing requests really overlap."""

    def lead(self, leadgen_id, *, token):
        time.sleep(0.05)
        return lead_payload(leadgen_id)

    def form_leads(self, form_id, *, token, since=None, limit=100):
        time.sleep(0.05)
        return iter([lead_payload("1290384756102938"), lead_payload("1290384756102939")])

    def close(self):
        pass


def _fresh_database(database_url: str, tmp_path) -> str:
    if not database_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path / 'race.db'}"
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = 'leadhub_race'")):
            conn.execute(text("CREATE DATABASE leadhub_race"))
    admin.dispose()
    race_url = url.set(database="leadhub_race").render_as_string(hide_password=False)
    engine = create_engine(race_url)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return race_url


@pytest.fixture
def race(app, database_url, db_session, tmp_path, monkeypatch):
    """LeadHub served by a threaded server on its own database, with a connected Page."""
    url = _fresh_database(database_url, tmp_path)
    upgrade(url)
    previous = db.engine
    race_app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "META_APP_SECRET": APP_SECRET,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    monkeypatch.setattr(meta, "graph_client", lambda session, config: SlowGraph())
    with db.transaction() as session:
        distributor = Distributor(name="Race Agency", country="TR")
        session.add(distributor)
        session.flush()
        connection = PageConnection(
            distributor_id=distributor.id, page_id=PAGE_ID, token_encrypted=crypto.encrypt("token")
        )
        session.add(connection)
        session.flush()
        session.add(LeadForm(page_connection_id=connection.id, form_id=FORM_ID, locale="tr_TR"))
    server = make_server("127.0.0.1", 0, race_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)
    race_engine, db.engine = db.engine, previous
    db.session.remove()
    db.session.configure(bind=previous)
    race_engine.dispose()


def _count(model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_same_delivery_three_times_at_once(race):
    body = (SAMPLES / "webhook_leadgen.json").read_bytes()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)}

    def deliver(_):
        with httpx.Client(base_url=race, timeout=30) as client:
            return client.post("/api/v1/meta/webhook", content=body, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=3) as pool:
        statuses = list(pool.map(deliver, range(3)))
    assert statuses == [200, 200, 200]
    assert _count(WebhookEvent) == 3  # two for the connected Page, one orphan
    assert _count(Lead) == 2


def test_a_webhook_job_and_a_poll_racing_for_the_same_lead(race):
    with db.transaction() as session:
        ids = meta.record_changes(
            session,
            [
                {
                    "leadgen_id": "1290384756102938",
                    "page_id": PAGE_ID,
                    "form_id": FORM_ID,
                    "ad_id": None,
                }
            ],
        )

    def process(_):
        with db.transaction() as session:
            meta.process_event(session, event_id=ids[0], graph=SlowGraph())

    def poll(_):
        with db.transaction() as session:
            form = session.scalars(select(LeadForm)).one()
            meta.sync_form(
                session, form=form, graph=SlowGraph(), since=None, source=InboxSource.POLL
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [
            pool.submit(process, 1),
            pool.submit(process, 2),
            pool.submit(poll, 3),
            pool.submit(poll, 4),
        ]:
            future.result()
    assert _count(Lead) == 2
