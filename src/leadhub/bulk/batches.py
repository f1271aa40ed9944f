"""The batches of a bulk operation: lock, check with the single-lead rules, write set-based.

A job (jobs.py) calls `work_batch` until it returns 0. Each batch locks its leads, checks every
lead with the single-lead rules (leads.service), writes one UPDATE per target value (or one
statement run for every lead when the values differ, as a round robin's assignees do), adds the
audit rows, timeline entries and per-lead results in bulk, and keeps the status counts true by
hand: a Core UPDATE passes the ORM's flush hooks (leads/projections.py) by.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Table,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.analytics.stages import stage_values
from leadhub.audit.models import AuditEvent
from leadhub.audit.service import jsonable
from leadhub.auth.models import Role, User
from leadhub.auth.scope import visible_leads
from leadhub.bulk.models import BulkKind, BulkOperation, BulkOperationItem, BulkStatus, Outcome
from leadhub.bulk.reasons import Reason
from leadhub.db import utcnow
from leadhub.errors import N_, InvalidInput, NotFound
from leadhub.interactions.models import Interaction, Kind
from leadhub.leads import projections
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Status, Tag, lead_tag

BATCH_SIZE = 5000
PER_LEAD_EVENTS = 100  # up to this many changed leads, each also gets its own lead_updated

LEAD = Lead.__table__
ITEMS = BulkOperationItem.__table__
AUDIT = AuditEvent.__table__
INTERACTIONS = Interaction.__table__

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


def among(session: Session, column: Any, ids: list[int]) -> Any:
    """`column IN ids`; on PostgreSQL `= ANY(array)`: one parameter, not thousands to parse."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(Integer)))
    return column.in_(ids)


def in_scope(user: User, *, deleted: bool = False) -> Any:
    """The leads `user` may change in bulk: their scope; an agent's own leads only."""
    stmt = visible_leads(user, deleted=deleted)
    if user.role is Role.AGENT:
        stmt = stmt.where(Lead.assignee_id == user.id)
    return stmt


def get(session: Session, *, operation_id: int, lock: bool = False) -> BulkOperation:
    stmt = select(BulkOperation).where(BulkOperation.id == operation_id)
    if lock:
        stmt = stmt.with_for_update()
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


@dataclass
class Batch:
    """One batch's leads (locked) and what became of each.

    Values handed to `done` and `audit` are JSON-ready already (enum values, ISO times): they
    are written as they are, many thousand at a time.
    """

    operation: BulkOperation
    actor: User
    now: datetime
    leads: list[Row[Any]]
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    deltas: Counter[projections.CountKey] = field(default_factory=Counter)

    def skip(self, lead_id: int, reason: Reason) -> None:
        self.results[lead_id] = {"outcome": Outcome.SKIPPED, "reason": reason.value}

    def done(self, lead: Row[Any], before: dict[str, Any], version: int | None = None) -> None:
        self.results[lead.id] = {
            "outcome": Outcome.DONE,
            "before": before,
            "version": lead.version + 1 if version is None else version,
        }

    def audit(
        self, lead_id: int, action: str, before: dict[str, Any] | None, after: dict[str, Any]
    ) -> None:
        self.audits.append(
            {
                "actor_id": self.actor.id,
                "actor_name": self.actor.name,
                "action": action,
                "object_type": "lead",
                "object_id": lead_id,
                "before": before,
                "after": {**after, "bulk_operation_id": self.operation.id},
                "ip": self.operation.ip,
                "request_id": self.operation.request_id,
                "at": self.now,
            }
        )

    def timeline(self, lead_id: int, kind: Kind, body: str | None) -> None:
        self.notes.append(
            {
                "lead_id": lead_id,
                "kind": kind,
                "body": body,
                "actor_id": self.actor.id,
                "actor_name": self.actor.name,
                "occurred_at": self.now,
                "created_at": self.now,
                "updated_at": self.now,
            }
        )

    def moved(self, lead: Row[Any], *, assignee_id: int | None, status: Status, live: bool) -> None:
        """Keep lead_status_count true for a lead whose count key changes."""
        old = projections._key(lead.distributor_id, lead.assignee_id, lead.status, lead.deleted_at)
        new = projections._key(lead.distributor_id, assignee_id, status, None if live else self.now)
        if old != new:
            if old:
                self.deltas[old] -= 1
            if new:
                self.deltas[new] += 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def begin(session: Session, *, operation: BulkOperation) -> None:
    if operation.status is BulkStatus.QUEUED:
        operation.status = BulkStatus.RUNNING
        operation.started_at = utcnow()


def work_batch(session: Session, *, operation: BulkOperation, batch_size: int = BATCH_SIZE) -> int:
    """Work the next `batch_size` pending leads of the operation; 0 when none are left."""
    pending = session.execute(
        select(ITEMS.c.lead_id, ITEMS.c.version)
        .where(ITEMS.c.operation_id == operation.id, ITEMS.c.lead_id > operation.last_lead_id)
        .order_by(ITEMS.c.lead_id)
        .limit(batch_size)
    ).all()
    if not pending:
        return 0
    ids = [row.lead_id for row in pending]
    actor = session.get(User, operation.owner_id)
    if actor is None or not actor.active:
        raise InvalidInput(N_("The operation's owner is no longer active."))
    batch = Batch(operation=operation, actor=actor, now=utcnow(), leads=[])
    found = {lead.id: lead for lead in _lock(session, operation, actor, ids)}
    expected = {row.lead_id: row.version for row in pending}
    for lead_id in ids:
        lead = found.get(lead_id)
        if lead is None:
            batch.skip(lead_id, Reason.GONE)
        elif operation.kind is not BulkKind.UNDO and expected[lead_id] not in (None, lead.version):
            batch.skip(lead_id, Reason.OUT_OF_DATE)
        else:
            batch.leads.append(lead)
    if batch.leads and operation.kind is BulkKind.UNDO:
        from leadhub.bulk import undo  # undo builds on this module's pieces

        undo.undo_batch(session, batch)
    elif batch.leads:
        HANDLERS[operation.kind](session, batch)
    _write(session, batch, ids)
    return len(ids)


def _lock(session: Session, operation: BulkOperation, actor: User, ids: list[int]) -> list[Row]:
    """The batch's leads as they are now, locked until the batch commits (still in scope)."""
    if operation.kind is BulkKind.UNDO:
        stmt = select(*LEAD_COLUMNS).where(among(session, LEAD.c.id, ids))
    else:
        scoped = in_scope(actor, deleted=operation.kind is BulkKind.RESTORE)
        stmt = scoped.with_only_columns(*LEAD_COLUMNS).where(among(session, Lead.id, ids))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=LEAD)
    return list(session.execute(stmt.order_by(LEAD.c.id)))


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Add many rows at once: PostgreSQL's COPY (about twice an INSERT's speed), else INSERT.

    Rows are plain values: JSON-ready dicts for JSON columns, enums, aware UTC times.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    json_columns = {
        c for c in columns if isinstance(table.c[c].type.dialect_impl(connection.dialect), JSONB)
    }
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    Jsonb(row[c])
                    if c in json_columns and row[c] is not None
                    else row[c].value
                    if isinstance(row[c], enum.Enum)
                    else row[c]
                    for c in columns
                ]
            )


def _write(session: Session, batch: Batch, ids: list[int]) -> None:
    operation = batch.operation
    connection = session.connection()
    if batch.audits:
        insert_rows(session, AUDIT, batch.audits)
    if batch.notes:
        insert_rows(session, INTERACTIONS, batch.notes)
    if batch.deltas:
        projections.bump_counts(session, batch.deltas)
    connection.execute(
        delete(ITEMS).where(
            ITEMS.c.operation_id == operation.id, ITEMS.c.lead_id.between(ids[0], ids[-1])
        )
    )
    rows = []
    for lead_id in ids:
        result = batch.results.get(lead_id) or {"outcome": Outcome.FAILED, "reason": None}
        rows.append(
            {
                "operation_id": operation.id,
                "lead_id": lead_id,
                "outcome": result["outcome"],
                "reason": result.get("reason"),
                "version": result.get("version"),
                "before": result.get("before"),
            }
        )
    insert_rows(session, ITEMS, rows)
    outcomes = Counter(row["outcome"] for row in rows)
    operation.done += outcomes[Outcome.DONE]
    operation.skipped += outcomes[Outcome.SKIPPED]
    operation.failed += outcomes[Outcome.FAILED]
    operation.last_lead_id = ids[-1]
    if outcomes[Outcome.DONE]:
        touched = {lead.distributor_id for lead in batch.leads}
        known = set(operation.state.get("distributors", []))
        if not touched <= known:
            operation.state = {**operation.state, "distributors": sorted(known | touched)}


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


def bump(session: Session, ids: list[int], now: datetime, **values: Any) -> None:
    """One UPDATE for leads getting the same values; the version moves like the ORM's would."""
    if ids:
        stmt = update(LEAD).where(among(session, LEAD.c.id, ids))
        session.connection().execute(
            stmt.values(version=LEAD.c.version + 1, updated_at=now, **values)
        )


# -- the actions ----------------------------------------------------------------------------------


def _status(session: Session, batch: Batch) -> None:
    target = Status(batch.operation.params["status"])
    reason = batch.operation.params.get("reason")
    changed = []
    for lead in batch.leads:
        if lead.status == target:
            batch.skip(lead.id, Reason.UNCHANGED)
        elif not leads.transition_allowed(lead.status, target, batch.actor):
            batch.skip(lead.id, Reason.NOT_ALLOWED)
        else:
            changed.append(lead)
    if not changed:
        return
    # The same rule as a set: the UPDATE touches only leads it allows, whatever happened since.
    sources = [s for s in Status if leads.transition_allowed(s, target, batch.actor)]
    converted_at: Any = (
        batch.now
        if target is Status.CONVERTED
        else case((LEAD.c.status == Status.CONVERTED, None), else_=LEAD.c.converted_at)
    )
    session.connection().execute(
        update(LEAD)
        .where(among(session, LEAD.c.id, [lead.id for lead in changed]), LEAD.c.status.in_(sources))
        .values(
            status=target,
            lost_reason=reason,
            converted_at=converted_at,
            version=LEAD.c.version + 1,
            updated_at=batch.now,
            **stage_values(status=target),  # the funnel's furthest stage (analytics)
        )
    )
    for lead in changed:
        before = {
            "status": lead.status.value,
            "lost_reason": lead.lost_reason,
            "converted_at": _iso(lead.converted_at),
        }
        batch.done(lead, before)
        old = {"status": lead.status.value, "lost_reason": lead.lost_reason}
        new = {"status": target.value, "lost_reason": reason}
        keys = [k for k in new if old[k] != new[k]]
        batch.audit(lead.id, "lead.update", {k: old[k] for k in keys}, {k: new[k] for k in keys})
        body = f"{lead.status.value} → {target.value}" + (f": {reason}" if reason else "")
        batch.timeline(lead.id, Kind.STATUS_CHANGE, body)
        batch.moved(lead, assignee_id=lead.assignee_id, status=target, live=True)


def _assign(session: Session, batch: Batch) -> None:
    params = batch.operation.params
    people = {
        u.id: u for u in session.scalars(select(User).where(User.id.in_(params["assignee_ids"])))
    }
    ordered = [people[i] for i in params["assignee_ids"] if i in people and people[i].active]
    names = {person.id: person.name for person in ordered}
    fitting: dict[int, list[int]] = {}  # distributor -> ids of the chosen who may hold its leads
    round_robin = params["mode"] == "round_robin"
    turns: dict[str, int] = dict(batch.operation.state.get("turns", {}))
    moves: list[tuple[Row[Any], int]] = []
    for lead in batch.leads:
        fits = fitting.get(lead.distributor_id)
        if fits is None:
            fits = fitting[lead.distributor_id] = [
                p.id for p in ordered if leads.works_for(p, lead.distributor_id)
            ]
        if not fits:
            batch.skip(lead.id, Reason.NO_AGENT if round_robin else Reason.OTHER_DISTRIBUTOR)
            continue
        person_id = fits[0]
        if round_robin:
            turn = turns.get(str(lead.distributor_id), 0)
            person_id = fits[turn % len(fits)]
            turns[str(lead.distributor_id)] = turn + 1
        if lead.assignee_id == person_id:
            batch.skip(lead.id, Reason.UNCHANGED)
        else:
            moves.append((lead, person_id))
    batch.operation.state = {**batch.operation.state, "turns": turns}
    if not moves:
        return
    # One statement run for every lead (executemany): assignees differ from lead to lead.
    new_status = case((LEAD.c.status == Status.NEW, Status.ASSIGNED), else_=LEAD.c.status)
    stmt = (
        update(LEAD)
        .where(LEAD.c.id == bindparam("b_id"))
        .values(
            assignee_id=bindparam("b_assignee"),
            status=new_status,
            version=LEAD.c.version + 1,
            updated_at=batch.now,
            **stage_values(assigned=True),  # first assignment time, furthest stage (analytics)
        )
    )
    session.connection().execute(
        stmt, [{"b_id": lead.id, "b_assignee": person_id} for lead, person_id in moves]
    )
    for lead, person_id in moves:
        status = Status.ASSIGNED if lead.status is Status.NEW else lead.status
        old = {"assignee_id": lead.assignee_id, "status": lead.status.value}
        batch.done(lead, old)
        new = {"assignee_id": person_id, "status": status.value}
        keys = [k for k in new if old[k] != new[k]]
        batch.audit(lead.id, "lead.update", {k: old[k] for k in keys}, {k: new[k] for k in keys})
        batch.timeline(lead.id, Kind.ASSIGNMENT, names[person_id])
        batch.moved(lead, assignee_id=person_id, status=status, live=True)


def tags_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    stmt = (
        select(lead_tag.c.lead_id, Tag.name)
        .join(Tag, Tag.id == lead_tag.c.tag_id)
        .where(among(session, lead_tag.c.lead_id, ids))
        .order_by(lead_tag.c.lead_id, Tag.name)
    )
    found: dict[int, list[str]] = {}
    for lead_id, name in session.execute(stmt):
        found.setdefault(lead_id, []).append(name)
    return found


def _tag(session: Session, batch: Batch, *, adding: bool) -> None:
    name = batch.operation.params["tag"]
    if adding:
        tag = leads.tags_named(session, [name])[0]
        session.flush()
    else:
        tag = session.scalar(select(Tag).where(Tag.name == name))
    current = tags_of(session, [lead.id for lead in batch.leads])
    changed = []
    for lead in batch.leads:
        names = current.get(lead.id, [])
        if tag is None or (name in names) == adding:
            batch.skip(lead.id, Reason.UNCHANGED)
            continue
        changed.append(lead)
        after = sorted({*names, name}) if adding else [n for n in names if n != name]
        batch.done(lead, {"tags": names})
        batch.audit(lead.id, "lead.update", {"tags": names}, {"tags": after})
    if not changed or tag is None:
        return
    ids = [lead.id for lead in changed]
    apply_tag(session, tag_id=tag.id, ids=ids, adding=adding)
    bump(session, ids, batch.now)


def apply_tag(session: Session, *, tag_id: int, ids: list[int], adding: bool) -> None:
    connection = session.connection()
    if adding:
        connection.execute(insert(lead_tag), [{"lead_id": i, "tag_id": tag_id} for i in ids])
    else:
        connection.execute(
            delete(lead_tag).where(
                lead_tag.c.tag_id == tag_id, among(session, lead_tag.c.lead_id, ids)
            )
        )


def _note(session: Session, batch: Batch) -> None:
    body = batch.operation.params["note"]
    # One time for the whole operation: undo finds its notes by it.
    batch.now = batch.operation.started_at or batch.now
    for lead in batch.leads:
        batch.timeline(lead.id, Kind.NOTE, body)
        batch.audit(lead.id, "lead.interaction", None, {"kind": Kind.NOTE.value})
        batch.done(lead, {}, version=lead.version)


def _delete(session: Session, batch: Batch) -> None:
    bump(session, [lead.id for lead in batch.leads], batch.now, deleted_at=batch.now)
    for lead in batch.leads:
        batch.done(lead, {"deleted_at": None})
        batch.audit(lead.id, "lead.delete", {"deleted_at": None}, {"deleted_at": _iso(batch.now)})
        batch.moved(lead, assignee_id=lead.assignee_id, status=lead.status, live=False)


def _restore(session: Session, batch: Batch) -> None:
    bump(session, [lead.id for lead in batch.leads], batch.now, deleted_at=None)
    for lead in batch.leads:
        deleted_at = _iso(lead.deleted_at)
        batch.done(lead, {"deleted_at": deleted_at})
        batch.audit(lead.id, "lead.restore", {"deleted_at": deleted_at}, {"deleted_at": None})
        batch.moved(lead, assignee_id=lead.assignee_id, status=lead.status, live=True)


HANDLERS = {
    BulkKind.STATUS: _status,
    BulkKind.ASSIGN: _assign,
    BulkKind.TAG_ADD: lambda session, batch: _tag(session, batch, adding=True),
    BulkKind.TAG_REMOVE: lambda session, batch: _tag(session, batch, adding=False),
    BulkKind.NOTE: _note,
    BulkKind.DELETE: _delete,
    BulkKind.RESTORE: _restore,
}
