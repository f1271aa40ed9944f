"""Write audit events; every change to a lead, user or setting goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub import context
from leadhub.audit.models import AuditEvent


def jsonable(value: Any) -> Any:
    """Turn enums, times and collections into JSON-safe values for before/after snapshots."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields}


def record(
    session: Session,
    *,
    actor: Any | None,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event in the caller's transaction, with the current IP and request id."""
    ctx = context.current.get()
    audit_event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "name", None),
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        ip=ctx.ip,
        request_id=ctx.request_id,
    )
    session.add(audit_event)
    return audit_event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (before, after)."""
    changed = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def record_changes(
    session: Session,
    *,
    actor: Any | None,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEvent | None:
    """One audit event holding only the fields that differ; none when nothing changed."""
    old, new = changes(before, after)
    if not new:
        return None
    return record(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=old,
        after=new,
    )


def for_object(session: Session, *, object_type: str, object_id: int) -> list[AuditEvent]:
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    return list(session.scalars(stmt))
