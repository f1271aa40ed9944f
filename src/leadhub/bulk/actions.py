"""What a bulk operation does to its batch's leads, one action each, checked as a single change is.

Each action decides lead by lead (skip, with a reason, or change), changes the leads with as few
statements as it can, and tells the batch (rows.py) what to record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, bindparam, case, delete, insert, select, update
from sqlalchemy.orm import Session

from leadhub.analytics.stages import stage_values
from leadhub.auth.models import User
from leadhub.bulk.models import BulkKind, BulkOperation
from leadhub.bulk.reasons import Reason
from leadhub.bulk.rows import LEAD, Batch, Change, iso, lead_table
from leadhub.db import among, array
from leadhub.interactions.models import Kind
from leadhub.leads import service as leads
from leadhub.leads.models import Status, Tag, lead_tag


def round_robin(operation: BulkOperation) -> bool:
    return operation.kind is BulkKind.ASSIGN and operation.params.get("mode") == "round_robin"


def bump(session: Session, ids: list[int], now: datetime, **values: Any) -> None:
    """One UPDATE for leads getting the same values; the version moves like the ORM's would."""
    if ids:
        stmt = update(LEAD).where(among(session, LEAD.c.id, ids))
        session.connection().execute(
            stmt.values(version=LEAD.c.version + 1, updated_at=now, **values)
        )


# -- status ---------------------------------------------------------------------------------------


def change_status(session: Session, batch: Batch) -> None:
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
    statuses = [lead.status.value for lead in changed]
    because = f": {reason}" if reason else ""
    batch.changed(
        Change(
            action="lead.update",
            ids=[lead.id for lead in changed],
            versions=[lead.version + 1 for lead in changed],
            before={
                "status": statuses,
                "lost_reason": [lead.lost_reason for lead in changed],
                "converted_at": [iso(lead.converted_at) for lead in changed],
            },
            after={"status": target.value, "lost_reason": reason},
            kind=Kind.STATUS_CHANGE,
            bodies=[f"{status} → {target.value}{because}" for status in statuses],
        )
    )
    for lead in changed:
        batch.moved(lead, assignee_id=lead.assignee_id, status=target, live=True)


# -- assignment -----------------------------------------------------------------------------------


def chosen(session: Session, operation: BulkOperation) -> list[Row[Any]]:
    """The people to assign to (id, name, distributor), in the order asked, those still active."""
    wanted = operation.params["assignee_ids"]
    stmt = select(User.id, User.name, User.distributor_id).where(
        User.id.in_(wanted), User.active.is_(True)
    )
    people = {person.id: person for person in session.execute(stmt)}
    return [people[i] for i in wanted if i in people]


def fitting(people: list[Row[Any]], distributor_id: int) -> list[int]:
    """Ids of those among `people` who may hold leads of the distributor, in their order."""
    return [p.id for p in people if leads.works_for(p, distributor_id)]


def pick(
    candidates: list[Row[Any]], people: list[Row[Any]], *, spread: bool, turns: dict[str, int]
) -> list[tuple[Row[Any], int | None]]:
    """Each lead's new assignee (None: none of `people` may hold it), advancing `turns`."""
    fits_of: dict[int, list[int]] = {}  # distributor -> ids of those who may hold its leads
    picks: list[tuple[Row[Any], int | None]] = []
    for lead in candidates:
        fits = fits_of.get(lead.distributor_id)
        if fits is None:
            fits = fits_of[lead.distributor_id] = fitting(people, lead.distributor_id)
        if not fits:
            picks.append((lead, None))
        elif spread:
            turn = turns.get(str(lead.distributor_id), 0)
            picks.append((lead, fits[turn % len(fits)]))
            turns[str(lead.distributor_id)] = turn + 1
        else:
            picks.append((lead, fits[0]))
    return picks


def assign(session: Session, batch: Batch) -> None:
    people = chosen(session, batch.operation)
    names = {person.id: person.name for person in people}
    spread = round_robin(batch.operation)
    moves: list[tuple[Row[Any], int]] = []
    for lead, person_id in pick(batch.leads, people, spread=spread, turns=batch.turns):
        if person_id is None:
            batch.skip(lead.id, Reason.NO_AGENT if spread else Reason.OTHER_DISTRIBUTOR)
        elif lead.assignee_id == person_id:
            batch.skip(lead.id, Reason.UNCHANGED)
        else:
            moves.append((lead, person_id))
    if not moves:
        return
    _give(session, batch, moves)
    statuses = [lead.status.value for lead, _ in moves]
    new, assigned = Status.NEW.value, Status.ASSIGNED.value
    batch.changed(
        Change(
            action="lead.update",
            ids=[lead.id for lead, _ in moves],
            versions=[lead.version + 1 for lead, _ in moves],
            before={"assignee_id": [lead.assignee_id for lead, _ in moves], "status": statuses},
            after={
                "assignee_id": [person_id for _, person_id in moves],
                "status": [assigned if status == new else status for status in statuses],
            },
            kind=Kind.ASSIGNMENT,
            bodies=[names[person_id] for _, person_id in moves],
        )
    )
    for lead, person_id in moves:
        status = Status.ASSIGNED if lead.status is Status.NEW else lead.status
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
        given = lead_table(
            [lead.id for lead, _ in moves],
            {"assignee_id": array([person_id for _, person_id in moves], Integer)},
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


# -- tags, notes, deletion ------------------------------------------------------------------------


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
        batch.audit(lead.id, "lead.delete", {"deleted_at": None}, {"deleted_at": iso(batch.now)})
        batch.moved(lead, assignee_id=lead.assignee_id, status=lead.status, live=False)


def _restore(session: Session, batch: Batch) -> None:
    bump(session, [lead.id for lead in batch.leads], batch.now, deleted_at=None)
    for lead in batch.leads:
        deleted_at = iso(lead.deleted_at)
        batch.done(lead, {"deleted_at": deleted_at})
        batch.audit(lead.id, "lead.restore", {"deleted_at": deleted_at}, {"deleted_at": None})
        batch.moved(lead, assignee_id=lead.assignee_id, status=lead.status, live=True)


HANDLERS = {
    BulkKind.STATUS: change_status,
    BulkKind.ASSIGN: assign,
    BulkKind.TAG_ADD: lambda session, batch: _tag(session, batch, adding=True),
    BulkKind.TAG_REMOVE: lambda session, batch: _tag(session, batch, adding=False),
    BulkKind.NOTE: _note,
    BulkKind.DELETE: _delete,
    BulkKind.RESTORE: _restore,
}
