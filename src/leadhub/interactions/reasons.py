"""Why leads close: the admin's list of lost reasons and the fixed invalid reasons."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.auth.models import User
from leadhub.errors import N_, Conflict, InvalidInput, NotFound
from leadhub.interactions.models import InvalidReason, LostReason

# Seeded by migration 0006 with these English names; shown translated until an admin renames one.
DEFAULT_LOST_REASONS = (
    N_("Price"),
    N_("Chose another clinic"),
    N_("No answer after several attempts"),
    N_("Not interested any more"),
    N_("Health reasons"),
    N_("Timing"),
)
INVALID_REASON_LABELS = {
    InvalidReason.SPAM: N_("Spam"),
    InvalidReason.TEST: N_("Test"),
    InvalidReason.WRONG_NUMBER: N_("Wrong number"),
    InvalidReason.DUPLICATE: N_("Duplicate"),
}


def list_lost_reasons(session: Session, *, active_only: bool = False) -> list[LostReason]:
    stmt = select(LostReason).order_by(LostReason.position, LostReason.id)
    if active_only:
        stmt = stmt.where(LostReason.active.is_(True))
    return list(session.scalars(stmt))


def get_lost_reason(session: Session, *, reason_id: int) -> LostReason:
    reason = session.get(LostReason, reason_id)
    if reason is None:
        raise NotFound(N_("No such lost reason."))
    return reason


def resolve_lost_reason(session: Session, *, reason_id: int | None, name: str | None) -> LostReason:
    """The active reason a lead is lost for, by id or by name; anything else is refused."""
    stmt = select(LostReason).where(LostReason.active.is_(True))
    if reason_id is not None:
        stmt = stmt.where(LostReason.id == reason_id)
    elif name and name.strip():
        stmt = stmt.where(func.lower(LostReason.name) == name.strip().lower())
    else:
        raise InvalidInput(N_("Say why the lead was lost."))
    reason = session.scalar(stmt)
    if reason is None:
        listed = [r.name for r in list_lost_reasons(session, active_only=True)]
        raise InvalidInput(
            N_("Choose why the lead was lost from the list."), details={"lost_reasons": listed}
        )
    return reason


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 120:
        raise InvalidInput(N_("A reason has 1 to 120 characters."))
    return cleaned


def _flush_unique(session: Session, reason: LostReason) -> None:
    """Names are unique regardless of case; the unique index catches a concurrent twin."""
    others = LostReason.id != reason.id if reason.id is not None else LostReason.id.is_not(None)
    with session.no_autoflush:
        twin = session.scalar(
            select(LostReason.id).where(func.lower(LostReason.name) == reason.name.lower(), others)
        )
    if twin is not None:
        raise Conflict(N_("There is already a reason with that name."))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(N_("There is already a reason with that name.")) from exc


def create_lost_reason(session: Session, *, name: str, actor: User) -> LostReason:
    position = session.scalar(select(func.max(LostReason.position))) or 0
    reason = LostReason(name=_clean_name(name), active=True, position=position + 1)
    _flush_unique(session, reason)
    session.add(reason)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="lost_reason.create",
        object_type="lost_reason",
        object_id=reason.id,
        after={"name": reason.name},
    )
    return reason


def update_lost_reason(
    session: Session, *, reason: LostReason, name: str, active: bool, actor: User
) -> LostReason:
    """Rename or (de)activate; leads already lost keep the words they were lost with."""
    before = audit.snapshot(reason, ("name", "active"))
    reason.name = _clean_name(name)
    reason.active = active
    _flush_unique(session, reason)
    audit.record_changes(
        session,
        actor=actor,
        action="lost_reason.update",
        object_type="lost_reason",
        object_id=reason.id,
        before=before,
        after=audit.snapshot(reason, ("name", "active")),
    )
    return reason
