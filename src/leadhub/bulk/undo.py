"""Undo of the last bulk operation: who may, until when, and the batches that put values back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Enum,
    Row,
    String,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from leadhub import context
from leadhub.audit.service import jsonable
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.bulk.actions import apply_tag, bump, tags_of
from leadhub.bulk.batches import audit_operation, get
from leadhub.bulk.models import BulkKind, BulkOperation, BulkStatus, Outcome
from leadhub.bulk.reasons import Reason
from leadhub.bulk.rows import INTERACTIONS, ITEMS, LEAD, Batch, lead_table
from leadhub.db import among, array, utcnow
from leadhub.errors import N_, Conflict, Forbidden, NotFound
from leadhub.interactions.models import Kind
from leadhub.leads.models import Status, Tag

UNDO_WINDOW = timedelta(minutes=10)
# Admins undo any operation; a manager only one they ran (always within their distributor).
UNDOERS = frozenset({Role.SUPERADMIN, Role.ADMIN, Role.MANAGER})


def last_operation(session: Session) -> BulkOperation | None:
    """The most recent bulk operation (undos aside): the only one that may be undone."""
    stmt = (
        select(BulkOperation)
        .where(BulkOperation.kind != BulkKind.UNDO)
        .order_by(BulkOperation.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def undo_refusal(
    session: Session, *, operation: BulkOperation, user: User, now: datetime | None = None
) -> Forbidden | Conflict | None:
    """Why `user` may not undo `operation` now, or None when they may."""
    if user.role not in UNDOERS or (
        user.role not in CLINIC_ROLES and operation.owner_id != user.id
    ):
        return Forbidden(N_("Only admins, or the manager who ran it, may undo a bulk operation."))
    if operation.kind is BulkKind.UNDO:
        return Conflict(N_("An undo cannot be undone."))
    if operation.undone_by_id is not None:
        return Conflict(N_("This operation was undone already."))
    if operation.status is not BulkStatus.DONE or operation.finished_at is None:
        return Conflict(N_("Only a finished operation can be undone."))
    last = last_operation(session)
    if last is None or last.id != operation.id:
        return Conflict(N_("Only the last bulk operation can be undone."))
    if (now or utcnow()) > operation.finished_at + UNDO_WINDOW:
        return Conflict(N_("Too late: a bulk operation can be undone for 10 minutes."))
    return None


def undo_until(operation: BulkOperation) -> datetime | None:
    if operation.finished_at is None or operation.kind is BulkKind.UNDO:
        return None
    return operation.finished_at + UNDO_WINDOW


def undoable(session: Session, *, operation: BulkOperation, user: User) -> bool:
    return undo_refusal(session, operation=operation, user=user) is None


def start_undo(session: Session, *, operation_id: int, actor: User) -> BulkOperation:
    """Record an undo of the last operation; its job puts back what that one replaced."""
    operation = get(session, operation_id=operation_id, lock=True)
    if operation.owner_id != actor.id and actor.role not in CLINIC_ROLES:
        raise NotFound(N_("No such job."))
    refusal = undo_refusal(session, operation=operation, user=actor)
    if refusal is not None:
        raise refusal
    ctx = context.current.get()
    undo = BulkOperation(
        owner_id=actor.id,
        kind=BulkKind.UNDO,
        params={"undo_of": operation.kind.value},
        selection={"operation_id": operation.id},
        distributor_id=operation.distributor_id,
        undo_of_id=operation.id,
        ip=ctx.ip,
        request_id=ctx.request_id,
    )
    session.add(undo)
    session.flush()
    operation.undone_by_id = undo.id
    done = select(literal(undo.id), ITEMS.c.lead_id, literal(Outcome.PENDING.value)).where(
        ITEMS.c.operation_id == operation.id, ITEMS.c.outcome == Outcome.DONE
    )
    session.execute(insert(ITEMS).from_select(["operation_id", "lead_id", "outcome"], done))
    undo.total = operation.done
    audit_operation(session, undo, actor, action="bulk.undo")
    return undo


def undo_batch(session: Session, batch: Batch) -> None:
    """Put back, lead by lead, what the undone operation changed, unless the lead changed since."""
    original = get(session, operation_id=batch.operation.undo_of_id or 0)
    ids = [lead.id for lead in batch.leads]
    kept = {
        row.lead_id: row
        for row in session.execute(
            select(ITEMS.c.lead_id, ITEMS.c.version, ITEMS.c.before).where(
                ITEMS.c.operation_id == original.id, among(session, ITEMS.c.lead_id, ids)
            )
        )
    }
    if original.kind is BulkKind.NOTE:
        _undo_note(session, batch, original)
        return
    back = []
    for lead in batch.leads:
        item = kept.get(lead.id)
        if item is None:
            batch.skip(lead.id, Reason.GONE)
        elif item.version != lead.version:
            batch.skip(lead.id, Reason.CHANGED_SINCE)
        else:
            back.append((lead, item.before or {}))
    if not back:
        return
    if original.kind in (BulkKind.TAG_ADD, BulkKind.TAG_REMOVE):
        tag = session.scalar(select(Tag).where(Tag.name == original.params["tag"]))
        if tag is None:
            for lead, _before in back:
                batch.skip(lead.id, Reason.GONE)
            return
        adding = original.kind is BulkKind.TAG_REMOVE
        current = tags_of(session, [lead.id for lead, _ in back])
        apply_tag(session, tag_id=tag.id, ids=[lead.id for lead, _ in back], adding=adding)
        bump(session, [lead.id for lead, _ in back], batch.now)
        for lead, before in back:
            batch.done(lead, {"tags": current.get(lead.id, [])})
            batch.audit(lead.id, "lead.update", {"tags": current.get(lead.id, [])}, before)
        return
    _undo_values(session, batch, original, back)


def _undo_values(
    session: Session, batch: Batch, original: BulkOperation, back: list[tuple[Row, dict]]
) -> None:
    """Put each lead's replaced values back: per set of fields, one UPDATE (PostgreSQL) or one
    statement run for every lead (executemany)."""
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    names: dict[int | None, str | None] = {}
    for lead, before in back:
        values = _restored(before)
        if values.get("deleted_at") is not None:  # deleted again, now
            values["deleted_at"] = batch.now
        by_keys.setdefault(tuple(sorted(values)), []).append(
            {"b_id": lead.id, **{f"b_{k}": v for k, v in values.items()}}
        )
        current = jsonable({k: getattr(lead, k) for k in values})
        batch.done(lead, current)
        action = "lead.update"
        if "deleted_at" in values:
            action = "lead.restore" if values["deleted_at"] is None else "lead.delete"
        batch.audit(lead.id, action, current, jsonable(values))
        status = values.get("status", lead.status)
        if "status" in values and status != lead.status and original.kind is BulkKind.STATUS:
            batch.timeline(lead.id, Kind.STATUS_CHANGE, f"{lead.status.value} → {status.value}")
        if "assignee_id" in values:
            assignee_id = values["assignee_id"]
            if assignee_id not in names:
                names[assignee_id] = _name(session, assignee_id)
            batch.timeline(lead.id, Kind.ASSIGNMENT, names[assignee_id])
        live = values.get("deleted_at", lead.deleted_at) is None
        batch.moved(
            lead, assignee_id=values.get("assignee_id", lead.assignee_id), status=status, live=live
        )
    connection = session.connection()
    for keys, rows in by_keys.items():
        changes = {"version": LEAD.c.version + 1, "updated_at": batch.now}
        if connection.dialect.name == "postgresql":
            given = _given(keys, rows)
            stmt = update(LEAD).where(LEAD.c.id == given.c.lead_id)
            connection.execute(stmt.values(**changes, **{key: given.c[key] for key in keys}))
        else:
            stmt = update(LEAD).where(LEAD.c.id == bindparam("b_id"))
            values = {key: bindparam(f"b_{key}") for key in keys}
            connection.execute(stmt.values(**changes, **values), rows)


def _given(keys: tuple[str, ...], rows: list[dict[str, Any]]) -> Any:
    """The leads' values to put back as a table (unnest of arrays, PostgreSQL): one UPDATE
    joined to it costs the database a fraction of a statement per lead."""
    columns = {}
    for key in keys:
        values = [row[f"b_{key}"] for row in rows]
        item_type = LEAD.c[key].type
        if isinstance(item_type, Enum):  # the column holds the values' text (non-native)
            values = [None if v is None else v.value for v in values]
            item_type = String()
        columns[key] = array(values, item_type)
    return lead_table([row["b_id"] for row in rows], columns)


def _restored(before: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in before.items():
        if key == "status":
            values[key] = Status(value)
        elif key in ("converted_at", "deleted_at"):
            values[key] = datetime.fromisoformat(value) if value else None
        else:
            values[key] = value
    return values


def _name(session: Session, user_id: int | None) -> str | None:
    return session.scalar(select(User.name).where(User.id == user_id)) if user_id else None


def _undo_note(session: Session, batch: Batch, original: BulkOperation) -> None:
    """Take back the operation's notes, except those edited since."""
    ids = [lead.id for lead in batch.leads]
    mine = and_(
        among(session, INTERACTIONS.c.lead_id, ids),
        INTERACTIONS.c.kind == Kind.NOTE,
        INTERACTIONS.c.actor_id == original.owner_id,
        INTERACTIONS.c.occurred_at == original.started_at,
    )
    notes = dict(
        session.execute(select(INTERACTIONS.c.lead_id, INTERACTIONS.c.edited_at).where(mine)).all()
    )
    removable = []
    for lead in batch.leads:
        if lead.id not in notes:
            batch.skip(lead.id, Reason.GONE)
        elif notes[lead.id] is not None:
            batch.skip(lead.id, Reason.CHANGED_SINCE)
        else:
            removable.append(lead.id)
            batch.done(lead, {}, version=lead.version)
            batch.audit(lead.id, "lead.interaction", None, {"kind": "note", "removed": True})
    if removable:
        session.connection().execute(
            delete(INTERACTIONS).where(mine, among(session, INTERACTIONS.c.lead_id, removable))
        )
