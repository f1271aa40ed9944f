"""Operations scenarios (issue 9): what watching LeadHub costs when the inbox is large.

  /metrics scrape              exposition + queue depth and age + failed deliveries,
                               over N inbox rows (1% pending, 0.5% failed)       p95 < 100 ms
  doctor's database checks     migrations, clock, Meta app, webhooks received,
                               failed deliveries (no network checks)            p95 < 500 ms
  webhook ack, metrics on      a signed delivery's POST through the real app, stored in the
                               inbox (for a Page not connected: no job) with the
                               metrics hooks on                                report only

`python -m benchmarks.ops --size N [--databases sqlite,postgresql]` builds a database of its
own (a temporary SQLite file; PostgreSQL: `leadhub_bench_ops` on the server of
$BENCH_POSTGRESQL_URL, default postgresql+psycopg://postgres@127.0.0.1/postgres), fills the
inbox in batches, and prints one line per scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from benchmarks.timing import Result, percentile
from leadhub.db import utcnow
from leadhub.meta.models import InboxStatus, WebhookEvent
from leadhub.migrate import upgrade

SCRAPE_TARGET_MS = 100.0
DOCTOR_TARGET_MS = 500.0
ITERATIONS = 50
BATCH = 10_000
APP_SECRET = "bench-app-secret"  # noqa: S105 - a local benchmark's own
METRICS_TOKEN = "bench-metrics-token"  # noqa: S105 - a local benchmark's own


def database(name: str, folder: Path) -> str:
    if name == "sqlite":
        return f"sqlite:///{folder / 'ops.db'}"
    base = make_url(
        os.environ.get("BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
    )
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "leadhub_bench_ops" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "leadhub_bench_ops"'))
    admin.dispose()
    return base.set(database="leadhub_bench_ops").render_as_string(hide_password=False)


def fill_inbox(url: str, size: int) -> float:
    """N inbox rows over 90 days: 1% pending, 0.5% failed, the rest done; seconds taken."""
    started = time.perf_counter()
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        for first in range(0, size, BATCH):
            rows = []
            for n in range(first, min(size, first + BATCH)):
                status = (
                    InboxStatus.PENDING
                    if n % 100 == 0
                    else InboxStatus.FAILED
                    if n % 200 == 1
                    else InboxStatus.DONE
                )
                rows.append(
                    {
                        "leadgen_id": str(9_000_000_000_000 + n),
                        "page_id": "104857392011234",
                        "change": {},
                        "status": status,
                        "attempts": 1,
                        "received_at": now - timedelta(seconds=(size - n) * 7_776_000 // size),
                    }
                )
            conn.execute(insert(WebhookEvent), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE webhook_event"))
    engine.dispose()
    return time.perf_counter() - started


def timed(name: str, run: Any, target: float | None, iterations: int = ITERATIONS) -> Result:
    timings = []
    for _ in range(iterations):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return Result(
        scenario=name,
        role="operator",
        iterations=iterations,
        p50_ms=percentile(timings, 0.50),
        p95_ms=percentile(timings, 0.95),
        max_ms=max(timings),
        target_ms=target,
        report_only=target is None,
    )


def scenarios(url: str, folder: Path) -> list[Result]:
    from leadhub.app import create_app
    from leadhub.extensions import db
    from leadhub.ops import doctor
    from leadhub.queue import huey
    from leadhub.simulator import build_payload, sign

    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(folder / "instance"),
            "REALTIME": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "META_APP_ID": "1234567890",
            "META_APP_SECRET": APP_SECRET,
            "META_VERIFY_TOKEN": "bench",
            "METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    client = app.test_client()
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}

    def scrape() -> None:
        response = client.get("/metrics", headers=auth)
        assert response.status_code == 200, response.status_code

    def checks() -> None:
        with app.app_context():
            session = db.session
            for check in (
                doctor.check_migrations(session),
                doctor.check_clock(session),
                doctor.check_meta_app(session, app.config),
                doctor.check_recent_webhooks(session),
                doctor.check_failed_deliveries(session),
            ):
                assert check.name
            db.session.remove()

    deliveries = iter(range(10**12, 10**12 + 10 * ITERATIONS))

    def ack() -> None:
        leadgen_id = str(next(deliveries))
        body = build_payload(
            [{"leadgen_id": leadgen_id, "page_id": "999", "form_id": "1", "created_time": 0}]
        )
        response = client.post(
            "/api/v1/meta/webhook",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, APP_SECRET),
            },
        )
        assert response.status_code == 200, response.get_data(as_text=True)

    results = [
        timed("/metrics scrape", scrape, SCRAPE_TARGET_MS),
        timed("doctor's database checks", checks, DOCTOR_TARGET_MS),
        timed("webhook ack, metrics on", ack, None, iterations=5 * ITERATIONS),
    ]
    if not huey.immediate:
        huey.storage.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="inbox rows")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    failed = False
    for name in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix="leadhub-bench-ops-") as tmp:
            folder = Path(tmp)
            os.environ["LEADHUB_INSTANCE_PATH"] = str(folder / "instance")
            url = database(name, folder)
            upgrade(url)
            seconds = fill_inbox(url, args.size)
            print(f"{name}: {args.size:,} inbox rows written in {seconds:.1f} s")
            for result in scenarios(url, folder):
                verdict = {True: "PASS", False: "FAIL", None: "info"}[result.passed]
                failed |= result.passed is False
                target = f" (target p95 < {result.target_ms:g} ms)" if result.target_ms else ""
                print(
                    f"  {verdict}  {result.scenario}: p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms, max {result.max_ms:.1f} ms{target}"
                )
            if name == "postgresql":
                from leadhub.extensions import db

                db.engine.dispose()
                admin = create_engine(
                    make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
                )
                with admin.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "leadhub_bench_ops" WITH (FORCE)'))
                admin.dispose()
    print(json.dumps({"size": args.size, "passed": not failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
