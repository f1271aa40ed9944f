"""Tables derived from lead rows, kept in step at every flush: status counts and search terms."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, event, insert, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadhub.leads import search
from leadhub.leads.models import Lead, LeadSearchTerm, LeadStatusCount, Status

COUNTS = LeadStatusCount.__table__
TERMS = LeadSearchTerm.__table__

COUNT_KEYS = ("distributor_id", "assignee_id", "status", "deleted_at")
SEARCH_KEYS = ("full_name", "email", "phone", "distributor_id")

CountKey = tuple[int, int, Status]


def _old(lead: Lead, name: str) -> Any:
    history = inspect(lead).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    return getattr(lead, name)


def _key(
    distributor_id: int, assignee_id: int | None, status: Any, deleted_at: Any
) -> CountKey | None:
    if deleted_at is not None:
        return None
    return (distributor_id, assignee_id or 0, Status(status))


def _changed(lead: Lead, names: tuple[str, ...]) -> bool:
    attrs = inspect(lead).attrs
    return any(attrs[name].history.has_changes() for name in names)


def bump_counts(session: Session, deltas: Counter[CountKey]) -> None:
    """Add `deltas` to the status counts: one upsert, run for every key (Core: safe in a flush).

    Keys go in sorted order, so two transactions bumping the same keys never deadlock.
    """
    rows = [
        {"distributor_id": d, "assignee_key": a, "status": s, "n": delta}
        for (d, a, s), delta in sorted(deltas.items())
        if delta != 0
    ]
    if not rows:
        return
    connection = session.connection()
    insert_fn = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert_fn(COUNTS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["distributor_id", "assignee_key", "status"],
        set_={"n": COUNTS.c.n + stmt.excluded.n},
    )
    connection.execute(stmt, rows)


def write_terms(session: Session, leads: list[Lead], *, new: bool = False) -> None:
    """Index the leads' search terms, in place of their old ones (`new` leads have none)."""
    connection = session.connection()
    if not new:
        ids = [lead.id for lead in leads]
        connection.execute(delete(TERMS).where(TERMS.c.lead_id.in_(ids)))
    rows = [
        {"lead_id": lead.id, "term": term, "distributor_id": lead.distributor_id}
        for lead in leads
        for term in search.terms_for(full_name=lead.full_name, email=lead.email, phone=lead.phone)
    ]
    if rows:
        connection.execute(insert(TERMS), rows)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    deltas: Counter[CountKey] = Counter()
    created: list[Lead] = []
    reindex: list[Lead] = []
    for obj in session.new:
        if isinstance(obj, Lead):
            key = _key(obj.distributor_id, obj.assignee_id, obj.status, obj.deleted_at)
            if key:
                deltas[key] += 1
            created.append(obj)
    for obj in session.dirty:
        if not isinstance(obj, Lead):
            continue
        if _changed(obj, COUNT_KEYS):
            old = _key(*(_old(obj, name) for name in COUNT_KEYS))
            new = _key(obj.distributor_id, obj.assignee_id, obj.status, obj.deleted_at)
            if old != new:
                if old:
                    deltas[old] -= 1
                if new:
                    deltas[new] += 1
        if _changed(obj, SEARCH_KEYS):
            reindex.append(obj)
    for obj in session.deleted:
        if isinstance(obj, Lead):
            key = _key(*(_old(obj, name) for name in COUNT_KEYS))
            if key:
                deltas[key] -= 1
    if deltas:
        bump_counts(session, deltas)
    if created:
        write_terms(session, created, new=True)
    if reindex:
        write_terms(session, reindex)
