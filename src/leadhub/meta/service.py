"""Meta: app settings, Page connections, forms, the webhook inbox, and processing a delivery."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from leadhub import crypto
from leadhub.audit import service as audit
from leadhub.auth.models import User
from leadhub.config import DEFAULT_RECONCILE_AFTER
from leadhub.db import utcnow
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Forbidden, InvalidInput, NotFound
from leadhub.intake import service as intake
from leadhub.intake.meta import MAPPABLE, meta_time  # noqa: F401 - meta_time: read via this module
from leadhub.leads.models import TREATMENTS, Lead
from leadhub.meta.models import (
    ConnectionStatus,
    InboxSource,
    InboxStatus,
    LeadForm,
    MetaApp,
    PageConnection,
    WebhookEvent,
)

log = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(seconds=DEFAULT_RECONCILE_AFTER)
MAX_ERROR = 1000
# What LeadHub does with a Page token, and the permission (scope) each step needs.
NEEDED_SCOPES = (
    "leads_retrieval",  # read the leads
    "pages_manage_metadata",  # subscribe the app to the Page's leadgen webhooks
    "pages_show_list",  # see the Page
    "pages_read_engagement",  # read the Page's lead forms
)
TARGETED_SCOPES = ("leads_retrieval", "pages_manage_metadata")  # whose Page ids are kept


@dataclass(frozen=True)
class AppSettings:
    app_id: str | None
    app_secret: str | None
    verify_token: str | None


def app_settings(session: Session, config: Mapping[str, Any]) -> AppSettings:
    """The Meta app's settings: the environment wins, else what an admin saved."""
    from_env = all(
        config.get(name) for name in ("META_APP_ID", "META_APP_SECRET", "META_VERIFY_TOKEN")
    )
    row = None if from_env else session.get(MetaApp, 1)  # every webhook asks: no query if set

    def stored(value: str | None) -> str | None:
        return crypto.decrypt(value) if value else None

    return AppSettings(
        app_id=config.get("META_APP_ID") or (row.app_id if row else None),
        app_secret=config.get("META_APP_SECRET")
        or (stored(row.app_secret_encrypted) if row else None),
        verify_token=config.get("META_VERIFY_TOKEN")
        or (stored(row.verify_token_encrypted) if row else None),
    )


def save_app_settings(
    session: Session, *, app_id: str, app_secret: str | None, verify_token: str | None, actor: User
) -> MetaApp:
    """Keep the app's id and (encrypted) secrets; a blank secret keeps the one stored."""
    row = session.get(MetaApp, 1) or MetaApp(id=1)
    session.add(row)
    row.app_id = app_id.strip() or None
    if app_secret:
        row.app_secret_encrypted = crypto.encrypt(app_secret.strip())
    if verify_token:
        row.verify_token_encrypted = crypto.encrypt(verify_token.strip())
    audit.record(
        session,
        actor=actor,
        action="meta.app_settings",
        object_type="meta_app",
        object_id=1,
        after={
            "app_id": row.app_id,
            "secret_changed": bool(app_secret),
            "verify_token_changed": bool(verify_token),
        },
    )
    return row


def signature_ok(body: bytes, header: str | None, app_secret: str) -> bool:
    """Meta's X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def _id(value: Any) -> str | None:
    return str(value).strip() if isinstance(value, int | str) and str(value).strip() else None


def leadgen_changes(body: Any) -> list[dict[str, Any]]:
    """The leadgen changes of a webhook body, ids as strings; InvalidInput when it has no shape."""
    if not isinstance(body, dict) or body.get("object") != "page":
        raise InvalidInput(N_("This is not a Page webhook."))
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise InvalidInput(N_("The webhook has no entries."))
    changes = []
    for entry in entries:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value")
            if (change or {}).get("field") != "leadgen" or not isinstance(value, dict):
                continue
            leadgen_id = _id(value.get("leadgen_id"))
            if leadgen_id is None or not leadgen_id.isdigit():
                continue
            changes.append(
                {
                    **value,
                    "leadgen_id": leadgen_id,
                    "page_id": _id(value.get("page_id")) or _id((entry or {}).get("id")),
                    "form_id": _id(value.get("form_id")),
                    "ad_id": _id(value.get("ad_id")),
                }
            )
    return changes


def connection_for_page(session: Session, page_id: str | None) -> PageConnection | None:
    if page_id is None:
        return None
    return session.scalar(select(PageConnection).where(PageConnection.page_id == page_id))


# Every change of a batch from one JSON array, pending if its Page is connected, else an orphan,
# and a leadgen id seen before skipped: the same text for any batch (psycopg prepares it once,
# sqlite3 keeps it in its statement cache), and rows take ids in the order of the changes.
_INBOX_INSERTS = {
    "postgresql": """
INSERT INTO webhook_event
    (leadgen_id, page_id, form_id, ad_id, source, change, status, attempts, received_at)
SELECT c.change ->> 'leadgen_id', c.change ->> 'page_id', c.change ->> 'form_id',
       c.change ->> 'ad_id', %(source)s, c.change,
       CASE WHEN EXISTS (
           SELECT FROM page_connection WHERE page_connection.page_id = c.change ->> 'page_id'
       ) THEN %(pending)s ELSE %(orphan)s END,
       0, %(now)s
FROM jsonb_array_elements(%(changes)s) WITH ORDINALITY AS c (change, n)
ORDER BY c.n
ON CONFLICT (leadgen_id) DO NOTHING
RETURNING id, leadgen_id, status = %(pending)s
""",
    "sqlite": """
INSERT INTO webhook_event
    (leadgen_id, page_id, form_id, ad_id, source, change, status, attempts, received_at)
SELECT json_extract(c.value, '$.leadgen_id'), json_extract(c.value, '$.page_id'),
       json_extract(c.value, '$.form_id'), json_extract(c.value, '$.ad_id'), :source, c.value,
       CASE WHEN EXISTS (
           SELECT 1 FROM page_connection
           WHERE page_connection.page_id = json_extract(c.value, '$.page_id')
       ) THEN :pending ELSE :orphan END,
       0, :now
FROM json_each(:changes) AS c
WHERE true
ORDER BY c.key
ON CONFLICT (leadgen_id) DO NOTHING
RETURNING id, leadgen_id, status = :pending
""",
}


@functools.cache
def _stored_time(dialect: Any) -> Any:
    """received_at as the column's type stores it on this database."""
    return WebhookEvent.__table__.c.received_at.type.bind_processor(dialect)


def record_changes(
    session: Session, changes: list[dict[str, Any]], *, source: InboxSource = InboxSource.WEBHOOK
) -> list[int]:
    """Put changes in the inbox once each (unique on leadgen_id); the ids of new pending rows."""
    return list(record_new(session.connection(), changes, source=source).values())


def record_new(
    connection: Connection,
    changes: list[dict[str, Any]],
    *,
    source: InboxSource = InboxSource.WEBHOOK,
) -> dict[str, int]:
    """As record_changes, by leadgen id: which changes made a new pending row, and its id.

    On a Connection, not a Session: the webhook's writer runs it on a connection of its own
    (meta/inbox.py), the others on their session's."""
    if not changes:
        return {}
    # The ack path's statement, on the driver's connection: SQLAlchemy's execution steps took
    # more CPU than the driver's own (py-spy of a loaded `leadhub serve`).
    dialect = connection.dialect
    params = {
        "source": source.value,
        "now": _stored_time(dialect)(utcnow()),
        "changes": Jsonb(changes) if dialect.name == "postgresql" else json.dumps(changes),
        "pending": InboxStatus.PENDING.value,
        "orphan": InboxStatus.ORPHAN.value,
    }
    driver = connection.connection.driver_connection
    rows = driver.execute(_INBOX_INSERTS[dialect.name], params).fetchall()
    return {leadgen_id: event_id for event_id, leadgen_id, new in rows if new}


def graph_client(session: Session, config: Mapping[str, Any]) -> Any:
    """A Graph client with the app's settings; META_GRAPH_URL may point at the simulator."""
    from leadhub.meta.graph import GraphClient

    settings = app_settings(session, config)
    return GraphClient(
        base_url=config["META_GRAPH_URL"],
        version=config["META_GRAPH_VERSION"],
        app_id=settings.app_id,
        app_secret=settings.app_secret,
    )


def _fail(event: WebhookEvent, reason: str, payload: Any = None) -> None:
    event.status = InboxStatus.FAILED
    event.last_error = reason[:MAX_ERROR]
    if payload is not None:
        event.payload = payload if isinstance(payload, dict) else {"raw": payload}
    event.processed_at = utcnow()


@dataclass(frozen=True)
class LeadFetch:
    """What reading one inbox row's lead from Meta needs, carried between two transactions."""

    event_id: int
    leadgen_id: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class Fetched:
    """Meta's answer for one lead: its payload, or a refusal that no retry can change."""

    payload: Any = None
    refusal: Exception | None = None


def lead_fetch(session: Session, *, event_id: int) -> LeadFetch | None:
    """What to ask Meta for a pending inbox row; None when there is nothing to ask (yet)."""
    event = session.get(WebhookEvent, event_id)
    if event is None or event.status is not InboxStatus.PENDING:
        return None
    connection = connection_for_page(session, event.page_id)
    if connection is None:
        event.status = InboxStatus.ORPHAN
        return None
    if connection.status is not ConnectionStatus.ACTIVE:
        event.last_error = f"Page connection is {connection.status.value}; waiting for a new token"
        return None
    return LeadFetch(event.id, event.leadgen_id, crypto.decrypt(connection.token_encrypted))


def fetch_lead(graph: Any, fetch: LeadFetch) -> Fetched:
    """Ask Meta for the lead. Troubles that may pass (timeouts, 5xx, rate limits) propagate."""
    from leadhub.meta import graph as graph_errors

    try:
        return Fetched(payload=graph.lead(fetch.leadgen_id, token=fetch.token))
    except (
        graph_errors.TokenInvalid,
        graph_errors.InvalidRequest,
        graph_errors.PermissionDenied,
    ) as exc:
        return Fetched(refusal=exc)


def settle(session: Session, *, fetch: LeadFetch, fetched: Fetched) -> WebhookEvent | None:
    """Record Meta's answer on a still-pending inbox row, under its lock: ingest or keep why not.

    An invalid token marks the Page `needs_reauth` and leaves the row pending for replay.
    """
    from leadhub.meta import graph as graph_errors

    event = session.get(WebhookEvent, fetch.event_id, with_for_update=True, populate_existing=True)
    if event is None or event.status is not InboxStatus.PENDING:
        return event  # another run of the job got here first
    connection = connection_for_page(session, event.page_id)
    if connection is None:
        event.status = InboxStatus.ORPHAN
        return event
    event.attempts += 1
    if isinstance(fetched.refusal, graph_errors.TokenInvalid):
        if crypto.decrypt(connection.token_encrypted) == fetch.token:
            mark_needs_reauth(session, connection=connection, reason=str(fetched.refusal))
        event.last_error = "The Page token is no longer valid; replayed after a new token"
        return event
    if fetched.refusal is not None:
        _fail(event, f"Meta refused to give this lead: {fetched.refusal}")
        return event
    payload = fetched.payload
    form_id = _id(payload.get("form_id")) if isinstance(payload, dict) else None
    form = session.scalar(select(LeadForm).where(LeadForm.form_id == form_id)) if form_id else None
    try:
        with session.begin_nested():
            lead, _created = intake.ingest_meta(
                session, payload=payload, connection=connection, form=form
            )
    except InvalidInput as exc:
        _fail(event, exc.message, payload)
        return event
    event.status = InboxStatus.DONE
    event.lead_id = lead.id
    event.last_error = None
    event.processed_at = utcnow()
    connection.last_lead_at = lead.received_at
    if form is not None:
        form.last_lead_at = lead.received_at
    return event


def process_event(session: Session, *, event_id: int, graph: Any) -> WebhookEvent | None:
    """Fetch the lead of one inbox row and ingest it, in one transaction; safe to run twice.

    The job (meta.process_event) does the same in two transactions, so that no database lock
    waits while Meta answers; Graph troubles that may pass propagate so the job retries.
    """
    fetch = lead_fetch(session, event_id=event_id)
    if fetch is None:
        return session.get(WebhookEvent, event_id)
    return settle(session, fetch=fetch, fetched=fetch_lead(graph, fetch))


def mark_needs_reauth(session: Session, *, connection: PageConnection, reason: str) -> None:
    """The Page token stopped working: stop using it and tell admins (on the Meta page)."""
    if connection.status is ConnectionStatus.NEEDS_REAUTH:
        return
    connection.status = ConnectionStatus.NEEDS_REAUTH
    connection.last_error = reason[:MAX_ERROR]
    audit.record(
        session,
        actor=None,
        action="meta.needs_reauth",
        object_type="page_connection",
        object_id=connection.id,
        after={"page_id": connection.page_id},
    )
    log.warning("Page %s needs a new token", connection.page_id)


def stale_pending(session: Session, *, older_than: timedelta = RECONCILE_AFTER) -> list[int]:
    """Inbox rows still pending after a while, on Pages whose token works: to queue again."""
    stmt = (
        select(WebhookEvent.id)
        .join(PageConnection, PageConnection.page_id == WebhookEvent.page_id)
        .where(
            WebhookEvent.status == InboxStatus.PENDING,
            WebhookEvent.received_at < utcnow() - older_than,
            PageConnection.status == ConnectionStatus.ACTIVE,
        )
        .order_by(WebhookEvent.received_at)
        .limit(1000)
    )
    return list(session.scalars(stmt))


def connect_page(
    session: Session,
    *,
    distributor: Distributor,
    page_id: str,
    token: str,
    actor: User | None,
    graph: Any,
) -> PageConnection:
    """Check a Page token with Meta, store it encrypted, subscribe the app, read the forms."""
    if not page_id.strip().isdigit():
        raise InvalidInput(N_("A Page id is a number."))
    page_id = page_id.strip()
    info = graph.debug_token(token)
    if not info.get("is_valid"):
        raise InvalidInput(N_("Meta says this token is not valid."))
    scopes = set(info.get("scopes") or [])
    if "leads_retrieval" not in scopes:
        raise InvalidInput(N_("The token lacks the leads_retrieval permission."))
    page = graph.page(page_id, token=token)
    connection = connection_for_page(session, page_id)
    if connection is not None and connection.distributor_id != distributor.id:
        raise Forbidden(N_("This Page is connected to another distributor."))
    if connection is None:
        connection = PageConnection(
            distributor_id=distributor.id, page_id=page_id, token_encrypted=""
        )
        session.add(connection)
    connection.page_name = page.get("name")
    connection.token_encrypted = crypto.encrypt(token)
    record_token_info(connection, info, token=token)
    connection.status = ConnectionStatus.ACTIVE
    connection.last_error = None
    connection.subscribed = bool(graph.subscribe_page(page_id, token=token))
    session.flush()
    sync_forms(session, connection=connection, graph=graph, token=token)
    connection.last_sync_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="meta.connect_page",
        object_type="page_connection",
        object_id=connection.id,
        after={
            "page_id": page_id,
            "distributor_id": distributor.id,
            "subscribed": connection.subscribed,
        },
    )
    # leads that waited for a working token go again
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.page_id == page_id, WebhookEvent.status == InboxStatus.ORPHAN)
        .values(status=InboxStatus.PENDING)
    )
    return connection


def record_token_info(
    connection: PageConnection, described: Mapping[str, Any], *, token: str
) -> None:
    """Keep what debug_token said about the Page token (never the token) and when it said it."""
    connection.token_info = token_info(described, token=token)
    connection.token_checked_at = utcnow()


def token_info(described: Mapping[str, Any], *, token: str) -> dict[str, Any]:
    """The parts of a debug_token answer worth showing: who the token is for, what it may do."""

    def seconds(name: str) -> int | None:
        value = described.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def text(name: str) -> str | None:
        value = described.get(name)
        return value if isinstance(value, str) and value else None

    targets = {}
    for item in described.get("granular_scopes") or []:
        if isinstance(item, dict) and item.get("scope") in TARGETED_SCOPES:
            ids = [_id(target) for target in item.get("target_ids") or []]
            targets[item["scope"]] = [target for target in ids if target]
    info: dict[str, Any] = {
        "is_valid": described.get("is_valid") is True,
        "type": text("type"),
        "app_id": _id(described.get("app_id")),
        "application": text("application"),
        "user_id": _id(described.get("user_id")),
        "profile_id": _id(described.get("profile_id")),
        "scopes": [scope for scope in described.get("scopes") or [] if isinstance(scope, str)],
        "granular_targets": targets,
        "expires_at": seconds("expires_at"),
        "data_access_expires_at": seconds("data_access_expires_at"),
    }
    error = described.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        info["error"] = error["message"].replace(token, "[redacted]")[:MAX_ERROR]
    return {name: value for name, value in info.items() if value is not None}


@dataclass(frozen=True)
class TokenStatus:
    """A Page token as the Meta page shows it: what it may do, until when, what it lacks."""

    checked_at: datetime | None
    is_valid: bool | None  # None: never checked
    kind: str | None
    user_id: str | None
    scopes: list[str]
    missing: list[str]
    never_expires: bool
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    covers_page: bool  # False when Meta names the Pages whose leads it reads, and not this one
    error: str | None


def token_status(connection: PageConnection) -> TokenStatus:
    """How the Page's token stood when it was last checked with debug_token."""
    info = connection.token_info or {}
    checked = connection.token_checked_at is not None
    scopes = list(info.get("scopes") or [])
    lead_pages = (info.get("granular_targets") or {}).get("leads_retrieval")

    def moment(name: str) -> datetime | None:
        value = info.get(name)
        return datetime.fromtimestamp(value, UTC) if isinstance(value, int) and value else None

    return TokenStatus(
        checked_at=connection.token_checked_at,
        is_valid=bool(info.get("is_valid")) if checked else None,
        kind=info.get("type"),
        user_id=info.get("user_id"),
        scopes=scopes,
        missing=[scope for scope in NEEDED_SCOPES if scope not in scopes] if checked else [],
        never_expires=info.get("expires_at") == 0,
        expires_at=moment("expires_at"),
        data_access_expires_at=moment("data_access_expires_at"),
        covers_page=lead_pages is None or connection.page_id in lead_pages,
        error=info.get("error"),
    )


def get_connection(session: Session, *, connection_id: int) -> PageConnection:
    connection = session.get(PageConnection, connection_id)
    if connection is None:
        raise NotFound(N_("No such Page connection."))
    return connection


def check_token(
    session: Session, *, connection: PageConnection, graph: Any, actor: User | None
) -> PageConnection:
    """Ask Meta about the stored Page token again, keep its answer, and set the status by it."""
    token = crypto.decrypt(connection.token_encrypted)
    record_token_info(connection, graph.debug_token(token), token=token)
    info = connection.token_info
    if not info["is_valid"]:
        reason = info.get("error") or "Meta says this token is not valid."
        mark_needs_reauth(session, connection=connection, reason=reason)
    elif "leads_retrieval" not in info["scopes"]:
        reason = "The token lacks the leads_retrieval permission."
        mark_needs_reauth(session, connection=connection, reason=reason)
    elif connection.status is ConnectionStatus.NEEDS_REAUTH:
        # the reconciler now sends the deliveries that waited for a working token
        connection.status = ConnectionStatus.ACTIVE
        connection.last_error = None
    audit.record(
        session,
        actor=actor,
        action="meta.check_token",
        object_type="page_connection",
        object_id=connection.id,
        after={
            "is_valid": info["is_valid"],
            "scopes": info["scopes"],
            "status": connection.status.value,
        },
    )
    return connection


def sync_forms(session: Session, *, connection: PageConnection, graph: Any, token: str) -> None:
    """Read the Page's lead forms and their questions; mappings already set are kept."""
    known = {f.form_id: f for f in connection.forms}
    for item in graph.page_forms(connection.page_id, token=token):
        form_id = _id(item.get("id"))
        if form_id is None:
            continue
        form = known.get(form_id) or session.scalar(
            select(LeadForm).where(LeadForm.form_id == form_id)
        )
        if form is None:
            form = LeadForm(form_id=form_id)
        if form not in connection.forms:
            connection.forms.append(form)
        form.name = item.get("name")
        form.status = item.get("status")
        form.locale = item.get("locale")
        form.questions = {"questions": item.get("questions") or []}
        form.privacy_policy_url = item.get("privacy_policy_url")


def problems(session: Session, *, limit: int = 50) -> list[WebhookEvent]:
    """Deliveries that need an admin: failed, orphaned, or waiting on a Page's token."""
    stmt = (
        select(WebhookEvent)
        .where(
            WebhookEvent.status.in_([InboxStatus.FAILED, InboxStatus.ORPHAN])
            | (WebhookEvent.status == InboxStatus.PENDING) & WebhookEvent.last_error.is_not(None)
        )
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def replay(session: Session, *, event_id: int, actor: User) -> WebhookEvent:
    """Try a failed or waiting delivery again (the caller queues its job after commit)."""
    event = session.get(WebhookEvent, event_id)
    if event is None:
        raise NotFound(N_("No such delivery."))
    if event.status is InboxStatus.DONE:
        raise InvalidInput(N_("This delivery is already a lead."))
    if connection_for_page(session, event.page_id) is None:
        raise InvalidInput(N_("Connect this Page first; then the delivery goes again."))
    event.status = InboxStatus.PENDING
    event.last_error = None
    audit.record(
        session,
        actor=actor,
        action="meta.replay",
        object_type="webhook_event",
        object_id=event.id,
        after={"leadgen_id": event.leadgen_id},
    )
    return event


def leads_today_by_form(session: Session, *, since: Any) -> dict[str, int]:
    """Leads received since `since`, per Meta form id, in one grouped query."""
    stmt = (
        select(Lead.form_id, func.count())
        .where(Lead.received_at >= since, Lead.form_id.is_not(None))
        .group_by(Lead.form_id)
    )
    return {form_id: n for form_id, n in session.execute(stmt)}


def needs_reauth_count(session: Session) -> int:
    stmt = (
        select(func.count())
        .select_from(PageConnection)
        .where(PageConnection.status == ConnectionStatus.NEEDS_REAUTH)
    )
    return session.scalar(stmt) or 0


def update_form(
    session: Session, *, form: LeadForm, mapping: dict[str, str], treatment: str | None, actor: User
) -> LeadForm:
    """Which question fills which lead field, and the treatment the form sells."""
    keys = {q.get("key") for q in (form.questions or {}).get("questions", [])}
    cleaned = {k: v for k, v in mapping.items() if v}
    unknown = [k for k in cleaned if k not in keys]
    if unknown or any(v not in MAPPABLE for v in cleaned.values()):
        raise InvalidInput(N_("Map the form's questions to lead fields only."))
    if treatment and treatment not in TREATMENTS:
        raise InvalidInput(N_("Choose a treatment from the list."))
    before = {"field_mapping": form.field_mapping, "treatment": form.treatment}
    form.field_mapping, form.treatment = cleaned, treatment or None
    audit.record(
        session,
        actor=actor,
        action="meta.form_mapping",
        object_type="lead_form",
        object_id=form.id,
        before=before,
        after={"field_mapping": cleaned, "treatment": form.treatment},
    )
    return form


POLL_OVERLAP = 600  # seconds: a poll reads from the newest lead seen minus ten minutes
BACKFILL_MAX_DAYS = 90
BATCH = 500  # leads ingested (a few queries for all of them) and committed together
PAGE_SIZE = 500  # leads per Graph page


@dataclass
class SyncResult:
    seen: int = 0
    created: int = 0
    failed: int = 0


def ingest_fetched(
    session: Session,
    *,
    payloads: list[Any],
    connection: PageConnection,
    form: LeadForm | None,
    source: InboxSource,
) -> list[intake.Ingested]:
    """Ingest leads read by a poll or backfill, a batch at a time; unreadable ones are kept as
    failed deliveries."""
    outcomes = intake.ingest_meta_many(session, payloads=payloads, connection=connection, form=form)
    for payload, outcome in zip(payloads, outcomes, strict=True):
        if outcome.error is not None:
            _keep_failed(
                session,
                payload=payload,
                error=outcome.error,
                connection=connection,
                form=form,
                source=source,
            )
    return outcomes


def _keep_failed(
    session: Session,
    *,
    payload: Any,
    error: InvalidInput,
    connection: PageConnection,
    form: LeadForm | None,
    source: InboxSource,
) -> None:
    """An unreadable lead becomes a failed delivery, with its reason and what Meta sent."""
    leadgen_id = _id(payload.get("id")) if isinstance(payload, dict) else None
    if leadgen_id is None:
        log.warning(
            "a lead without an id from form %s was skipped: %s",
            form.form_id if form else "?",
            error.message,
        )
        return
    change = {
        "leadgen_id": leadgen_id,
        "page_id": connection.page_id,
        "form_id": form.form_id if form else None,
        "ad_id": None,
    }
    record_changes(session, [change], source=source)
    event = session.scalar(select(WebhookEvent).where(WebhookEvent.leadgen_id == leadgen_id))
    if event is not None and event.status is not InboxStatus.DONE:
        _fail(event, error.message, payload)


def sync_form(
    session: Session,
    *,
    form: LeadForm,
    graph: Any,
    since: int | None,
    source: InboxSource = InboxSource.POLL,
    progress: Any = None,
) -> SyncResult:
    """Read a form's leads created after `since` and ingest each once; commits every batch."""
    connection = form.page_connection
    token = crypto.decrypt(connection.token_encrypted)
    result = SyncResult()
    newest = form.last_polled_time or 0
    payloads = graph.form_leads(form.form_id, token=token, since=since, limit=PAGE_SIZE)
    for batch in _read_ahead(payloads, BATCH):
        outcomes = ingest_fetched(
            session, payloads=batch, connection=connection, form=form, source=source
        )
        result.seen += len(batch)
        for outcome in outcomes:
            result.created += outcome.created
            result.failed += outcome.error is not None
            lead = outcome.lead
            # Meta's created_time, read once by intake (a lead without one has a warning)
            if lead is not None and "created_time" not in (lead.intake_warnings or {}):
                newest = max(newest, int(lead.created_time.timestamp()))
        if len(batch) == BATCH:
            form.last_polled_time = newest
            session.commit()  # bounded work per transaction; a rerun goes on from here
        if progress is not None:
            progress(len(batch))
    form.last_polled_time = newest or form.last_polled_time
    connection.last_sync_at = utcnow()
    return result


def _read_ahead(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of `size`; the next list is read (from Meta) on a thread while the caller
    stores this one, so storing never waits for a Graph page. Errors come with the list."""
    source = iter(items)

    def take() -> list[Any]:
        return list(islice(source, size))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-read-ahead") as reader:
        pending = reader.submit(take)
        while batch := pending.result():
            pending = reader.submit(take)
            yield batch


def poll_since(form: LeadForm) -> int | None:
    """Where a poll starts: the newest lead seen minus the overlap (everything, the first time)."""
    if form.last_polled_time is None:
        return int((utcnow() - timedelta(days=1)).timestamp())
    return max(form.last_polled_time - POLL_OVERLAP, 0)


def active_forms(session: Session, *, distributor_id: int | None = None) -> list[LeadForm]:
    stmt = (
        select(LeadForm)
        .join(PageConnection)
        .where(
            PageConnection.status == ConnectionStatus.ACTIVE,
            func.coalesce(LeadForm.status, "ACTIVE") == "ACTIVE",
        )
        .order_by(LeadForm.id)
    )
    if distributor_id is not None:
        stmt = stmt.where(PageConnection.distributor_id == distributor_id)
    return list(session.scalars(stmt))


def list_connections(session: Session) -> list[PageConnection]:
    stmt = select(PageConnection).order_by(PageConnection.page_name, PageConnection.id)
    return list(session.scalars(stmt))
