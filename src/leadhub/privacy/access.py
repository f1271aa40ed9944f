"""Who read which leads: one access record per reading, its leads written in batches."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from leadhub.auth.models import User
from leadhub.db import utcnow
from leadhub.privacy.models import AccessKind, AccessRecord, AccessRecordLead

RECORD_LEADS = AccessRecordLead.__table__
RECORDS = AccessRecord.__table__
PAGE_SIZE = 50
VIEW, API_READ = AccessKind.VIEW, AccessKind.API_READ


@dataclass(frozen=True)
class Origin:
    """Where a reading came from: the client's address and browser (or API client)."""

    ip: str | None = None
    user_agent: str | None = None


def start(session: Session, *, user: User | None, kind: AccessKind, origin: Origin) -> int:
    """A new access record with no leads yet; add_leads() adds them as they are read."""
    result = session.execute(
        insert(RECORDS).values(
            kind=kind,
            actor_id=getattr(user, "id", None),
            actor_name=getattr(user, "name", None),
            ip=(origin.ip or None) and origin.ip[:45],
            user_agent=(origin.user_agent or None) and origin.user_agent[:255],
            lead_count=0,
            at=utcnow(),
        )
    )
    return int(result.inserted_primary_key[0])


def add_leads(session: Session, *, record_id: int, lead_ids: Iterable[int]) -> int:
    """The leads of one batch, in one multi-row insert; the record's count follows."""
    ids = list(dict.fromkeys(lead_ids))
    if not ids:
        return 0
    session.execute(_insert_ids(session), {"ids": _packed(session, ids), "record_id": record_id})
    session.execute(
        update(RECORDS)
        .where(RECORDS.c.id == record_id)
        .values(lead_count=RECORDS.c.lead_count + len(ids))
    )
    return len(ids)


def _insert_ids(session: Session) -> Any:
    """One statement for a whole batch: the ids go as one array (PostgreSQL) or one JSON text
    (SQLite), which the database unpacks; no per-row parameters to build in Python."""
    if session.get_bind().dialect.name == "postgresql":
        return text(
            "INSERT INTO access_record_lead (lead_id, record_id) "
            "SELECT unnest(CAST(:ids AS integer[])), :record_id"
        )
    return text(
        "INSERT INTO access_record_lead (lead_id, record_id) "
        "SELECT CAST(value AS INTEGER), :record_id FROM json_each(:ids)"
    )


def _packed(session: Session, ids: list[int]) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return ids
    return json.dumps(ids)


def record(
    session: Session,
    *,
    user: User | None,
    kind: AccessKind,
    lead_ids: Iterable[int],
    origin: Origin,
) -> int:
    """One reading of a few leads (a page, an API read, a person's file); the record's id."""
    record_id = start(session, user=user, kind=kind, origin=origin)
    add_leads(session, record_id=record_id, lead_ids=lead_ids)
    return record_id


@dataclass(frozen=True)
class AccessRow:
    record_id: int
    kind: AccessKind
    actor_id: int | None
    actor_name: str | None
    ip: str | None
    user_agent: str | None
    lead_count: int
    at: datetime


def for_lead(
    session: Session, *, lead_id: int, before: int | None = None, limit: int = PAGE_SIZE
) -> tuple[list[AccessRow], int | None]:
    """Everyone who read one lead, newest first, by keyset on the record id; (rows, cursor)."""
    stmt = (
        select(
            AccessRecord.id,
            AccessRecord.kind,
            AccessRecord.actor_id,
            AccessRecord.actor_name,
            AccessRecord.ip,
            AccessRecord.user_agent,
            AccessRecord.lead_count,
            AccessRecord.at,
        )
        .join(AccessRecordLead, AccessRecordLead.record_id == AccessRecord.id)
        .where(AccessRecordLead.lead_id == lead_id)
        .order_by(AccessRecordLead.record_id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(AccessRecordLead.record_id < before)
    rows = [AccessRow(*row) for row in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].record_id if more and rows else None)


def current_origin() -> Origin:
    """The address and user agent of the request being served (none in a job or command)."""
    from flask import has_request_context, request

    if not has_request_context():
        return Origin()
    return Origin(ip=request.remote_addr, user_agent=request.headers.get("User-Agent"))


def export_recorder(session: Session, *, user: User | None) -> Callable[[list[int]], None]:
    """What an export calls with each batch of lead ids it sends: one record, rows per batch.

    The record is written with the first batch (an empty export read nobody), in the same
    transaction as the batch, so it commits where the export commits between batches.
    """
    origin = current_origin()
    record_id: int | None = None

    def add(lead_ids: list[int]) -> None:
        nonlocal record_id
        if record_id is None:
            record_id = start(session, user=user, kind=AccessKind.EXPORT, origin=origin)
        add_leads(session, record_id=record_id, lead_ids=lead_ids)

    return add


def record_request(
    session: Session, *, user: User | None, kind: AccessKind, lead_ids: Iterable[int]
) -> int:
    """record() with the origin of the request being served."""
    return record(session, user=user, kind=kind, lead_ids=lead_ids, origin=current_origin())
