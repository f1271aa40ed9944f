"""Meta fixtures: an app secret, a connected Page, signed deliveries, a stand-in Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from leadhub import crypto
from leadhub.meta import service as meta
from leadhub.meta.models import LeadForm, PageConnection

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "meta"
APP_SECRET = "test_app_secret_do_not_use"
VERIFY_TOKEN = "verify-me"
PAGE_ID = "104857392011234"
FORM_ID = "834712093847561"


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeGraph:
    """Answers GET /{lead-id} from a dict, or raises what a test sets."""

    def __init__(self) -> None:
        self.leads: dict[str, Any] = {}
        self.errors: list[Exception] = []
        self.calls: list[str] = []

    def lead(self, leadgen_id: str, *, token: str) -> Any:
        self.calls.append(leadgen_id)
        if self.errors:
            raise self.errors.pop(0)
        return self.leads[leadgen_id]

    def close(self) -> None:
        pass


@pytest.fixture
def meta_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "META_APP_SECRET", APP_SECRET)
    monkeypatch.setitem(app.config, "META_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setitem(app.config, "META_APP_ID", "1234567890")
    return app


@pytest.fixture
def graph(monkeypatch):
    fake = FakeGraph()
    monkeypatch.setattr(meta, "graph_client", lambda session, config: fake)
    return fake


@pytest.fixture
def page(db_session, distributor):
    connection = PageConnection(
        distributor_id=distributor.id,
        page_id=PAGE_ID,
        page_name="Istanbul Smile Clinic",
        token_encrypted=crypto.encrypt("page-token-1"),
    )
    db_session.add(connection)
    db_session.flush()
    db_session.add(
        LeadForm(
            page_connection_id=connection.id,
            form_id=FORM_ID,
            name="Teeth whitening TR",
            locale="tr_TR",
        )
    )
    db_session.commit()
    return connection


def lead_payload(leadgen_id: str, **changes: Any) -> dict[str, Any]:
    payload = sample("lead.json")
    payload["id"] = leadgen_id
    payload.update(changes)
    return payload
