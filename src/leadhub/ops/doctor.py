"""`leadhub doctor`: is this installation healthy? Each check passes or fails with its fix.

Checks only read: nothing is written to the database, no job is queued, no token is changed.
"""

from __future__ import annotations

import shutil
import smtplib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

NETWORK_TIMEOUT = 5.0  # seconds for each Redis, SMTP and Graph call
QUEUE_DEPTH_LIMIT = 1000  # more waiting jobs than this: the workers do not keep up
CLOCK_SKEW_LIMIT = 5.0  # seconds between this machine and the database
DISK_FREE_LIMIT = 1024**3  # bytes free under instance/ (SQLite files, job queue, logs)
WEBHOOK_SILENCE = timedelta(hours=24)  # no delivery for this long while Pages are connected


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    skipped: bool = False

    @property
    def label(self) -> str:
        return "SKIP" if self.skipped else "PASS" if self.ok else "FAIL"


def passed(name: str, detail: str) -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def skipped(name: str, detail: str) -> Check:
    return Check(name, True, detail, skipped=True)


GraphFactory = Callable[[Session, Mapping[str, Any]], Any]


def _graph_client(session: Session, config: Mapping[str, Any]) -> Any:
    """A Graph client that gives up fast: a doctor reports, it does not wait out an outage."""
    from leadhub.meta.graph import GraphClient
    from leadhub.meta.service import app_settings

    settings = app_settings(session, config)
    return GraphClient(
        base_url=config["META_GRAPH_URL"],
        version=config["META_GRAPH_VERSION"],
        app_id=settings.app_id,
        app_secret=settings.app_secret,
        timeout=NETWORK_TIMEOUT,
        max_attempts=1,
    )


def check_secrets(config: Mapping[str, Any]) -> Check:
    from cryptography.fernet import Fernet

    from leadhub.config import production_problems

    name = "secrets"
    missing = [key for key in ("SECRET_KEY", "LEADHUB_ENCRYPTION_KEY") if not config.get(key)]
    if missing:
        return failed(name, f"not set: {', '.join(missing)}", f"set {' and '.join(missing)}")
    try:
        for key in config["LEADHUB_ENCRYPTION_KEY"].split(","):  # "NEW,OLD" while rotating
            Fernet(key.strip())
    except ValueError:
        return failed(
            name,
            "LEADHUB_ENCRYPTION_KEY is not a Fernet key",
            "set LEADHUB_ENCRYPTION_KEY to the key the data was encrypted with "
            "(a new one: leadhub rotate-key --help)",
        )
    if config.get("LEADHUB_ENV") == "production":
        from pathlib import Path

        problems = production_problems(dict(config), Path(config["INSTANCE_PATH"]))
        if problems:
            return failed(name, problems[0], "see docs/DEPLOYMENT.md, 'Configuration'")
    return passed(name, "SECRET_KEY and LEADHUB_ENCRYPTION_KEY are set")


def check_database(session: Session, config: Mapping[str, Any]) -> Check:
    from leadhub.cli import _safe_url

    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return failed(
            "database",
            f"{_safe_url(config['DATABASE_URL'])}: {type(exc).__name__}",
            "start the database server or correct DATABASE_URL",
        )
    return passed("database", f"reachable: {_safe_url(config['DATABASE_URL'])}")


def check_migrations(session: Session) -> Check:
    from leadhub.migrate import current_head

    head = current_head()
    try:
        current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001
        session.rollback()
        current = None
    if current != head:
        return failed(
            "migrations",
            f"schema at {current or 'nothing'}, code expects {head}",
            "leadhub db upgrade",
        )
    return passed("migrations", f"schema is at the latest revision ({head})")


def check_redis(config: Mapping[str, Any]) -> Check:
    url = config.get("REDIS_URL")
    if not url:
        if config.get("LEADHUB_ENV") == "production":
            return failed("redis", "REDIS_URL is not set", "set REDIS_URL=redis://HOST:6379/0")
        return skipped("redis", "no REDIS_URL: embedded queue, one web process")
    import redis

    try:
        with redis.Redis.from_url(
            url, socket_timeout=NETWORK_TIMEOUT, socket_connect_timeout=NETWORK_TIMEOUT
        ) as client:
            client.ping()
    except Exception as exc:  # noqa: BLE001
        return failed("redis", type(exc).__name__, "start Redis or correct REDIS_URL")
    return passed("redis", "answers PING")


def check_queue() -> Check:
    from leadhub.queue import huey

    if huey.immediate:
        return skipped("queue", "jobs run immediately (tests)")
    try:
        depth = huey.pending_count()
    except Exception as exc:  # noqa: BLE001
        return failed(
            "queue", f"unreachable: {type(exc).__name__}", "check REDIS_URL or instance/jobs.db"
        )
    if depth > QUEUE_DEPTH_LIMIT:
        return failed(
            "queue",
            f"{depth} jobs waiting",
            "start more workers (leadhub worker --no-periodic) or look for a stuck one",
        )
    return passed("queue", f"reachable, {depth} jobs waiting")


def check_smtp(config: Mapping[str, Any]) -> Check:
    """Connect, STARTTLS and sign in as the notifications do, then EHLO."""
    from leadhub.notifications import delivery

    url = config.get("SMTP_URL")
    if not url:
        return skipped("smtp", "no SMTP_URL: emails are kept in the outbox, not sent")
    try:
        settings = delivery.parse_smtp_url(url)
    except delivery.SmtpSettingError as exc:
        return failed("smtp", str(exc), "correct SMTP_URL")
    where = f"{settings.host}:{settings.port}"
    try:
        client = delivery.connect(settings)
        try:
            code, _ = client.ehlo()
        finally:
            client.close()
    except (OSError, smtplib.SMTPException) as exc:
        return failed(
            "smtp", f"{where}: {type(exc).__name__}", "start the mail server or fix SMTP_URL"
        )
    if code != 250:
        return failed("smtp", f"{where}: EHLO answered {code}", "check the mail server's log")
    return passed("smtp", f"{where} answers EHLO")


def check_meta_app(session: Session, config: Mapping[str, Any]) -> Check:
    from leadhub.meta.service import app_settings

    settings = app_settings(session, config)
    missing = [
        label
        for label, value in (
            ("app id", settings.app_id),
            ("app secret", settings.app_secret),
            ("verify token", settings.verify_token),
        )
        if not value
    ]
    if missing:
        return failed(
            "meta app",
            f"missing: {', '.join(missing)}",
            "set META_APP_ID, META_APP_SECRET, META_VERIFY_TOKEN or save them at /settings/meta",
        )
    return passed("meta app", f"app {settings.app_id} with secret and verify token")


def check_pages(
    session: Session, config: Mapping[str, Any], graph_factory: GraphFactory
) -> list[Check]:
    """Each active Page connection: its token is valid for leads and our app is subscribed."""
    from leadhub import crypto
    from leadhub.meta.graph import GraphError
    from leadhub.meta.models import ConnectionStatus, PageConnection

    connections = list(
        session.scalars(
            select(PageConnection)
            .where(PageConnection.status != ConnectionStatus.DISABLED)
            .order_by(PageConnection.id)
        )
    )
    if not connections:
        return [skipped("pages", "no Page connected yet (leadhub meta connect-page)")]
    graph = graph_factory(session, config)
    checks: list[Check] = []
    fix = "reconnect the Page with a fresh token: leadhub meta connect-page --help"
    try:
        for connection in connections:
            name = f"page {connection.page_name or connection.page_id}"
            try:
                token = crypto.decrypt(connection.token_encrypted)
                info = graph.debug_token(token)
                if not info.get("is_valid"):
                    checks.append(failed(name, "Meta says the token is not valid", fix))
                    continue
                if "leads_retrieval" not in (info.get("scopes") or []):
                    checks.append(failed(name, "the token lacks leads_retrieval", fix))
                    continue
                apps = graph.get(f"{connection.page_id}/subscribed_apps", token=token)
                subscribed = any(
                    str(app.get("id")) == str(graph.app_id)
                    and "leadgen" in (app.get("subscribed_fields") or [])
                    for app in apps.get("data") or []
                )
            except GraphError as exc:
                checks.append(failed(name, f"Graph refused: {type(exc).__name__}", fix))
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. a token the current key cannot read
                checks.append(failed(name, type(exc).__name__, fix))
                continue
            if not subscribed:
                checks.append(failed(name, "the app is not subscribed to leadgen", fix))
            else:
                checks.append(passed(name, "token valid, subscribed to leadgen"))
    finally:
        graph.close()
    return checks


def check_recent_webhooks(session: Session) -> Check:
    from leadhub.db import utcnow
    from leadhub.meta.models import ConnectionStatus, PageConnection, WebhookEvent

    pages = session.scalar(
        select(func.count())
        .select_from(PageConnection)
        .where(PageConnection.status == ConnectionStatus.ACTIVE)
    )
    if not pages:
        return skipped("webhooks", "no active Page: none expected")
    last = session.scalar(select(func.max(WebhookEvent.received_at)))
    if last is None or utcnow() - last > WEBHOOK_SILENCE:
        seen = "never" if last is None else f"last at {last:%Y-%m-%d %H:%M} UTC"
        return failed(
            "webhooks",
            f"no delivery in 24 hours ({seen})",
            "check the app's webhook URL and subscription at developers.facebook.com",
        )
    return passed("webhooks", f"last delivery at {last:%Y-%m-%d %H:%M:%S} UTC")


def check_failed_deliveries(session: Session) -> Check:
    from leadhub.meta.models import InboxStatus, WebhookEvent

    waiting = session.scalar(
        select(func.count())
        .select_from(WebhookEvent)
        .where(WebhookEvent.status == InboxStatus.FAILED)
    )
    if waiting:
        return failed(
            "failed deliveries",
            f"{waiting} waiting",
            "read the reasons and replay them at /settings/meta (Problems)",
        )
    return passed("failed deliveries", "none waiting")


def check_clock(session: Session) -> Check:
    from leadhub.db import utcnow

    try:
        if session.get_bind().dialect.name == "postgresql":
            database_now = session.execute(text("SELECT now()")).scalar()
        else:
            return skipped("clock", "SQLite shares this machine's clock")
    except Exception as exc:  # noqa: BLE001
        return failed("clock", type(exc).__name__, "start the database server")
    skew = abs((utcnow() - database_now).total_seconds())
    if skew > CLOCK_SKEW_LIMIT:
        return failed(
            "clock",
            f"{skew:.1f} s apart from the database",
            "run NTP on both machines (timedatectl set-ntp true)",
        )
    return passed("clock", f"{skew:.2f} s from the database")


def check_disk(config: Mapping[str, Any]) -> Check:
    from pathlib import Path

    folder = Path(config["INSTANCE_PATH"])
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < DISK_FREE_LIMIT:
        return failed(
            "disk",
            f"{free / 1024**2:.0f} MB free under {folder}",
            "free space or move LEADHUB_INSTANCE_PATH to a larger disk",
        )
    return passed("disk", f"{free / 1024**3:.1f} GB free under {folder}")


def run(
    session: Session, config: Mapping[str, Any], *, graph_factory: GraphFactory = _graph_client
) -> Iterator[Check]:
    """Every check, in the order an operator would fix them."""
    yield check_secrets(config)
    database = check_database(session, config)
    yield database
    yield check_redis(config)
    yield check_queue()
    yield check_smtp(config)
    yield check_disk(config)
    if not database.ok:
        return
    migrations = check_migrations(session)
    yield migrations
    yield check_clock(session)
    for name, check in (
        ("meta app", lambda: [check_meta_app(session, config)]),
        ("pages", lambda: check_pages(session, config, graph_factory)),
        ("webhooks", lambda: [check_recent_webhooks(session)]),
        ("failed deliveries", lambda: [check_failed_deliveries(session)]),
    ):
        try:
            yield from check()
        except Exception as exc:  # noqa: BLE001 - e.g. a table the schema does not have yet
            session.rollback()
            fix = "leadhub db upgrade" if not migrations.ok else "see the log of this command"
            yield failed(name, f"could not check: {type(exc).__name__}", fix)
