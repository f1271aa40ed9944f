"""Live updates through a real Socket.IO client: who may connect, who receives what."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import socketio

from leadhub import crypto
from leadhub.auth.models import User
from leadhub.db import db
from leadhub.distributors.models import Distributor
from leadhub.intake import service as intake
from leadhub.leads.schemas import LeadCreate
from leadhub.meta import service as meta
from leadhub.meta.models import PageConnection
from leadhub.realtime import handlers
from tests.factories import LeadFactory
from tests.meta.conftest import FORM_ID, lead_payload, sign
from tests.realtime.conftest import REDIS_URL, WAIT, Live, People, _serve

ROOT = Path(__file__).resolve().parents[2]
DIGITS = str.maketrans("abcdef", "123456")


def _create(live: Live, key: str, **fields: object) -> dict:
    """A lead entered through the API, as a person or an integration would."""
    body = {"phone": "+905321112233", **fields}
    response = httpx.post(
        f"{live.url}/api/v1/leads",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _named(name: str):
    return lambda data: data.get("full_name") == name


def test_a_connection_without_a_session_or_a_valid_key_is_refused(live: Live, people: People):
    for token, transport in ((None, "polling"), ("lh_not-a-real-key", "websocket")):
        listener = live.listener()
        with pytest.raises(socketio.exceptions.ConnectionError):
            listener.connect(token=token, transports=[transport])
        assert listener.received("ready") == []  # no rooms joined, no counts sent


def test_a_signed_in_page_connects_with_its_session_cookie(live: Live, people: People):
    cookie = live.session_cookie(people["manager"])
    listener = live.listener().connect(cookie=cookie, transports=["polling"])
    _create(
        live,
        live.api_key(people["admin"]),
        distributor_id=people.distributor.id,
        full_name="Selin Cookie",
        treatment="dental",
    )

    row = listener.wait_for("lead_created", _named("Selin Cookie"))
    assert row["distributor_id"] == people.distributor.id
    assert row["status"] == "new"
    assert row["treatment"] == "dental"
    assert row["phone"] == "+905321112233"


def test_a_new_lead_reaches_everyone_in_scope_and_nobody_else(live: Live, people: People):
    listeners = {
        who: live.listener().connect(token=live.api_key(people[who]))
        for who in ("admin", "manager", "viewer", "agent", "agent_two", "manager_other")
    }
    admin_key = live.api_key(people["admin"])
    _create(live, admin_key, distributor_id=people.distributor.id, full_name="Pool Lead")
    for who in ("admin", "manager", "viewer", "agent", "agent_two"):
        listeners[who].wait_for("lead_created", _named("Pool Lead"))

    agent = people["agent"]
    _create(
        live,
        admin_key,
        distributor_id=people.distributor.id,
        full_name="Ayse's Lead",
        assignee_id=agent.id,
    )
    listeners["agent"].wait_for("lead_created", _named("Ayse's Lead"))
    listeners["manager"].wait_for("lead_created", _named("Ayse's Lead"))
    # Events reach one client in the order they were sent: once a later lead has arrived, an
    # earlier one meant for this client would have arrived before it.
    _create(live, admin_key, distributor_id=people.distributor.id, full_name="Second Pool Lead")
    _create(live, admin_key, distributor_id=people.other_distributor.id, full_name="Dubai Lead")
    listeners["agent_two"].wait_for("lead_created", _named("Second Pool Lead"))
    listeners["manager_other"].wait_for("lead_created", _named("Dubai Lead"))
    listeners["admin"].wait_for("lead_created", _named("Dubai Lead"))

    names = {
        who: [r["full_name"] for r in lis.received("lead_created")]
        for who, lis in listeners.items()
    }
    assert "Ayse's Lead" not in names["agent_two"]  # another agent's lead
    assert names["manager_other"] == ["Dubai Lead"]  # nothing of another distributor
    assert "Dubai Lead" not in names["manager"] + names["agent"] + names["viewer"]


def test_agents_get_no_unassigned_leads_when_their_distributor_says_so(live: Live, people: People):
    db.session.get(Distributor, people.distributor.id).agents_see_unassigned = False
    db.session.commit()
    agent = live.listener().connect(token=live.api_key(people["agent"]))
    admin_key = live.api_key(people["admin"])
    _create(live, admin_key, distributor_id=people.distributor.id, full_name="Closed Pool Lead")
    _create(
        live,
        admin_key,
        distributor_id=people.distributor.id,
        full_name="Assigned To Ayse",
        assignee_id=people["agent"].id,
    )

    agent.wait_for("lead_created", _named("Assigned To Ayse"))
    assert [r["full_name"] for r in agent.received("lead_created")] == ["Assigned To Ayse"]


def test_a_change_reaches_the_scope_with_fields_version_and_actor(live: Live, people: People):
    lead = LeadFactory(distributor_id=people.distributor.id, full_name="Hakan Change")
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    other = live.listener().connect(token=live.api_key(people["manager_other"]))
    response = httpx.patch(
        f"{live.url}/api/v1/leads/{lead.id}",
        json={"version": lead.version, "status": "contacted"},
        headers={"Authorization": f"Bearer {live.api_key(people['manager'])}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text

    update = manager.wait_for("lead_updated", lambda d: d["lead_id"] == lead.id)
    assert update["changes"]["status"] == "contacted"
    assert update["version"] == response.json()["version"]
    assert update["actor"] == {"id": people["manager"].id, "name": "Mert Manager"}
    _create(
        live,
        live.api_key(people["admin"]),
        distributor_id=people.other_distributor.id,
        full_name="Barrier Lead",
    )
    other.wait_for("lead_created", _named("Barrier Lead"))
    assert other.received("lead_updated") == []


def test_joining_a_lead_out_of_scope_is_an_error_and_presence_shows_viewers(
    live: Live, people: People
):
    lead = LeadFactory(distributor_id=people.distributor.id, full_name="Presence Lead")
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    admin = live.listener().connect(token=live.api_key(people["admin"]))
    outsider = live.listener().connect(token=live.api_key(people["manager_other"]))

    outsider.emit("join_lead", {"lead_id": lead.id})
    error = outsider.wait_for("error")
    assert error["code"] == "not_found"
    assert error["lead_id"] == lead.id

    manager.emit("join_lead", {"lead_id": lead.id})
    manager.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == ["Mert Manager"])
    admin.emit("join_lead", {"lead_id": lead.id})
    both = ["Ali Admin", "Mert Manager"]
    manager.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == both)
    admin.emit("leave_lead", {"lead_id": lead.id})
    manager.wait_for(
        "presence",
        lambda d: (
            len(manager.received("presence")) >= 3
            and [v["name"] for v in d["viewers"]] == ["Mert Manager"]
        ),
    )

    # The lead's own room carries its changes, and the outsider never joined it.
    httpx.post(
        f"{live.url}/api/v1/leads/{lead.id}/interactions",
        json={"kind": "note", "body": "called back"},
        headers={"Authorization": f"Bearer {live.api_key(people['manager'])}"},
        timeout=WAIT,
    ).raise_for_status()
    manager.wait_for("lead_updated", lambda d: d["lead_id"] == lead.id)
    outsider.emit("join_lead", {"lead_id": "not a number"})
    assert outsider.wait_for("error", lambda d: d["code"] == "bad_request")
    assert outsider.received("presence") == []
    assert outsider.received("lead_updated") == []


def test_stats_are_coalesced_however_many_leads_arrive(live: Live, people: People):
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    before = manager.received("ready")[0]["stats"]["total"]
    admin = db.session.get(User, people["admin"].id)
    burst = 25
    started = time.monotonic()
    for n in range(burst):
        with db.transaction() as session:
            data = LeadCreate(
                distributor_id=people.distributor.id, full_name=f"Burst {n}", phone="+905320000000"
            )
            intake.create_manual(session, data=data, actor=admin)

    manager.wait_for("lead_created", _named(f"Burst {burst - 1}"))
    final = manager.wait_for("stats_updated", lambda d: d["total"] == before + burst)
    elapsed = time.monotonic() - started
    sent = manager.received("stats_updated")
    assert final["counts"]["new"] >= burst
    # at most one a second, and one more for the first lead of the burst
    assert len(sent) <= math.ceil(elapsed) + 1
    assert len(sent) < burst


def test_a_lead_made_in_a_worker_process_reaches_a_web_client_through_redis(
    live_redis: Live, people_redis: People
):
    people = people_redis
    admin = live_redis.listener().connect(token=live_redis.api_key(people["admin"]))
    outsider = live_redis.listener().connect(token=live_redis.api_key(people["manager_other"]))
    env = {
        **os.environ,
        "DATABASE_URL": live_redis.database_url,
        "REDIS_URL": REDIS_URL,
        "LEADHUB_REALTIME_CHANNEL": live_redis.channel or "",
    }
    subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "tests.realtime.worker_process",
            str(people.distributor.id),
            str(people["admin"].id),
            "Worker Lead",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )

    row = admin.wait_for("lead_created", _named("Worker Lead"))
    assert row["distributor_id"] == people.distributor.id
    admin.wait_for("stats_updated")
    _create(
        live_redis,
        live_redis.api_key(people["admin"]),
        distributor_id=people.other_distributor.id,
        full_name="Barrier Lead",
    )
    outsider.wait_for("lead_created", _named("Barrier Lead"))
    assert [r["full_name"] for r in outsider.received("lead_created")] == ["Barrier Lead"]


def test_a_page_gone_before_its_lead_is_joined_is_let_go(
    live: Live, people: People, monkeypatch: pytest.MonkeyPatch
):
    """The lead is checked, then the room joined; a page that left in between is no error."""
    lead = LeadFactory(distributor_id=people.distributor.id, full_name="Gone Lead")
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    tried = threading.Event()

    def gone(room: str, **_: object) -> None:
        tried.set()
        # what python-socketio raises once no client of the namespace is left (CI saw it)
        raise ValueError("sid is not connected to requested namespace")

    monkeypatch.setattr(handlers, "join_room", gone)
    manager.emit("join_lead", {"lead_id": lead.id})
    assert tried.wait(WAIT)
    monkeypatch.undo()
    manager.emit("join_lead", {"lead_id": lead.id})
    manager.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == ["Mert Manager"])
    assert len(manager.received("presence")) == 1  # the first join added no viewer


def test_two_web_processes_share_events_and_presence_through_redis(
    live_redis: Live, people_redis: People, redis_channel: str, live_database: str
):
    people = people_redis
    # a second web process: its own Socket.IO server and presence, the same Redis channel
    second = _serve({"REDIS_URL": REDIS_URL, "REALTIME_CHANNEL": redis_channel}, live_database)
    other_web = next(second)
    try:
        manager = live_redis.listener().connect(token=live_redis.api_key(people["manager"]))
        admin = other_web.listener().connect(
            token=live_redis.api_key(people["admin"]), transports=["polling"]
        )
        _create(
            live_redis,
            live_redis.api_key(people["manager"]),
            distributor_id=people.distributor.id,
            full_name="Shared Lead",
        )
        row = admin.wait_for("lead_created", _named("Shared Lead"))

        manager.emit("join_lead", {"lead_id": row["id"]})
        admin.emit("join_lead", {"lead_id": row["id"]})
        both = ["Ali Admin", "Mert Manager"]
        manager.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == both)
        admin.wait_for("presence", lambda d: [v["name"] for v in d["viewers"]] == both)
    finally:
        next(second, None)


class _Graph:
    """Meta's Graph API as the webhook job reads it: the sample lead under the asked id."""

    def lead(self, leadgen_id: str, *, token: str) -> dict:
        return lead_payload(leadgen_id)

    def close(self) -> None:
        pass


def test_a_lead_from_a_meta_webhook_reaches_the_desk(live: Live, people: People, monkeypatch):
    monkeypatch.setattr(meta, "graph_client", lambda session, config: _Graph())
    page_id, leadgen_id = "7" + uuid.uuid4().hex[:12].translate(DIGITS), "9" + str(time.time_ns())
    connection = PageConnection(
        distributor_id=people.distributor.id, page_id=page_id, token_encrypted=crypto.encrypt("t")
    )
    db.session.add(connection)
    db.session.commit()
    manager = live.listener().connect(token=live.api_key(people["manager"]))
    change = {"leadgen_id": leadgen_id, "page_id": page_id, "form_id": FORM_ID}
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "time": 1767225612,
                    "changes": [{"field": "leadgen", "value": change}],
                }
            ],
        }
    ).encode()
    response = httpx.post(
        f"{live.url}/api/v1/meta/webhook",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text

    row = manager.wait_for("lead_created", lambda d: d["distributor_id"] == people.distributor.id)
    assert row["full_name"] == lead_payload(leadgen_id)["field_data"][0]["values"][0]
    assert row["platform"] == "facebook"
