"""Sending the outbox over SMTP: claim due rows, render, send, and retry with backoff.

Without SMTP_URL (the embedded default) messages are rendered and kept as `held`, readable on
the admin Outbox page. A row is claimed (pending -> sending) before it is sent, so two workers
never send it both; a row whose sender died is given back after CLAIM_TIMEOUT.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.notifications import messages
from leadhub.notifications.models import CHOSEN_KINDS, Kind, OutboxMessage, OutboxStatus
from leadhub.notifications.service import unsubscribe_token

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = timedelta(minutes=1)  # 1, 2, 4, 8 minutes between tries
CLAIM_TIMEOUT = timedelta(minutes=10)
BATCH = 100
SMTP_TIMEOUT = 15  # seconds
MAX_ERROR = 500

ReportAttachment = Callable[[Session, OutboxMessage], "messages.Attachment | None"]


def analytics_pdf(session: Session, message: OutboxMessage) -> messages.Attachment | None:
    """The analytics domain's PDF of a weekly or monthly report, in the reader's scope and
    language; None (the email goes without it) when it cannot be made."""
    try:
        from leadhub.analytics.reports import render_report
    except ImportError:
        return None
    period = message.template.removesuffix("_report")
    start = message.params.get("start")
    if period not in ("weekly", "monthly") or not start:
        return None
    user = session.get(User, message.recipient_id) if message.recipient_id else None
    try:
        with messages.reader_locale(message.language):
            data = render_report(
                session, period=period, fmt="pdf", user=user, on=date.fromisoformat(start)
            )
    except Exception:  # a report that cannot be drawn never holds back the email
        log.warning("no PDF for report email %s", message.id, exc_info=True)
        return None
    return messages.Attachment(f"leadhub-{period}-{start}.pdf", "application/pdf", data)


# The PDF attached to report emails; a test or another deployment may put its own here.
report_attachment: ReportAttachment | None = analytics_pdf


class SmtpSettingError(ValueError):
    """SMTP_URL cannot be read; the message says what is wrong (never the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool

    def __repr__(self) -> str:  # never show the password in a log line or a traceback
        return f"SmtpSettings(host={self.host!r}, port={self.port}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://user:pass@host:587?starttls=1, or smtps://user:pass@host:465 for implicit TLS."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SmtpSettingError("SMTP_URL must look like smtp://user:pass@host:587?starttls=1")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes", "on")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise SmtpSettingError("SMTP_URL has a port that is not a number") from exc
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
        starttls=starttls and parts.scheme == "smtp",
    )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
        if settings.starttls:
            client.starttls(context=context)
    if settings.username:
        client.login(settings.username, settings.password or "")
    return client


def build_email(
    *, sender: str, to: str, rendered: messages.Rendered, prefs_url: str
) -> EmailMessage:
    """A multipart email (plain text and HTML, attachments); List-Unsubscribe names the
    footer's one-click link when the message has one, else the preferences page."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Message-ID"] = make_msgid(domain="leadhub")
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{rendered.unsubscribe_url or prefs_url}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for item in rendered.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        message.add_attachment(
            item.data, maintype=maintype, subtype=subtype, filename=item.filename
        )
    return message


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0


def claim_due(session: Session, *, now: datetime, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due rows for this sender (commit right after, before sending)."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.next_attempt_at < now - CLAIM_TIMEOUT,
        )
        .values(status=OutboxStatus.PENDING)
    )
    due = list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )
    if not due:
        return []
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due), OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, next_attempt_at=now)
        .returning(OutboxMessage.id)
    )
    return sorted(claimed)


def _digest_items(session: Session, message: OutboxMessage, base: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.digest_id == message.id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    items = []
    with messages.reader_locale(message.language):
        for row in rows:
            items.append(
                {
                    "subject": messages.subject(row.template, row.params),
                    "link": base + messages.link_path(row.template, row.params, row.lead_id),
                }
            )
    return items


def render_message(
    session: Session, message: OutboxMessage, config: Mapping[str, Any]
) -> messages.Rendered:
    """Render one outbox row and keep its subject and bodies on it."""
    extra: dict[str, Any] | None = None
    attachments: list[messages.Attachment] = []
    if message.kind is Kind.DIGEST:
        items = _digest_items(session, message, config["PUBLIC_BASE_URL"].rstrip("/"))
        extra = {"items": items}
        message.params = {**message.params, "count": len(items)}
    if message.kind is Kind.REPORT and report_attachment is not None:
        attachment = report_attachment(session, message)
        if attachment is not None:
            attachments.append(attachment)
    if message.recipient_id is not None and message.kind in CHOSEN_KINDS:
        token = unsubscribe_token(
            config["SECRET_KEY"], user_id=message.recipient_id, kind=message.kind
        )
        extra = {**(extra or {}), "unsubscribe_url": messages.unsubscribe_url(config, token)}
    rendered = messages.render(
        template=message.template,
        language=message.language,
        params=message.params,
        lead_id=message.lead_id,
        config=config,
        extra=extra,
        attachments=attachments,
    )
    message.subject = rendered.subject
    message.body_text = rendered.text
    message.body_html = rendered.html
    return rendered


def _count(metric: str) -> None:
    try:
        from leadhub import metrics

        getattr(metrics, metric).inc()
    except Exception:  # metrics are a convenience; a send never fails for them
        log.debug("metric %s not counted", metric)


def send_due(
    session: Session,
    *,
    config: Mapping[str, Any],
    now: datetime | None = None,
    limit: int = BATCH,
) -> SendResult:
    """Send (or hold) the due outbox rows; the caller's session is committed between steps."""
    now = now or utcnow()
    result = SendResult()
    ids = claim_due(session, now=now, limit=limit)
    session.commit()
    if not ids:
        return result
    smtp_url = config.get("SMTP_URL")
    settings = parse_smtp_url(smtp_url) if smtp_url else None
    client: smtplib.SMTP | None = None
    prefs_url = config["PUBLIC_BASE_URL"].rstrip("/") + messages.PREFERENCES_PATH
    try:
        for message_id in ids:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.status is not OutboxStatus.SENDING:
                continue
            rendered = render_message(session, message, config)
            if settings is None:
                message.status = OutboxStatus.HELD
                result.held += 1
                session.commit()
                continue
            email = build_email(
                sender=config["MAIL_FROM"],
                to=message.to_address,
                rendered=rendered,
                prefs_url=prefs_url,
            )
            try:
                if client is None:
                    client = connect(settings)
                client.send_message(email)
            except (smtplib.SMTPException, OSError) as exc:
                _close(client)
                client = None
                _record_failure(message, exc, now)
                if message.status is OutboxStatus.FAILED:
                    result.failed += 1
                else:
                    result.retried += 1
                _count("emails_failed")
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                message.attempts += 1
                message.last_error = None
                result.sent += 1
                _count("emails_sent")
            session.commit()
    finally:
        _close(client)
    return result


def _record_failure(message: OutboxMessage, exc: Exception, now: datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    if message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxStatus.FAILED
        log.warning("email %s failed %s times; giving up", message.id, message.attempts)
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + BACKOFF * (2 ** (message.attempts - 1))
        log.info("email %s not sent (try %s); trying again later", message.id, message.attempts)


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def retry(session: Session, *, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """Send a failed or held message again (an admin's button)."""
    from leadhub.errors import N_, InvalidInput, NotFound

    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(N_("No such message."))
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.HELD):
        raise InvalidInput(N_("Only failed or held messages can be sent again."))
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.last_error = None
    return message
