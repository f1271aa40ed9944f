"""Bulk operation scenarios (issue 5): a status change and an assignment of many leads.

  bulk status change      100,000 open leads → lost (a listed reason), by an admin, by id
  bulk assignment         the same leads, spread by round robin among every active agent
                          each: < 10 s PostgreSQL, < 20 s SQLite (request and job, end to end)
  undo of each            report only: puts the leads back, so a second run finds them again

Each operation is timed from the request's checks (scope of every id, the pending items) to
the job's last committed batch, as `POST /api/v1/leads/bulk` and its job do it; the job runs
in this process (no queue wait). `--bulk N` names fewer leads on a small database.

`python -m benchmarks.bulk --size N` runs them alone on data already loaded
(`python -m benchmarks --size N --load-only`, or add `--load`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, literal_column, select

from benchmarks import databases, report
from benchmarks.databases import Target
from benchmarks.queries import EMAILS
from benchmarks.scenarios import make_app
from benchmarks.timing import Result
from leadhub.auth.models import Role, User
from leadhub.bulk import batches, jobs, service
from leadhub.bulk import undo as undoing
from leadhub.bulk.models import BulkOperation
from leadhub.bulk.schemas import BulkRequest
from leadhub.extensions import db
from leadhub.leads.models import OPEN_STATUSES, Lead, LeadStatusCount

TARGET_S = {"sqlite": 20.0, "postgresql": 10.0}  # for 100,000 leads
BULK = 100_000


def _admin(session: Any) -> User:
    admin = session.scalar(select(User).where(User.email == EMAILS["admin"]))
    if admin is None:
        raise RuntimeError("the bench admin is missing; load the data again")
    return admin


def open_lead_ids(session: Any, n: int) -> list[int]:
    """`n` open live leads (new, assigned, contacted), in id order."""
    stmt = (
        select(Lead.id)
        .where(Lead.status.in_(sorted(OPEN_STATUSES)), Lead.deleted_at.is_(None))
        .order_by(Lead.id)
        .limit(n)
    )
    return list(session.scalars(stmt))


def run_one(app: Any, body: dict[str, Any]) -> tuple[float, BulkOperation]:
    """Create and work one operation as the API and its job would; seconds and the result."""
    with app.app_context():
        started = time.perf_counter()
        with db.transaction() as session:
            operation_id = service.create(
                session, data=BulkRequest(**body), actor=_admin(session)
            ).id
        jobs.run_operation(operation_id)
        seconds = time.perf_counter() - started
        with db.transaction() as session:
            operation = batches.get(session, operation_id=operation_id)
    return seconds, operation


def undo(app: Any, operation_id: int) -> tuple[float, BulkOperation]:
    with app.app_context():
        started = time.perf_counter()
        with db.transaction() as session:
            undo_id = undoing.start_undo(
                session, operation_id=operation_id, actor=_admin(session)
            ).id
        jobs.run_operation(undo_id)
        seconds = time.perf_counter() - started
        with db.transaction() as session:
            operation = batches.get(session, operation_id=undo_id)
    return seconds, operation


def counts_true(app: Any) -> bool:
    """The maintained status counts equal a count of the lead rows (checked outside timing)."""
    with app.app_context():
        session = db.session
        key = func.coalesce(Lead.assignee_id, literal_column("0"))
        truth = {
            (d, a, s): n
            for d, a, s, n in session.execute(
                select(Lead.distributor_id, key, Lead.status, func.count())
                .where(Lead.deleted_at.is_(None))
                .group_by(Lead.distributor_id, key, Lead.status)
            )
        }
        kept = {
            (c.distributor_id, c.assignee_key, c.status): c.n
            for c in session.scalars(select(LeadStatusCount))
            if c.n
        }
        db.session.remove()
    return truth == kept


def _result(name: str, t: Target, seconds: float, operation: BulkOperation, **extra: Any) -> Result:
    ms = round(seconds * 1000, 1)
    target = TARGET_S[t.name] * operation.total / BULK if operation.total else None
    return Result(
        scenario=f"{name}, {operation.total:,} leads",
        role="admin",
        iterations=1,
        p50_ms=ms,
        p95_ms=ms,
        max_ms=ms,
        target_ms=None if target is None else round(target * 1000, 1),
        report_only=extra.get("report_only", False),
        note=(
            f"{operation.done:,} changed, {operation.skipped:,} skipped, {operation.failed:,} "
            f"failed; {operation.total / max(seconds, 1e-9):,.0f} leads/s "
            f"(target {TARGET_S[t.name]:.0f} s per {BULK:,})" + extra.get("note", "")
        ),
    )


def run_all(t: Target, *, bulk: int, log: Callable[[str], None]) -> list[Result]:
    """The bulk scenarios on one loaded database; each operation is undone afterwards."""
    app = make_app(t.url)
    with app.app_context():
        ids = open_lead_ids(db.session, bulk)
        agents = list(
            db.session.scalars(
                select(User.id).where(User.role == Role.AGENT, User.active.is_(True))
            )
        )
        db.session.remove()
    if not ids or not agents:
        raise RuntimeError("no open leads or no agents in the bench data")
    results = []
    log(f"bulk status change of {len(ids):,} leads")
    seconds, operation = run_one(
        app, {"action": "status", "status": "lost", "lost_reason": "Price", "ids": ids}
    )
    results.append(_result("bulk status change", t, seconds, operation))
    log("undo of the status change")
    seconds, undone = undo(app, operation.id)
    results.append(_result("undo of the status change", t, seconds, undone, report_only=True))
    log(f"bulk assignment of {len(ids):,} leads, round robin among {len(agents)} agents")
    seconds, operation = run_one(app, {"action": "assign", "agent_ids": agents, "ids": ids})
    results.append(_result("bulk assignment (round robin)", t, seconds, operation))
    log("undo of the assignment")
    seconds, undone = undo(app, operation.id)
    results.append(_result("undo of the assignment", t, seconds, undone, report_only=True))
    log("status counts against the lead rows (not timed)")
    if not counts_true(app):
        raise RuntimeError("lead_status_count no longer matches the lead rows")
    db.engine.dispose()
    # Four passes over the same leads left dead rows behind: vacuum and analyze as autovacuum
    # would (it is off on this machine's PostgreSQL), so the scenarios after these meet no bloat.
    log("vacuum and analyze after the bulk operations (not timed)")
    databases.analyze(t, databases.engine_for(t))
    return results


def main(argv: list[str] | None = None) -> int:
    """Only the bulk scenarios, printed (benchmarks/results/ is left alone)."""
    from rich.console import Console

    from benchmarks.load import loaded_targets, standalone_parser

    parser = standalone_parser("python -m benchmarks.bulk", __doc__)
    parser.add_argument("--bulk", type=int, default=BULK, help="leads per operation")
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=220)
    for t in loaded_targets(args, console.print):
        rows = run_all(
            t,
            bulk=min(args.bulk, args.size),
            log=lambda m: console.print(f"  {m}", style="dim"),
        )
        report.print_results(console, f"{t.name}: bulk operations, {args.size:,} leads", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
