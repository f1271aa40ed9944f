"""Socket.IO room names, and which rooms a user joins or a lead is sent to.

These mirror auth/scope.py: a connection is in exactly the rooms whose leads its user may see.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead

NAMESPACE = "/facebook-leads"
CLINIC = "clinic"  # every lead: superadmins, admins and clinic-wide viewers


def distributor_room(distributor_id: int) -> str:
    """Managers and viewers of one distributor: all its leads."""
    return f"distributor:{distributor_id}"


def pool_room(distributor_id: int) -> str:
    """Agents of one distributor: its unassigned leads, when the distributor allows it."""
    return f"pool:{distributor_id}"


def user_room(user_id: int) -> str:
    """One user's connections: an agent's own leads, their counts, messages to that user."""
    return f"user:{user_id}"


def lead_room(lead_id: int) -> str:
    """Everyone with one lead's page open (joined after the lead page's scope check)."""
    return f"lead:{lead_id}"


def for_user(user: User) -> list[str]:
    """The rooms a connection of `user` joins."""
    rooms = [user_room(user.id)]
    if user.role in CLINIC_ROLES or (user.role is Role.VIEWER and user.distributor_id is None):
        rooms.append(CLINIC)
    elif user.distributor_id is not None:
        rooms.append(
            pool_room(user.distributor_id)
            if user.role is Role.AGENT
            else distributor_room(user.distributor_id)
        )
    return rooms


def stats_room_for_user(user: User) -> str | None:
    """The room whose `stats_updated` match this user's scope (an agent's are their own)."""
    if user.role is Role.AGENT:
        return user_room(user.id)
    shared = [room for room in for_user(user) if not room.startswith("user:")]
    return shared[0] if shared else None


def for_lead(session: Session, lead: Lead) -> list[str]:
    """The rooms of everyone who may see `lead` as it is now."""
    rooms = [CLINIC, distributor_room(lead.distributor_id)]
    if lead.assignee_id is not None:
        assignee_role = session.scalar(select(User.role).where(User.id == lead.assignee_id))
        if assignee_role is Role.AGENT:  # others see it through their distributor or clinic room
            rooms.append(user_room(lead.assignee_id))
    elif pool_open(session, lead.distributor_id):
        rooms.append(pool_room(lead.distributor_id))
    return rooms


def pool_open(session: Session, distributor_id: int) -> bool:
    allowed = session.scalar(
        select(Distributor.agents_see_unassigned).where(Distributor.id == distributor_id)
    )
    return bool(allowed)


def agent_rooms(session: Session, distributor_id: int) -> list[str]:
    """The user rooms of a distributor's active agents."""
    agents = session.scalars(
        select(User.id).where(
            User.distributor_id == distributor_id, User.role == Role.AGENT, User.active.is_(True)
        )
    )
    return [user_room(agent) for agent in agents]


def stats_rooms_for_distributor(session: Session, distributor_id: int) -> list[str]:
    """Rooms whose counts a change to one of this distributor's leads may move."""
    return [CLINIC, distributor_room(distributor_id), *agent_rooms(session, distributor_id)]


def lost_by_agents(session: Session, lead: Lead, now_in: list[str]) -> list[str]:
    """After a lead's assignee changed: rooms of agents who may no longer see it.

    Agents see their own leads and, when the pool is open, the unassigned ones; an agent whose
    room is not among the lead's rooms now may have had it (the previous assignee, or everyone
    when it left the pool). Those who never had it ignore the message.
    """
    if pool_room(lead.distributor_id) in now_in:
        return []
    return [room for room in agent_rooms(session, lead.distributor_id) if room not in now_in]
