"""What deserves a message, and who gets it: lead events, speed-to-lead, problems for admins.

Event handlers run after the lead's transaction has committed. They do two cheap things in a
short transaction of their own (read the lead, insert rows) and ask for a send run; sending is
always a job, never part of intake or of a page.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.db import among, db, utcnow
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead, Status
from leadhub.notifications import outbox
from leadhub.notifications.models import (
    DistributorNotificationSetting,
    Kind,
    LeadWatcher,
)
from leadhub.notifications.outbox import Alert, Queued

log = logging.getLogger(__name__)

DEFAULT_SPEED_TO_LEAD_MINUTES = 15
DEFAULT_SCORE_THRESHOLD = 30
SPEED_LOOKBACK = timedelta(hours=6)  # breaches older than this were told about already
WEBHOOK_FAILURE_ALERT = 10  # failed deliveries within an hour that make admins hear of it
WAITING = (Status.NEW, Status.ASSIGNED)
BATCH_WAIT = 0.2  # seconds the events of a burst are gathered before they are handled together
BATCH_LIMIT = 500


@contextmanager
def own_session() -> Iterator[Session]:
    """A session of its own on the app's database (or on a test's connection), committed."""
    bind = db.session.get_bind()
    session = Session(bind=bind, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def settings_for(session: Session, distributor_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(speed-to-lead minutes, score threshold) per distributor; defaults when none is set."""
    ids = sorted(set(distributor_ids))
    found = {
        row.distributor_id: (row.speed_to_lead_minutes, row.score_threshold)
        for row in session.execute(
            select(
                DistributorNotificationSetting.distributor_id,
                DistributorNotificationSetting.speed_to_lead_minutes,
                DistributorNotificationSetting.score_threshold,
            ).where(DistributorNotificationSetting.distributor_id.in_(ids))
        )
    }
    default = (DEFAULT_SPEED_TO_LEAD_MINUTES, DEFAULT_SCORE_THRESHOLD)
    return {i: found.get(i, default) for i in ids}


def managers_of(session: Session, distributor_ids: Iterable[int]) -> dict[int, list[int]]:
    """Active managers per distributor."""
    ids = sorted(set(distributor_ids))
    result: dict[int, list[int]] = {i: [] for i in ids}
    stmt = select(User.distributor_id, User.id).where(
        User.distributor_id.in_(ids), User.role == Role.MANAGER, User.active.is_(True)
    )
    for distributor_id, user_id in session.execute(stmt):
        result[distributor_id].append(user_id)
    return result


def admins(session: Session) -> list[int]:
    stmt = select(User.id).where(User.role.in_(list(CLINIC_ROLES)), User.active.is_(True))
    return list(session.scalars(stmt))


def lead_params(lead: Lead, distributor_name: str | None = None) -> dict[str, Any]:
    """What a message shows of a lead (escaped when rendered)."""
    return {
        "name": lead.full_name,
        "score": lead.score,
        "treatment": lead.treatment,
        "status": lead.status.value,
        "distributor": distributor_name,
    }


@dataclass
class Context:
    """What the alerts of a batch of events share, read once per distributor."""

    settings: dict[int, tuple[int, int]] = field(default_factory=dict)
    managers: dict[int, list[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, distributor_ids: Iterable[int]) -> Context:
        ids = sorted(set(distributor_ids))
        names = dict(
            session.execute(
                select(Distributor.id, Distributor.name).where(Distributor.id.in_(ids))
            ).all()
        )
        return cls(settings_for(session, ids), managers_of(session, ids), names)


def alerts_for_new_lead(
    session: Session, lead: Lead, context: Context | None = None
) -> list[Alert]:
    """A lead at or above the threshold: its assignee, or the managers while it has none."""
    context = context or Context.load(session, [lead.distributor_id])
    _minutes, threshold = context.settings[lead.distributor_id]
    params = lead_params(lead, context.names.get(lead.distributor_id))
    alerts: list[Alert] = []
    if lead.score >= threshold:
        targets = [lead.assignee_id] if lead.assignee_id else context.managers[lead.distributor_id]
        alerts += [
            Alert(Kind.HOT_LEAD, uid, f"lead:{lead.id}:hot", lead.id, params) for uid in targets
        ]
    elif lead.assignee_id:
        alerts.append(
            Alert(Kind.ASSIGNED, lead.assignee_id, f"lead:{lead.id}:routed", lead.id, params)
        )
    return alerts


def _new_value(value: Any) -> Any:
    """A change is either the new value or a (before, after) pair."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[1]
    return value


def alerts_for_update(
    session: Session, lead: Lead, changes: dict[str, Any], actor_id: int | None
) -> list[Alert]:
    """Assigned to you; a status change on a lead you own or watch (never about your own act)."""
    occurrence = uuid.uuid4().hex[:12]
    actor = session.scalar(select(User.name).where(User.id == actor_id)) if actor_id else None
    params = {**lead_params(lead), "actor": actor}
    alerts: list[Alert] = []
    if "assignee_id" in changes:
        assignee = _new_value(changes["assignee_id"])
        if assignee and assignee != actor_id:
            alerts.append(
                Alert(
                    Kind.ASSIGNED,
                    int(assignee),
                    f"lead:{lead.id}:assigned:{occurrence}",
                    lead.id,
                    params,
                )
            )
    if "status" in changes:
        status = _new_value(changes["status"])
        params = {**params, "status": getattr(status, "value", status)}
        told = {a.user_id for a in alerts}
        watchers = set(
            session.scalars(select(LeadWatcher.user_id).where(LeadWatcher.lead_id == lead.id))
        )
        owners = {lead.assignee_id} if lead.assignee_id else set()
        for user_id in sorted((owners | watchers) - told - {actor_id}):
            alerts.append(
                Alert(
                    Kind.STATUS_CHANGED,
                    user_id,
                    f"lead:{lead.id}:status:{occurrence}",
                    lead.id,
                    params,
                )
            )
    return alerts


def handle_lead_events(batch: list[Any]) -> None:
    """After commit: the notifications a batch of lead events calls for, in one transaction
    (a few reads for the whole batch, one insert per table), then a push and a send request."""
    with own_session() as session:
        ids = {e.lead_id for e in batch}
        # By id alone, the deleted left out here: with `deleted_at IS NULL` in the query, a
        # database without statistics yet (a backfill's first minute) walked the live-lead
        # index instead of the primary key (110-125 ms a batch of 500, measured)
        leads = {
            lead.id: lead
            for lead in session.scalars(select(Lead).where(among(session, Lead.id, sorted(ids))))
            if lead.deleted_at is None
        }
        context = Context.load(session, {lead.distributor_id for lead in leads.values()})
        alerts: list[Alert] = []
        for domain_event in batch:
            lead = leads.get(domain_event.lead_id)
            if lead is None:
                continue
            if isinstance(domain_event, events.LeadCreated):
                alerts += alerts_for_new_lead(session, lead, context)
            else:
                changes = domain_event.changes or {}
                alerts += alerts_for_update(session, lead, changes, domain_event.actor_id)
        if not alerts:
            return
        queued = outbox.deliver(session, alerts)
    announce(queued)


def handle_lead_event(domain_event: Any) -> None:
    handle_lead_events([domain_event])


class Batcher:
    """Gathers the lead events of a burst for BATCH_WAIT seconds and handles them together, on
    a thread of its own: the job that committed the lead goes on at once, and a burst of new
    leads costs a few write transactions instead of one per lead (SQLite has one writer)."""

    def __init__(
        self,
        app: Any,
        *,
        wait: float = BATCH_WAIT,
        limit: int = BATCH_LIMIT,
        inline: bool | None = None,
    ) -> None:
        self.app, self.wait, self.limit = app, wait, limit
        self.inline = inline  # None: as the job queue does (tests run jobs at once, in the caller)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, domain_event: Any) -> None:
        from leadhub.queue import huey

        if huey.immediate if self.inline is None else self.inline:
            handle_lead_event(domain_event)
            return
        self._queue.put(domain_event)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="notifications-batcher", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                batch = [self._queue.get()]
                deadline = time.monotonic() + self.wait
                while len(batch) < self.limit:
                    try:
                        batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                    except queue.Empty:
                        break
                self._handle(batch)

    def _handle(self, batch: list[Any]) -> None:
        try:
            handle_lead_events(batch)
        except Exception:
            log.exception("notifications for %s lead events failed", len(batch))
        finally:
            db.session.remove()

    def drain(self) -> None:
        """Handle what is waiting now (at exit): nothing told after a commit is dropped."""
        batch: list[Any] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            with self.app.app_context():
                self._handle(batch)


def announce(queued: Queued) -> None:
    """After commit: push the new bell counts and ask for a send run."""
    from leadhub.notifications import jobs

    if queued.notified_users:
        push_counts(queued.notified_users)
    if queued.emails:
        jobs.kick_send()


def push_counts(user_ids: Iterable[int]) -> None:
    from leadhub.realtime import publish

    with own_session() as session:
        counts = outbox.unread_counts(session, user_ids)
    for user_id, unread in counts.items():
        publish.notification_created(user_id, {"unread": unread})


# --- periodic checks ------------------------------------------------------------------------


def _working_time_check() -> Any:
    """The assignment domain's working hours, when it has them; otherwise every hour works."""
    try:
        from leadhub.assignment import service as assignment
    except ImportError:
        return None
    return getattr(assignment, "is_working_time", None)


def speed_to_lead_alerts(session: Session, *, now: datetime) -> list[Alert]:
    """New leads not contacted within their distributor's minutes: the assignee (or managers
    when unassigned) at N minutes, the managers again at 2N (escalation)."""
    minutes = dict(
        session.execute(
            select(
                DistributorNotificationSetting.distributor_id,
                DistributorNotificationSetting.speed_to_lead_minutes,
            )
        ).all()
    )
    shortest = min([DEFAULT_SPEED_TO_LEAD_MINUTES, *minutes.values()])
    longest = max([DEFAULT_SPEED_TO_LEAD_MINUTES, *minutes.values()])
    stmt = (
        select(
            Lead.id,
            Lead.distributor_id,
            Lead.assignee_id,
            Lead.created_time,
            Lead.full_name,
            Lead.score,
            Lead.treatment,
            Lead.status,
        )
        .where(
            Lead.deleted_at.is_(None),
            Lead.created_time <= now - timedelta(minutes=shortest),
            Lead.created_time >= now - timedelta(minutes=2 * longest) - SPEED_LOOKBACK,
            Lead.status.in_(list(WAITING)),
            Lead.first_contacted_at.is_(None),
        )
        .order_by(Lead.created_time, Lead.id)
    )
    rows = list(session.execute(stmt))
    if not rows:
        return []
    working = _working_time_check()
    open_now: dict[int, bool] = {}
    distributors = {row.distributor_id for row in rows}
    managers = managers_of(session, distributors)
    assignee_names = dict(
        session.execute(
            select(User.id, User.name).where(
                User.id.in_({row.assignee_id for row in rows if row.assignee_id})
            )
        ).all()
    )
    alerts: list[Alert] = []
    for row in rows:
        limit = minutes.get(row.distributor_id, DEFAULT_SPEED_TO_LEAD_MINUTES)
        waited = now - row.created_time
        if (
            waited < timedelta(minutes=limit)
            or waited > timedelta(minutes=2 * limit) + SPEED_LOOKBACK
        ):
            continue
        if working is not None:
            if row.distributor_id not in open_now:
                open_now[row.distributor_id] = bool(working(session, row.distributor_id, now))
            if not open_now[row.distributor_id]:
                continue
        params = {
            "name": row.full_name,
            "score": row.score,
            "treatment": row.treatment,
            "minutes": limit,
            "assignee": assignee_names.get(row.assignee_id),
        }
        first = [row.assignee_id] if row.assignee_id else managers[row.distributor_id]
        alerts += [
            Alert(Kind.SPEED_TO_LEAD, uid, f"speed:{row.id}", row.id, params) for uid in first
        ]
        if waited >= timedelta(minutes=2 * limit):
            escalated = {**params, "minutes": 2 * limit}
            alerts += [
                Alert(
                    Kind.SPEED_TO_LEAD,
                    uid,
                    f"speed:{row.id}:escalated",
                    row.id,
                    escalated,
                    template="speed_to_lead_escalation",
                )
                for uid in managers[row.distributor_id]
            ]
    return alerts


def admin_alerts(session: Session, *, now: datetime) -> list[Alert]:
    """Page connections that need a new token (once a day each while broken), and failed
    webhook deliveries piling up (once an hour while they do)."""
    from leadhub.meta.models import ConnectionStatus, InboxStatus, PageConnection, WebhookEvent

    people = admins(session)
    if not people:
        return []
    alerts: list[Alert] = []
    broken = session.execute(
        select(PageConnection.id, PageConnection.page_id, PageConnection.page_name).where(
            PageConnection.status == ConnectionStatus.NEEDS_REAUTH
        )
    )
    day = now.strftime("%Y%m%d")
    for connection_id, page_id, page_name in broken:
        params = {"page": page_name or page_id, "page_id": page_id}
        alerts += [
            Alert(Kind.META_REAUTH, uid, f"meta_reauth:{connection_id}:{day}", None, params)
            for uid in people
        ]
    failed = (
        session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(
                WebhookEvent.status == InboxStatus.FAILED,
                WebhookEvent.received_at >= now - timedelta(hours=1),
            )
        )
        or 0
    )
    if failed >= WEBHOOK_FAILURE_ALERT:
        hour = now.strftime("%Y%m%d%H")
        alerts += [
            Alert(Kind.WEBHOOK_FAILURES, uid, f"webhook_failures:{hour}", None, {"count": failed})
            for uid in people
        ]
    return alerts


def run_check(make: Any, *, now: datetime | None = None) -> Queued:
    """Run one periodic check in its own transaction, then push counts and ask for a send."""
    now = now or utcnow()
    with own_session() as session:
        alerts = make(session, now=now)
        queued = outbox.deliver(session, alerts, now=now) if alerts else Queued()
    announce(queued)
    return queued
