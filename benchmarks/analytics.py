"""Analytics scenarios (issue 8): each panel's JSON and the monthly PDF report.

  analytics <panel>        /api/v1/analytics/<panel>?period=30d as admin, manager, agent
                           p95 < 300 ms PostgreSQL, < 1 s SQLite (1,000,000 leads,
                           3,000,000 interactions)
  monthly PDF report       /api/v1/reports/monthly?format=pdf as admin      < 3 s

The desk's loader makes leads only. Before timing, this file tops the interactions up to three
per lead with one set-based INSERT … SELECT (only when there are fewer), and sets each loaded
lead's pipeline stage and assignment time from its status with set-based UPDATEs, as migration
0010's backfill does. When either wrote, the tables are vacuumed and analyzed as autovacuum would
(it is off on this machine's PostgreSQL): the UPDATEs leave a dead row behind for every lead, and
3,000,000 new interactions are not yet marked visible for index-only scans. None of it is timed.

`python -m benchmarks.analytics --size N [--databases sqlite|postgresql] [--load]`
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from benchmarks import databases, report
from benchmarks.databases import Target
from benchmarks.queries import ROLES, gather_facts
from benchmarks.scenarios import api_key, make_app
from benchmarks.timing import ITERATIONS, Result, SqlClock, measure
from leadhub.extensions import db

PANELS = ("funnel", "speed", "distributors", "staff", "campaigns", "trends")
TARGET_MS = {"sqlite": 1000.0, "postgresql": 300.0}
PDF_TARGET_MS = 3000.0
INTERACTIONS_PER_LEAD = 3

STAGES = (
    "UPDATE lead SET pipeline_stage = 1, assigned_at = received_at"
    " WHERE assignee_id IS NOT NULL AND pipeline_stage < 1",
    "UPDATE lead SET pipeline_stage = 2"
    " WHERE (first_contacted_at IS NOT NULL OR status = 'contacted') AND pipeline_stage < 2",
    "UPDATE lead SET pipeline_stage = 3 WHERE status = 'converted' AND pipeline_stage < 3",
)
KINDS = "CASE (lead.id + n.k) % 5 WHEN 0 THEN 'call' WHEN 1 THEN 'email' WHEN 2 THEN 'whatsapp'"
KINDS += " WHEN 3 THEN 'note' ELSE 'status_change' END"
LATER = {
    "sqlite": "datetime(lead.created_time, '+' || (n.k * 7) || ' hours')",
    "postgresql": "lead.created_time + make_interval(hours => n.k * 7)",
}


def prepare(t: Target, log: Callable[[str], None]) -> None:
    """Stages from statuses, and interactions up to three per lead (set-based, untimed)."""
    engine = databases.engine_for(t)
    with engine.begin() as conn:
        staged = sum(conn.execute(text(statement)).rowcount for statement in STAGES)
        added = _add_interactions(conn, engine.dialect.name, log)
    if staged or added:
        log("vacuum and analyze after preparing (not timed)")
        databases.analyze(t, engine)
    engine.dispose()


def _add_interactions(conn: Any, dialect: str, log: Callable[[str], None]) -> bool:
    """Three interactions per lead, unless there are that many already; True when it wrote."""
    leads = conn.scalar(text("SELECT count(*) FROM lead")) or 0
    have = conn.scalar(text("SELECT count(*) FROM interaction")) or 0
    if have >= leads * INTERACTIONS_PER_LEAD:
        return False
    log(f"adding {leads * INTERACTIONS_PER_LEAD - have:,} interactions")
    conn.execute(text("DELETE FROM interaction"))
    conn.execute(
        text(
            "INSERT INTO interaction"
            " (lead_id, kind, actor_id, occurred_at, created_at, updated_at)"
            f" SELECT lead.id, {KINDS}, lead.assignee_id, {LATER[dialect]},"
            f" {LATER[dialect]}, {LATER[dialect]}"
            " FROM lead CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) n"
        )
    )
    return True


def run_all(t: Target, *, iterations: int, log: Callable[[str], None]) -> list[Result]:
    app = make_app(t.url)
    prepare(t, log)
    with app.app_context():
        facts = gather_facts(db.session)
        keys = {role: api_key(facts.users[role]) for role in ROLES}
        db.session.remove()
    client = app.test_client()
    clock = SqlClock(db.engine)
    target = TARGET_MS[t.name]
    results = []
    for role in ROLES:
        headers = {"Authorization": f"Bearer {keys[role]}"}
        for panel in PANELS:
            log(f"{role}: analytics {panel}")
            results.append(
                measure(
                    f"analytics {panel}",
                    role,
                    [f"/api/v1/analytics/{panel}?period=30d"],
                    lambda url, h=headers: client.get(url, headers=h),
                    iterations=iterations,
                    clock=clock,
                    target_ms=target,
                    note="30 days and the 30 before",
                )
            )
    headers = {"Authorization": f"Bearer {keys['admin']}"}
    log("admin: monthly PDF report")
    results.append(
        measure(
            "monthly PDF report",
            "admin",
            ["/api/v1/reports/monthly?format=pdf"],
            lambda url: client.get(url, headers=headers),
            iterations=max(3, iterations // 10),
            clock=clock,
            target_ms=PDF_TARGET_MS,
            note="every panel of last month, rendered with fpdf2",
        )
    )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only the analytics scenarios, printed (benchmarks/results/ is left alone)."""
    from rich.console import Console

    from benchmarks.load import loaded_targets, standalone_parser

    parser = standalone_parser("python -m benchmarks.analytics", __doc__)
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=220)
    for t in loaded_targets(args, console.print):
        rows = run_all(t, iterations=args.iterations, log=lambda m: console.print(f"  {m}"))
        report.print_results(console, f"{t.name}: analytics, {args.size:,} leads", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
