"""A distributor's assignment rule and what its agents speak and treat."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from leadhub.db import Base, TimestampMixin


class Strategy(enum.StrEnum):
    OFF = "off"  # manual assignment only
    ROUND_ROBIN = "round_robin"
    LEAST_OPEN = "least_open"


class NoMatch(enum.StrEnum):
    """What happens when no agent passes the matching filters."""

    ANY_AGENT = "any_agent"  # drop the filters, pick among every active agent
    FALLBACK = "fallback"  # the fallback user, or the unassigned queue


class SkillKind(enum.StrEnum):
    LANGUAGE = "language"
    TREATMENT = "treatment"


WEEKDAYS = 7
MONDAY_TO_FRIDAY = 0b0011111  # bit 0 is Monday (date.weekday())


class AssignmentRule(Base, TimestampMixin):
    """One per distributor; no row means manual assignment only."""

    __tablename__ = "assignment_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(
        ForeignKey("distributor.id", ondelete="CASCADE"), unique=True
    )
    strategy: Mapped[Strategy] = mapped_column(default=Strategy.OFF)
    match_language: Mapped[bool] = mapped_column(default=False)
    match_treatment: Mapped[bool] = mapped_column(default=False)
    no_match: Mapped[NoMatch] = mapped_column(default=NoMatch.ANY_AGENT)
    hours_enabled: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Istanbul")
    work_days: Mapped[int] = mapped_column(default=MONDAY_TO_FRIDAY)
    start_minute: Mapped[int] = mapped_column(default=9 * 60)
    end_minute: Mapped[int] = mapped_column(default=18 * 60)
    # None: the unassigned queue (outside working hours, and when nobody matches)
    fallback_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Round robin's place: the agent who got the last lead (read and written under a row lock).
    last_user_id: Mapped[int | None]

    def works_on(self, weekday: int) -> bool:
        return bool(self.work_days & (1 << weekday))


class AgentSkill(Base):
    """A language an agent speaks or a treatment an agent handles."""

    __tablename__ = "agent_skill"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[SkillKind] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
