"""A bulk operation reaches open desks as one summary through a real Socket.IO client."""

from __future__ import annotations

from typing import Any

import httpx

from leadhub.bulk import batches
from tests.factories import LeadFactory
from tests.realtime.conftest import NAMESPACE, WAIT, Listener, Live, People


def _listen(live: Live, key: str) -> Listener:
    listener = live.listener()
    listener.client.on(
        "leads_bulk_updated", listener._recorder("leads_bulk_updated"), namespace=NAMESPACE
    )
    return listener.connect(token=key)


def _bulk(live: Live, people: People, ids: list[int]) -> dict[str, Any]:
    response = httpx.post(
        f"{live.url}/api/v1/leads/bulk",
        json={"action": "status", "status": "contacted", "ids": ids},
        headers={"Authorization": f"Bearer {live.api_key(people['admin'])}"},
        timeout=WAIT,
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_one_summary_and_no_per_lead_flood(live: Live, people: People, monkeypatch):
    monkeypatch.setattr(batches, "PER_LEAD_EVENTS", 2)  # 3 leads count as "many" here
    leads = [LeadFactory(distributor_id=people.distributor.id) for _ in range(3)]
    manager = _listen(live, live.api_key(people["manager"]))
    other = _listen(live, live.api_key(people["manager_other"]))

    job = _bulk(live, people, [x.id for x in leads])

    summary = manager.wait_for("leads_bulk_updated")
    assert summary == {
        "operation_id": job["id"],
        "kind": "status",
        "changed": 3,
        "actor_id": people["admin"].id,
    }
    stats = manager.wait_for("stats_updated", lambda data: data["counts"]["contacted"] == 3)
    assert stats["counts"]["new"] == 0
    assert manager.received("lead_updated") == []  # no per-lead flood
    assert other.received("leads_bulk_updated") == []  # another distributor hears nothing


def test_a_few_leads_also_get_their_own_lead_updated(live: Live, people: People):
    leads = [LeadFactory(distributor_id=people.distributor.id) for _ in range(2)]
    manager = _listen(live, live.api_key(people["manager"]))

    job = _bulk(live, people, [x.id for x in leads])

    manager.wait_for("leads_bulk_updated")
    for lead in leads:
        update = manager.wait_for("lead_updated", lambda data, i=lead.id: data["lead_id"] == i)
        assert update["changes"] == {"bulk_operation_id": job["id"], "status": "contacted"}
        assert update["version"] == 2
