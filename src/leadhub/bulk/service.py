"""Bulk operations: check a request and its scope, record it; read a job's progress and result.

`create` refuses the whole request when it names a lead outside the user's scope, and records
the leads it names as pending items; the job (jobs.py) works them in batches (batches.py). Undo
(undo.py) is itself an operation whose batches put back what the undone one replaced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, func, insert, literal, select
from sqlalchemy.orm import Session

from leadhub import context
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.permissions import can, ensure_can
from leadhub.bulk.batches import audit_operation, in_scope
from leadhub.bulk.models import BulkKind, BulkOperation, Outcome
from leadhub.bulk.reasons import Reason
from leadhub.bulk.rows import ITEMS, insert_rows, lead_table
from leadhub.bulk.schemas import BulkRequest
from leadhub.bulk.undo import undo_until, undoable
from leadhub.db import among, array
from leadhub.errors import N_, Forbidden, InvalidInput, NotFound
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Tag

ID_CHUNK = 5000  # ids per statement when checking a request's scope
SHOWN_SKIPPED = 500
SHOWN_OUT_OF_SCOPE = 1000

# The single-lead right each action needs (auth.permissions.LEAD_ACTIONS).
RIGHTS: dict[BulkKind, str] = {
    BulkKind.STATUS: "update",
    BulkKind.ASSIGN: "assign",
    BulkKind.TAG_ADD: "update",
    BulkKind.TAG_REMOVE: "update",
    BulkKind.NOTE: "interact",
    BulkKind.DELETE: "delete",
    BulkKind.RESTORE: "restore",
}


# -- the request ----------------------------------------------------------------------------------


def _params(session: Session, data: BulkRequest, actor: User) -> dict[str, Any]:
    """The action's parameters, checked now (a bad reason or assignee fails the request)."""
    kind = data.kind
    if kind is BulkKind.STATUS:
        if data.status is None:
            raise InvalidInput(N_("Choose the new status."))
        reason = leads.closing_reason(
            session,
            status=data.status,
            lost_reason_id=data.lost_reason_id,
            lost_reason=data.lost_reason,
            invalid_reason=data.invalid_reason,
        )
        return {"status": data.status.value, "reason": reason}
    if kind is BulkKind.ASSIGN:
        if (data.assignee_id is None) == (data.agent_ids is None):
            raise InvalidInput(N_("Choose one person, or the agents to spread the leads among."))
        wanted = [data.assignee_id] if data.assignee_id is not None else data.agent_ids or []
        people = [leads.assignable(session, assignee_id=i) for i in dict.fromkeys(wanted)]
        if actor.role not in CLINIC_ROLES and any(
            p.distributor_id != actor.distributor_id for p in people
        ):
            raise InvalidInput(N_("That staff member works for another distributor."))
        mode = "one" if data.assignee_id is not None else "round_robin"
        return {"mode": mode, "assignee_ids": [p.id for p in people]}
    if kind in (BulkKind.TAG_ADD, BulkKind.TAG_REMOVE):
        name = " ".join((data.tag or "").split()).lower()
        if not name:
            raise InvalidInput(N_("A tag has 1 to 40 characters."))
        if (
            kind is BulkKind.TAG_REMOVE
            and session.scalar(select(Tag.id).where(Tag.name == name)) is None
        ):
            raise InvalidInput(N_("No such tag."))
        return {"tag": name}
    if kind is BulkKind.NOTE:
        body = (data.note or "").strip()
        if not body:
            raise InvalidInput(N_("Write the note."))
        return {"note": body}
    return {}


def create(session: Session, *, data: BulkRequest, actor: User) -> BulkOperation:
    """Record a bulk operation and the leads it names; the job does the work.

    Named leads outside the user's scope refuse the whole request (nothing changes), and the
    error lists them. A filter is the desk's own scoped query, taken as it matches now.
    """
    kind = data.kind
    ensure_can(actor, RIGHTS[kind])
    params = _params(session, data, actor)
    deleted = kind is BulkKind.RESTORE
    ctx = context.current.get()
    operation = BulkOperation(
        owner_id=actor.id,
        kind=kind,
        params=params,
        selection={},
        ip=ctx.ip,
        request_id=ctx.request_id,
    )
    session.add(operation)
    session.flush()
    if data.ids is not None:
        ids = list(dict.fromkeys(data.ids))
        _name(session, operation=operation, ids=ids, versions=data.versions or {}, actor=actor)
        operation.selection = {"ids": len(ids)}
        operation.total = len(ids)  # every one of them was found in scope
    else:
        filters = data.filter.model_copy(update={"deleted": deleted})  # type: ignore[union-attr]
        selected = matching(actor, filters).with_only_columns(
            literal(operation.id), Lead.id, literal(Outcome.PENDING.value)
        )
        session.execute(insert(ITEMS).from_select(["operation_id", "lead_id", "outcome"], selected))
        operation.selection = {"filter": filters.without_paging()}
        operation.total = session.scalar(
            select(func.count()).select_from(ITEMS).where(ITEMS.c.operation_id == operation.id)
        )
    if not operation.total:
        raise InvalidInput(N_("No leads match this selection."))
    operation.distributor_id = _sole_distributor(session, operation_id=operation.id)
    audit_operation(session, operation, actor, action="bulk.create")
    return operation


def _sole_distributor(session: Session, *, operation_id: int) -> int | None:
    """The one distributor all the operation's leads belong to, if so (else None).

    Two short lookups that stop at the first row found, rather than every lead's distributor.
    """
    named = (
        select(Lead.distributor_id)
        .join(ITEMS, ITEMS.c.lead_id == Lead.id)
        .where(ITEMS.c.operation_id == operation_id)
        .limit(1)
    )
    first = session.scalar(named)
    if first is None or session.scalar(named.where(Lead.distributor_id != first)) is not None:
        return None
    return first


def matching(actor: User, filters: Any) -> Any:
    """The leads a filter selects for a bulk operation: the desk's scoped query (agents: own)."""
    stmt = leads.filtered(actor, filters)
    if actor.role is Role.AGENT:
        stmt = stmt.where(Lead.assignee_id == actor.id)
    return stmt


def _name(
    session: Session,
    *,
    operation: BulkOperation,
    ids: list[int],
    versions: dict[int, int],
    actor: User,
) -> None:
    """Record the named leads as pending items; Forbidden when any is outside `actor`'s scope.

    On PostgreSQL an INSERT … SELECT per ID_CHUNK ids joins them (and their versions) to the
    scope; a short count means some were outside it, and the request is refused. In chunks,
    because for 100,000 ids at once the planner reads the whole lead table into a hash rather
    than look each id up (1-2 s on a million leads; chunks take a quarter of that).
    Elsewhere, the scope is checked in chunks first.
    """
    scoped = in_scope(actor, deleted=operation.kind is BulkKind.RESTORE)
    if session.get_bind().dialect.name != "postgresql":
        _check_scope(session, ids=ids, scoped=scoped)
        rows = [
            {
                "operation_id": operation.id,
                "lead_id": lead_id,
                "outcome": Outcome.PENDING,
                "version": versions.get(lead_id),
            }
            for lead_id in ids
        ]
        insert_rows(session, ITEMS, rows)
        return
    columns = ["operation_id", "lead_id", "outcome", "version"]
    recorded = 0
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        named = lead_table(
            chunk, {"version": array([versions.get(lead_id) for lead_id in chunk], Integer)}
        )
        selected = (
            scoped.with_only_columns(
                literal(operation.id),
                named.c.lead_id,
                literal(Outcome.PENDING, ITEMS.c.outcome.type),
                named.c.version,
            )
            .select_from(Lead)
            .join(named, named.c.lead_id == Lead.id)
        )
        recorded += session.execute(insert(ITEMS).from_select(columns, selected)).rowcount
    if recorded != len(ids):
        found = set(
            session.scalars(select(ITEMS.c.lead_id).where(ITEMS.c.operation_id == operation.id))
        )
        _refuse([lead_id for lead_id in ids if lead_id not in found])


def _check_scope(session: Session, *, ids: list[int], scoped: Any) -> None:
    """Forbidden when any of the named leads is outside the scope, checked in chunks."""
    found: set[int] = set()
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        stmt = scoped.with_only_columns(Lead.id).where(among(session, Lead.id, chunk))
        found.update(session.scalars(stmt))
    _refuse([lead_id for lead_id in ids if lead_id not in found])


def _refuse(outside: list[int]) -> None:
    if outside:
        raise Forbidden(
            N_("%(n)s of these leads are not yours to change (or not found); nothing was changed."),
            details={"lead_ids": outside[:SHOWN_OUT_OF_SCOPE], "count": len(outside)},
            n=len(outside),
        )


# -- reading --------------------------------------------------------------------------------------


def get_readable(session: Session, *, operation_id: int, user: User) -> BulkOperation:
    """A job its owner or an admin may read; anyone else is told it does not exist."""
    operation = session.get(BulkOperation, operation_id)
    if operation is None or not (operation.owner_id == user.id or user.role in CLINIC_ROLES):
        raise NotFound(N_("No such job."))
    return operation


def skipped_leads(
    session: Session, *, operation: BulkOperation, limit: int = SHOWN_SKIPPED
) -> list[tuple[int, str]]:
    """(lead id, reason code) of skipped and failed leads, in id order."""
    stmt = (
        select(ITEMS.c.lead_id, ITEMS.c.reason)
        .where(
            ITEMS.c.operation_id == operation.id,
            ITEMS.c.outcome.in_([Outcome.SKIPPED, Outcome.FAILED]),
        )
        .order_by(ITEMS.c.lead_id)
        .limit(limit)
    )
    return [(lead_id, reason or Reason.FAILED.value) for lead_id, reason in session.execute(stmt)]


def progress(operation: BulkOperation) -> int:
    if operation.finished:
        return 100
    if not operation.total:
        return 0
    worked = operation.done + operation.skipped + operation.failed
    return min(99, int(100 * worked / operation.total))


def can_bulk(user: User) -> bool:
    """Whether the desk offers `user` bulk actions at all (viewers never)."""
    return any(can(user, right) for right in set(RIGHTS.values()))


def report(session: Session, *, operation: BulkOperation, user: User) -> dict[str, Any]:
    """An operation's progress and result as the API and the job page show it (English)."""
    from leadhub.bulk.reasons import message

    return {
        "id": operation.id,
        "kind": operation.kind,
        "status": operation.status,
        "owner_id": operation.owner_id,
        "params": operation.params,
        "total": operation.total,
        "done": operation.done,
        "skipped": operation.skipped,
        "failed": operation.failed,
        "progress": progress(operation),
        "error": operation.error,
        "created_at": operation.created_at,
        "started_at": operation.started_at,
        "finished_at": operation.finished_at,
        "undo_of_id": operation.undo_of_id,
        "undone_by_id": operation.undone_by_id,
        "undoable": undoable(session, operation=operation, user=user),
        "undo_until": undo_until(operation),
        "skipped_leads": [
            {"lead_id": lead_id, "reason": code, "message": message(code)}
            for lead_id, code in skipped_leads(session, operation=operation)
        ],
    }
