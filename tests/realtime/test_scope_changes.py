"""Live connections follow changes of scope: a lead given to someone else, a user's new access."""

from __future__ import annotations

import httpx

from leadhub.auth import service as accounts
from leadhub.auth.models import Role
from leadhub.auth.schemas import UserUpdate
from leadhub.db import db
from tests.factories import LeadFactory
from tests.realtime.conftest import WAIT, Live, People


def _patch(live: Live, key: str, lead_id: int, **fields: object) -> dict:
    current = httpx.get(
        f"{live.url}/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {key}"}
    ).json()
    response = httpx.patch(
        f"{live.url}/api/v1/leads/{lead_id}",
        json={"version": current["version"], **fields},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _note(live: Live, key: str, lead_id: int, body: str) -> None:
    httpx.post(
        f"{live.url}/api/v1/leads/{lead_id}/interactions",
        json={"kind": "note", "body": body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    ).raise_for_status()


def test_an_agent_whose_lead_is_given_to_another_is_told_and_leaves_its_page(
    live: Live, people: People
):
    agent, agent_two = people["agent"], people["agent_two"]
    lead = LeadFactory(
        distributor_id=people.distributor.id, assignee_id=agent.id, full_name="Moving Lead"
    )
    first = live.listener().connect(token=live.api_key(agent))
    second = live.listener().connect(token=live.api_key(agent_two))
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    first.emit("join_lead", {"lead_id": lead.id})
    first.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == ["Ayse Agent"])
    manager.emit("join_lead", {"lead_id": lead.id})
    manager_key = live.api_key(people["manager"])

    _patch(live, manager_key, lead.id, assignee_id=agent_two.id)

    assert first.wait_for("lead_removed", lambda d: d["lead_id"] == lead.id)
    second.wait_for("lead_updated", lambda d: d["lead_id"] == lead.id)
    # The manager, who still sees the lead, sees the agent leave its page.
    manager.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == ["Mert Manager"])
    assert second.received("lead_removed") == []
    assert manager.received("lead_removed") == []

    # Out of the lead's room: later changes reach the new assignee, not the previous one.
    updates_before = len(first.received("lead_updated"))
    _note(live, manager_key, lead.id, "handed over")
    second.wait_for("lead_updated", lambda d: d["changes"].get("interaction") == "note")
    manager.wait_for("lead_updated", lambda d: d["changes"].get("interaction") == "note")
    assert len(first.received("lead_updated")) == updates_before


def test_a_lead_taken_from_the_pool_leaves_the_other_agents_desks(live: Live, people: People):
    agent, agent_two = people["agent"], people["agent_two"]
    lead = LeadFactory(distributor_id=people.distributor.id, full_name="Pool Lead")
    first = live.listener().connect(token=live.api_key(agent))
    second = live.listener().connect(token=live.api_key(agent_two))

    _patch(live, live.api_key(people["manager"]), lead.id, assignee_id=agent.id)

    assert second.wait_for("lead_removed", lambda d: d["lead_id"] == lead.id)
    first.wait_for("lead_updated", lambda d: d["lead_id"] == lead.id)
    assert first.received("lead_removed") == []


def test_a_user_whose_access_changes_is_told_and_disconnected(live: Live, people: People):
    manager, viewer = people["manager"], people["viewer"]
    moved = live.listener().connect(token=live.api_key(manager))
    deactivated = live.listener().connect(cookie=live.session_cookie(viewer))
    unaffected = live.listener().connect(token=live.api_key(people["agent"]))

    admin = db.session.get(type(manager), people["admin"].id)
    accounts.update(
        db.session,
        user=db.session.get(type(manager), manager.id),
        data=UserUpdate(distributor_id=people.other_distributor.id, role=Role.MANAGER),
        actor=admin,
    )
    accounts.update(
        db.session,
        user=db.session.get(type(viewer), viewer.id),
        data=UserUpdate(active=False),
        actor=admin,
    )
    db.session.commit()

    for listener in (moved, deactivated):
        listener.wait_for("access_changed")
        listener.wait_for("disconnect")
        assert not listener.client.connected
    assert unaffected.client.connected
    assert unaffected.received("access_changed") == []

    # Connecting again gives the manager the rooms of their new distributor.
    again = live.listener().connect(token=live.api_key(manager))
    created = httpx.post(
        f"{live.url}/api/v1/leads",
        json={"phone": "+905321112299", "full_name": "New Home Lead"},
        headers={"Authorization": f"Bearer {live.api_key(people['manager_other'])}"},
        timeout=WAIT,
    )
    assert created.status_code == 201, created.text
    again.wait_for("lead_created", lambda d: d["full_name"] == "New Home Lead")


def test_a_revoked_key_ends_the_connections_it_opened(live: Live, people: People):
    agent = people["agent"]
    key = live.api_key(agent)
    listener = live.listener().connect(token=key)
    api_key = max(accounts.list_api_keys(db.session, user=agent), key=lambda k: k.id)

    accounts.revoke_api_key(db.session, key_id=api_key.id, actor=agent)
    db.session.commit()

    listener.wait_for("disconnect")
    refused = live.listener()
    try:
        refused.connect(token=key)
    except Exception as error:  # noqa: BLE001 - the client raises its ConnectionError
        assert "ConnectionError" in type(error).__name__
    else:
        raise AssertionError("a revoked key connected")


def test_through_redis_a_user_is_disconnected_whichever_process_holds_the_connection(
    live_redis: Live, people_redis: People
):
    manager = people_redis["manager"]
    listener = live_redis.listener().connect(token=live_redis.api_key(manager))
    admin = db.session.get(type(manager), people_redis["admin"].id)

    accounts.update(
        db.session,
        user=db.session.get(type(manager), manager.id),
        data=UserUpdate(role=Role.VIEWER),
        actor=admin,
    )
    db.session.commit()

    listener.wait_for("access_changed")
    listener.wait_for("disconnect")
