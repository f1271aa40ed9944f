"""Issue 6's speed target: notifications never slow intake.

  webhook ack, notifications off vs on   a burst of --size new leads (1,000 in `make bench`)
                                         at 100/s through the signed webhook     p95 within 10%
  notifications queued                   every lead's notification row within 5 s of the lead

LeadHub runs as in production (benchmarks/meta_site.py): `leadhub serve` stores each webhook and
queues a job in Redis; a `leadhub worker` fetches the lead from the simulated Graph API, ingests
it, and, after the commit, the notification subscribers insert the outbox and in-app rows. Every
new lead is made worth an alert (score threshold 0, two managers), so each one queues messages.
The same burst runs in pairs on the same database, subscribers off (LEADHUB_NOTIFICATIONS=0)
and on, back to back, the order alternating; the median of the pairs' changes is the verdict.

  python -m benchmarks.notifications --size 1000 [--rounds 5] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks import databases, traffic
from benchmarks.meta import failed_row, latency_row
from benchmarks.meta_site import WEBHOOK_AGENCY, Site, open_site
from benchmarks.processes import LEADHUB, free_port, running
from benchmarks.timing import percentile
from leadhub.db import make_engine
from leadhub.simulator import LeadgenChange, build_payload, sign

RATE = 100.0  # webhooks per second, one new lead each
ACK_MARGIN = 0.10  # notifications on may cost at most 10% of the ack's p95
QUEUED_TARGET_S = 5.0
BURST = 1000  # the "a burst of 1,000 new leads"
SETTLE_TIMEOUT = 300.0  # seconds to wait for the worker to finish the burst
REDIS_URL = "redis://127.0.0.1:6379/12"  # a queue of its own, apart from the Meta benchmark's

Log = Callable[[str], None]


def reader(url: str) -> Any:
    """An engine for the benchmark's own reads: no write lock taken (make_engine's SQLite
    transactions begin IMMEDIATE, which would queue these reads behind the worker's writes)."""
    from sqlalchemy import create_engine

    return create_engine(url) if url.startswith("sqlite") else make_engine(url)


def logs(site: Site) -> Path:
    """The processes' logs, kept after the run, apart from the Meta benchmark's."""
    folder = databases.DATA / "notifications-logs" / site.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prepare(site: Site) -> int:
    """Two managers for the webhook distributor, and every new lead worth an alert."""
    from werkzeug.security import generate_password_hash

    from leadhub.auth.models import Role, User
    from leadhub.distributors.models import Distributor
    from leadhub.notifications.models import DistributorNotificationSetting

    engine = make_engine(site.url)
    try:
        with Session(engine) as session, session.begin():
            distributor_id = session.scalar(
                select(Distributor.id).where(Distributor.name == WEBHOOK_AGENCY)
            )
            password = generate_password_hash(secrets.token_urlsafe(16))
            session.add_all(
                User(
                    email=f"notify-bench-{n}@example.com",
                    name=f"Bench Manager {n}",
                    role=Role.MANAGER,
                    distributor_id=distributor_id,
                    password_hash=password,
                    language=("en", "tr")[n % 2],
                    timezone="UTC",
                    active=True,
                )
                for n in range(2)
            )
            session.add(
                DistributorNotificationSetting(
                    distributor_id=distributor_id, score_threshold=0, default_kinds={}
                )
            )
    finally:
        engine.dispose()
    return distributor_id


def burst_body(site: Site, ids: list[str]) -> traffic.Body:
    """A signed delivery of one new simulated lead per call (the Graph API can then serve it)."""
    secret = site.world.app_secret or ""
    forms = site.webhook_forms

    def body(number: int) -> tuple[bytes, dict[str, str]]:
        form_id = forms[number % len(forms)]
        lead = site.world.add_leads(1, form_id)[0]
        ids.append(lead.id)
        change = LeadgenChange(lead.id, lead.page_id, form_id, int(time.time()))
        payload = build_payload([change])
        return payload, {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(payload, secret),
        }

    return body


def _settled(site: Site, ids: list[str], *, notifications: bool) -> tuple[int, int]:
    """How many of the burst's leads are stored, and how many have their notifications."""
    from leadhub.leads.models import Lead
    from leadhub.notifications.models import Notification

    engine = reader(site.url)
    try:
        with Session(engine) as session:
            stored = session.scalar(
                select(func.count()).select_from(Lead).where(Lead.meta_lead_id.in_(ids))
            )
            told = 0
            if notifications:
                told = session.scalar(
                    select(func.count(func.distinct(Notification.lead_id)))
                    .join(Lead, Lead.id == Notification.lead_id)
                    .where(Lead.meta_lead_id.in_(ids))
                )
    finally:
        engine.dispose()
    return stored or 0, told or 0


def queue_delays(site: Site, ids: list[str]) -> list[float]:
    """Per lead: seconds from its row to its first notification row (both written by the
    database host's clock, in UTC)."""
    from leadhub.leads.models import Lead
    from leadhub.notifications.models import Notification

    engine = reader(site.url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(Lead.received_at, func.min(Notification.created_at))
                .join(Notification, Notification.lead_id == Lead.id)
                .where(Lead.meta_lead_id.in_(ids))
                .group_by(Lead.id, Lead.received_at)
            ).all()
    finally:
        engine.dispose()
    return [max(0.0, (told - stored).total_seconds()) for stored, told in rows]


def burst(site: Site, *, size: int, notifications: bool, log: Log) -> dict[str, Any]:
    """`size` new leads at RATE through the webhook; wait until the worker has them all."""
    mode = "on" if notifications else "off"
    port = free_port()
    env = {**site.env, "LEADHUB_NOTIFICATIONS": "1" if notifications else "0"}
    url = f"http://127.0.0.1:{port}/api/v1/meta/webhook"
    ids: list[str] = []
    with (
        running(
            [LEADHUB, "serve", "--port", str(port)],
            env=env,
            log=logs(site) / f"serve-{mode}.log",
            ready_url=f"http://127.0.0.1:{port}/healthz",
        ),
        running([LEADHUB, "worker"], env=env, log=logs(site) / f"worker-{mode}.log") as worker,
    ):
        warm: list[str] = []
        traffic.open_loop(url, burst_body(site, warm), rate=10.0, seconds=1.0)
        log(f"notifications {mode}: {size} new leads at {RATE:.0f}/s through the webhook")
        outcome = traffic.open_loop(url, burst_body(site, ids), rate=RATE, seconds=size / RATE)
        sent_at = time.perf_counter()
        deadline = sent_at + SETTLE_TIMEOUT
        stored = told = 0
        while time.perf_counter() < deadline:
            stored, told = _settled(site, ids, notifications=notifications)
            if stored == len(ids) and (not notifications or told == len(ids)):
                break
            time.sleep(0.5)
        settle = time.perf_counter() - sent_at
        worker_cpu = cpu_seconds(worker.pid)
    return {
        "mode": mode,
        "outcome": outcome,
        "ids": ids,
        "stored": stored,
        "told": told,
        "settle_s": settle,
        "worker_cpu_s": worker_cpu,
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The rounds of one mode as one run: every latency, every lead."""
    outcome = traffic.Outcome()
    for run in runs:
        outcome.latencies_ms += run["outcome"].latencies_ms
        for kind, n in run["outcome"].errors.items():
            outcome.errors[kind] = outcome.errors.get(kind, 0) + n
    return {
        "mode": runs[0]["mode"],
        "outcome": outcome,
        "ids": [i for run in runs for i in run["ids"]],
        "stored": sum(run["stored"] for run in runs),
        "told": sum(run["told"] for run in runs),
        "settle_s": max(run["settle_s"] for run in runs),
        "worker_cpu_s": sum(run["worker_cpu_s"] for run in runs),
    }


ROUNDS = 5  # pairs of bursts, off and on, the order alternating from pair to pair


def round_changes(runs: dict[bool, list[dict[str, Any]]]) -> list[float]:
    """Per pair of bursts run back to back, the change of the ack's p95 with notifications on."""
    changes = []
    for off, on in zip(runs[False], runs[True], strict=True):
        p95_off = percentile(off["outcome"].latencies_ms or [0.0], 0.95)
        p95_on = percentile(on["outcome"].latencies_ms or [0.0], 0.95)
        changes.append((p95_on - p95_off) / p95_off if p95_off else 0.0)
    return changes


def run_all(
    t: databases.Target, *, size: int, seed: int, rounds: int = ROUNDS, log: Log
) -> list[dict[str, Any]]:
    """Off and on back to back, `rounds` pairs, the order alternating (off-on, on-off, ...), so
    a busy moment of the machine or a database grown by the bursts before hits both modes; the
    verdict is the median of the pairs' changes, which one noisy pair cannot move."""
    rows: list[dict[str, Any]] = []
    with open_site(t, seed=seed, backfill_leads=0, redis_url=REDIS_URL, log=log) as site:
        try:
            prepare(site)
            runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for number in range(rounds):
                for notifications in (False, True) if number % 2 == 0 else (True, False):
                    runs[notifications].append(
                        burst(site, size=size, notifications=notifications, log=log)
                    )
            off, on = _merged(runs[False]), _merged(runs[True])
        except Exception as exc:  # noqa: BLE001 - reported as a failed row
            log(f"notifications benchmark failed: {exc}")
            return [failed_row("notifications burst", exc, logs=logs(site))]
        delays = queue_delays(site, on["ids"])
    for run in (off, on):
        outcome = run["outcome"]
        rows.append(
            latency_row(
                f"webhook ack, notifications {run['mode']}",
                outcome.latencies_ms,
                target_ms=None,
                target="-",
                measured=f"p95 {percentile(outcome.latencies_ms or [0.0], 0.95):.1f} ms",
                passed=None,
                report_only=True,
                note=(
                    f"{rounds} bursts of {size}; {outcome.ok} acknowledged, "
                    f"{traffic_errors(outcome)}; the worker stored {run['stored']} of "
                    f"{len(run['ids'])} leads"
                    + (f", {run['told']} with notifications" if run["mode"] == "on" else "")
                    + f"; each burst settled within {run['settle_s']:.1f} s of its last webhook"
                    + f"; the worker used {run['worker_cpu_s']:.1f} CPU s"
                ),
            )
        )
    changes = round_changes(runs)
    change = statistics.median(changes)
    pairs = ", ".join(f"{c:+.0%}" for c in changes)
    rows.append(
        latency_row(
            "webhook ack unchanged by notifications",
            on["outcome"].latencies_ms,
            target_ms=None,
            target=f"p95 within {ACK_MARGIN:.0%} of off (median of pairs)",
            measured=f"{change:+.1%} (pairs {min(changes):+.0%} to {max(changes):+.0%})",
            passed=change <= ACK_MARGIN and not on["outcome"].failed and not off["outcome"].failed,
            note=(
                f"{rounds} pairs of bursts, off and on back to back, the order alternating, on "
                f"one database; per pair the change of the ack's p95 with notifications on: "
                f"{pairs}; the verdict is their median (a negative change is noise of a shared "
                "machine, not a gain)"
            ),
        )
    )
    worst = max(delays) if delays else float("inf")
    rows.append(
        latency_row(
            "notifications queued after the lead",
            [d * 1000 for d in delays],
            target_ms=QUEUED_TARGET_S * 1000,
            target=f"all within {QUEUED_TARGET_S:.0f} s",
            measured=f"max {worst:.2f} s",
            passed=worst <= QUEUED_TARGET_S and len(delays) == len(on["ids"]),
            note=(
                f"{len(delays)} of {len(on['ids'])} leads have notification rows; from the "
                "lead's row to its first notification row"
            ),
        )
    )
    return [
        row | {"scenario": row["scenario"].replace("meta: ", "notifications: ")} for row in rows
    ]


def traffic_errors(outcome: traffic.Outcome) -> str:
    if not outcome.errors:
        return "no errors"
    return "errors: " + ", ".join(f"{k} x{n}" for k, n in sorted(outcome.errors.items()))


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.notifications",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--size", type=int, default=1000, help="new leads in the burst")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="pairs of bursts, off and on, back to back"
    )
    parser.add_argument("--sqlite-path", type=Path, default=databases.SQLITE_PATH)
    parser.add_argument("--postgresql-url", default=databases.POSTGRESQL_URL)
    args = parser.parse_args(argv)
    os.environ.setdefault("LEADHUB_INSTANCE_PATH", str(databases.DATA / "instance"))
    console = Console() if sys.stdout.isatty() else Console(width=220)
    failed = False
    for name in args.databases.split(","):
        t = databases.target(
            name.strip(), sqlite_path=args.sqlite_path, postgresql_url=args.postgresql_url
        )
        rows = run_all(
            t,
            size=args.size,
            seed=args.seed,
            rounds=args.rounds,
            log=lambda m: console.print(f"  {m}", style="dim"),
        )
        table = Table(title=f"{t.name}: notifications, a burst of {args.size:,} leads")
        for column in (
            "scenario",
            "n",
            "p50",
            "p95",
            "max",
            "target",
            "measured",
            "result",
            "note",
        ):
            table.add_column(column)
        for r in rows:
            verdict = {None: "report", True: "pass", False: "FAIL"}[r["passed"]]
            failed = failed or r["passed"] is False
            table.add_row(
                r["scenario"],
                str(r["iterations"]),
                f"{r['p50_ms']} ms",
                f"{r['p95_ms']} ms",
                f"{r['max_ms']} ms",
                r["target"],
                r["measured"],
                verdict,
                r["note"],
            )
        console.print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
