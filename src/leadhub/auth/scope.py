"""The one scope function: which leads a user may see. Nothing reads leads without it."""

from __future__ import annotations

from sqlalchemy import Select, and_, or_, select

from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead


def visible_leads(
    user: User, *, deleted: bool = False, part: int | None = None
) -> Select[tuple[Lead]]:
    """A select() of the leads `user` may see; `deleted` switches to the deleted view.

    `part` narrows it to one of scope_parts(user), whose union is the whole scope.
    """
    stmt = select(Lead).where(
        Lead.deleted_at.is_not(None) if deleted else Lead.deleted_at.is_(None)
    )
    return stmt.where(scope_clause(user) if part is None else scope_parts(user)[part])


def scope_clause(user: User):  # noqa: ANN201 - a SQL boolean expression
    if user.role in CLINIC_ROLES:
        return Lead.id.is_not(None)
    if user.role is Role.AGENT:
        return or_(*scope_parts(user))
    if user.distributor_id is None:  # a clinic-wide viewer
        return Lead.id.is_not(None) if user.role is Role.VIEWER else Lead.id.is_(None)
    return Lead.distributor_id == user.distributor_id


AGENT_POOL = 1  # scope_parts(agent)[AGENT_POOL]: the distributor's unassigned leads


def scope_parts(user: User) -> list:  # noqa: ANN201 - SQL boolean expressions
    """Conditions whose OR is scope_clause(user), each one readable in index order.

    An agent sees their own leads and the unassigned ones of their distributor. No index orders
    that OR, so a database reads and sorts every such lead; lists read each part instead.
    """
    if user.role is not Role.AGENT:
        return [scope_clause(user)]
    unassigned_allowed = (
        select(Distributor.agents_see_unassigned)
        .where(Distributor.id == user.distributor_id)
        .scalar_subquery()
    )
    return [
        Lead.assignee_id == user.id,
        and_(
            Lead.distributor_id == user.distributor_id,
            Lead.assignee_id.is_(None),
            unassigned_allowed.is_(True),
        ),
    ]


def distributor_ids_in_scope(user: User) -> list[int] | None:
    """Distributors a user works for; None means all of them."""
    if user.role in CLINIC_ROLES or (user.role is Role.VIEWER and user.distributor_id is None):
        return None
    return [user.distributor_id] if user.distributor_id is not None else []
