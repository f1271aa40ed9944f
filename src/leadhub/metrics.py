"""Prometheus metrics: every metric object is made here once, and every module increments these.

With PROMETHEUS_MULTIPROC_DIR set (production: gunicorn web processes and `leadhub worker`
processes of one machine share one directory), each process writes its samples there and
/metrics adds them up, so a scrape of any web process shows the whole machine. Without it the
process's own registry is served. prometheus-client reads the variable at import time, so it
belongs in the service's environment, never in code.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from leadhub.db import utcnow

log = logging.getLogger(__name__)

WEBHOOK_ENDPOINT = "meta_api.deliver"
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INGEST_SECONDS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
INGEST_WINDOW = 3600  # leads older than this at arrival came by poll or backfill, not live
_NEW_LEADS = "leadhub.metrics.new_leads"

webhooks_received = Counter(
    "leadhub_webhooks_received", "Signed webhook deliveries from Meta that were accepted"
)
webhooks_rejected = Counter(
    "leadhub_webhooks_rejected",
    "Webhook deliveries refused (bad signature, too large, not configured), by HTTP status",
    ["status"],
)
ingest_seconds = Histogram(
    "leadhub_ingest_seconds",
    "From a lead's creation at Meta to its row in LeadHub (live deliveries only)",
    buckets=INGEST_SECONDS,
)
graph_calls = Counter(
    "leadhub_graph_calls", "Graph API calls, by HTTP status or transport error", ["status"]
)
graph_errors = Counter("leadhub_graph_errors", "Graph API errors, by Meta's error code", ["code"])
emails_sent = Counter("leadhub_emails_sent", "Emails the SMTP server accepted")
emails_failed = Counter("leadhub_emails_failed", "Emails the SMTP server refused or never got")
socketio_connections = Gauge(
    "leadhub_socketio_connections",
    "Open Socket.IO connections of /facebook-leads",
    multiprocess_mode="livesum",
)
http_request_seconds = Histogram(
    "leadhub_http_request_seconds",
    "HTTP latency by route (the URL rule, never the raw path)",
    ["method", "route", "status"],
    buckets=SECONDS,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def observe_graph_call(status: int | str, code: int | None = None) -> None:
    """One Graph call: its HTTP status (or transport error name) and Meta's error code if any."""
    graph_calls.labels(status=str(status)).inc()
    if code is not None:
        graph_errors.labels(code=str(code)).inc()


class QueueCollector(Collector):
    """Queue depth and age, read when Prometheus asks (one LLEN and one indexed MIN)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from leadhub.extensions import db
        from leadhub.meta.models import InboxStatus, WebhookEvent
        from leadhub.queue import huey

        depth = GaugeMetricFamily("leadhub_queue_depth", "Jobs waiting in the queue")
        depth.add_metric([], 0 if huey.immediate else huey.pending_count())
        yield depth
        # two range reads of ix_webhook_event_status_received, never a scan of the inbox
        oldest = db.session.scalar(
            select(func.min(WebhookEvent.received_at)).where(
                WebhookEvent.status == InboxStatus.PENDING
            )
        )
        failed = db.session.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.status == InboxStatus.FAILED)
        )
        age = GaugeMetricFamily(
            "leadhub_queue_oldest_age_seconds",
            "Age of the oldest webhook delivery not yet turned into a lead",
        )
        age.add_metric([], (utcnow() - oldest).total_seconds() if oldest else 0.0)
        yield age
        failed_family = GaugeMetricFamily(
            "leadhub_failed_deliveries", "Webhook deliveries that failed and wait for a replay"
        )
        failed_family.add_metric([], failed)
        yield failed_family


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes: this machine's processes (or this one) plus the queue."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueCollector())
    return body + generate_latest(queue_registry), CONTENT_TYPE_LATEST


def scrape_allowed(config: Any, authorization: str | None, remote_addr: str | None) -> bool:
    """A Bearer METRICS_TOKEN when one is set; otherwise only this machine may scrape."""
    token = config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
    try:
        return ipaddress.ip_address(remote_addr or "").is_loopback
    except ValueError:
        return False


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _finished(response: Any) -> Any:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    if request.endpoint == WEBHOOK_ENDPOINT and request.method == "POST":
        if response.status_code == 200:
            webhooks_received.inc()
        else:
            webhooks_rejected.labels(status=str(response.status_code)).inc()
        return response  # the ack path stays cheap: one counter
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    http_request_seconds.labels(
        method=request.method, route=route, status=str(response.status_code)
    ).observe(time.perf_counter() - started)
    return response


def _remember_new_leads(session: Session, _flush_context: Any) -> None:
    """Leads from Meta inserted by this flush; observed if and when the transaction commits."""
    from leadhub.leads.models import Lead

    new = [obj for obj in session.new if isinstance(obj, Lead) and obj.meta_lead_id]
    if new:
        session.info.setdefault(_NEW_LEADS, []).extend(new)


def _observe_ingest(session: Session) -> None:
    """Meta's creation time to the commit, for leads that came in live; no query is made."""
    leads = session.info.pop(_NEW_LEADS, None)
    if not leads:
        return
    now = utcnow()
    try:
        for lead in {id(lead): lead for lead in leads}.values():
            state = inspect(lead)
            created = state.dict.get("created_time")
            if not state.persistent or created is None:  # e.g. its savepoint was rolled back
                continue
            seconds = (now - created).total_seconds()
            if 0 <= seconds <= INGEST_WINDOW:
                ingest_seconds.observe(seconds)
    except Exception:  # noqa: BLE001 - a metric never fails a commit that already happened
        log.warning("ingest latency not recorded", exc_info=True)


def _forget_new_leads(session: Session) -> None:
    session.info.pop(_NEW_LEADS, None)


def _listen_for_ingests() -> None:
    for name, listener in (
        ("after_flush", _remember_new_leads),
        ("after_commit", _observe_ingest),
        ("after_rollback", _forget_new_leads),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _count_socketio_connections(app: Flask) -> None:
    """Count accepted and closed connections of the lead desk's namespace."""
    from leadhub.realtime import server_of
    from leadhub.realtime.rooms import NAMESPACE

    socketio = server_of(app)
    namespace = socketio.server.namespace_handlers.get(NAMESPACE) if socketio else None
    if namespace is None or getattr(namespace, "metrics_counted", False):
        return
    connect, disconnect = namespace.on_connect, namespace.on_disconnect

    def counted_connect(*args: Any) -> Any:
        # Counted before the handler runs: it already sends `ready`, and a client that has it
        # must find itself counted. A refused connection is taken off again.
        socketio_connections.inc()
        try:
            accepted = connect(*args)
        except BaseException:
            socketio_connections.dec()
            raise
        if accepted is False:
            socketio_connections.dec()
        return accepted

    def counted_disconnect(*args: Any) -> Any:
        socketio_connections.dec()
        return disconnect(*args)

    namespace.on_connect = counted_connect
    namespace.on_disconnect = counted_disconnect
    namespace.metrics_counted = True


def init_app(app: Flask) -> None:
    """HTTP latency and webhook counts for every request; ingest latency after each new lead."""
    app.before_request(_started)
    app.after_request(_finished)
    _listen_for_ingests()
    _count_socketio_connections(app)


def scrape() -> tuple[bytes, int, dict[str, str]]:
    """The /metrics answer for the current request."""
    body, content_type = exposition()
    return body, 200, {"Content-Type": content_type}


def allowed_here() -> bool:
    return scrape_allowed(
        current_app.config, request.headers.get("Authorization"), request.remote_addr
    )
