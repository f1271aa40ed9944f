"""/api/v1/notifications: the caller's own notifications by cursor, mark read, preferences."""

from __future__ import annotations

from leadhub.db import db
from leadhub.notifications.models import Kind, Notification


def _notify(user, n):
    rows = [
        Notification(
            event_key=f"api:{user.id}:{i}",
            user_id=user.id,
            kind=Kind.HOT_LEAD,
            params={"name": f"Lead {i}", "score": 40 + i},
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [r.id for r in rows]


def test_the_list_pages_by_cursor_newest_first_and_shows_only_your_own(client, api_as, users):
    ids = _notify(users["agent"], 5)
    _notify(users["manager"], 2)
    headers = api_as("agent")
    first = client.get("/api/v1/notifications?limit=2", headers=headers).json
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    assert first["unread"] == 5
    assert first["items"][0]["text"] == "New lead scoring 44: Lead 4"
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/notifications?limit=2&cursor={cursor}", headers=headers).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]


def test_mark_read_by_ids_or_all(client, api_as, users):
    ids = _notify(users["agent"], 3)
    (theirs,) = _notify(users["manager"], 1)
    headers = api_as("agent")
    marked = client.post(
        "/api/v1/notifications/read", json={"ids": [ids[0], theirs]}, headers=headers
    )
    assert marked.status_code == 200 and marked.json == {"marked": 1, "unread": 2}
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).json
    assert {item["id"] for item in unread["items"]} == set(ids[1:])
    everything = client.post("/api/v1/notifications/read", json={"all": True}, headers=headers)
    assert everything.json == {"marked": 2, "unread": 0}
    empty = client.post("/api/v1/notifications/read", json={}, headers=headers)
    assert empty.status_code == 400 and empty.json["error"]["code"] == "invalid_input"
    assert db.session.get(Notification, theirs).read_at is None


def test_bad_input_gets_a_clear_error(client, api_as):
    headers = api_as("agent")
    bad_cursor = client.get("/api/v1/notifications?cursor=nonsense", headers=headers)
    assert bad_cursor.status_code == 400 and bad_cursor.json["error"]["code"] == "invalid_input"
    too_many = client.get("/api/v1/notifications?limit=1000", headers=headers)
    assert too_many.status_code == 400
    assert client.get("/api/v1/notifications").status_code == 401


def test_preferences_through_the_api(client, api_as):
    headers = api_as("agent")
    assert client.get("/api/v1/notifications/preferences", headers=headers).json["email"] is True
    changed = client.put(
        "/api/v1/notifications/preferences",
        json={"kinds": {"hot_lead": "off"}, "email": False, "in_app": True, "summary_hour": 6},
        headers=headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["kinds"] == {"hot_lead": "off"} and changed.json["summary_hour"] == 6
    refused = client.put(
        "/api/v1/notifications/preferences",
        json={"kinds": {"digest": "off"}, "summary_hour": 30},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "invalid_input"
