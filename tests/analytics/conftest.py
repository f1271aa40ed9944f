"""A small world of leads with hand-computed answers (see each test for the arithmetic).

Period under test: 10 to 16 November 2026 in Istanbul (UTC+3, no DST), the week before it the
previous period. Lead numbers below are the `n` of the `world` fixture's dict.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadhub.analytics.periods import Period
from leadhub.db import db
from leadhub.interactions.models import Kind
from leadhub.leads.models import Platform, ScoreLevel, Status
from tests.factories import InteractionFactory, LeadFactory

TZ = "Europe/Istanbul"
PERIOD = Period(datetime(2026, 11, 10).date(), datetime(2026, 11, 16).date(), TZ, "7d")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Istanbul in November 2026, as aware UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@pytest.fixture
def world(users: dict[str, Any], distributor: Any, other_distributor: Any) -> dict[str, Any]:
    agent, other = users["agent"], users["agent_other"]
    a, b = distributor.id, other_distributor.id

    def lead(n: int, created: datetime, *, contact_after: int | None = None, **kw: Any) -> Any:
        kw.setdefault("distributor_id", a)
        if contact_after is not None:
            kw["first_contacted_at"] = created + timedelta(seconds=contact_after)
        return LeadFactory(created_time=created, full_name=f"Lead {n}", **kw)

    found = {
        1: lead(1, local(10, 9), score=10, score_level=ScoreLevel.COLD),
        2: lead(2, local(11, 9), assignee_id=agent.id, status=Status.ASSIGNED, score=30),
        3: lead(3, local(12, 9), assignee_id=agent.id, status=Status.CONTACTED, contact_after=600),
        4: lead(
            4,
            local(13, 9),
            assignee_id=agent.id,
            status=Status.CONVERTED,
            contact_after=1800,
            converted_at=local(14, 9),
            score=90,
            score_level=ScoreLevel.HOT,
            campaign_id="C2",
            campaign_name="Dental",
            platform=Platform.INSTAGRAM,
        ),
        5: lead(
            5,
            local(14, 9),
            assignee_id=agent.id,
            status=Status.LOST,
            lost_reason="Price",
            contact_after=3600,
        ),
        6: lead(6, local(15, 9), status=Status.INVALID, lost_reason="spam"),
        7: lead(
            7,
            local(12, 10),
            distributor_id=b,
            assignee_id=other.id,
            status=Status.CONVERTED,
            contact_after=120,
            converted_at=local(13, 10),
        ),
        8: lead(
            8,
            local(12, 11),
            distributor_id=b,
            assignee_id=other.id,
            status=Status.CONTACTED,
            contact_after=300,
        ),
        # Local day boundaries: 23:30 on the 16th is in; 00:30 on the 17th (21:30 UTC on the
        # 16th) is out; 00:10 on the 10th (21:10 UTC on the 9th) is in; 23:50 on the 9th is out.
        9: lead(9, local(16, 23, 30)),
        10: lead(10, local(17, 0, 30)),
        11: lead(11, local(10, 0, 10)),
        12: lead(12, local(9, 23, 50)),
        13: lead(
            13,
            local(5, 12),
            assignee_id=agent.id,
            status=Status.CONVERTED,
            contact_after=60,
            converted_at=local(6, 12),
        ),
        14: lead(14, local(12, 12), deleted_at=local(12, 13)),
    }
    # Lead 7 is the same person as lead 3, who came first through the other distributor.
    found[7].duplicate_of_id = found[3].id
    db.session.commit()
    for kind, at, actor in (
        (Kind.CALL, local(12, 9, 10), agent),
        (Kind.CALL, local(13, 9, 30), agent),
        (Kind.NOTE, local(13, 9, 40), agent),
        (Kind.WHATSAPP, local(12, 10, 2), other),
        (Kind.CALL, local(17, 1), agent),  # after the period
    ):
        target = found[3] if actor is agent else found[7]
        InteractionFactory(lead_id=target.id, kind=kind, occurred_at=at, actor_id=actor.id)
    return found
