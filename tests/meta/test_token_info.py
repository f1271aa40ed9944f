"""Who and what a Page token can reach: debug_token's answer kept, shown, and checked again."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from sqlalchemy import select

from leadhub.meta import service as meta
from leadhub.meta.graph import GraphClient, GraphUnavailable
from leadhub.meta.models import ConnectionStatus, PageConnection
from leadhub.simulator import World
from leadhub.simulator import create_app as create_simulator
from tests.conftest import post_form
from tests.meta.conftest import PAGE_ID, sample
from tests.meta.test_connect import PageGraph

VERSION = "v27.0"
TOKEN = "EAAB-secret-page-token"
DEBUG_TOKEN = sample("debug_token.json")["data"]


def token_block(page: str, connection_id: int) -> str:
    """The Page's card on Settings → Meta, tags removed."""
    match = re.search(
        rf'<div class="card mb-3" id="page-{connection_id}">(.*?)</table>', page, re.S
    )
    assert match, f"no card for Page connection {connection_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1)))


def connect(client, distributor, page_id=PAGE_ID, token=TOKEN):
    response = post_form(
        client,
        "/settings/meta/pages",
        distributor_id=distributor.id,
        page_id=page_id,
        token=token,
    )
    assert response.status_code == 302
    return response


def connection_of(db_session, page_id=PAGE_ID) -> PageConnection:
    db_session.expire_all()
    return db_session.scalars(select(PageConnection).where(PageConnection.page_id == page_id)).one()


def test_connecting_keeps_what_debug_token_said_and_never_the_token(
    client, login_as, distributor, monkeypatch, db_session
):
    monkeypatch.setattr(
        meta, "graph_client", lambda session, config: PageGraph(scopes=DEBUG_TOKEN["scopes"])
    )
    login_as("admin")
    connect(client, distributor)
    connection = connection_of(db_session)
    assert connection.token_info == {
        "is_valid": True,
        "type": "PAGE",
        "app_id": DEBUG_TOKEN["app_id"],
        "application": DEBUG_TOKEN["application"],
        "user_id": DEBUG_TOKEN["user_id"],
        "profile_id": PAGE_ID,
        "scopes": DEBUG_TOKEN["scopes"],
        "granular_targets": {
            "leads_retrieval": [PAGE_ID],
            "pages_manage_metadata": [PAGE_ID],
        },
        "expires_at": 0,
        "data_access_expires_at": DEBUG_TOKEN["data_access_expires_at"],
    }
    assert connection.token_checked_at is not None
    assert TOKEN not in json.dumps(connection.token_info)

    card = token_block(client.get("/settings/meta/").get_data(as_text=True), connection.id)
    for scope in DEBUG_TOKEN["scopes"]:
        assert scope in card
    assert "Token expires never" in card
    assert "Data access until 3/31/26" in card  # 1774915200, in the admin's time zone (UTC)
    assert "Last checked" in card and "valid PAGE token" in card
    assert f"given by Facebook user {DEBUG_TOKEN['user_id']}" in card
    assert "lacks permissions" not in card and TOKEN not in card


@pytest.mark.parametrize(
    "scopes, missing",
    [
        (("leads_retrieval", "pages_show_list"), "pages_manage_metadata, pages_read_engagement"),
        (("leads_retrieval", "pages_manage_metadata", "pages_show_list"), "pages_read_engagement"),
    ],
)
def test_a_token_without_a_needed_permission_is_warned_about(
    client, login_as, distributor, monkeypatch, db_session, scopes, missing
):
    monkeypatch.setattr(meta, "graph_client", lambda session, config: PageGraph(scopes=scopes))
    login_as("admin")
    connect(client, distributor)
    card = token_block(
        client.get("/settings/meta/").get_data(as_text=True), connection_of(db_session).id
    )
    assert f"This token lacks permissions LeadHub needs: {missing}." in card


def test_a_token_for_other_pages_leads_is_warned_about(
    client, login_as, distributor, monkeypatch, db_session
):
    graph = PageGraph()
    graph.info["granular_scopes"] = [{"scope": "leads_retrieval", "target_ids": ["999"]}]
    monkeypatch.setattr(meta, "graph_client", lambda session, config: graph)
    login_as("admin")
    connect(client, distributor)
    card = token_block(
        client.get("/settings/meta/").get_data(as_text=True), connection_of(db_session).id
    )
    assert "may read the leads of other Pages, not of this one" in card


# --- against the simulated Meta ----------------------------------------------------------------


@pytest.fixture
def world():
    return World.seed_default(pages=1, forms_per_page=1, seed=5)


@pytest.fixture
def simulated(app, world, monkeypatch):
    """LeadHub's real Graph client, talking to the simulator in-process."""
    graph_app = create_simulator(world, version=VERSION)
    monkeypatch.setitem(app.config, "META_APP_ID", world.app_id)
    monkeypatch.setitem(app.config, "META_APP_SECRET", world.app_secret)

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


def test_the_simulator_answers_debug_token_as_meta_does(simulated, world):
    page = world.pages()[0]
    with simulated(None, None) as graph:
        described = graph.debug_token(page.access_token)
    assert set(described) == set(DEBUG_TOKEN)
    for name, value in DEBUG_TOKEN.items():
        assert type(described[name]) is type(value), name
    assert (described["type"], described["profile_id"], described["expires_at"]) == (
        "PAGE",
        page.id,
        0,
    )
    assert set(meta.NEEDED_SCOPES) <= set(described["scopes"])
    granted = {item["scope"]: item["target_ids"] for item in described["granular_scopes"]}
    assert granted["leads_retrieval"] == granted["pages_manage_metadata"] == [page.id]


def test_check_token_again_after_meta_expired_it(
    client, login_as, distributor, simulated, world, db_session
):
    page = world.pages()[0]
    login_as("admin")
    connect(client, distributor, page_id=page.id, token=page.access_token)
    connection = connection_of(db_session, page.id)
    first_check = connection.token_checked_at
    assert connection.token_info["is_valid"] and connection.status is ConnectionStatus.ACTIVE

    world.expire_token(page.id)
    response = post_form(client, f"/settings/meta/pages/{connection.id}/token")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/settings/meta/#page-{connection.id}")

    connection = connection_of(db_session, page.id)
    assert connection.status is ConnectionStatus.NEEDS_REAUTH
    assert connection.token_info["is_valid"] is False
    assert "Session has expired" in connection.token_info["error"]
    assert connection.token_checked_at > first_check
    assert page.access_token not in json.dumps(connection.token_info)
    assert page.access_token not in (connection.last_error or "")

    shown = client.get("/settings/meta/").get_data(as_text=True)
    assert "is not valid." in shown  # the flash
    card = token_block(shown, connection.id)
    assert "not valid" in card and "expired" in card and "Session has expired" in card
    assert 'id="meta-reauth-alert"' in shown


def test_check_token_again_brings_a_working_token_back(
    client, login_as, distributor, simulated, world, db_session
):
    page = world.pages()[0]
    login_as("admin")
    connect(client, distributor, page_id=page.id, token=page.access_token)
    connection = connection_of(db_session, page.id)
    connection.status, connection.last_error = ConnectionStatus.NEEDS_REAUTH, "(#190) a hiccup"
    db_session.commit()

    post_form(client, f"/settings/meta/pages/{connection.id}/token")
    connection = connection_of(db_session, page.id)
    assert connection.status is ConnectionStatus.ACTIVE and connection.last_error is None
    assert "works." in client.get("/settings/meta/").get_data(as_text=True)


def test_a_meta_outage_during_the_check_changes_nothing(
    client, login_as, page, monkeypatch, db_session
):
    class Down(PageGraph):
        def debug_token(self, token):
            raise GraphUnavailable("Meta is down", status=503)

    monkeypatch.setattr(meta, "graph_client", lambda session, config: Down())
    login_as("admin")
    post_form(client, f"/settings/meta/pages/{page.id}/token")
    connection = connection_of(db_session)
    assert connection.token_checked_at is None and connection.token_info == {}
    assert connection.status is ConnectionStatus.ACTIVE
    shown = client.get("/settings/meta/").get_data(as_text=True)
    assert "Meta refused: Meta is down" in shown
    assert "has not been checked with Meta yet" in token_block(shown, page.id)


@pytest.mark.parametrize(
    "role, status",
    [("superadmin", 302), ("admin", 302), ("manager", 403), ("agent", 403), ("viewer", 403)],
)
def test_only_admins_check_tokens(client, login_as, page, monkeypatch, role, status):
    monkeypatch.setattr(meta, "graph_client", lambda session, config: PageGraph())
    login_as(role)
    assert post_form(client, f"/settings/meta/pages/{page.id}/token").status_code == status


def test_checking_a_token_needs_the_forms_csrf_token(client, login_as, page, db_session):
    login_as("admin")
    assert client.post(f"/settings/meta/pages/{page.id}/token").status_code == 400
    assert connection_of(db_session).token_checked_at is None


def test_checking_a_page_that_is_not_there(client, login_as, monkeypatch):
    monkeypatch.setattr(meta, "graph_client", lambda session, config: PageGraph())
    login_as("admin")
    assert post_form(client, "/settings/meta/pages/99999/token").status_code == 404
