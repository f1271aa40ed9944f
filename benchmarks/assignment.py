"""Round-robin assignment under concurrent intake (issue 5): perfectly even, and how fast.

  round robin, 50 concurrent intakes   50 threads post leads at once to a live LeadHub
                                       (POST /api/v1/leads, the intake's create path, which
                                       routes each lead in its own transaction); the per-agent
                                       spread must differ by at most 1. Throughput: report only.

Runs on a small database of its own (a distributor, its agents, a round robin rule), started
from nothing each time: it needs no loaded leads.

  python -m benchmarks.assignment [--databases sqlite,postgresql] [--threads 50] [--leads 1000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from werkzeug.serving import make_server

from benchmarks import databases
from benchmarks.databases import Target
from leadhub.app import create_app
from leadhub.assignment.models import AssignmentRule, Strategy
from leadhub.auth import service as accounts
from leadhub.auth.models import Role, User
from leadhub.db import make_engine
from leadhub.distributors.models import Distributor
from leadhub.extensions import db
from leadhub.intake import service as intake
from leadhub.leads.models import Lead
from leadhub.leads.schemas import LeadCreate
from leadhub.migrate import upgrade

THREADS = 50
LEADS = 1000
AGENTS = 12
SQLITE_PATH = databases.DATA / "assignment.db"
POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1/leadhub_bench_assignment"


@dataclass
class Outcome:
    database: str
    threads: int
    leads: int
    agents: int
    seconds: float
    failed: int
    spread: dict[int, int]
    p50_ms: float
    p95_ms: float

    @property
    def difference(self) -> int:
        counts = list(self.spread.values()) + [0] * (self.agents - len(self.spread))
        return max(counts) - min(counts)

    @property
    def passed(self) -> bool:
        assigned = sum(self.spread.values())
        return self.failed == 0 and assigned == self.leads and self.difference <= 1

    @property
    def per_second(self) -> float:
        return self.leads / self.seconds if self.seconds else 0.0


def _prepare(t: Target, *, agents: int) -> tuple[str, int, int]:
    """A fresh schema with one distributor, its agents, a manager's API key, round robin on."""
    databases.ensure_exists(t)
    databases.wipe(t)
    upgrade(t.url)
    engine = make_engine(t.url)
    db.session.configure(bind=engine)
    try:
        with db.transaction() as session:
            distributor = Distributor(name="Bench Agency", country="TR", language="tr")
            session.add(distributor)
            session.flush()
            session.add_all(
                User(
                    email=f"bench-agent{n}@example.com",
                    name=f"Bench Agent {n}",
                    role=Role.AGENT,
                    distributor_id=distributor.id,
                )
                for n in range(agents)
            )
            manager = User(
                email="bench-manager@example.com",
                name="Bench Manager",
                role=Role.MANAGER,
                distributor_id=distributor.id,
            )
            session.add(manager)
            session.add(
                AssignmentRule(distributor_id=distributor.id, strategy=Strategy.ROUND_ROBIN)
            )
            session.flush()
            key = accounts.create_api_key(session, user=manager, name="bench", actor=None)
            return key, distributor.id, manager.id
    finally:
        engine.dispose()


def _app(t: Target, *, threads: int) -> Any:
    """LeadHub on the bench database, with a pool that holds a connection for every intake."""
    app = create_app({"DATABASE_URL": t.url, "RATELIMIT_ENABLED": False})
    db.engine = make_engine(t.url, pool_size=threads + 5, max_overflow=threads)
    db.session.remove()
    db.session.configure(bind=db.engine)
    return app


def _serve(app: Any):  # noqa: ANN202 - (server, url)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _lead(i: int, distributor_id: int) -> dict[str, Any]:
    return {
        "distributor_id": distributor_id,
        "full_name": f"Bench Person {i}",
        "phone": f"+90532{3000000 + i:07d}",
    }


def run(
    t: Target,
    *,
    threads: int,
    leads: int,
    agents: int,
    via: str = "intake",
    say: Callable[[str], None] = print,
) -> Outcome:
    """`via` "intake": each thread calls the intake service in a session (a connection) of its
    own, as the webhook jobs and the API do; "api": each thread posts to a live server."""
    key, distributor_id, manager_id = _prepare(t, agents=agents)
    app = _app(t, threads=threads)
    server, base_url = _serve(app) if via == "api" else (None, "")
    start = threading.Barrier(threads)
    latencies: list[float] = []
    failures: list[str] = []

    def by_api(client: httpx.Client, i: int) -> None:
        response = client.post("/api/v1/leads", json=_lead(i, distributor_id))
        if response.status_code != 201:
            failures.append(f"{response.status_code}: {response.text[:200]}")

    def by_intake(_client: httpx.Client, i: int) -> None:
        try:
            with app.app_context(), db.transaction() as session:
                actor = session.get(User, manager_id)
                data = LeadCreate.model_validate(_lead(i, distributor_id))
                intake.create_manual(session, data=data, actor=actor)
        except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
            failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    post = by_api if via == "api" else by_intake

    def one_thread(n: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url or "http://unused", headers=headers, timeout=60) as c:
            start.wait()
            for i in range(n, leads, threads):
                began = time.perf_counter()
                post(c, i)
                latencies.append(time.perf_counter() - began)

    try:
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one_thread, range(threads)))
        seconds = time.perf_counter() - began
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    for failure in sorted(set(failures)):
        say(f"  failed: {failure}")
    with db.transaction() as session:
        spread = Counter(
            session.scalars(select(Lead.assignee_id).where(Lead.assignee_id.is_not(None)))
        )
    db.engine.dispose()
    ordered = sorted(latencies)
    return Outcome(
        database=t.name,
        threads=threads,
        leads=leads,
        agents=agents,
        seconds=seconds,
        failed=len(failures),
        spread=dict(spread),
        p50_ms=round(statistics.median(ordered) * 1000, 1) if ordered else 0.0,
        p95_ms=round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1) if ordered else 0.0,
    )


def run_all(name: str, *, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """The round-robin scenario as a row of `make bench`'s report, on a database of its own."""
    t = databases.target(name, sqlite_path=SQLITE_PATH, postgresql_url=POSTGRESQL_URL)
    log(f"round robin: {LEADS} leads, {THREADS} concurrent intakes, {AGENTS} agents")
    o = run(t, threads=THREADS, leads=LEADS, agents=AGENTS, say=log)
    counts = list(o.spread.values()) + [0] * (o.agents - len(o.spread))
    return [
        {
            "scenario": f"assignment: round robin, {o.threads} concurrent intakes",
            "role": "-",
            "iterations": o.leads,
            "p50_ms": o.p50_ms,
            "p95_ms": o.p95_ms,
            "p99_ms": None,
            "max_ms": None,
            "target_ms": None,
            "target": "spread differs by <= 1",
            "measured": (
                f"{min(counts)}-{max(counts)} per agent, {o.failed} failed, "
                f"{o.per_second:.0f} leads/s"
            ),
            "passed": o.passed,
            "report_only": False,
            "note": f"{o.agents} agents; each intake in a transaction of its own",
            "slowest": [],
        }
    ]


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog="python -m benchmarks.assignment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    found.add_argument("--databases", default="sqlite,postgresql")
    found.add_argument("--threads", type=int, default=THREADS, help="concurrent intakes")
    found.add_argument("--leads", type=int, default=LEADS, help="leads posted in all")
    found.add_argument("--agents", type=int, default=AGENTS, help="active agents in the rule")
    found.add_argument(
        "--via",
        choices=("intake", "api"),
        default="intake",
        help="threads call the intake service (default) or post to a live server's API",
    )
    found.add_argument("--sqlite-path", type=Path, default=SQLITE_PATH)
    found.add_argument("--postgresql-url", default=POSTGRESQL_URL)
    return found


def main(argv: list[str] | None = None, say: Callable[[str], None] = print) -> int:
    args = parser().parse_args(argv)
    outcomes = []
    for name in [n.strip() for n in args.databases.split(",") if n.strip()]:
        t = databases.target(name, sqlite_path=args.sqlite_path, postgresql_url=args.postgresql_url)
        say(
            f"{t.name}: {args.leads} leads, {args.threads} concurrent intakes, {args.agents} agents"
        )
        outcomes.append(run(t, threads=args.threads, leads=args.leads, agents=args.agents, say=say))
    say("")
    say(
        f"{'database':<11} {'threads':>7} {'leads':>6} {'agents':>6} {'spread (min-max)':>17} "
        f"{'diff':>4} {'leads/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'failed':>6}  result"
    )
    for o in outcomes:
        counts = list(o.spread.values()) + [0] * (o.agents - len(o.spread))
        say(
            f"{o.database:<11} {o.threads:>7} {o.leads:>6} {o.agents:>6} "
            f"{f'{min(counts)}-{max(counts)}':>17} {o.difference:>4} {o.per_second:>8.1f} "
            f"{o.p50_ms:>7} {o.p95_ms:>7} {o.failed:>6}  {'pass' if o.passed else 'FAIL'}"
        )
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
