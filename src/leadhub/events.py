"""Domain events, delivered to subscribers only after the transaction commits."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "leadhub.pending_events"


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    distributor_id: int


@dataclass(frozen=True)
class LeadUpdated:
    lead_id: int
    distributor_id: int
    changes: dict[str, Any] = field(default_factory=dict)
    actor_id: int | None = None


@dataclass(frozen=True)
class LeadsBulkUpdated:
    """A bulk operation ended having changed leads: one event for all of them (not one each)."""

    operation_id: int
    distributor_ids: tuple[int, ...]
    kind: str
    changed: int
    actor_id: int | None = None


@dataclass(frozen=True)
class UserAccessChanged:
    """A user's role, distributor or activation changed, or one of their keys was revoked."""

    user_id: int


Subscriber = Callable[[Any], None]
_subscribers: dict[type, list[Subscriber]] = defaultdict(list)


def subscribe(event_type: type, handler: Subscriber) -> None:
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def emit(session: Session, domain_event: Any) -> None:
    """Queue an event on the session; it is dispatched if and when the session commits."""
    session.info.setdefault(_PENDING, []).append(domain_event)


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy reports a released SAVEPOINT as a commit: wait for the real one
    pending = session.info.pop(_PENDING, [])
    for domain_event in pending:
        for handler in _subscribers.get(type(domain_event), []):
            try:
                handler(domain_event)
            except Exception:
                log.exception("event handler %s failed for %r", handler, domain_event)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)
