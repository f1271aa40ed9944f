"""Who hears about what: assignments, status changes, watching, preferences, speed to lead,
problems for admins. Lead changes go through the real API; checks run as the periodic jobs do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from leadhub.db import db, utcnow
from leadhub.meta.models import ConnectionStatus, InboxStatus, PageConnection, WebhookEvent
from leadhub.notifications import jobs, triggers
from leadhub.notifications.models import (
    DistributorNotificationSetting,
    Kind,
    LeadWatcher,
    Notification,
    NotificationPref,
    OutboxMessage,
)
from leadhub.notifications.outbox import Alert, deliver


def _bell(user: Any) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    return list(db.session.scalars(stmt))


def _mails(user: Any) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.recipient_id == user.id)
    return list(db.session.scalars(stmt.order_by(OutboxMessage.id)))


def _patch(client: Any, headers: dict[str, str], lead: Any, **changes: Any) -> Any:
    db.session.refresh(lead)
    response = client.patch(
        f"/api/v1/leads/{lead.id}", json={"version": lead.version, **changes}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_a_lead_assigned_to_you_tells_you_not_the_one_who_assigned(
    client, api_as, users, lead_factory
):
    lead = lead_factory(full_name="Deniz Atama", score=5)
    _patch(client, api_as("manager"), lead, assignee_id=users["agent"].id)
    (note,) = _bell(users["agent"])
    assert note.kind is Kind.ASSIGNED and note.lead_id == lead.id
    assert note.params["actor"] == users["manager"].name
    assert _bell(users["manager"]) == []
    (mail,) = _mails(users["agent"])
    assert mail.template == "assigned"


def test_a_status_change_tells_the_owner_and_the_watchers(client, api_as, users, lead_factory):
    lead = lead_factory(assignee_id=users["agent"].id, status="assigned", score=5)
    db.session.add(LeadWatcher(lead_id=lead.id, user_id=users["viewer"].id))
    db.session.commit()
    _patch(client, api_as("manager"), lead, status="contacted")
    for who in ("agent", "viewer"):
        (note,) = _bell(users[who])
        assert note.kind is Kind.STATUS_CHANGED and note.params["status"] == "contacted"
    assert _bell(users["manager"]) == []  # the actor is not told of their own change


def test_your_own_change_to_your_lead_does_not_notify_you(client, api_as, users, lead_factory):
    lead = lead_factory(assignee_id=users["agent"].id, status="assigned", score=5)
    _patch(client, api_as("agent"), lead, status="contacted")
    assert _bell(users["agent"]) == []


def test_preferences_are_honoured(client, api_as, users, lead_factory):
    agent = users["agent"]
    db.session.add(
        NotificationPref(user_id=agent.id, kinds={"assigned": "off"}, email=True, in_app=True)
    )
    db.session.commit()
    lead = lead_factory(score=5)
    _patch(client, api_as("manager"), lead, assignee_id=agent.id)
    assert _bell(agent) == [] and _mails(agent) == []


def test_summary_kinds_reach_the_bell_but_send_no_email(client, api_as, users, lead_factory):
    agent = users["agent"]
    db.session.add(
        NotificationPref(user_id=agent.id, kinds={"assigned": "summary"}, email=True, in_app=True)
    )
    db.session.commit()
    lead = lead_factory(score=5)
    _patch(client, api_as("manager"), lead, assignee_id=agent.id)
    assert len(_bell(agent)) == 1 and _mails(agent) == []


def test_channels_can_be_switched_off(app_ctx, users):
    agent = users["agent"]
    db.session.add(NotificationPref(user_id=agent.id, kinds={}, email=False, in_app=True))
    db.session.commit()
    with triggers.own_session() as session:
        deliver(session, [Alert(Kind.ASSIGNED, agent.id, "test:channels")])
    assert len(_bell(agent)) == 1 and _mails(agent) == []


def test_a_distributors_defaults_apply_until_a_person_chooses(app_ctx, users):
    agent, manager = users["agent"], users["manager"]
    db.session.add(
        DistributorNotificationSetting(
            distributor_id=agent.distributor_id, default_kinds={"assigned": "off"}
        )
    )
    db.session.add(NotificationPref(user_id=manager.id, kinds={"assigned": "instant"}))
    db.session.commit()
    with triggers.own_session() as session:
        deliver(
            session,
            [
                Alert(Kind.ASSIGNED, agent.id, "test:defaults"),
                Alert(Kind.ASSIGNED, manager.id, "test:defaults"),
            ],
        )
    assert _bell(agent) == [] and len(_bell(manager)) == 1


def test_speed_to_lead_alerts_the_assignee_then_escalates_to_managers(app_ctx, users, lead_factory):
    agent, manager = users["agent"], users["manager"]
    created = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    lead = lead_factory(assignee_id=agent.id, status="assigned", created_time=created, score=5)
    contacted = lead_factory(
        assignee_id=agent.id,
        status="contacted",
        created_time=created,
        first_contacted_at=created + timedelta(minutes=3),
    )
    with time_machine.travel(created, tick=False) as clock:
        clock.move_to(created + timedelta(minutes=14))
        jobs.check_speed_to_lead.call_local()
        assert _bell(agent) == []
        clock.move_to(created + timedelta(minutes=15))
        jobs.check_speed_to_lead.call_local()
        jobs.check_speed_to_lead.call_local()  # every minute: still one alert
        (alert,) = _bell(agent)
        assert alert.kind is Kind.SPEED_TO_LEAD and alert.lead_id == lead.id
        assert _bell(manager) == []
        clock.move_to(created + timedelta(minutes=30))
        jobs.check_speed_to_lead.call_local()
        (escalation,) = _bell(manager)
        assert escalation.params["template"] == "speed_to_lead_escalation"
        assert escalation.params["assignee"] == agent.name
    assert all(n.lead_id != contacted.id for n in _bell(agent) + _bell(manager))


def test_speed_to_lead_uses_the_distributors_minutes_and_tells_managers_of_unassigned(
    app_ctx, users, lead_factory
):
    manager = users["manager"]
    db.session.add(
        DistributorNotificationSetting(
            distributor_id=manager.distributor_id, speed_to_lead_minutes=5, default_kinds={}
        )
    )
    db.session.commit()
    created = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    lead = lead_factory(created_time=created, score=5)
    with time_machine.travel(created + timedelta(minutes=5), tick=False):
        jobs.check_speed_to_lead.call_local()
    (alert,) = _bell(manager)
    assert alert.lead_id == lead.id and alert.params["minutes"] == 5


def test_admins_hear_of_a_page_needing_a_token_and_of_failures_piling_up(app_ctx, users):
    connection = PageConnection(
        distributor_id=users["manager"].distributor_id,
        page_id="5550001",
        page_name="Smile Page",
        token_encrypted="x",
        status=ConnectionStatus.NEEDS_REAUTH,
    )
    db.session.add(connection)
    now = utcnow()
    db.session.add_all(
        WebhookEvent(leadgen_id=f"9000{i}", status=InboxStatus.FAILED, received_at=now)
        for i in range(triggers.WEBHOOK_FAILURE_ALERT)
    )
    db.session.commit()
    jobs.check_admin_alerts.call_local()
    jobs.check_admin_alerts.call_local()
    for who in ("admin", "superadmin"):
        kinds = sorted(n.kind.value for n in _bell(users[who]))
        assert kinds == ["meta_reauth", "webhook_failures"]
    assert _bell(users["manager"]) == []


def test_speed_to_lead_waits_outside_working_hours(app_ctx, users, lead_factory, monkeypatch):
    from leadhub.assignment import service as assignment

    open_now = {"value": False}
    monkeypatch.setattr(assignment, "is_working_time", lambda session, d, at: open_now["value"])
    created = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    lead = lead_factory(assignee_id=users["agent"].id, status="assigned", created_time=created)
    with time_machine.travel(created + timedelta(minutes=20), tick=False):
        jobs.check_speed_to_lead.call_local()
        assert _bell(users["agent"]) == []
        open_now["value"] = True
        jobs.check_speed_to_lead.call_local()
    (alert,) = _bell(users["agent"])
    assert alert.lead_id == lead.id
