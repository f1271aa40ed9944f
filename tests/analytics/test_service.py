"""Each panel's numbers against the hand-built world in conftest.py."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from leadhub.analytics import service
from leadhub.analytics.periods import Period
from leadhub.analytics.scope import scope_for
from leadhub.db import db
from leadhub.errors import NotFound
from tests.analytics.conftest import PERIOD, TZ, local
from tests.factories import LeadFactory


def scope(users: dict[str, Any] | None = None, who: str | None = None, **kw: Any) -> Any:
    return scope_for(db.session, user=users[who] if who else None, **kw)


def stage_counts(result: dict[str, Any]) -> list[tuple[str, int]]:
    return [(s["status"], s["count"]) for s in result["stages"]]


def test_funnel_counts_every_lead_that_reached_a_stage(world: Any, users: Any) -> None:
    found = service.funnel(db.session, scope=scope(users, "admin"), period=PERIOD)
    # In the period: leads 1-9 and 11 (10 is after, 12 before, 14 deleted).
    # Assigned or further: 2, 3, 4, 5 (lost after contact), 7, 8; contacted: 3, 4, 5, 7, 8;
    # converted: 4, 7.
    assert stage_counts(found) == [("new", 10), ("assigned", 6), ("contacted", 5), ("converted", 2)]
    assert [s["rate"] for s in found["stages"]] == [1.0, 0.6, 0.5, 0.2]
    assert found["stages"][3]["step_rate"] == 0.4  # 2 of the 5 contacted
    lost, invalid = found["closed"]
    assert (lost["count"], lost["reasons"]) == (1, [{"reason": "Price", "count": 1}])
    assert (invalid["count"], invalid["reasons"]) == (1, [{"reason": "spam", "count": 1}])
    # The week before: leads 12 and 13 (13 converted).
    assert stage_counts(found["previous"]) == [
        ("new", 2),
        ("assigned", 1),
        ("contacted", 1),
        ("converted", 1),
    ]
    assert found["period"]["previous_from"] == "2026-11-03"


def test_funnel_is_scoped_by_role(world: Any, users: Any) -> None:
    manager = service.funnel(db.session, scope=scope(users, "manager"), period=PERIOD)
    # Istanbul Smile only: 1-6, 9, 11.
    assert stage_counts(manager) == [
        ("new", 8),
        ("assigned", 4),
        ("contacted", 3),
        ("converted", 1),
    ]
    viewer = service.funnel(db.session, scope=scope(users, "viewer"), period=PERIOD)
    assert stage_counts(viewer) == stage_counts(manager)
    # An agent counts the leads assigned to them: 2, 3, 4, 5.
    agent = service.funnel(db.session, scope=scope(users, "agent"), period=PERIOD)
    assert stage_counts(agent) == [("new", 4), ("assigned", 4), ("contacted", 3), ("converted", 1)]
    other = service.funnel(db.session, scope=scope(users, "manager_other"), period=PERIOD)
    assert stage_counts(other)[0] == ("new", 2)


def test_a_distributor_outside_the_scope_is_absent(world: Any, users: Any) -> None:
    with pytest.raises(NotFound):
        scope(users, "manager", distributor_id=world[7].distributor_id)
    with pytest.raises(NotFound):
        scope(users, "admin", distributor_id=987654)
    narrowed = scope(users, "admin", distributor_id=world[7].distributor_id)
    found = service.funnel(db.session, scope=narrowed, period=PERIOD)
    assert stage_counts(found)[0] == ("new", 2)


def test_campaign_scope(world: Any, users: Any) -> None:
    found = service.funnel(db.session, scope=scope(users, "admin", campaign_id="C2"), period=PERIOD)
    assert stage_counts(found) == [("new", 1), ("assigned", 1), ("contacted", 1), ("converted", 1)]


def test_local_midnight_cuts_the_days(world: Any, users: Any) -> None:
    admin = scope(users, "admin")
    last_day = Period(date(2026, 11, 16), date(2026, 11, 16), TZ)
    assert service.funnel(db.session, scope=admin, period=last_day)["total"] == 1  # lead 9
    next_day = Period(date(2026, 11, 17), date(2026, 11, 17), TZ)
    assert service.funnel(db.session, scope=admin, period=next_day)["total"] == 1  # lead 10
    # In UTC, the 16th holds leads 9 and 10 (20:30 and 21:30 UTC), and the 9th holds 11 and 12.
    utc_day = Period(date(2026, 11, 16), date(2026, 11, 16), "UTC")
    assert service.funnel(db.session, scope=admin, period=utc_day)["total"] == 2


def test_empty_period_shows_zeros(users: Any) -> None:
    admin = scope(users, "admin")
    found = service.funnel(db.session, scope=admin, period=PERIOD)
    assert stage_counts(found) == [("new", 0), ("assigned", 0), ("contacted", 0), ("converted", 0)]
    assert all(s["rate"] == 0.0 for s in found["stages"])
    speed = service.speed(db.session, scope=admin, period=PERIOD)
    assert (speed["median_seconds"], speed["p90_seconds"], speed["sla_share"]) == (None, None, 0.0)
    assert service.distributors(db.session, scope=admin, period=PERIOD)["items"] == []
    assert service.staff(db.session, scope=admin, period=PERIOD)["items"] == []
    assert service.campaigns(db.session, scope=admin, period=PERIOD)["items"] == []
    trends = service.trends(db.session, scope=admin, period=PERIOD)
    assert trends["leads"] == [0] * 7


def test_speed_median_p90_and_sla(world: Any, users: Any) -> None:
    found = service.speed(db.session, scope=scope(users, "admin"), period=PERIOD)
    # Response seconds: 120, 300, 600, 1800, 3600. Median 600; p90 at position 0.9 * 4 = 3.6:
    # 1800 + 0.6 * (3600 - 1800) = 2880. Within 15 minutes: 3 of the 10 leads.
    assert (found["median_seconds"], found["p90_seconds"]) == (600.0, 2880.0)
    assert (found["contacted"], found["within_sla"], found["sla_share"]) == (5, 3, 0.3)
    assert found["previous"]["median_seconds"] == 60.0  # lead 13
    by_distributor = {row["name"]: row for row in found["by_distributor"]}
    # Istanbul Smile: 600, 1800, 3600 → median 1800, p90 at 1.8: 1800 + 0.8 * 1800 = 3240.
    assert by_distributor["Istanbul Smile"]["median_seconds"] == 1800.0
    assert by_distributor["Istanbul Smile"]["p90_seconds"] == 3240.0
    # Dubai Care: 120, 300 → median 210, p90 at 0.9: 120 + 0.9 * 180 = 282.
    assert by_distributor["Dubai Care"]["median_seconds"] == 210.0
    assert by_distributor["Dubai Care"]["p90_seconds"] == 282.0
    by_staff = {row["user_id"]: row for row in found["by_staff"]}
    assert by_staff[users["agent"].id]["median_seconds"] == 1800.0
    assert by_staff[users["agent_other"].id]["sla_share"] == 1.0
    tight = service.speed(db.session, scope=scope(users, "admin"), period=PERIOD, sla_minutes=5)
    assert tight["within_sla"] == 2  # 120 and 300 seconds


def test_distributors_ranked_and_sortable(world: Any, users: Any) -> None:
    found = service.distributors(db.session, scope=scope(users, "admin"), period=PERIOD)
    first, second = found["items"]
    assert (first["name"], first["rank"], first["leads"]) == ("Istanbul Smile", 1, 8)
    assert (first["contacted"], first["converted"]) == (3, 1)
    assert (first["contact_rate"], first["conversion_rate"]) == (0.375, 0.125)
    assert first["median_seconds"] == 1800.0
    assert (second["name"], second["leads"], second["conversion_rate"]) == ("Dubai Care", 2, 0.5)
    # Lead 7 (Dubai Care) repeats lead 3 (Istanbul Smile): each shares one duplicate.
    assert (first["duplicates"], second["duplicates"]) == (1, 1)
    assert first["previous_leads"] == 2
    by_rate = service.distributors(
        db.session, scope=scope(users, "admin"), period=PERIOD, sort="conversion_rate"
    )
    assert [i["name"] for i in by_rate["items"]] == ["Dubai Care", "Istanbul Smile"]
    fastest = service.distributors(
        db.session,
        scope=scope(users, "admin"),
        period=PERIOD,
        sort="median_seconds",
        descending=False,
    )
    assert [i["name"] for i in fastest["items"]] == ["Dubai Care", "Istanbul Smile"]
    manager = service.distributors(db.session, scope=scope(users, "manager"), period=PERIOD)
    assert [i["name"] for i in manager["items"]] == ["Istanbul Smile"]


def test_shared_duplicates_are_live_links_across_distributors(
    world: Any, users: Any, distributor: Any, other_distributor: Any
) -> None:
    a, b = distributor.id, other_distributor.id
    # Counted for Dubai Care: lead 13 (Istanbul Smile) is before the period, its duplicate in it.
    LeadFactory(created_time=local(14, 12), distributor_id=b, duplicate_of_id=world[13].id)
    # Not counted: a duplicate at the same distributor, and a deleted one at another.
    LeadFactory(created_time=local(14, 13), distributor_id=a, duplicate_of_id=world[1].id)
    LeadFactory(
        created_time=local(14, 14),
        distributor_id=b,
        duplicate_of_id=world[2].id,
        deleted_at=local(14, 15),
    )
    db.session.commit()

    def shared(who: str) -> dict[str, int]:
        found = service.distributors(db.session, scope=scope(users, who), period=PERIOD)
        return {item["name"]: item["duplicates"] for item in found["items"]}

    assert shared("admin") == {"Istanbul Smile": 1, "Dubai Care": 2}
    assert shared("manager") == {"Istanbul Smile": 1}
    assert shared("agent") == {"Istanbul Smile": 1}  # lead 3, theirs


def test_staff_numbers(world: Any, users: Any) -> None:
    found = service.staff(db.session, scope=scope(users, "admin"), period=PERIOD)
    rows = {row["user_id"]: row for row in found["items"]}
    agent = rows[users["agent"].id]
    assert (agent["assigned"], agent["contacted"], agent["converted"]) == (4, 3, 1)
    assert agent["conversion_rate"] == 0.25
    assert agent["median_seconds"] == 1800.0
    # Open now, whatever the period: leads 2 (assigned) and 3 (contacted); 4, 5, 13 are closed.
    assert agent["open_now"] == 2
    assert agent["interactions"] == {"call": 2, "note": 1}
    other = rows[users["agent_other"].id]
    assert (other["assigned"], other["open_now"], other["interactions"]) == (
        2,
        1,
        {"whatsapp": 1},
    )
    mine = service.staff(db.session, scope=scope(users, "agent"), period=PERIOD)
    assert [row["user_id"] for row in mine["items"]] == [users["agent"].id]
    managed = service.staff(db.session, scope=scope(users, "manager"), period=PERIOD)
    assert users["agent_other"].id not in {row["user_id"] for row in managed["items"]}


def test_campaigns_and_platforms(world: Any, users: Any) -> None:
    admin = scope(users, "admin")
    found = service.campaigns(db.session, scope=admin, period=PERIOD)
    rows = {row["key"]: row for row in found["items"]}
    assert rows["C2"] == {
        "key": "C2",
        "name": "Dental",
        "leads": 1,
        "average_score": 90.0,
        "converted": 1,
        "conversion_rate": 1.0,
        "previous_leads": 0,
        "previous_conversion_rate": 0.0,
    }
    hair = rows["120210987654310001"]
    # Nine leads: scores 10, 30 and seven of 50 → 390 / 9 = 43.3; lead 7 converted.
    assert (hair["leads"], hair["average_score"], hair["converted"]) == (9, 43.3, 1)
    assert hair["previous_leads"] == 2
    platforms = service.campaigns(db.session, scope=admin, period=PERIOD, by="platform")
    assert {r["key"]: r["leads"] for r in platforms["items"]} == {"facebook": 9, "instagram": 1}


def test_trends_by_day_level_status_and_interactions(world: Any, users: Any) -> None:
    found = service.trends(db.session, scope=scope(users, "admin"), period=PERIOD)
    assert found["labels"][0] == "2026-11-10" and len(found["labels"]) == 7
    # 10th: 1, 11; 11th: 2; 12th: 3, 7, 8; 13th: 4; 14th: 5; 15th: 6; 16th: 9.
    assert found["leads"] == [2, 1, 3, 1, 1, 1, 1]
    assert found["by_level"]["hot"] == [0, 0, 0, 1, 0, 0, 0]
    assert found["by_status"]["converted"] == [0, 0, 1, 1, 0, 0, 0]
    assert found["interactions"]["call"] == [0, 0, 1, 1, 0, 0, 0]
    assert found["interactions"]["whatsapp"] == [0, 0, 1, 0, 0, 0, 0]
    assert (found["total"], found["previous_total"]) == (10, 2)
    weekly = service.trends(db.session, scope=scope(users, "admin"), period=PERIOD, bucket="week")
    assert (weekly["labels"], weekly["leads"]) == (["2026-11-09", "2026-11-16"], [9, 1])
