"""Emails end to end: an event makes outbox rows, the send job hands them to a real SMTP server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select

from leadhub import events
from leadhub.auth.models import Role
from leadhub.db import db
from leadhub.notifications import delivery, jobs, outbox, triggers
from leadhub.notifications.models import (
    DistributorNotificationSetting,
    Kind,
    Notification,
    NotificationPref,
    OutboxMessage,
    OutboxStatus,
)
from leadhub.notifications.outbox import Alert
from tests.conftest import post_form
from tests.factories import UserFactory


def _outbox(**where: Any) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(stmt))


def _announce_new(lead: Any) -> None:
    triggers.handle_lead_event(events.LeadCreated(lead.id, lead.distributor_id))


def test_a_hot_unassigned_lead_mails_the_managers_in_their_language(
    app_ctx, smtp, users, lead_factory, manager_ar
):
    lead = lead_factory(full_name="Zeynep <b>Kaya</b>", score=72)
    _announce_new(lead)

    english = smtp.to(users["manager"].email)
    arabic = smtp.to(manager_ar.email)
    assert len(english) == 1 and len(arabic) == 1
    assert smtp.to(users["agent"].email) == [] and smtp.to(users["manager_other"].email) == []
    message = english[0]
    assert message["Subject"] == "New lead scoring 72: Zeynep <b>Kaya</b>"
    assert message["From"] == app_ctx.config["MAIL_FROM"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    base = app_ctx.config["PUBLIC_BASE_URL"]
    assert f'href="{base}/leads/{lead.id}"' in html
    assert f"{base}/leads/{lead.id}" in text
    assert f'href="{base}/settings/notifications"' in html  # the footer's preferences link
    assert "Zeynep &lt;b&gt;Kaya&lt;/b&gt;" in html and "<b>Kaya" not in html
    assert 'lang="en" dir="ltr"' in html
    arabic_html = arabic[0].get_body(("html",)).get_content()
    assert 'lang="ar" dir="rtl"' in arabic_html
    rows = _outbox(lead_id=lead.id)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert {r.language for r in rows} == {"en", "ar"}


def test_a_lead_under_the_threshold_mails_nobody(app_ctx, smtp, users, lead_factory):
    db.session.add(
        DistributorNotificationSetting(
            distributor_id=users["manager"].distributor_id, score_threshold=60, default_kinds={}
        )
    )
    db.session.commit()
    lead = lead_factory(score=59)
    _announce_new(lead)
    assert smtp.messages == []
    assert _outbox(lead_id=lead.id) == []


def test_an_assigned_hot_lead_goes_to_its_assignee_only(app_ctx, smtp, users, lead_factory):
    lead = lead_factory(score=90, assignee_id=users["agent"].id)
    _announce_new(lead)
    assert [m["To"] for m in smtp.messages] == [users["agent"].email]


def test_the_same_event_is_sent_once_even_when_seen_again(app_ctx, smtp, users, lead_factory):
    lead = lead_factory(score=90, assignee_id=users["agent"].id)
    _announce_new(lead)
    _announce_new(lead)  # a second delivery of the same lead
    jobs.send_all()
    assert len(smtp.messages) == 1
    assert len(_outbox(lead_id=lead.id)) == 1
    assert (
        len(list(db.session.scalars(select(Notification).where(Notification.lead_id == lead.id))))
        == 1
    )


def test_a_failing_server_is_retried_with_backoff_then_the_message_is_marked_failed(
    app_ctx, smtp, users, lead_factory
):
    smtp.refuse = True
    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        lead = lead_factory(score=90, assignee_id=users["agent"].id)
        _announce_new(lead)
        (message,) = _outbox(lead_id=lead.id)
        db.session.refresh(message)
        assert message.status is OutboxStatus.PENDING and message.attempts == 1
        assert "451" in message.last_error
        assert message.next_attempt_at == start + delivery.BACKOFF
        jobs.send_all()  # not due yet: nothing is tried
        db.session.refresh(message)
        assert message.attempts == 1
        for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
            clock.move_to(message.next_attempt_at)
            jobs.send_all()
            db.session.refresh(message)
            assert message.attempts == attempt
        assert message.status is OutboxStatus.FAILED
        assert smtp.messages == []


def test_a_retry_after_a_failure_sends_exactly_once(app_ctx, smtp, users, lead_factory):
    smtp.refuse = True
    with time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False) as clock:
        lead = lead_factory(score=90, assignee_id=users["agent"].id)
        _announce_new(lead)
        smtp.refuse = False
        clock.shift(timedelta(minutes=5))
        jobs.send_all()
        jobs.send_all()
        _announce_new(lead)
        jobs.send_all()
    assert len(smtp.messages) == 1
    (message,) = _outbox(lead_id=lead.id)
    db.session.refresh(message)
    assert message.status is OutboxStatus.SENT and message.attempts == 2


def test_without_smtp_messages_are_kept_rendered_in_the_outbox(app_ctx, users, lead_factory):
    assert not app_ctx.config.get("SMTP_URL")
    lead = lead_factory(full_name="Held Person", score=90, assignee_id=users["agent"].id)
    _announce_new(lead)
    (message,) = _outbox(lead_id=lead.id)
    db.session.refresh(message)
    assert message.status is OutboxStatus.HELD
    assert "Held Person" in message.subject and "Held Person" in message.body_text


def test_a_storm_of_alerts_folds_into_one_digest(app_ctx, smtp, users, lead_factory):
    agent = users["agent"]
    start = datetime(2026, 11, 26, 9, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        leads = [lead_factory(score=90, assignee_id=agent.id) for _ in range(25)]
        for lead in leads:
            _announce_new(lead)
        assert len(smtp.to(agent.email)) == outbox.STORM_LIMIT
        folded = _outbox(recipient_id=agent.id, status=OutboxStatus.FOLDED)
        assert len(folded) == 5
        (digest,) = _outbox(recipient_id=agent.id, kind=Kind.DIGEST)
        assert {m.digest_id for m in folded} == {digest.id}
        clock.move_to(datetime(2026, 11, 26, 9, 10, tzinfo=UTC))
        jobs.send_all()
    mails = smtp.to(agent.email)
    assert len(mails) == outbox.STORM_LIMIT + 1
    summary = mails[-1]
    assert summary["Subject"] == "5 LeadHub alerts in the last minutes"
    html = summary.get_body(("html",)).get_content()
    for lead in leads[-5:]:
        assert f"/leads/{lead.id}" in html
    assert f'/leads/{leads[0].id}"' not in html
    # the bell still has every one of them
    bell = db.session.scalars(select(Notification).where(Notification.user_id == agent.id))
    assert len(list(bell)) == 25


def test_turkish_and_rtl_arabic_templates_render(app_ctx, users, lead_factory):
    turkish = UserFactory(role=Role.ADMIN, language="tr")
    alerts = [
        Alert(Kind.META_REAUTH, turkish.id, "meta_reauth:test", None, {"page": "Sayfa"}),
    ]
    with triggers.own_session() as session:
        outbox.deliver(session, alerts)
    jobs.send_all()
    (message,) = _outbox(recipient_id=turkish.id)
    db.session.refresh(message)
    assert 'lang="tr"' in message.body_html
    assert f"{app_ctx.config['PUBLIC_BASE_URL']}/settings/meta" in message.body_text


def test_smtp_url_forms_are_read_and_the_password_never_shown():
    settings = delivery.parse_smtp_url("smtp://mailer:s3cr%40t@mail.example.com:587?starttls=1")
    assert (settings.host, settings.port, settings.username) == ("mail.example.com", 587, "mailer")
    assert settings.password == "s3cr@t" and settings.starttls and not settings.implicit_tls
    assert "s3cr" not in repr(settings)
    implicit = delivery.parse_smtp_url("smtps://u:p@mail.example.com")
    assert implicit.implicit_tls and implicit.port == 465 and not implicit.starttls
    for bad in ("http://mail.example.com", "smtp://", "smtp://host:notaport"):
        try:
            delivery.parse_smtp_url(bad)
        except delivery.SmtpSettingError as exc:
            assert "pass" not in str(exc).replace("user:pass", "")
        else:
            raise AssertionError(f"{bad} was accepted")


def test_the_footer_link_unsubscribes_without_signing_in(
    app_ctx, smtp, client, users, lead_factory
):
    agent = users["agent"]
    lead = lead_factory(score=90, assignee_id=agent.id)
    _announce_new(lead)
    (mail,) = smtp.to(agent.email)
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"(/notifications/unsubscribe/\S+)", text).group(1)
    assert mail["List-Unsubscribe"].endswith(link + ">")
    page = client.get(link)
    assert page.status_code == 200 and agent.email in page.get_data(as_text=True)
    assert post_form(client, link).status_code == 200
    assert db.session.get(NotificationPref, agent.id).kinds == {"hot_lead": "off"}
    other = lead_factory(score=90, assignee_id=agent.id)
    _announce_new(other)
    assert len(smtp.to(agent.email)) == 1
    tampered = client.get(link[:-3] + "xyz")
    assert tampered.status_code == 400
    assert "not valid or has expired" in tampered.get_data(as_text=True)
