"""The batches of a bulk operation: lock, check with the single-lead rules, write set-based.

The job (jobs.py) reads the pending items (`next_pending`) and hands each batch to a writer.
`work_batch` locks the batch's leads, checks every lead with the single-lead rules
(leads.service), writes one UPDATE per target value (or, when the values differ from lead to
lead, as a round robin's assignees do, one joined to each lead's value), and adds the audit
rows, timeline entries and per-lead results in bulk: rows no other batch touches, so batches
are written side by side.
`record` then, in operation order, keeps the shared rows true: the status counts (by hand: a
Core UPDATE passes the ORM's flush hooks in leads/projections.py by) and the operation's progress.
"""

from __future__ import annotations

import enum
import operator
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Enum,
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
    turns: dict[str, int] = field(default_factory=dict)  # the round robin's, after this batch
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    audits: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    deltas: Counter[projections.CountKey] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # The same in every row of the batch: read once, not once a lead (ORM attributes).
        self.by = {"actor_id": self.actor.id, "actor_name": self.actor.name}
        self.stamp = {**self.by, "ip": self.operation.ip, "request_id": self.operation.request_id}
        self.operation_id = self.operation.id

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
                **self.stamp,
                "action": action,
                "object_type": "lead",
                "object_id": lead_id,
                "before": before,
                "after": {**after, "bulk_operation_id": self.operation_id},
                "at": self.now,
            }
        )

    def timeline(self, lead_id: int, kind: Kind, body: str | None) -> None:
        self.notes.append(
            {
                **self.by,
                "lead_id": lead_id,
                "kind": kind,
                "body": body,
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


@dataclass(frozen=True)
class Pending:
    """A batch as the job's thread hands it out: its items in lead order, and what precedes it."""

    items: list[Row[Any]]  # (lead_id, version); none: the operation's end
    after: int  # the last lead id before it
    turns: dict[str, int] | None  # the round robin's turns before it, as foreseen (None: read)
    following: dict[str, int] = field(default_factory=dict)  # and after it, as foreseen

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


def work_batch(session: Session, *, operation: BulkOperation, pending: Pending) -> Batch:
    """Work one batch and write its own rows; the shared ones wait for `record`."""
    ids = pending.ids
    actor = owner(session, operation)
    found = _leads(session, operation, actor, ids, lock=True)
    usable, skipped = _usable(operation, found, pending.items)
    batch = Batch(
        operation=operation,
        actor=actor,
        now=utcnow(),
        leads=usable,
        turns=dict(pending.turns or {}),
    )
    for lead_id, reason in skipped:
        batch.skip(lead_id, reason)
    if batch.leads and operation.kind is BulkKind.UNDO:
        from leadhub.bulk import undo  # undo builds on this module's pieces

        undo.undo_batch(session, batch)
    elif batch.leads:
        HANDLERS[operation.kind](session, batch)
    _write(session, batch, ids)
    return batch


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
    return list(session.execute(stmt.order_by(LEAD.c.id)))


def side_by_side(operation: BulkOperation) -> bool:
    """Whether the operation's batches may be written at once: not when adding a tag, which
    may create the tag, and two batches creating it would each wait for the other to commit.
    """
    return operation.kind is not BulkKind.TAG_ADD


def round_robin(operation: BulkOperation) -> bool:
    return operation.kind is BulkKind.ASSIGN and operation.params.get("mode") == "round_robin"


def turns_after(session: Session, *, operation: BulkOperation, pending: Pending) -> dict[str, int]:
    """The round robin's turns after a batch, foreseen from its leads as they are now.

    The batch's writer checks the guess against the turns committed before it and works the
    batch again when they differ (a lead changed meanwhile), so the spread is exactly as fair
    as one batch after another would make it.
    """
    turns = dict(pending.turns or {})
    if not round_robin(operation):
        return turns
    found = _leads(session, operation, owner(session, operation), pending.ids, lock=False)
    usable, _skipped = _usable(operation, found, pending.items)
    _pick(usable, _chosen(session, operation), round_robin=True, turns=turns)
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


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Add many rows at once: PostgreSQL's COPY (about twice an INSERT's speed), else INSERT.

    Rows are plain values: JSON-ready dicts for JSON columns, enums, aware UTC times.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    values_of = operator.itemgetter(*columns)
    # What each column's values need, decided once per column rather than once per value.
    adapted = [
        (i, adapt)
        for i, adapt in enumerate(_copy_adapter(table.c[c], connection.dialect) for c in columns)
        if adapt is not None
    ]
    names = ", ".join(f'"{c}"' for c in columns)
    driver = connection.connection.driver_connection
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = list(values_of(row)) if len(columns) > 1 else [values_of(row)]
            for i, adapt in adapted:
                if values[i] is not None:
                    values[i] = adapt(values[i])
            copy.write_row(values)


def _copy_adapter(column: Any, dialect: Any) -> Any:
    """How COPY takes a column's values: JSON wrapped as such, enums as their values."""
    from psycopg.types.json import Jsonb

    if isinstance(column.type.dialect_impl(dialect), JSONB):
        return Jsonb
    if isinstance(column.type, Enum):
        return _enum_value
    return None


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _write(session: Session, batch: Batch, ids: list[int]) -> None:
    """The batch's own rows: audit, timeline, each lead's result in place of its pending item."""
    operation = batch.operation
    connection = session.connection()
    if batch.audits:
        insert_rows(session, AUDIT, batch.audits)
    if batch.notes:
        insert_rows(session, INTERACTIONS, batch.notes)
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
    batch.outcomes = Counter(row["outcome"] for row in rows)


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
    new = {"status": target.value, "lost_reason": reason}
    because = f": {reason}" if reason else ""
    for lead in changed:
        status = lead.status.value
        before = {
            "status": status,
            "lost_reason": lead.lost_reason,
            "converted_at": _iso(lead.converted_at),
        }
        batch.done(lead, before)
        old = {"status": status, "lost_reason": lead.lost_reason}
        keys = [k for k in new if old[k] != new[k]]
        batch.audit(lead.id, "lead.update", {k: old[k] for k in keys}, {k: new[k] for k in keys})
        batch.timeline(lead.id, Kind.STATUS_CHANGE, f"{status} → {new['status']}{because}")
        batch.moved(lead, assignee_id=lead.assignee_id, status=target, live=True)


def _chosen(session: Session, operation: BulkOperation) -> list[User]:
    """The people to assign to, in the order asked, those still active."""
    wanted = operation.params["assignee_ids"]
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
    return [people[i] for i in wanted if i in people and people[i].active]


def _pick(
    candidates: list[Row[Any]], ordered: list[User], *, round_robin: bool, turns: dict[str, int]
) -> list[tuple[Row[Any], int | None]]:
    """Each lead's new assignee (None: none of the chosen may hold it), advancing `turns`."""
    fitting: dict[int, list[int]] = {}  # distributor -> ids of the chosen who may hold its leads
    picks: list[tuple[Row[Any], int | None]] = []
    for lead in candidates:
        fits = fitting.get(lead.distributor_id)
        if fits is None:
            fits = fitting[lead.distributor_id] = [
                p.id for p in ordered if leads.works_for(p, lead.distributor_id)
            ]
        if not fits:
            picks.append((lead, None))
        elif round_robin:
            turn = turns.get(str(lead.distributor_id), 0)
            picks.append((lead, fits[turn % len(fits)]))
            turns[str(lead.distributor_id)] = turn + 1
        else:
            picks.append((lead, fits[0]))
    return picks


def _assign(session: Session, batch: Batch) -> None:
    ordered = _chosen(session, batch.operation)
    names = {person.id: person.name for person in ordered}
    spread = round_robin(batch.operation)
    moves: list[tuple[Row[Any], int]] = []
    for lead, person_id in _pick(batch.leads, ordered, round_robin=spread, turns=batch.turns):
        if person_id is None:
            batch.skip(lead.id, Reason.NO_AGENT if spread else Reason.OTHER_DISTRIBUTOR)
        elif lead.assignee_id == person_id:
            batch.skip(lead.id, Reason.UNCHANGED)
        else:
            moves.append((lead, person_id))
    if not moves:
        return
    _give(session, batch, moves)
    for lead, person_id in moves:
        status = Status.ASSIGNED if lead.status is Status.NEW else lead.status
        old = {"assignee_id": lead.assignee_id, "status": lead.status.value}
        batch.done(lead, old)
        new = {"assignee_id": person_id, "status": status.value}
        keys = [k for k in new if old[k] != new[k]]
        batch.audit(lead.id, "lead.update", {k: old[k] for k in keys}, {k: new[k] for k in keys})
        batch.timeline(lead.id, Kind.ASSIGNMENT, names[person_id])
        batch.moved(lead, assignee_id=person_id, status=status, live=True)


def _give(session: Session, batch: Batch, moves: list[tuple[Row[Any], int]]) -> None:
    """Set each lead's assignee: on PostgreSQL one UPDATE joined to the pairs (unnest), which
    costs the database far less than a statement per lead; elsewhere one statement run for
    every lead (executemany).
    """
    values = {
        "status": case((LEAD.c.status == Status.NEW, Status.ASSIGNED), else_=LEAD.c.status),
        "version": LEAD.c.version + 1,
        "updated_at": batch.now,
        **stage_values(assigned=True),  # first assignment time, furthest stage (analytics)
    }
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        given = (
            func.unnest(
                literal([lead.id for lead, _ in moves], ARRAY(Integer)),
                literal([person_id for _, person_id in moves], ARRAY(Integer)),
            )
            .table_valued("lead_id", "assignee_id")
            .render_derived(name="given")
        )
        connection.execute(
            update(LEAD)
            .where(LEAD.c.id == given.c.lead_id)
            .values(assignee_id=given.c.assignee_id, **values)
        )
        return
    stmt = update(LEAD).where(LEAD.c.id == bindparam("b_id"))
    connection.execute(
        stmt.values(assignee_id=bindparam("b_assignee"), **values),
        [{"b_id": lead.id, "b_assignee": person_id} for lead, person_id in moves],
    )


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
