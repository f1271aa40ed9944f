"""Distributors: create, rename, deactivate, list what a user may see."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.audit import service as audit
from leadhub.auth.models import User
from leadhub.auth.scope import distributor_ids_in_scope
from leadhub.distributors.models import Distributor
from leadhub.distributors.schemas import DistributorCreate, DistributorUpdate
from leadhub.errors import N_, Conflict, NotFound

FIELDS = ("name", "country", "language", "active", "agents_see_unassigned", "retention_months")


def list_visible(session: Session, *, user: User) -> list[Distributor]:
    stmt = select(Distributor).order_by(Distributor.name)
    ids = distributor_ids_in_scope(user)
    if ids is not None:
        stmt = stmt.where(Distributor.id.in_(ids))
    return list(session.scalars(stmt))


def get_visible(session: Session, *, distributor_id: int, user: User) -> Distributor:
    distributor = session.get(Distributor, distributor_id)
    ids = distributor_ids_in_scope(user)
    if distributor is None or (ids is not None and distributor_id not in ids):
        raise NotFound(N_("No such distributor."))
    return distributor


def find_by_name(session: Session, name: str) -> Distributor | None:
    return session.scalar(select(Distributor).where(Distributor.name == name.strip()))


def create(session: Session, *, data: DistributorCreate, actor: User | None) -> Distributor:
    if find_by_name(session, data.name) is not None:
        raise Conflict(N_("A distributor with this name already exists."))
    distributor = Distributor(**{**data.model_dump(), "name": data.name.strip()})
    session.add(distributor)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="distributor.create",
        object_type="distributor",
        object_id=distributor.id,
        after=audit.snapshot(distributor, FIELDS),
    )
    return distributor


def update(
    session: Session, *, distributor: Distributor, data: DistributorUpdate, actor: User
) -> Distributor:
    other = find_by_name(session, data.name)
    if other is not None and other.id != distributor.id:
        raise Conflict(N_("A distributor with this name already exists."))
    before = audit.snapshot(distributor, FIELDS)
    for name, value in data.model_dump().items():
        setattr(distributor, name, value)
    audit.record_changes(
        session,
        actor=actor,
        action="distributor.update",
        object_type="distributor",
        object_id=distributor.id,
        before=before,
        after=audit.snapshot(distributor, FIELDS),
    )
    return distributor
