"""The rules themselves, without a database: working hours, the filters, the strategies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from leadhub.assignment.models import AssignmentRule, NoMatch, Strategy

# Why a lead went where it went; codes kept in the audit event, shown translated on the timeline
POOL = "pool"  # the strategy among every active agent (no filter on)
LANGUAGE = "language"
TREATMENT = "treatment"
LANGUAGE_TREATMENT = "language_treatment"
NO_MATCH = "no_match"  # nobody passed the filters
OUTSIDE_HOURS = "outside_hours"
NO_AGENTS = "no_agents"
FALLBACK = "fallback"  # the rule name when the fallback took the lead


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    languages: frozenset[str] = frozenset()
    treatments: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """Who gets a lead (None: the unassigned queue), by which rule, and why."""

    assignee_id: int | None
    rule: str
    reason: str


@dataclass
class Cursor:
    """Round robin's place and the open leads per agent, advanced as a batch is assigned."""

    last_user_id: int | None
    open_leads: dict[int, int] = field(default_factory=dict)

    def took(self, agent_id: int) -> None:
        self.last_user_id = agent_id
        self.open_leads[agent_id] = self.open_leads.get(agent_id, 0) + 1


def within_hours(rule: AssignmentRule, at: datetime) -> bool:
    """Whether `at` falls in the rule's working hours, in the distributor's time zone."""
    if not rule.hours_enabled:
        return True
    local = at.astimezone(ZoneInfo(rule.timezone))
    minute = local.hour * 60 + local.minute
    return rule.works_on(local.weekday()) and rule.start_minute <= minute < rule.end_minute


def matching(
    rule: AssignmentRule, agents: list[Agent], *, language: str | None, treatment: str | None
) -> tuple[list[Agent], str]:
    """The agents who pass the rule's filters, and the reason code that names the filters."""
    pool = agents
    used = []
    if rule.match_language and language:
        pool = [a for a in pool if language in a.languages]
        used.append(LANGUAGE)
    if rule.match_treatment and treatment:
        pool = [a for a in pool if treatment in a.treatments]
        used.append(TREATMENT)
    if len(used) == 2:
        return pool, LANGUAGE_TREATMENT
    return pool, used[0] if used else POOL


def next_in_turn(agent_ids: list[int], last_user_id: int | None) -> list[int]:
    """The agents in round robin order: those after the last one to get a lead, then the rest."""
    ordered = sorted(agent_ids)
    if last_user_id is None:
        return ordered
    return [a for a in ordered if a > last_user_id] + [a for a in ordered if a <= last_user_id]


def pick(strategy: Strategy, agent_ids: list[int], cursor: Cursor) -> int:
    """Round robin: the next in turn. Least open: the fewest open leads, ties in turn."""
    in_turn = next_in_turn(agent_ids, cursor.last_user_id)
    if strategy is Strategy.LEAST_OPEN:
        counts: Mapping[int, int] = cursor.open_leads
        return min(in_turn, key=lambda a: (counts.get(a, 0), in_turn.index(a)))
    return in_turn[0]


def decide(
    rule: AssignmentRule,
    agents: list[Agent],
    cursor: Cursor,
    *,
    language: str | None,
    treatment: str | None,
    at: datetime,
) -> Decision:
    """Filters narrow the pool, the strategy picks; outside hours or with nobody, the fallback."""
    if not within_hours(rule, at):
        return Decision(rule.fallback_user_id, FALLBACK, OUTSIDE_HOURS)
    if not agents:
        return Decision(rule.fallback_user_id, FALLBACK, NO_AGENTS)
    pool, reason = matching(rule, agents, language=language, treatment=treatment)
    if not pool:
        if rule.no_match is NoMatch.FALLBACK:
            return Decision(rule.fallback_user_id, FALLBACK, NO_MATCH)
        pool, reason = agents, NO_MATCH
    chosen = pick(rule.strategy, [a.id for a in pool], cursor)
    cursor.took(chosen)
    return Decision(chosen, rule.strategy.value, reason)
