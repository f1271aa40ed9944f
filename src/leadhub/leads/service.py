"""The lead desk's verbs: list, get, update, change status, assign, tag, delete, restore."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, any_, func, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.permissions import can, ensure_can
from leadhub.auth.scope import AGENT_POOL, scope_parts, visible_leads
from leadhub.db import decode_cursor, encode_cursor, utcnow
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from leadhub.interactions import reasons
from leadhub.interactions import service as interactions
from leadhub.interactions.models import FIRST_CONTACT_KINDS, Interaction, InvalidReason, Kind
from leadhub.leads import search
from leadhub.leads.models import (
    OPEN_STATUSES,
    PIPELINE,
    Lead,
    LeadStatusCount,
    Status,
    Tag,
    lead_tag,
)
from leadhub.leads.schemas import InteractionCreate, LeadFilter, LeadUpdate, NoteEdit
from leadhub.scoring import service as scoring

# Audited actions shown on the timeline; status changes and assignments are interactions already.
TIMELINE_AUDIT_ACTIONS = ("lead.create", "lead.update", "lead.delete", "lead.restore")
ON_TIMELINE_AS_INTERACTIONS = frozenset({"status", "assignee_id", "lost_reason"})


@dataclass
class Page:
    items: list[Lead]
    next_cursor: str | None


def _day_start(day: Any, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def filtered(  # noqa: ANN201 - a Select
    user: User,
    filters: LeadFilter,
    part: int | None = None,
    *,
    broad_search: bool = False,
    score_by_index: bool | None = None,
    score_ids: bool = False,
    matched_ids: list[int] | None = None,
):
    """visible_leads(user) narrowed by the desk's filters (no order, no paging).

    `broad_search`: the search box matches many leads (search.is_broad), so check them while
    reading in list order. `score_by_index`: whether a score range may be read from the score
    index (default: when the list is by score); `score_ids`: read the range's few leads by id
    (SQLite, see list_visible). `matched_ids`: the search's matches, read
    already (PostgreSQL, see list_visible).
    """
    stmt = visible_leads(user, deleted=filters.deleted, part=part)
    if filters.status:
        stmt = stmt.where(Lead.status.in_(filters.status))
    if filters.distributor_id is not None:
        stmt = stmt.where(Lead.distributor_id == filters.distributor_id)
    if filters.unassigned:
        # Not again on an agent's unassigned part: PostgreSQL would count it twice and misplan.
        if not (user.role is Role.AGENT and part == AGENT_POOL):
            stmt = stmt.where(Lead.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        stmt = stmt.where(Lead.assignee_id == filters.assignee_id)
    # `+ 0` keeps a score range off the score index, so the list is read in date order instead.
    if score_by_index is None:
        score_by_index = filters.sort == "score"
    score = Lead.score if score_by_index else Lead.score + 0
    in_range = []
    if filters.score_min is not None:
        in_range.append(score >= filters.score_min)
    if filters.score_max is not None:
        in_range.append(score <= filters.score_max)
    if in_range and score_ids:
        live = Lead.deleted_at.is_not(None) if filters.deleted else Lead.deleted_at.is_(None)
        stmt = stmt.where(Lead.id.in_(select(Lead.id).where(live, *in_range)))
    elif in_range:
        stmt = stmt.where(*in_range)
    if filters.created_from is not None:
        stmt = stmt.where(Lead.created_time >= _day_start(filters.created_from, user.timezone))
    if filters.created_to is not None:
        end = _day_start(filters.created_to + timedelta(days=1), user.timezone)
        stmt = stmt.where(Lead.created_time < end)
    if filters.treatment:
        stmt = stmt.where(Lead.treatment == filters.treatment)
    if filters.platform is not None:
        stmt = stmt.where(Lead.platform == filters.platform)
    for name in ("campaign_id", "adset_id", "ad_id", "form_id"):
        if getattr(filters, name) is not None:
            stmt = stmt.where(getattr(Lead, name) == getattr(filters, name))
    if filters.reached is not None:
        stmt = stmt.where(Lead.pipeline_stage >= PIPELINE.index(Status(filters.reached)))
    if filters.tag:
        tagged = select(lead_tag.c.lead_id).join(Tag).where(Tag.name == filters.tag.lower())
        stmt = stmt.where(Lead.id.in_(tagged))
    if filters.recommendation:
        stmt = stmt.where(scoring.recommendation_clause(filters.recommendation))
    if matched_ids is not None:
        stmt = stmt.where(Lead.id == any_(literal(matched_ids, ARRAY(Integer))))
    else:
        ids = search_ids(user, filters)
        if ids is not None:
            stmt = stmt.where(search.clause(ids, broad=broad_search))
    return stmt


def search_ids(user: User, filters: LeadFilter) -> Select[tuple[int]] | None:
    """The ids matching the filters' search box, read from the user's distributor's terms."""
    if not filters.q:
        return None
    region = user.distributor.country if user.distributor else None
    # Everyone outside the clinic sees one distributor's leads at most (an agent's assigned
    # leads are of their own distributor: assignment keeps to it).
    within = user.distributor_id if user.role not in CLINIC_ROLES else None
    return search.matching(
        filters.q, region=region, distributor_id=within or filters.distributor_id
    )


def list_visible(session: Session, *, user: User, filters: LeadFilter) -> Page:
    """One page of the leads `user` may see, newest or best first, by keyset.

    Each part of the scope is read in index order and the parts are merged (see scope_parts).
    The page is found from ids and sort keys alone, which the desk's indexes hold, and only its
    rows are then read whole: a filter that matches thousands of leads never reads their rows.
    """
    if filters.sort == "score":
        key, kinds = (Lead.score, Lead.id), (int, int)
    else:
        key, kinds = (Lead.created_time, Lead.id), (datetime, int)
    cursor = decode_cursor(filters.cursor, kinds) if filters.cursor else None
    ids = search_ids(user, filters)
    # A search matching many leads (a common surname) is best checked while the list is read in
    # its own order, which stops at the page's last row. Neither database knows how many there
    # are: SQLite is told to (`id + 0`, see search.clause); PostgreSQL is given the matches as
    # a list, whose length its planner weighs (a subquery it guesses at, often as one row).
    sqlite = session.get_bind().dialect.name == "sqlite"
    broad = sqlite and ids is not None and search.is_broad(session, ids)
    matched_ids = None
    if ids is not None and not sqlite:  # one read of the matches both counts and lists them
        listed = list(session.scalars(ids.limit(search.LISTED + 1)))
        matched_ids = listed if search.BROAD <= len(listed) <= search.LISTED else None
    # Likewise a score range on a list by date: SQLite reads its leads by id when there are few
    # (it would walk the date order through all of them), else walks the date order.
    by_score = filters.sort == "score"
    score_ids = sqlite and not by_score and _few_in_score_range(session, user=user, filters=filters)
    score_by_index = by_score or not sqlite or score_ids
    order = key
    if by_score and _one_assignee(filters):
        # One person's few thousand leads are read from the assignee's index and sorted (see
        # Lead's indexes); in score order the planner would walk everyone's leads to find
        # theirs, and `+ 0` keeps it off that order.
        order = (Lead.score + 0, Lead.id)
    found: list[tuple[Any, ...]] = []
    for part in range(len(scope_parts(user))):
        stmt = filtered(
            user,
            filters,
            part=part,
            broad_search=broad,
            score_by_index=score_by_index,
            score_ids=score_ids,
            matched_ids=matched_ids,
        ).with_only_columns(*order)
        if cursor is not None:
            stmt = stmt.where(tuple_(*order) < tuple_(*cursor))
        stmt = stmt.order_by(*(column.desc() for column in order)).limit(filters.limit + 1)
        found.extend(tuple(row) for row in session.execute(stmt))
    found.sort(reverse=True)
    keys = found[: filters.limit]
    rows = {
        lead.id: lead
        for lead in session.scalars(select(Lead).where(Lead.id.in_([k[-1] for k in keys])))
    }
    items = [rows[k[-1]] for k in keys if k[-1] in rows]
    next_cursor = encode_cursor(list(keys[-1])) if len(found) > filters.limit else None
    return Page(items=items, next_cursor=next_cursor)


def _one_assignee(filters: LeadFilter) -> bool:
    """Whether the list is filtered to one assignee's leads. (An agent's own part is not
    steered: there the scope condition leads both databases to the assignee's index.)"""
    return filters.assignee_id is not None and not filters.unassigned


def _few_in_score_range(session: Session, *, user: User, filters: LeadFilter) -> bool:
    """Whether the filters' score range holds few of the user's leads (counted up to a bound)."""
    if filters.score_min is None and filters.score_max is None:
        return False
    total = 0
    for part in range(len(scope_parts(user))):
        stmt = visible_leads(user, deleted=filters.deleted, part=part).with_only_columns(Lead.id)
        if filters.score_min is not None:
            stmt = stmt.where(Lead.score >= filters.score_min)
        if filters.score_max is not None:
            stmt = stmt.where(Lead.score <= filters.score_max)
        bounded = stmt.limit(search.BROAD).subquery()
        total += session.scalar(select(func.count()).select_from(bounded)) or 0
    return total < search.BROAD


def count_by_status(session: Session, *, user: User) -> dict[Status, int]:
    """Live leads per status in the user's scope, from the maintained counts table."""
    counts = LeadStatusCount
    stmt = select(counts.status, func.sum(counts.n)).group_by(counts.status)
    if user.role is Role.AGENT:
        allowed = session.scalar(
            select(Distributor.agents_see_unassigned).where(Distributor.id == user.distributor_id)
        )
        mine = counts.assignee_key == user.id
        pool = (counts.distributor_id == user.distributor_id) & (counts.assignee_key == 0)
        stmt = stmt.where(or_(mine, pool) if allowed else mine)
    elif user.role not in CLINIC_ROLES and user.distributor_id is not None:
        stmt = stmt.where(counts.distributor_id == user.distributor_id)
    elif user.role not in CLINIC_ROLES and user.role is not Role.VIEWER:
        return dict.fromkeys(Status, 0)
    found = {Status(status): int(n or 0) for status, n in session.execute(stmt)}
    return {status: found.get(status, 0) for status in Status}


def get_visible(
    session: Session, *, lead_id: int, user: User, include_deleted: bool = False
) -> Lead:
    """A lead the user may see; leads outside their scope look absent (404, not 403)."""
    lead = session.scalar(visible_leads(user).where(Lead.id == lead_id))
    if lead is None and include_deleted and can(user, "restore"):
        lead = session.scalar(visible_leads(user, deleted=True).where(Lead.id == lead_id))
    if lead is None:
        raise NotFound(N_("No such lead."))
    return lead


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {
        "status": lead.status,
        "assignee_id": lead.assignee_id,
        "lost_reason": lead.lost_reason,
        "tags": [t.name for t in lead.tags],
        "deleted_at": lead.deleted_at,
    }


def _audit_change(
    session: Session, *, lead: Lead, actor: User, action: str, before: dict[str, Any]
) -> dict[str, Any]:
    event = audit.record_changes(
        session,
        actor=actor,
        action=action,
        object_type="lead",
        object_id=lead.id,
        before=audit.jsonable(before),
        after=audit.jsonable(_snapshot(lead)),
    )
    if event is None:
        return {}
    lead.updated_at = utcnow()  # an UPDATE of the row, so even a tags-only change bumps version
    return event.after


def _allowed_targets(current: Status, user: User) -> set[Status]:
    if current in OPEN_STATUSES:
        later = PIPELINE[PIPELINE.index(current) + 1 :]
        return {*later, Status.LOST, Status.INVALID}
    return set(OPEN_STATUSES) if can(user, "reopen") else set()


def allowed_statuses(lead: Lead, user: User) -> list[Status]:
    """The statuses `user` may move `lead` to, in pipeline order, for the quick actions."""
    targets = _allowed_targets(lead.status, user) if can(user, "update") else set()
    return [s for s in Status if s in targets]


def transition_allowed(current: Status, target: Status, actor: User) -> bool:
    """Whether `actor` may move a `current` lead to `target`: the rule _set_status enforces."""
    return target in _allowed_targets(current, actor)


def closing_reason(
    session: Session,
    *,
    status: Status,
    lost_reason_id: int | None = None,
    lost_reason: str | None = None,
    invalid_reason: InvalidReason | None = None,
) -> str | None:
    """The kept words of a lost or invalid reason, checked as a single lead's change checks them."""
    return _closing_reason(
        session,
        status=status,
        lost_reason_id=lost_reason_id,
        lost_reason=lost_reason,
        invalid_reason=invalid_reason,
    )


def tags_named(session: Session, names: list[str]) -> list[Tag]:
    """The tags with these names, new ones added (as a single lead's tagging adds them)."""
    return _tags_named(session, names)


def _closing_reason(
    session: Session,
    *,
    status: Status,
    lost_reason_id: int | None,
    lost_reason: str | None,
    invalid_reason: InvalidReason | None,
) -> str | None:
    """Why a lead is lost (a reason from the admin's list) or invalid (a fixed one), as kept."""
    if status is Status.LOST:
        return reasons.resolve_lost_reason(session, reason_id=lost_reason_id, name=lost_reason).name
    if status is Status.INVALID:
        if invalid_reason is None:
            raise InvalidInput(
                N_("Say why the lead is invalid: spam, test, wrong number or duplicate.")
            )
        return invalid_reason.value
    return None


def _set_status(
    session: Session,
    *,
    lead: Lead,
    status: Status,
    actor: User,
    lost_reason_id: int | None = None,
    lost_reason: str | None = None,
    invalid_reason: InvalidReason | None = None,
) -> None:
    """The one place a lead's status changes: the transition rules and the reasons it needs.

    Open leads move forward, or to lost (a listed reason) or invalid (spam, test, wrong number,
    duplicate); a closed lead is reopened by admins only. `lost_reason` keeps the reason's words
    (for an invalid lead, the invalid reason's code), so renaming a reason rewrites no history.
    """
    if status == lead.status:
        return
    if status not in _allowed_targets(lead.status, actor):
        raise InvalidInput(
            N_("A %(current)s lead cannot become %(target)s."),
            current=lead.status.value,
            target=status.value,
        )
    reason = _closing_reason(
        session,
        status=status,
        lost_reason_id=lost_reason_id,
        lost_reason=lost_reason,
        invalid_reason=invalid_reason,
    )
    previous = lead.status
    lead.status = status
    lead.lost_reason = reason
    if status is Status.CONVERTED:
        lead.converted_at = utcnow()
    elif previous is Status.CONVERTED:
        lead.converted_at = None
    body = f"{previous.value} → {status.value}"
    if lead.lost_reason:
        body += f": {lead.lost_reason}"
    interactions.record(session, lead=lead, kind=Kind.STATUS_CHANGE, actor=actor, body=body)


def assignable(session: Session, *, assignee_id: int) -> User:
    """An active staff member who may be given leads; anyone else is InvalidInput."""
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.active or assignee.role is Role.VIEWER:
        raise InvalidInput(N_("No such active staff member."))
    return assignee


def works_for(assignee: User, distributor_id: int) -> bool:
    """Whether `assignee` may hold leads of this distributor (clinic staff hold any)."""
    return assignee.distributor_id in (None, distributor_id)


def apply_assignee(lead: Lead, assignee_id: int | None) -> None:
    """Set a lead's assignee (new ↔ assigned): every assignment, manual or by rule, is here."""
    lead.assignee_id = assignee_id
    if assignee_id is not None and lead.status is Status.NEW:
        lead.status = Status.ASSIGNED
    elif assignee_id is None and lead.status is Status.ASSIGNED:
        lead.status = Status.NEW


def _set_assignee(session: Session, *, lead: Lead, assignee_id: int | None, actor: User) -> None:
    if assignee_id == lead.assignee_id:
        return
    claiming = can(actor, "claim") and assignee_id == actor.id and lead.assignee_id is None
    if not (can(actor, "assign") or claiming):
        raise Forbidden(N_("Your role may not assign this lead."))
    assignee = None
    if assignee_id is not None:
        assignee = assignable(session, assignee_id=assignee_id)
        if not works_for(assignee, lead.distributor_id):
            raise InvalidInput(N_("That staff member works for another distributor."))
    apply_assignee(lead, assignee_id)
    body = assignee.name if assignee else None
    interactions.record(session, lead=lead, kind=Kind.ASSIGNMENT, actor=actor, body=body)


def _tags_named(session: Session, names: list[str]) -> list[Tag]:
    if not names:
        return []
    found = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name not in found:
            found[name] = Tag(name=name)
            session.add(found[name])
    return [found[name] for name in sorted(names)]


def update(session: Session, *, lead: Lead, data: LeadUpdate, actor: User) -> Lead:
    """Apply a client's change if it read the current version; a stale one is a Conflict."""
    ensure_can(actor, "update", lead)
    if lead.is_deleted:
        raise InvalidInput(N_("Restore the lead before changing it."))
    if data.version != lead.version:
        raise Conflict(
            "This lead was changed since you read it.", details={"version": lead.version}
        )
    fields = data.model_dump(exclude_unset=True)
    before = _snapshot(lead)
    if "assignee_id" in fields:
        _set_assignee(session, lead=lead, assignee_id=data.assignee_id, actor=actor)
    if data.status is not None:
        _set_status(
            session,
            lead=lead,
            status=data.status,
            actor=actor,
            lost_reason_id=data.lost_reason_id,
            lost_reason=data.lost_reason,
            invalid_reason=data.invalid_reason,
        )
    if data.tags is not None:
        lead.tags = _tags_named(session, data.tags)
    scoring.rescore_on_change(session, lead=lead, actor=actor)
    changed = _audit_change(session, lead=lead, actor=actor, action="lead.update", before=before)
    if changed:
        session.flush()
        events.emit(
            session,
            events.LeadUpdated(lead.id, lead.distributor_id, changes=changed, actor_id=actor.id),
        )
    return lead


def change_status(
    session: Session, *, lead: Lead, status: Status, actor: User, reason: str | None = None
) -> Lead:
    """Move a lead; `reason` names the lost reason, or the invalid reason's code."""
    if status is Status.INVALID and reason is not None:
        if reason not in set(InvalidReason):
            raise InvalidInput(
                N_("Say why the lead is invalid: spam, test, wrong number or duplicate.")
            )
        data = LeadUpdate(version=lead.version, status=status, invalid_reason=reason)
    else:
        data = LeadUpdate(version=lead.version, status=status, lost_reason=reason)
    return update(session, lead=lead, data=data, actor=actor)


def assign(session: Session, *, lead: Lead, assignee_id: int | None, actor: User) -> Lead:
    return update(
        session,
        lead=lead,
        data=LeadUpdate(version=lead.version, assignee_id=assignee_id),
        actor=actor,
    )


def log_interaction(
    session: Session, *, lead: Lead, data: InteractionCreate, actor: User
) -> Interaction:
    """Log a call, email, WhatsApp message, meeting or note.

    The first call, email or WhatsApp message sets the lead's first contact time (an earlier one
    logged later moves it back) and moves a new or assigned lead to contacted; a status click
    never sets it.
    """
    ensure_can(actor, "interact", lead)
    if lead.is_deleted:
        raise InvalidInput(N_("Restore the lead before working on it."))
    before = _snapshot(lead)
    interaction = interactions.record(
        session,
        lead=lead,
        kind=data.kind,
        actor=actor,
        body=data.body,
        outcome=data.outcome,
        duration_seconds=data.duration_seconds,
        occurred_at=data.occurred_at,
    )
    if data.kind in FIRST_CONTACT_KINDS:
        if lead.first_contacted_at is None or interaction.occurred_at < lead.first_contacted_at:
            lead.first_contacted_at = interaction.occurred_at
        if lead.status in (Status.NEW, Status.ASSIGNED):
            _set_status(session, lead=lead, status=Status.CONTACTED, actor=actor)
    session.flush()
    scoring.score_lead(session, lead=lead, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="lead.interaction",
        object_type="lead",
        object_id=lead.id,
        after={"interaction_id": interaction.id, "kind": data.kind.value},
    )
    _audit_change(session, lead=lead, actor=actor, action="lead.update", before=before)
    events.emit(
        session,
        events.LeadUpdated(
            lead.id,
            lead.distributor_id,
            changes={"interaction": data.kind.value},
            actor_id=actor.id,
        ),
    )
    return interaction


def edit_note(
    session: Session, *, lead: Lead, interaction_id: int, data: NoteEdit, actor: User
) -> Interaction:
    """Let a note's author correct it for a short while after writing it."""
    ensure_can(actor, "interact", lead)
    if lead.is_deleted:
        raise InvalidInput(N_("Restore the lead before working on it."))
    interaction = interactions.get_for_lead(session, lead_id=lead.id, interaction_id=interaction_id)
    interactions.edit_note(session, interaction=interaction, body=data.body, actor=actor)
    session.flush()
    events.emit(
        session,
        events.LeadUpdated(
            lead.id, lead.distributor_id, changes={"interaction": "note"}, actor_id=actor.id
        ),
    )
    return interaction


def delete(session: Session, *, lead: Lead, actor: User) -> Lead:
    ensure_can(actor, "delete", lead)
    if lead.is_deleted:
        return lead
    before = _snapshot(lead)
    lead.deleted_at = utcnow()
    _audit_change(session, lead=lead, actor=actor, action="lead.delete", before=before)
    events.emit(
        session,
        events.LeadUpdated(
            lead.id, lead.distributor_id, changes={"deleted": True}, actor_id=actor.id
        ),
    )
    return lead


def restore(session: Session, *, lead: Lead, actor: User) -> Lead:
    ensure_can(actor, "restore", lead)
    if not lead.is_deleted:
        return lead
    before = _snapshot(lead)
    lead.deleted_at = None
    _audit_change(session, lead=lead, actor=actor, action="lead.restore", before=before)
    events.emit(
        session,
        events.LeadUpdated(
            lead.id, lead.distributor_id, changes={"deleted": False}, actor_id=actor.id
        ),
    )
    return lead


def later_duplicates(session: Session, *, lead: Lead, user: User, limit: int = 20) -> list[Lead]:
    """Leads of the same person that came after this one (and that the user may see)."""
    stmt = (
        visible_leads(user)
        .where(Lead.duplicate_of_id == lead.id)
        .order_by(Lead.created_time, Lead.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass
class TimelineItem:
    at: datetime
    kind: str
    actor_name: str | None
    body: str | None = None
    outcome: str | None = None
    duration_seconds: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    interaction_id: int | None = None
    actor_id: int | None = None
    edited_at: datetime | None = None
    editable_until: datetime | None = None
    rule: str | None = None  # an automatic assignment's rule and reason codes (labels.py)
    reason: str | None = None

    @property
    def duration(self) -> str | None:
        """A call's length as m:ss (h:mm:ss past an hour)."""
        if self.duration_seconds is None:
            return None
        hours, rest = divmod(self.duration_seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    def editable_by(self, user: User) -> bool:
        until = self.editable_until
        return until is not None and self.actor_id == user.id and utcnow() <= until


def timeline(session: Session, *, lead: Lead) -> list[TimelineItem]:
    """Interactions and audited changes of a lead, newest first."""
    items = [
        TimelineItem(
            at=i.occurred_at,
            kind=i.kind.value,
            actor_name=i.actor_name,
            body=i.body,
            outcome=i.outcome.value if i.outcome else None,
            duration_seconds=i.duration_seconds,
            interaction_id=i.id,
            actor_id=i.actor_id,
            edited_at=i.edited_at,
            editable_until=interactions.note_editable_until(i),
        )
        for i in interactions.for_lead(session, lead_id=lead.id)
    ]
    for event in audit.for_object(session, object_type="lead", object_id=lead.id):
        if event.action == "lead.auto_assign":  # by the distributor's assignment rule
            after = event.after or {}
            items.append(
                TimelineItem(
                    at=event.at,
                    kind="auto_assignment",
                    actor_name=None,
                    body=after.get("assignee"),
                    rule=after.get("rule"),
                    reason=after.get("reason"),
                )
            )
            continue
        if event.action not in TIMELINE_AUDIT_ACTIONS:
            continue
        changes = {
            key: (value, (event.after or {}).get(key))
            for key, value in (event.before or {}).items()
            if key not in ON_TIMELINE_AS_INTERACTIONS
        }
        if event.action == "lead.update" and not changes:
            continue
        items.append(
            TimelineItem(
                at=event.at,
                kind=event.action.removeprefix("lead."),
                actor_name=event.actor_name,
                changes=changes,
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items


TAG_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _ensure_keeps_tags(actor: User) -> None:
    """Tags are the clinic's shared vocabulary: admins keep the list (anyone tags leads)."""
    if actor.role not in CLINIC_ROLES:
        raise Forbidden(N_("Only admins keep the list of tags."))


def list_tags(session: Session) -> list[Tag]:
    return list(session.scalars(select(Tag).order_by(Tag.name)))


def get_tag(session: Session, *, tag_id: int) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None:
        raise NotFound(N_("No such tag."))
    return tag


def _tag_fields(name: str, color: str) -> tuple[str, str]:
    cleaned = " ".join(name.split()).lower()
    if not cleaned or len(cleaned) > 40:
        raise InvalidInput(N_("A tag has 1 to 40 characters."))
    if not TAG_COLOR.fullmatch(color or ""):
        raise InvalidInput(N_("Pick a colour like #1a2b3c."))
    return cleaned, color.lower()


def _tag_name_free(session: Session, name: str, tag_id: int | None = None) -> None:
    taken = session.scalar(select(Tag.id).where(Tag.name == name))
    if taken is not None and taken != tag_id:
        raise Conflict(N_("There is already a tag called %(name)s."), name=name)


def create_tag(session: Session, *, name: str, color: str, actor: User) -> Tag:
    """A new tag with its colour, ready to put on leads."""
    _ensure_keeps_tags(actor)
    name, color = _tag_fields(name, color)
    _tag_name_free(session, name)
    tag = Tag(name=name, color=color)
    session.add(tag)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tag.create",
        object_type="tag",
        object_id=tag.id,
        after={"name": name, "color": color},
    )
    return tag


def update_tag(session: Session, *, tag: Tag, name: str, color: str, actor: User) -> Tag:
    """Rename or recolour a tag; every lead carrying it shows the change."""
    _ensure_keeps_tags(actor)
    name, color = _tag_fields(name, color)
    _tag_name_free(session, name, tag.id)
    before = audit.snapshot(tag, ("name", "color"))
    tag.name, tag.color = name, color
    audit.record_changes(
        session,
        actor=actor,
        action="tag.update",
        object_type="tag",
        object_id=tag.id,
        before=before,
        after=audit.snapshot(tag, ("name", "color")),
    )
    return tag


def delete_tag(session: Session, *, tag: Tag, actor: User) -> None:
    """Remove a tag from every lead and from the list."""
    _ensure_keeps_tags(actor)
    audit.record(
        session,
        actor=actor,
        action="tag.delete",
        object_type="tag",
        object_id=tag.id,
        before={"name": tag.name, "color": tag.color},
    )
    session.execute(lead_tag.delete().where(lead_tag.c.tag_id == tag.id))
    session.delete(tag)
    session.flush()


def tag_lead(
    session: Session, *, lead: Lead, add: str | None = None, remove: str | None = None, actor: User
) -> Lead:
    """Put one tag on a lead or take one off, keeping the others."""
    names = {t.name for t in lead.tags}
    if add:
        names.add(add.strip().lower())
    if remove:
        names.discard(remove.strip().lower())
    data = LeadUpdate(version=lead.version, tags=sorted(names))
    return update(session, lead=lead, data=data, actor=actor)
