"""The daily summary at each user's local hour, and the weekly and monthly reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from leadhub.db import db
from leadhub.notifications import jobs, summaries
from leadhub.notifications.models import Kind, NotificationPref, OutboxMessage


def _summaries(user) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(
        OutboxMessage.recipient_id == user.id, OutboxMessage.kind == Kind.DAILY_SUMMARY
    )
    return list(db.session.scalars(stmt))


def test_the_daily_summary_comes_at_the_users_local_hour_once_a_day(
    app_ctx, smtp, users, lead_factory
):
    manager = users["manager"]
    manager.timezone = "Asia/Dubai"  # UTC+4
    db.session.add(NotificationPref(user_id=manager.id, kinds={}, summary_hour=9))
    db.session.commit()
    now = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # 09:00 in Dubai
    lead_factory(created_time=now - timedelta(hours=2), score=90, score_level="hot")
    lead_factory(created_time=now - timedelta(days=3), status="assigned", score=5)
    lead_factory(
        status="converted",
        created_time=now - timedelta(days=5),
        converted_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),  # yesterday in Dubai
    )
    lead_factory(
        distributor_id=users["manager_other"].distributor_id, created_time=now - timedelta(hours=1)
    )
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        jobs.daily_summaries.call_local()
    assert _summaries(manager) == []
    with time_machine.travel(now, tick=False):
        jobs.daily_summaries.call_local()
        jobs.daily_summaries.call_local()
    (summary,) = _summaries(manager)
    assert summary.params["date"] == "2026-11-26"
    assert summary.params["new_leads"] == 1  # the other distributor's lead is out of scope
    assert summary.params["hot_waiting"] == 1
    assert summary.params["overdue"] == 1
    assert summary.params["converted_yesterday"] == 1
    (mail,) = smtp.to(manager.email)
    assert mail["Subject"] == "Your LeadHub summary for 2026-11-26"
    assert "Hot leads waiting for a first contact: 1" in mail.get_body(("plain",)).get_content()


def test_the_daily_summary_can_be_switched_off(app_ctx, users):
    agent = users["agent"]
    db.session.add(NotificationPref(user_id=agent.id, kinds={"daily_summary": "off"}))
    db.session.commit()
    with time_machine.travel(datetime(2026, 11, 26, 8, 0, tzinfo=UTC)):
        jobs.daily_summaries.call_local()
    assert _summaries(agent) == []


def test_weekly_and_monthly_reports_count_the_last_full_period(app_ctx, users, lead_factory):
    monday = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    lead_factory(created_time=datetime(2026, 11, 17, 12, 0, tzinfo=UTC), score=40)
    lead_factory(
        created_time=datetime(2026, 11, 18, 12, 0, tzinfo=UTC),
        status="lost",
        score=20,
    )
    lead_factory(created_time=datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # this week: not counted
    with time_machine.travel(monday, tick=False):
        jobs.weekly_reports.call_local()
        jobs.monthly_reports.call_local()
    stmt = select(OutboxMessage).where(OutboxMessage.kind == Kind.REPORT)
    reports = {(m.recipient_id, m.template): m for m in db.session.scalars(stmt)}
    weekly = reports[(users["manager"].id, "weekly_report")]
    assert weekly.params["period"] == "2026-11-16 – 2026-11-22"
    assert weekly.params["new_leads"] == 2 and weekly.params["lost"] == 1
    assert weekly.params["average_score"] == 30
    assert reports[(users["manager_other"].id, "weekly_report")].params["new_leads"] == 0
    assert reports[(users["admin"].id, "monthly_report")].params["period"] == "2026-10"
    assert (users["agent"].id, "weekly_report") not in reports


def test_report_periods():
    start, end, label = summaries.report_period("weekly", datetime(2026, 11, 26, tzinfo=UTC))
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-11-16", "2026-11-23")
    start, end, label = summaries.report_period("monthly", datetime(2026, 1, 1, 6, tzinfo=UTC))
    assert label == "2025-12" and end == datetime(2026, 1, 1, tzinfo=UTC)


def test_the_weekly_report_email_carries_the_analytics_pdf(app_ctx, smtp, users, lead_factory):
    lead_factory(created_time=datetime(2026, 11, 17, 12, 0, tzinfo=UTC), score=40)
    with time_machine.travel(datetime(2026, 11, 23, 6, 0, tzinfo=UTC), tick=False):
        jobs.weekly_reports.call_local()
    (mail,) = smtp.to(users["manager"].email)
    assert mail["Subject"] == "Weekly lead report: 2026-11-16 – 2026-11-22"
    (pdf,) = list(mail.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "leadhub-weekly-2026-11-16.pdf"
    assert pdf.get_content().startswith(b"%PDF")
    assert "New leads: 1" in mail.get_body(("plain",)).get_content()
