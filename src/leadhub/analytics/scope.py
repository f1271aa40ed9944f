"""Whose leads a panel counts: the user's scope, narrowed to one distributor or campaign.

Admins see every distributor; managers and viewers their own distributor; an agent sees the
numbers of the leads assigned to them (their own work, not their colleagues'). Nothing here
writes: every role reads, and a viewer reads like a manager. No user (the CLI, scheduled
reports) means the whole clinic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.auth.models import Role, User
from leadhub.auth.scope import distributor_ids_in_scope, scope_clause
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, NotFound
from leadhub.leads.models import Lead


@dataclass(frozen=True)
class Scope:
    conditions: tuple[Any, ...] = ()
    distributor_id: int | None = None
    distributor_name: str | None = None
    agent_id: int | None = None
    campaign_id: str | None = None
    user_distributor_ids: list[int] | None = field(default=None)

    @property
    def clinic_wide(self) -> bool:
        return not self.conditions

    def desk_filters(self) -> dict[str, Any]:
        """The desk's query parameters that select this scope's leads."""
        found: dict[str, Any] = {}
        if self.distributor_id is not None:
            found["distributor_id"] = self.distributor_id
        if self.agent_id is not None:
            found["assignee_id"] = self.agent_id
        if self.campaign_id is not None:
            found["campaign_id"] = self.campaign_id
        return found


def scope_for(
    session: Session,
    *,
    user: User | None,
    distributor_id: int | None = None,
    campaign_id: str | None = None,
) -> Scope:
    """The leads `user` may count, narrowed; a distributor outside their scope is NotFound."""
    conditions: list[Any] = []
    allowed: list[int] | None = None
    agent_id = None
    if user is not None:
        allowed = distributor_ids_in_scope(user)
        if user.role is Role.AGENT:
            agent_id = user.id
            conditions.append(Lead.assignee_id == user.id)
        elif allowed is not None:
            conditions.append(scope_clause(user))
    name = None
    if distributor_id is not None:
        name = session.scalar(select(Distributor.name).where(Distributor.id == distributor_id))
        if name is None or (allowed is not None and distributor_id not in allowed):
            raise NotFound(N_("No such distributor."))
        conditions.append(Lead.distributor_id == distributor_id)
    if campaign_id:
        conditions.append(Lead.campaign_id == campaign_id)
    return Scope(
        conditions=tuple(conditions),
        distributor_id=distributor_id,
        distributor_name=name,
        agent_id=agent_id,
        campaign_id=campaign_id or None,
        user_distributor_ids=allowed,
    )
