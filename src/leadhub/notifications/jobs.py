"""Notification jobs: send the outbox, and the periodic checks that make messages."""

from __future__ import annotations

import logging

from flask import current_app, has_app_context

from leadhub.db import utcnow
from leadhub.notifications import delivery, summaries, triggers
from leadhub.notifications.outbox import SendKick
from leadhub.queue import huey, periodic

log = logging.getLogger(__name__)

_kick = SendKick(interval=1.0)


def kick_send() -> None:
    """Ask for a send run soon; a burst of events shares one run a second."""
    if huey.immediate:
        if has_app_context():  # outside an app the periodic run sends them
            send_outbox()
    elif _kick.due():
        send_outbox.schedule(delay=1)


@huey.task(name="notifications.send_outbox_now")
def send_outbox() -> None:
    """Send every due outbox row, a batch at a time (safe to run twice: rows are claimed)."""
    send_all()


def send_all() -> delivery.SendResult:
    total = delivery.SendResult()
    while True:
        with triggers.own_session() as session:
            result = delivery.send_due(session, config=current_app.config, now=utcnow())
        for name in ("sent", "retried", "failed", "held"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if sum((result.sent, result.retried, result.failed, result.held)) < delivery.BATCH:
            break
    if total.sent or total.failed:
        log.info("outbox: %s sent, %s to retry, %s failed", total.sent, total.retried, total.failed)
    return total


@periodic("notifications.send_outbox")
def send_outbox_periodic() -> None:
    """Retries and digests whose time has come."""
    send_all()


@periodic("notifications.speed_to_lead")
def check_speed_to_lead() -> None:
    triggers.run_check(triggers.speed_to_lead_alerts)


@periodic("notifications.admin_alerts")
def check_admin_alerts() -> None:
    triggers.run_check(triggers.admin_alerts)


@periodic("notifications.daily_summaries")
def daily_summaries() -> None:
    triggers.run_check(summaries.daily_summary_alerts)


@periodic("notifications.weekly_reports")
def weekly_reports() -> None:
    triggers.run_check(
        lambda session, now: summaries.report_alerts(session, kind="weekly", now=now)
    )


@periodic("notifications.monthly_reports")
def monthly_reports() -> None:
    triggers.run_check(
        lambda session, now: summaries.report_alerts(session, kind="monthly", now=now)
    )
