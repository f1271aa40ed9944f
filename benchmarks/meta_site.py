"""The stage for the Meta scenarios: a fresh database, a simulated Meta, connected Pages.

The simulator (LeadHub's own, `leadhub.simulator`) serves the Graph API on a free port from a
thread of this process. LeadHub runs as the real commands would run it in production, in
subprocesses that share `Site.env`: the same database, Redis for the job queue, the Meta app's
id and secret, and secrets given in the environment (LEADHUB_ENV=production on
PostgreSQL; production refuses SQLite, so there the embedded default's settings run).
"""

from __future__ import annotations

import gc
import logging
import random
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from cryptography.fernet import Fernet
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from benchmarks import databases
from benchmarks.databases import Target
from benchmarks.processes import environment
from leadhub.db import make_engine
from leadhub.leads.models import Lead
from leadhub.meta.models import WebhookEvent
from leadhub.simulator import World
from leadhub.simulator import create_app as create_graph

GRAPH_VERSION = "v27.0"
VERIFY_TOKEN = "bench-verify-token"  # noqa: S105 - a local benchmark's value
ADMIN_EMAIL = "meta-bench@example.com"
WEBHOOK_AGENCY = "Webhook Agency"  # its Pages get the live webhooks
ACK_AGENCY = "Ack Agency"  # its Page takes the acknowledgement load (no leads behind it)
BACKFILL_AGENCY = "Backfill Agency"  # its one form holds the backfill's leads
BACKFILL_DAYS = 90
# The queue's own Redis database, so the benchmark never touches anyone else's jobs.
REDIS_URL = "redis://127.0.0.1:6379/13"
HUEY_NAME = "leadhub"


@dataclass
class Site:
    """Everything a Meta scenario needs to start LeadHub and feed it."""

    name: str  # "sqlite" or "postgresql"
    url: str
    redis_url: str
    folder: Path  # temporary: the SQLite file, LeadHub's instance folder
    logs: Path  # kept after the run, for a look when something failed
    world: World
    graph_url: str
    env: dict[str, str]
    api_key: str
    webhook_distributor_id: int
    webhook_forms: list[str]  # Meta form ids on the webhook Pages
    ack_page_id: str
    ack_form_id: str
    backfill_form_id: str
    backfill_leads: int
    _leadgen_ids: Iterator[int] = field(default_factory=lambda: iter(range(10**15, 10**16)))

    def next_leadgen_id(self) -> str:
        """A leadgen id no other delivery of this run used (for the acknowledgement load)."""
        return str(next(self._leadgen_ids))

    def queued_jobs(self) -> int:
        with redis.Redis.from_url(self.redis_url) as client:
            return int(client.llen(f"huey.redis.{HUEY_NAME}"))

    def clear_queue(self) -> None:
        clear_queue(self.redis_url)

    def scalar(self, query: Any) -> Any:
        """One value from the site's database, through a short-lived engine."""
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(query).scalar()
        finally:
            engine.dispose()

    def execute(self, statement: Any) -> None:
        engine = make_engine(self.url)
        try:
            with engine.begin() as conn:
                conn.execute(statement)
        finally:
            engine.dispose()

    def inbox_rows(self, page_id: str) -> int:
        query = select(func.count()).where(WebhookEvent.page_id == page_id)
        return int(self.scalar(query.select_from(WebhookEvent)))

    def forget_inbox(self, page_id: str) -> None:
        """Drop a Page's inbox rows, so no reconciler works on them in a later scenario."""
        self.execute(delete(WebhookEvent).where(WebhookEvent.page_id == page_id))

    def leads_of_form(self, form_id: str) -> int:
        query = select(func.count()).select_from(Lead).where(Lead.form_id == form_id)
        return int(self.scalar(query))


class Autoanalyze(threading.Thread):
    """PostgreSQL's autovacuum ANALYZE, for a server that runs with autovacuum off.

    The test server here has it off; production keeps PostgreSQL's default (on). Without it the
    tables the scenarios fill from empty would never get planner statistics, and plans made for
    an empty table would run against 100,000 rows. Same rule and pace as autovacuum's defaults:
    every minute, each table changed by more than 50 rows + 10% of its size is analyzed.
    """

    NAPTIME = 60.0  # autovacuum_naptime
    THRESHOLD, SCALE = 50, 0.1  # autovacuum_analyze_threshold, autovacuum_analyze_scale_factor

    def __init__(self, url: str) -> None:
        super().__init__(name="autoanalyze", daemon=True)
        self.engine = make_engine(url, isolation_level="AUTOCOMMIT")
        self.halt = threading.Event()
        self.runs = 0

    def needed(self) -> bool:
        with self.engine.connect() as conn:
            return conn.exec_driver_sql("SHOW autovacuum").scalar() != "on"

    def run(self) -> None:
        stale = text(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.n_mod_since_analyze > :threshold + :scale * greatest(c.reltuples, 0)"
        )
        while not self.halt.wait(self.NAPTIME):
            with self.engine.connect() as conn:
                params = {"threshold": self.THRESHOLD, "scale": self.SCALE}
                for table in conn.execute(stale, params).scalars():
                    conn.exec_driver_sql(f'ANALYZE "{table}"')
                    self.runs += 1

    def stop(self) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(30)
        self.engine.dispose()


def clear_queue(url: str) -> None:
    """Remove LeadHub's queue, schedule and results from the benchmark's Redis database."""
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=f"huey.*.{HUEY_NAME}*"))
        if keys:
            client.delete(*keys)


def meta_target(t: Target, folder: Path) -> Target:
    """The Meta scenarios' database: a SQLite file in `folder`, or `<bench database>_meta`."""
    if t.is_sqlite:
        return Target("sqlite", f"sqlite:///{folder / 'meta.db'}")
    url = make_url(t.url)
    url = url.set(database=f"{url.database}_meta")
    return databases.target(
        "postgresql",
        sqlite_path=folder / "unused.db",
        postgresql_url=url.render_as_string(hide_password=False),
    )


def _build_world(seed: int, backfill_leads: int) -> tuple[World, dict[str, Any]]:
    """Two clinic Pages for webhooks, one for the acknowledgement load, one big backfill form."""
    world = World.seed_default(pages=2, forms_per_page=2, seed=seed)
    webhook_pages = [page.id for page in world.pages()]
    ack_page = world.add_page("Benchmark Load Clinic")
    ack_form = world.add_form(ack_page.id, locale="en_GB")
    backfill_page = world.add_page("Backfill Clinic")
    form = world.add_form(backfill_page.id, locale="tr_TR")
    rng = random.Random(seed)
    now = int(time.time())
    oldest = now - BACKFILL_DAYS * 86400 + 600  # inside `--since 90` with ten minutes to spare
    for _ in range(backfill_leads):
        world.add_leads(1, form.id, rng.randrange(oldest, now - 60))
    return world, {
        "webhook_pages": webhook_pages,
        "ack_page": ack_page.id,
        "ack_form": ack_form.id,
        "backfill_page": backfill_page.id,
        "backfill_form": form.id,
    }


def _serve_graph(world: World) -> tuple[BaseWSGIServer, threading.Thread]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per Graph call
    server = make_server("127.0.0.1", 0, create_graph(world, version=GRAPH_VERSION), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="meta-simulator", daemon=True)
    thread.start()
    return server, thread


def _prepare_leadhub(
    config: dict[str, Any], world: World, pages: dict[str, Any]
) -> tuple[str, int]:
    """Distributors, an admin with an API key, and every Page connected through the simulator."""
    from leadhub.app import create_app
    from leadhub.auth import service as accounts
    from leadhub.auth.models import Role
    from leadhub.auth.schemas import UserCreate
    from leadhub.distributors import service as distributors
    from leadhub.distributors.schemas import DistributorCreate
    from leadhub.extensions import db
    from leadhub.meta import service as meta

    app = create_app(config)
    logging.getLogger("leadhub").setLevel(logging.WARNING)  # no line per Graph call
    with app.app_context(), db.transaction() as session:
        admin = accounts.create(
            session,
            actor=None,
            data=UserCreate(
                email=ADMIN_EMAIL,
                name="Meta benchmark",
                role=Role.ADMIN,
                password=secrets.token_urlsafe(16),
            ),
        )
        key = accounts.create_api_key(session, user=admin, name="meta benchmark", actor=None)
        agencies = {
            name: distributors.create(
                session,
                data=DistributorCreate(name=name, country="TR", language="tr"),
                actor=None,
            )
            for name in (WEBHOOK_AGENCY, ACK_AGENCY, BACKFILL_AGENCY)
        }
        owners = [(page_id, WEBHOOK_AGENCY) for page_id in pages["webhook_pages"]]
        owners += [(pages["ack_page"], ACK_AGENCY), (pages["backfill_page"], BACKFILL_AGENCY)]
        graph = meta.graph_client(session, app.config)
        try:
            for page_id, agency in owners:
                page = world.page(page_id)
                assert page is not None
                meta.connect_page(
                    session,
                    distributor=agencies[agency],
                    page_id=page_id,
                    token=page.access_token,
                    actor=None,
                    graph=graph,
                )
        finally:
            graph.close()
        webhook_distributor_id = agencies[WEBHOOK_AGENCY].id
    db.session.remove()
    if db.engine is not None:
        db.engine.dispose()
    return key, webhook_distributor_id


@contextmanager
def open_site(
    t: Target,
    *,
    seed: int,
    backfill_leads: int,
    redis_url: str = REDIS_URL,
    log: Callable[[str], None],
) -> Iterator[Site]:
    """A migrated, empty database with connected Pages, and a simulated Meta serving them."""
    from leadhub.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix=f"leadhub-bench-meta-{t.name}-"))
    server = analyzer = None
    try:
        target = meta_target(t, folder)
        databases.ensure_exists(target)
        databases.wipe(target)
        upgrade(target.url)
        if not target.is_sqlite:
            analyzer = Autoanalyze(target.url)
            if analyzer.needed():
                log("PostgreSQL runs without autovacuum here: analyzing as it would, each minute")
                analyzer.start()
        clear_queue(redis_url)
        log(f"simulated Meta: {backfill_leads:,} leads on the backfill form")
        world, pages = _build_world(seed, backfill_leads)
        # The simulated leads live in this process, which is also the webhook scenarios' client:
        # a full collection walks them all (113 ms with 100,000), and a pause of the client
        # counts in the open loop's latencies. Kept out of the collector until the site closes.
        gc.freeze()
        server, _thread = _serve_graph(world)
        graph_url = f"http://127.0.0.1:{server.server_port}"
        secret_settings = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "LEADHUB_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        }
        meta_settings = {
            "META_APP_ID": world.app_id,
            "META_APP_SECRET": world.app_secret or "",
            "META_VERIFY_TOKEN": VERIFY_TOKEN,
            "META_GRAPH_URL": graph_url,
            "META_GRAPH_VERSION": GRAPH_VERSION,
        }
        key, distributor_id = _prepare_leadhub(
            {
                "DATABASE_URL": target.url,
                "JOBS_IMMEDIATE": True,
                "REALTIME": False,  # this process only prepares data: no Socket.IO publisher
                "RATELIMIT_STORAGE_URI": "memory://",
                **secret_settings,
                **meta_settings,
            },
            world,
            pages,
        )
        env = environment(
            {
                "DATABASE_URL": target.url,
                "REDIS_URL": redis_url,
                # Production refuses SQLite: there the embedded default is what runs.
                "LEADHUB_ENV": "production" if t.name == "postgresql" else "development",
                # One integration key reads the API every 20 ms (3,000 reads a minute): far past
                # the default allowance for a key (1,000 an hour), which would answer 429.
                "API_RATE_LIMIT": "1000000 per hour",
                "LEADHUB_INSTANCE_PATH": str(folder / "instance"),
                **secret_settings,
                **meta_settings,
            }
        )
        webhook_forms = [f.id for p in pages["webhook_pages"] for f in world.forms(p)]
        logs = databases.DATA / "meta-logs" / t.name
        shutil.rmtree(logs, ignore_errors=True)
        yield Site(
            name=t.name,
            url=target.url,
            redis_url=redis_url,
            folder=folder,
            logs=logs,
            world=world,
            graph_url=graph_url,
            env=env,
            api_key=key,
            webhook_distributor_id=distributor_id,
            webhook_forms=webhook_forms,
            ack_page_id=pages["ack_page"],
            ack_form_id=pages["ack_form"],
            backfill_form_id=pages["backfill_form"],
            backfill_leads=backfill_leads,
        )
    finally:
        gc.unfreeze()
        if analyzer is not None:
            analyzer.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
        clear_queue(redis_url)
        shutil.rmtree(folder, ignore_errors=True)
