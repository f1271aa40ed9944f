"""The pages: the bell and its list, preferences, distributor settings, outbox, previews, Watch."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from leadhub.db import db, utcnow
from leadhub.notifications import messages
from leadhub.notifications.models import (
    DistributorNotificationSetting,
    Kind,
    LeadWatcher,
    Notification,
    NotificationPref,
    OutboxMessage,
    OutboxStatus,
)
from tests.conftest import post_form


def _notify(user, n=1, kind=Kind.ASSIGNED, lead=None, read=False):
    rows = [
        Notification(
            event_key=f"test:{user.id}:{kind.value}:{i}:{utcnow().timestamp()}",
            user_id=user.id,
            kind=kind,
            lead_id=lead.id if lead else None,
            params={"name": f"Lead {i}"},
            read_at=utcnow() if read else None,
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _bell_count(page: str) -> int:
    match = re.search(r'id="notification-count" data-unread="(\d+)"', page)
    assert match, "no bell on the page"
    return int(match.group(1))


def test_the_bell_counts_unread_notifications_and_the_list_marks_them_read(
    client, login_as, users, lead_factory
):
    agent = users["agent"]
    lead = lead_factory(full_name="Bell <Lead>")
    _notify(agent, 3, lead=lead)
    _notify(agent, 2, read=True)
    _notify(users["manager"], 4)
    login_as("agent")
    page = client.get("/leads").get_data(as_text=True)
    assert _bell_count(page) == 3
    listing = client.get("/notifications").get_data(as_text=True)
    assert listing.count('data-unread="1"') == 3 and listing.count('data-unread="0"') == 2
    assert f'href="/leads/{lead.id}"' in listing
    first = db.session.scalars(
        select(Notification.id).where(
            Notification.user_id == agent.id, Notification.read_at.is_(None)
        )
    ).first()
    assert post_form(client, "/notifications/read", id=first).status_code == 302
    assert _bell_count(client.get("/leads").get_data(as_text=True)) == 2
    post_form(client, "/notifications/read", all="1")
    assert _bell_count(client.get("/leads").get_data(as_text=True)) == 0
    login_as("manager")
    assert _bell_count(client.get("/leads").get_data(as_text=True)) == 4


def test_marking_someone_elses_notification_changes_nothing(client, login_as, users):
    (theirs,) = _notify(users["manager"])
    theirs_id = theirs.id
    login_as("agent")
    post_form(client, "/notifications/read", id=theirs_id)
    assert db.session.get(Notification, theirs_id).read_at is None


def test_preferences_page_saves_choices(client, login_as, users):
    agent = login_as("agent")
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'name="kind_hot_lead"' in page and 'name="summary_hour"' in page
    response = post_form(
        client,
        "/settings/notifications",
        kind_assigned="summary",
        kind_status_changed="off",
        in_app="1",
        summary_hour="7",
    )
    assert response.status_code == 302
    pref = db.session.get(NotificationPref, agent.id)
    db.session.refresh(pref)
    assert pref.kinds["assigned"] == "summary" and pref.kinds["status_changed"] == "off"
    assert pref.email is False and pref.in_app is True and pref.summary_hour == 7
    bad = post_form(client, "/settings/notifications", summary_hour="25", email="1")
    assert bad.status_code == 200
    assert "Please correct the form." in bad.get_data(as_text=True)


@pytest.mark.parametrize(
    "who, own, status",
    [("manager", True, 200), ("manager", False, 404), ("admin", False, 200), ("agent", True, 403)],
)
def test_distributor_settings_are_for_its_managers_and_admins(
    client, login_as, users, who, own, status
):
    target = users["manager" if own else "manager_other"].distributor_id
    login_as(who)
    assert client.get(f"/settings/notifications/distributors/{target}").status_code == status


def test_a_manager_sets_thresholds_and_defaults(client, login_as, users):
    login_as("manager")
    distributor_id = users["manager"].distributor_id
    response = post_form(
        client,
        f"/settings/notifications/distributors/{distributor_id}",
        speed_to_lead_minutes="20",
        score_threshold="55",
        kind_status_changed="summary",
    )
    assert response.status_code == 302
    row = db.session.get(DistributorNotificationSetting, distributor_id)
    db.session.refresh(row)
    assert (row.speed_to_lead_minutes, row.score_threshold) == (20, 55)
    assert row.default_kinds == {"status_changed": "summary"}
    bad = post_form(
        client,
        f"/settings/notifications/distributors/{distributor_id}",
        speed_to_lead_minutes="0",
        score_threshold="55",
    )
    assert bad.status_code == 400


@pytest.mark.parametrize("who, status", [("admin", 200), ("manager", 403), ("agent", 403)])
def test_the_outbox_is_for_admins(client, login_as, who, status):
    login_as(who)
    assert client.get("/settings/notifications/outbox").status_code == status
    assert client.get("/settings/notifications/templates").status_code == status


def _message(users, status=OutboxStatus.FAILED, subject="Hello <there>"):
    message = OutboxMessage(
        event_key=f"test:{status.value}:{utcnow().timestamp()}",
        recipient_id=users["agent"].id,
        to_address=users["agent"].email,
        kind=Kind.ASSIGNED,
        template="assigned",
        language="en",
        params={"name": "X"},
        subject=subject,
        body_text="Body of the message",
        status=status,
        attempts=5 if status is OutboxStatus.FAILED else 1,
        last_error="SMTPDataError: 451",
    )
    db.session.add(message)
    db.session.commit()
    return message


def test_the_outbox_filters_by_status_and_retries_a_failed_message(client, login_as, users, smtp):
    failed = _message(users)
    sent = _message(users, OutboxStatus.SENT, subject="Already sent")
    failed_id, sent_id = failed.id, sent.id
    login_as("admin")
    page = client.get("/settings/notifications/outbox?status=failed").get_data(as_text=True)
    assert "Hello &lt;there&gt;" in page and "Already sent" not in page
    assert "Already sent" in client.get("/settings/notifications/outbox").get_data(as_text=True)
    assert client.get("/settings/notifications/outbox?status=bogus").status_code == 400
    detail = client.get(f"/settings/notifications/outbox/{failed_id}").get_data(as_text=True)
    assert "SMTPDataError: 451" in detail and "Body of the message" in detail
    response = post_form(client, f"/settings/notifications/outbox/{failed_id}/retry")
    assert response.status_code == 302
    assert db.session.get(OutboxMessage, failed_id).status is OutboxStatus.SENT
    assert [m["To"] for m in smtp.messages] == [users["agent"].email]
    refused = post_form(client, f"/settings/notifications/outbox/{sent_id}/retry")
    assert refused.status_code == 302
    assert "Only failed or held messages" in client.get(
        f"/settings/notifications/outbox/{sent_id}"
    ).get_data(as_text=True)


def test_every_template_previews_in_every_language(client, login_as):
    login_as("admin")
    for template in messages.TEMPLATES:
        for language in ("en", "tr", "ar"):
            response = client.get(
                f"/settings/notifications/templates?template={template}&language={language}"
            )
            assert response.status_code == 200, (template, language)
            page = response.get_data(as_text=True)
            assert f"lang=&#34;{language}&#34;" in page
            if language == "ar":
                assert "dir=&#34;rtl&#34;" in page
    sample = client.get("/settings/notifications/templates?template=hot_lead").get_data(
        as_text=True
    )
    assert "Ayşe &amp;lt;Yılmaz&amp;gt;" in sample  # escaped in the email, shown as source
    assert client.get("/settings/notifications/templates?template=nope").status_code == 404


def test_watching_a_lead_from_its_page(client, login_as, users, lead_factory):
    lead = lead_factory()
    viewer = login_as("viewer")
    page = client.get(f"/leads/{lead.id}").get_data(as_text=True)
    assert 'id="watch-button"' in page and 'aria-pressed="false"' in page
    post_form(client, f"/leads/{lead.id}/watch", watch="1")
    assert db.session.get(LeadWatcher, (lead.id, viewer.id)) is not None
    assert 'aria-pressed="true"' in client.get(f"/leads/{lead.id}").get_data(as_text=True)
    post_form(client, f"/leads/{lead.id}/watch", watch="0")
    db.session.expire_all()
    assert db.session.get(LeadWatcher, (lead.id, viewer.id)) is None


def test_a_lead_out_of_scope_cannot_be_watched(client, login_as, users, lead_factory):
    lead = lead_factory(distributor_id=users["manager_other"].distributor_id)
    login_as("agent")
    assert post_form(client, f"/leads/{lead.id}/watch", watch="1").status_code == 404
