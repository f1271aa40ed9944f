"""The batches of a bulk operation: lock, check with the single-lead rules, write set-based.

The job (jobs.py) reads the pending items (`next_pending`) and hands each batch to a writer.
`lock_batch` locks the batch's leads and skips those gone or changed since the client saw them;
`work_batch` checks every lead with the single-lead rules (leads.service) and works the action
(actions.py, undo.py), then writes the batch's own rows (rows.py): rows no other batch touches,
so batches are written side by side.
`record` then, in operation order, keeps the shared rows true: the status counts (by hand: a
Core UPDATE passes the ORM's flush hooks in leads/projections.py by) and the operation's progress.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.audit.models import AuditEvent
from leadhub.audit.service import jsonable
from leadhub.auth.models import Role, User
from leadhub.auth.scope import visible_leads
from leadhub.bulk import actions, rows
from leadhub.bulk.models import BulkKind, BulkOperation, BulkStatus, Outcome
from leadhub.bulk.reasons import Reason
from leadhub.bulk.rows import ITEMS, LEAD, Batch
from leadhub.db import among, utcnow
from leadhub.errors import N_, InvalidInput, NotFound
from leadhub.leads import projections
from leadhub.leads.models import Lead

BATCH_SIZE = 5000
PER_LEAD_EVENTS = 100  # up to this many changed leads, each also gets its own lead_updated

LEAD_COLUMNS = (
    LEAD.c.id,
    LEAD.c.distributor_id,
    LEAD.c.assignee_id,
    LEAD.c.status,
    LEAD.c.lost_reason,
    LEAD.c.converted_at,
    LEAD.c.deleted_at,
    LEAD.c.version,
)


def in_scope(user: User, *, deleted: bool = False) -> Any:
    """The leads `user` may change in bulk: their scope; an agent's own leads only."""
    stmt = visible_leads(user, deleted=deleted)
    if user.role is Role.AGENT:
        stmt = stmt.where(Lead.assignee_id == user.id)
    return stmt


def get(session: Session, *, operation_id: int, lock: bool = False) -> BulkOperation:
    """The operation; `lock` holds its row (FOR NO KEY UPDATE: items of batches not yet
    committed reference it, and their key-share locks must not block the batch whose turn it is).
    """
    stmt = select(BulkOperation).where(BulkOperation.id == operation_id)
    if lock:
        stmt = stmt.with_for_update(key_share=True).execution_options(populate_existing=True)
    operation = session.scalar(stmt)
    if operation is None:
        raise NotFound(N_("No such job."))
    return operation


def audit_operation(session: Session, operation: BulkOperation, actor: User, action: str) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            object_type="bulk_operation",
            object_id=operation.id,
            after=jsonable(
                {
                    "kind": operation.kind,
                    "params": operation.params,
                    "selection": operation.selection,
                    "total": operation.total,
                    "undo_of_id": operation.undo_of_id,
                }
            ),
            ip=operation.ip,
            request_id=operation.request_id,
        )
    )


# -- the batches ----------------------------------------------------------------------------------


def begin(session: Session, *, operation: BulkOperation) -> None:
    if operation.status is BulkStatus.QUEUED:
        operation.status = BulkStatus.RUNNING
        operation.started_at = utcnow()


@dataclass(frozen=True)
class Pending:
    """A batch as the job's thread hands it out: its items in lead order, and what precedes it."""

    items: list[Row[Any]]  # (lead_id, version); none: the operation's end
    after: int  # the last lead id before it

    @property
    def ids(self) -> list[int]:
        return [item.lead_id for item in self.items]


def next_pending(
    session: Session, *, operation_id: int, after: int, batch_size: int = BATCH_SIZE
) -> list[Row[Any]]:
    """The next `batch_size` pending items (lead_id, version) after lead `after`, in lead order."""
    return session.execute(
        select(ITEMS.c.lead_id, ITEMS.c.version)
        .where(ITEMS.c.operation_id == operation_id, ITEMS.c.lead_id > after)
        .order_by(ITEMS.c.lead_id)
        .limit(batch_size)
    ).all()


def owner(session: Session, operation: BulkOperation) -> User:
    """Who the operation acts as: its owner, while still active."""
    actor = session.get(User, operation.owner_id)
    if actor is None or not actor.active:
        raise InvalidInput(N_("The operation's owner is no longer active."))
    return actor


def lock_batch(session: Session, *, operation: BulkOperation, pending: Pending) -> Batch:
    """Lock the batch's leads (until it commits) and skip, with their reason, those it cannot
    change; the rest are the batch's leads."""
    actor = owner(session, operation)
    found = _leads(session, operation, actor, pending.ids, lock=True)
    usable, skipped = _usable(operation, found, pending.items)
    batch = Batch(operation=operation, actor=actor, now=utcnow(), leads=usable)
    for lead_id, reason in skipped:
        batch.skip(lead_id, reason)
    return batch


def work_batch(session: Session, *, batch: Batch, ids: list[int]) -> None:
    """Work a locked batch and write its own rows; the shared ones wait for `record`."""
    if batch.leads and batch.operation.kind is BulkKind.UNDO:
        from leadhub.bulk import undo  # undo builds on this module's pieces

        undo.undo_batch(session, batch)
    elif batch.leads:
        actions.HANDLERS[batch.operation.kind](session, batch)
    rows.write(session, batch, ids)


def _usable(
    operation: BulkOperation, found: list[Row[Any]], items: list[Row[Any]]
) -> tuple[list[Row[Any]], list[tuple[int, Reason]]]:
    """The batch's leads still there and as the client saw them, and why the others are not."""
    by_id = {lead.id: lead for lead in found}
    usable, skipped = [], []
    for item in items:
        lead = by_id.get(item.lead_id)
        if lead is None:
            skipped.append((item.lead_id, Reason.GONE))
        elif operation.kind is not BulkKind.UNDO and item.version not in (None, lead.version):
            skipped.append((item.lead_id, Reason.OUT_OF_DATE))
        else:
            usable.append(lead)
    return usable, skipped


def _leads(
    session: Session, operation: BulkOperation, actor: User, ids: list[int], *, lock: bool
) -> list[Row[Any]]:
    """The batch's leads as they are now (still in scope); `lock`: until the batch commits."""
    if operation.kind is BulkKind.UNDO:
        stmt = select(*LEAD_COLUMNS).where(among(session, LEAD.c.id, ids))
    else:
        scoped = in_scope(actor, deleted=operation.kind is BulkKind.RESTORE)
        stmt = scoped.with_only_columns(*LEAD_COLUMNS).where(among(session, Lead.id, ids))
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=LEAD)
    # Plain rows through the session's connection: no ORM loading for thousands of them.
    return session.connection().execute(stmt.order_by(LEAD.c.id)).all()


def side_by_side(operation: BulkOperation) -> bool:
    """Whether the operation's batches may be written at once: not when adding a tag, which
    may create the tag, and two batches creating it would each wait for the other to commit.
    """
    return operation.kind is not BulkKind.TAG_ADD


def turns_after(session: Session, *, batch: Batch) -> dict[str, int]:
    """The round robin's turns after a locked batch that starts from `batch.turns`: each of its
    leads of a distributor someone chosen may work for takes a turn, as `actions.pick` gives."""
    turns = dict(batch.turns)
    people = actions.chosen(session, batch.operation)
    for distributor_id, count in Counter(lead.distributor_id for lead in batch.leads).items():
        if actions.fitting(people, distributor_id):
            turns[str(distributor_id)] = turns.get(str(distributor_id), 0) + count
    return turns


def record(session: Session, *, operation: BulkOperation, batch: Batch, last: int) -> None:
    """Add a batch to the rows all batches share: the status counts and the operation's progress.

    Runs in operation order, holding the operation's row; the counts' keys are locked in
    sorted order, so it never waits on a batch that waits on it.
    """
    if batch.deltas:
        projections.bump_counts(session, batch.deltas)
    operation.done += batch.outcomes[Outcome.DONE]
    operation.skipped += batch.outcomes[Outcome.SKIPPED]
    operation.failed += batch.outcomes[Outcome.FAILED]
    operation.last_lead_id = last
    state = dict(operation.state)
    if operation.kind is BulkKind.ASSIGN and batch.leads:
        state["turns"] = batch.turns
    if batch.outcomes[Outcome.DONE]:
        touched = {lead.distributor_id for lead in batch.leads}
        known = set(state.get("distributors", []))
        if not touched <= known:
            state["distributors"] = sorted(known | touched)
    if state != operation.state:
        operation.state = state


def finish(session: Session, *, operation: BulkOperation, error: str | None = None) -> None:
    """Close the operation; leads left pending by an error count as failed."""
    if error:
        left = session.scalar(
            select(func.count())
            .select_from(ITEMS)
            .where(ITEMS.c.operation_id == operation.id, ITEMS.c.outcome == Outcome.PENDING)
        )
        session.execute(
            update(ITEMS)
            .where(ITEMS.c.operation_id == operation.id, ITEMS.c.outcome == Outcome.PENDING)
            .values(outcome=Outcome.FAILED, reason=Reason.FAILED.value)
        )
        operation.failed += left or 0
    operation.status = BulkStatus.FAILED if error else BulkStatus.DONE
    operation.error = error
    operation.finished_at = utcnow()
    if operation.done:
        # One summary for the whole operation, after its last commit: open desks refresh once.
        events.emit(
            session,
            events.LeadsBulkUpdated(
                operation_id=operation.id,
                distributor_ids=tuple(operation.state.get("distributors", [])),
                kind=operation.kind.value,
                changed=operation.done,
                actor_id=operation.owner_id,
            ),
        )
    if 0 < operation.done <= PER_LEAD_EVENTS:
        _per_lead_events(session, operation)


def _per_lead_events(session: Session, operation: BulkOperation) -> None:
    """A few leads changed: each also gets its lead_updated, as a single-lead change would.

    Open lead pages then warn of the change and desks redraw just those rows; past
    PER_LEAD_EVENTS only the summary goes out, so 100,000 changes never flood the clients.
    """
    rows = session.execute(
        select(
            LEAD.c.id, LEAD.c.distributor_id, LEAD.c.assignee_id, LEAD.c.status, LEAD.c.deleted_at
        )
        .join(ITEMS, ITEMS.c.lead_id == LEAD.c.id)
        .where(ITEMS.c.operation_id == operation.id, ITEMS.c.outcome == Outcome.DONE)
    )
    for lead_id, distributor_id, assignee_id, status, deleted_at in rows:
        changes: dict[str, Any] = {"bulk_operation_id": operation.id}
        if operation.kind in (BulkKind.STATUS, BulkKind.ASSIGN, BulkKind.UNDO):
            changes["status"] = status.value
        if operation.kind in (BulkKind.ASSIGN, BulkKind.UNDO):
            changes["assignee_id"] = assignee_id  # lets realtime tell agents who lost the lead
        if operation.kind in (BulkKind.DELETE, BulkKind.RESTORE, BulkKind.UNDO):
            changes["deleted"] = deleted_at is not None
        events.emit(
            session,
            events.LeadUpdated(
                lead_id, distributor_id, changes=changes, actor_id=operation.owner_id
            ),
        )
