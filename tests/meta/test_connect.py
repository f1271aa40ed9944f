"""Connecting a distributor's Page: token checked with Meta, stored encrypted, forms read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadhub import crypto
from leadhub.errors import Forbidden, InvalidInput
from leadhub.meta import service as meta
from leadhub.meta.models import ConnectionStatus, InboxStatus, PageConnection, WebhookEvent
from tests.meta.conftest import sample


class PageGraph:
    """What connect_page asks of Meta, answered with the sample payloads."""

    def __init__(self, *, scopes=("leads_retrieval", "pages_manage_metadata"), valid=True):
        self.info = {
            **sample("debug_token.json")["data"],
            "is_valid": valid,
            "scopes": list(scopes),
        }
        self.subscribed: list[str] = []

    def debug_token(self, token):
        return self.info

    def page(self, page_id, *, token):
        return {"id": page_id, "name": "Istanbul Smile Clinic"}

    def subscribe_page(self, page_id, *, token):
        self.subscribed.append(page_id)
        return True

    def page_forms(self, page_id, *, token):
        return iter(sample("leadgen_forms.json")["data"])

    def close(self):
        pass


def test_connect_a_page(db_session, distributor, users):
    graph = PageGraph()
    connection = meta.connect_page(
        db_session,
        distributor=distributor,
        page_id="104857392011234",
        token="EAAB-page-token",
        actor=users["admin"],
        graph=graph,
    )
    db_session.flush()
    assert connection.status is ConnectionStatus.ACTIVE and connection.subscribed
    assert connection.page_name == "Istanbul Smile Clinic"
    assert "EAAB-page-token" not in connection.token_encrypted
    assert crypto.decrypt(connection.token_encrypted) == "EAAB-page-token"
    forms = {f.form_id: f for f in connection.forms}
    assert len(forms) == len(sample("leadgen_forms.json")["data"])
    first = sample("leadgen_forms.json")["data"][0]
    assert forms[first["id"]].questions["questions"] == first["questions"]
    assert graph.subscribed == ["104857392011234"]


def test_a_new_token_reactivates_and_replays_orphans(db_session, distributor):
    meta.record_changes(
        db_session,
        [{"leadgen_id": "77", "page_id": "104857392011234", "form_id": None, "ad_id": None}],
    )
    assert db_session.scalars(select(WebhookEvent)).one().status is InboxStatus.ORPHAN
    connection = meta.connect_page(
        db_session,
        distributor=distributor,
        page_id="104857392011234",
        token="t1",
        actor=None,
        graph=PageGraph(),
    )
    connection.status = ConnectionStatus.NEEDS_REAUTH
    meta.connect_page(
        db_session,
        distributor=distributor,
        page_id="104857392011234",
        token="t2",
        actor=None,
        graph=PageGraph(),
    )
    assert connection.status is ConnectionStatus.ACTIVE
    db_session.expire_all()
    assert db_session.scalars(select(WebhookEvent)).one().status is InboxStatus.PENDING
    assert len(db_session.scalars(select(PageConnection)).all()) == 1


@pytest.mark.parametrize(
    "graph, error",
    [
        (PageGraph(valid=False), InvalidInput),
        (PageGraph(scopes=("pages_show_list",)), InvalidInput),
    ],
)
def test_tokens_meta_rejects_are_refused(db_session, distributor, graph, error):
    with pytest.raises(error):
        meta.connect_page(
            db_session, distributor=distributor, page_id="1", token="t", actor=None, graph=graph
        )


def test_a_page_belongs_to_one_distributor(db_session, distributor, other_distributor):
    meta.connect_page(
        db_session, distributor=distributor, page_id="5", token="t", actor=None, graph=PageGraph()
    )
    with pytest.raises(Forbidden):
        meta.connect_page(
            db_session,
            distributor=other_distributor,
            page_id="5",
            token="t",
            actor=None,
            graph=PageGraph(),
        )


def test_app_settings_from_the_database_when_the_environment_is_silent(db_session, users):
    meta.save_app_settings(
        db_session, app_id="42", app_secret="s3cret", verify_token="v", actor=users["superadmin"]
    )
    settings = meta.app_settings(db_session, {})
    assert (settings.app_id, settings.app_secret, settings.verify_token) == ("42", "s3cret", "v")
    assert meta.app_settings(db_session, {"META_APP_SECRET": "env"}).app_secret == "env"
