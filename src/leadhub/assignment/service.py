"""Assignment on intake, a distributor's rule settings, and its working hours for other domains."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from leadhub.assignment import rules
from leadhub.assignment.models import AgentSkill, AssignmentRule, NoMatch, SkillKind, Strategy
from leadhub.assignment.schemas import AgentSkills, AssignmentRulesInput, clock, minutes
from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.db import utcnow
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Forbidden, InvalidInput
from leadhub.leads import service as leads
from leadhub.leads.models import OPEN_STATUSES, Lead, LeadStatusCount

AUDIT_ACTION = "lead.auto_assign"
SETTINGS_FIELDS = (
    "strategy",
    "match_language",
    "match_treatment",
    "no_match",
    "hours_enabled",
    "timezone",
    "work_days",
    "start_minute",
    "end_minute",
    "fallback_user_id",
)
EDITORS = frozenset({Role.SUPERADMIN, Role.ADMIN, Role.MANAGER})


# -- working hours, for the speed-to-lead clock and anyone else ------------------------------


@dataclass(frozen=True)
class WorkingHours:
    timezone: str
    work_days: tuple[int, ...]  # 0 is Monday
    start: str  # "09:00", local time
    end: str  # "18:00", local time, exclusive


def working_hours(session: Session, distributor_id: int) -> WorkingHours | None:
    """A distributor's working hours, or None when it keeps none (always working)."""
    rule = session.scalar(
        select(AssignmentRule).where(AssignmentRule.distributor_id == distributor_id)
    )
    if rule is None or not rule.hours_enabled:
        return None
    days = tuple(day for day in range(7) if rule.works_on(day))
    return WorkingHours(rule.timezone, days, clock(rule.start_minute), clock(rule.end_minute))


def is_working_time(session: Session, distributor_id: int, at: datetime | None = None) -> bool:
    """Whether `at` (default: now) is inside the distributor's working hours; no hours: always."""
    rule = session.scalar(
        select(AssignmentRule).where(AssignmentRule.distributor_id == distributor_id)
    )
    return rule is None or rules.within_hours(rule, at or utcnow())


# -- on intake --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    lead: Lead
    decision: rules.Decision
    assignee_name: str | None


def route(session: Session, *, leads_in: list[Lead], at: datetime | None = None) -> list[Routed]:
    """Give new, unassigned leads to agents by their distributor's rule, before they are inserted.

    Per distributor with a rule on: one query reads and locks the rule (round robin's place is
    read and written under that lock, so leads arriving together never go to the same agent by
    a race; SQLite's writers are serialized by BEGIN IMMEDIATE), one reads its active agents and
    their skills, and for least open one sums the open-lead counts. Call record() once the
    leads have ids.
    """
    waiting = [lead for lead in leads_in if lead.assignee_id is None]
    if not waiting:
        return []
    distributor_ids = sorted({lead.distributor_id for lead in waiting})
    stmt = (
        select(AssignmentRule)
        .where(
            AssignmentRule.distributor_id.in_(distributor_ids),
            AssignmentRule.strategy != Strategy.OFF,
        )
        .order_by(AssignmentRule.distributor_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rules_on = {rule.distributor_id: rule for rule in session.scalars(stmt)}
    if not rules_on:
        return []
    now = at or utcnow()
    routed: list[Routed] = []
    for distributor_id, rule in rules_on.items():
        agents = _active_agents(session, distributor_id)
        names = {agent.id: agent.name for agent in agents}
        cursor = rules.Cursor(rule.last_user_id)
        if rule.strategy is Strategy.LEAST_OPEN:
            cursor.open_leads = _open_leads(session, distributor_id, list(names))
        fallback: list[str | None] = []  # the fallback user's name, read when first needed
        for lead in (lead for lead in waiting if lead.distributor_id == distributor_id):
            decision = rules.decide(
                rule, agents, cursor, language=lead.language, treatment=lead.treatment, at=now
            )
            name = names.get(decision.assignee_id) if decision.assignee_id else None
            if decision.rule == rules.FALLBACK:
                if not fallback:
                    fallback.append(_fallback_name(session, rule))
                name = fallback[0]
                if name is None:  # no fallback user, or one who may no longer take leads
                    decision = rules.Decision(None, decision.rule, decision.reason)
            if decision.assignee_id is not None:
                leads.apply_assignee(lead, decision.assignee_id)
            routed.append(Routed(lead, decision, name))
        if cursor.last_user_id != rule.last_user_id:
            rule.last_user_id = cursor.last_user_id
    return routed


def record(session: Session, routed: list[Routed]) -> None:
    """Put each automatic assignment on its lead's timeline, with the rule and the reason."""
    for item in routed:
        audit.record(
            session,
            actor=None,
            action=AUDIT_ACTION,
            object_type="lead",
            object_id=item.lead.id,
            before={"assignee_id": None},
            after={
                "assignee_id": item.decision.assignee_id,
                "assignee": item.assignee_name if item.decision.assignee_id else None,
                "rule": item.decision.rule,
                "reason": item.decision.reason,
            },
        )


def _active_agents(session: Session, distributor_id: int) -> list[rules.Agent]:
    stmt = (
        select(User.id, User.name, AgentSkill.kind, AgentSkill.value)
        .outerjoin(AgentSkill, AgentSkill.user_id == User.id)
        .where(
            User.distributor_id == distributor_id,
            User.role == Role.AGENT,
            User.active.is_(True),
        )
        .order_by(User.id)
    )
    found: dict[int, tuple[str, set[str], set[str]]] = {}
    for user_id, name, kind, value in session.execute(stmt):
        _, languages, treatments = found.setdefault(user_id, (name, set(), set()))
        if kind is SkillKind.LANGUAGE:
            languages.add(value)
        elif kind is SkillKind.TREATMENT:
            treatments.add(value)
    return [
        rules.Agent(user_id, name, frozenset(languages), frozenset(treatments))
        for user_id, (name, languages, treatments) in found.items()
    ]


def _open_leads(session: Session, distributor_id: int, agent_ids: list[int]) -> dict[int, int]:
    """Open leads per agent, from the desk's status counts (no scan of the leads)."""
    if not agent_ids:
        return {}
    stmt = (
        select(LeadStatusCount.assignee_key, func.sum(LeadStatusCount.n))
        .where(
            LeadStatusCount.distributor_id == distributor_id,
            LeadStatusCount.assignee_key.in_(agent_ids),
            LeadStatusCount.status.in_(OPEN_STATUSES),
        )
        .group_by(LeadStatusCount.assignee_key)
    )
    return {user_id: int(n or 0) for user_id, n in session.execute(stmt)}


def _fallback_name(session: Session, rule: AssignmentRule) -> str | None:
    """The fallback user's name while that user may still take leads; else the queue (None)."""
    if rule.fallback_user_id is None:
        return None
    user = session.get(User, rule.fallback_user_id)
    if user is None or not user.active or user.role is Role.VIEWER:
        return None
    return user.name


# -- the settings -----------------------------------------------------------------------------


@dataclass
class AgentSettings:
    user_id: int
    name: str
    active: bool
    languages: list[str]
    treatments: list[str]


@dataclass
class Settings:
    distributor: Distributor
    rule: AssignmentRule
    agents: list[AgentSettings]
    fallback_choices: list[User]

    def as_dict(self) -> dict[str, object]:
        rule = self.rule
        return {
            "distributor_id": self.distributor.id,
            "strategy": rule.strategy,
            "match_language": rule.match_language,
            "match_treatment": rule.match_treatment,
            "no_match": rule.no_match,
            "hours_enabled": rule.hours_enabled,
            "timezone": rule.timezone,
            "work_days": [day for day in range(7) if rule.works_on(day)],
            "start": clock(rule.start_minute),
            "end": clock(rule.end_minute),
            "fallback_user_id": rule.fallback_user_id,
            "agents": [agent.__dict__ for agent in self.agents],
        }


def ensure_can_edit(actor: User, distributor: Distributor) -> None:
    """Admins set any distributor's rules; a manager their own distributor's (scope is checked
    by the caller, which found the distributor through distributors.service.get_visible)."""
    if actor.role not in EDITORS:
        raise Forbidden(N_("Your role may not change assignment rules."))
    if actor.role not in CLINIC_ROLES and actor.distributor_id != distributor.id:
        raise Forbidden(N_("Your role may not change assignment rules."))


def _rule_of(session: Session, distributor: Distributor) -> AssignmentRule:
    rule = session.scalar(
        select(AssignmentRule).where(AssignmentRule.distributor_id == distributor.id)
    )
    if rule is None:
        rule = AssignmentRule(
            distributor_id=distributor.id,
            strategy=Strategy.OFF,
            match_language=False,
            match_treatment=False,
            no_match=NoMatch.ANY_AGENT,
            hours_enabled=False,
            timezone="Europe/Istanbul",
            work_days=0b0011111,
            start_minute=9 * 60,
            end_minute=18 * 60,
        )
    return rule


def _agents(session: Session, distributor_id: int) -> list[AgentSettings]:
    """The distributor's agents (active first) with their skills: two queries."""
    users = list(
        session.scalars(
            select(User)
            .where(User.distributor_id == distributor_id, User.role == Role.AGENT)
            .order_by(User.active.desc(), User.name, User.id)
        )
    )
    skills: dict[int, dict[SkillKind, list[str]]] = defaultdict(lambda: defaultdict(list))
    if users:
        stmt = (
            select(AgentSkill)
            .where(AgentSkill.user_id.in_([u.id for u in users]))
            .order_by(AgentSkill.value)
        )
        for skill in session.scalars(stmt):
            skills[skill.user_id][skill.kind].append(skill.value)
    return [
        AgentSettings(
            u.id,
            u.name,
            u.active,
            skills[u.id][SkillKind.LANGUAGE],
            skills[u.id][SkillKind.TREATMENT],
        )
        for u in users
    ]


def _fallback_choices(session: Session, distributor_id: int) -> list[User]:
    """Who may take leads outside working hours: the distributor's active agents and managers."""
    stmt = (
        select(User)
        .where(
            User.distributor_id == distributor_id,
            User.role.in_((Role.AGENT, Role.MANAGER)),
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    )
    return list(session.scalars(stmt))


def get(session: Session, *, distributor: Distributor, actor: User) -> Settings:
    """A distributor's rule (manual only when none was set) and its agents' skills."""
    ensure_can_edit(actor, distributor)
    return Settings(
        distributor,
        _rule_of(session, distributor),
        _agents(session, distributor.id),
        _fallback_choices(session, distributor.id),
    )


def _snapshot(rule: AssignmentRule, agents: list[AgentSettings]) -> dict[str, object]:
    values = audit.snapshot(rule, SETTINGS_FIELDS)
    values["skills"] = {
        str(a.user_id): {"languages": a.languages, "treatments": a.treatments} for a in agents
    }
    return values


def update(
    session: Session, *, distributor: Distributor, data: AssignmentRulesInput, actor: User
) -> Settings:
    """Save a distributor's rule and its agents' skills; the change is audited."""
    current = get(session, distributor=distributor, actor=actor)
    rule = current.rule
    before = _snapshot(rule, current.agents)
    if data.fallback_user_id is not None and data.fallback_user_id not in {
        u.id for u in current.fallback_choices
    }:
        raise InvalidInput(
            N_("The fallback must be an active agent or manager of this distributor.")
        )
    agent_ids = {a.user_id for a in current.agents}
    if data.agents is not None:
        strangers = sorted(a.user_id for a in data.agents if a.user_id not in agent_ids)
        if strangers:
            raise InvalidInput(
                N_("These users are not agents of this distributor: %(ids)s"),
                ids=", ".join(map(str, strangers)),
            )
    rule.strategy = data.strategy
    rule.match_language = data.match_language
    rule.match_treatment = data.match_treatment
    rule.no_match = data.no_match
    rule.hours_enabled = data.hours_enabled
    rule.timezone = data.timezone
    rule.work_days = sum(1 << day for day in data.work_days)
    rule.start_minute = minutes(data.start)
    rule.end_minute = minutes(data.end)
    rule.fallback_user_id = data.fallback_user_id
    session.add(rule)
    if data.agents is not None:
        _replace_skills(session, data.agents)
    session.flush()
    after = get(session, distributor=distributor, actor=actor)
    audit.record_changes(
        session,
        actor=actor,
        action="assignment_rule.update",
        object_type="distributor",
        object_id=distributor.id,
        before=before,
        after=_snapshot(after.rule, after.agents),
    )
    return after


def _replace_skills(session: Session, agents: list[AgentSkills]) -> None:
    """The named agents' skills become exactly the ones given (one delete, one insert)."""
    session.execute(delete(AgentSkill).where(AgentSkill.user_id.in_([a.user_id for a in agents])))
    rows = [
        AgentSkill(user_id=agent.user_id, kind=kind, value=value)
        for agent in agents
        for kind, values in (
            (SkillKind.LANGUAGE, agent.languages),
            (SkillKind.TREATMENT, agent.treatments),
        )
        for value in values
    ]
    session.add_all(rows)
