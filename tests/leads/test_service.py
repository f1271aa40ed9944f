"""The lead desk's verbs, without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, literal_column, select

from leadhub.audit.models import AuditEvent
from leadhub.db import utcnow
from leadhub.errors import Conflict, Forbidden, InvalidInput, NotFound
from leadhub.interactions.models import Interaction, Kind, Outcome
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, LeadStatusCount, Status
from leadhub.leads.schemas import InteractionCreate, LeadFilter, LeadUpdate
from tests.factories import LeadFactory, UserFactory


def _ids(page):
    return {lead.id for lead in page.items}


def test_each_role_sees_only_its_scope(users, lead_factory, other_distributor, db_session):
    mine = lead_factory()
    assigned_to_agent = lead_factory(assignee_id=users["agent"].id, status=Status.ASSIGNED)
    assigned_to_manager = lead_factory(assignee_id=users["manager"].id, status=Status.ASSIGNED)
    theirs = lead_factory(distributor_id=other_distributor.id)
    everything = {mine.id, assigned_to_agent.id, assigned_to_manager.id, theirs.id}

    def visible(role):
        return _ids(leads.list_visible(db_session, user=users[role], filters=LeadFilter()))

    assert visible("superadmin") == everything
    assert visible("admin") == everything
    assert visible("manager") == everything - {theirs.id}
    assert visible("viewer") == everything - {theirs.id}
    # an agent: their own leads and the unassigned pool of their distributor
    assert visible("agent") == {mine.id, assigned_to_agent.id}
    assert visible("manager_other") == {theirs.id}


def test_agents_do_not_see_the_pool_when_their_distributor_says_so(
    users, lead_factory, distributor, db_session
):
    lead_factory()
    distributor.agents_see_unassigned = False
    db_session.flush()
    page = leads.list_visible(db_session, user=users["agent"], filters=LeadFilter())
    assert page.items == []
    assert sum(leads.count_by_status(db_session, user=users["agent"]).values()) == 0


def test_a_lead_outside_scope_is_not_found(users, lead_factory, other_distributor, db_session):
    theirs = lead_factory(distributor_id=other_distributor.id)
    with pytest.raises(NotFound):
        leads.get_visible(db_session, lead_id=theirs.id, user=users["manager"])


def test_filters_narrow_the_list(users, lead_factory, db_session):
    hot = lead_factory(score=90, treatment="dental_implants", status=Status.CONTACTED)
    lead_factory(score=10, treatment="dental_implants")
    lead_factory(score=95, treatment="hair_transplant")
    filters = LeadFilter(score_min=80, treatment="dental_implants", status=[Status.CONTACTED])
    assert _ids(leads.list_visible(db_session, user=users["admin"], filters=filters)) == {hot.id}


def test_date_range_is_read_in_the_users_time_zone(users, lead_factory, db_session):
    today = utcnow().date()
    recent = lead_factory(created_time=utcnow() - timedelta(minutes=5))
    lead_factory(created_time=utcnow() - timedelta(days=3))
    filters = LeadFilter(created_from=today - timedelta(days=1), created_to=today)
    assert recent.id in _ids(leads.list_visible(db_session, user=users["admin"], filters=filters))
    assert len(leads.list_visible(db_session, user=users["admin"], filters=filters).items) == 1


@pytest.mark.parametrize("sort", ["newest", "score"])
def test_keyset_pages_cover_every_lead_once(users, lead_factory, db_session, sort):
    made = {lead_factory(score=s % 7 * 10).id for s in range(23)}
    seen: list[int] = []
    cursor = None
    while True:
        page = leads.list_visible(
            db_session, user=users["admin"], filters=LeadFilter(limit=5, sort=sort, cursor=cursor)
        )
        seen.extend(lead.id for lead in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made)
    assert len(seen) == len(set(seen))


def test_a_bad_cursor_is_invalid_input(users, db_session):
    with pytest.raises(InvalidInput):
        leads.list_visible(db_session, user=users["admin"], filters=LeadFilter(cursor="nonsense"))


def test_status_moves_forward_and_records_the_change(users, lead_factory, db_session):
    lead = lead_factory()
    leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["manager"])
    assert lead.status is Status.CONTACTED
    with pytest.raises(InvalidInput):
        leads.change_status(db_session, lead=lead, status=Status.NEW, actor=users["manager"])
    kinds = db_session.scalars(select(Interaction.kind).where(Interaction.lead_id == lead.id))
    assert list(kinds) == [Kind.STATUS_CHANGE]


def test_lost_needs_a_reason(users, lead_factory, db_session):
    lead = lead_factory()
    with pytest.raises(InvalidInput):
        leads.change_status(db_session, lead=lead, status=Status.LOST, actor=users["admin"])
    leads.change_status(
        db_session,
        lead=lead,
        status=Status.LOST,
        actor=users["admin"],
        reason="Chose another clinic",
    )
    assert lead.lost_reason == "Chose another clinic"


def test_only_admins_reopen_a_closed_lead(users, lead_factory, db_session):
    lead = lead_factory(status=Status.CONVERTED)
    with pytest.raises(InvalidInput):
        leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["manager"])
    leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["admin"])
    assert lead.status is Status.CONTACTED


def test_viewers_change_nothing(users, lead_factory, db_session):
    lead = lead_factory()
    with pytest.raises(Forbidden):
        leads.change_status(db_session, lead=lead, status=Status.CONTACTED, actor=users["viewer"])


def test_assigning_moves_a_new_lead_to_assigned(users, lead_factory, db_session):
    lead = lead_factory()
    leads.assign(db_session, lead=lead, assignee_id=users["agent"].id, actor=users["manager"])
    assert (lead.assignee_id, lead.status) == (users["agent"].id, Status.ASSIGNED)
    leads.assign(db_session, lead=lead, assignee_id=None, actor=users["manager"])
    assert (lead.assignee_id, lead.status) == (None, Status.NEW)


def test_nobody_assigns_to_staff_of_another_distributor(users, lead_factory, db_session):
    lead = lead_factory()
    with pytest.raises(InvalidInput):
        leads.assign(
            db_session, lead=lead, assignee_id=users["agent_other"].id, actor=users["admin"]
        )


def test_an_agent_may_take_an_unassigned_lead_but_not_give_it_away(users, lead_factory, db_session):
    lead = lead_factory()
    other_agent = UserFactory(role=users["agent"].role, distributor=users["agent"].distributor)
    with pytest.raises(Forbidden):
        leads.assign(db_session, lead=lead, assignee_id=other_agent.id, actor=users["agent"])
    leads.assign(db_session, lead=lead, assignee_id=users["agent"].id, actor=users["agent"])
    assert lead.assignee_id == users["agent"].id


def test_a_stale_version_is_a_conflict(users, lead_factory, db_session):
    lead = lead_factory()
    with pytest.raises(Conflict):
        leads.update(
            db_session,
            lead=lead,
            data=LeadUpdate(version=lead.version + 1, status=Status.CONTACTED),
            actor=users["admin"],
        )


def test_every_change_is_audited_with_before_and_after(users, lead_factory, db_session):
    lead = lead_factory()
    leads.update(
        db_session,
        lead=lead,
        actor=users["admin"],
        data=LeadUpdate(version=lead.version, status=Status.CONTACTED, tags=["VIP"]),
    )
    event = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_id == lead.id, AuditEvent.action == "lead.update"
        )
    ).one()
    assert event.actor_id == users["admin"].id
    assert event.before == {"status": "new", "tags": []}
    assert event.after == {"status": "contacted", "tags": ["vip"]}


def test_first_contact_is_the_first_call_not_a_note(users, lead_factory, db_session):
    lead = lead_factory()
    leads.log_interaction(
        db_session,
        lead=lead,
        actor=users["agent"],
        data=InteractionCreate(kind=Kind.NOTE, body="Looked at the photos"),
    )
    assert lead.first_contacted_at is None and lead.status is Status.NEW
    call = leads.log_interaction(
        db_session,
        lead=lead,
        actor=users["agent"],
        data=InteractionCreate(kind=Kind.CALL, outcome=Outcome.ANSWERED, duration_seconds=120),
    )
    assert lead.first_contacted_at == call.occurred_at
    assert lead.status is Status.CONTACTED


def test_delete_hides_and_restore_brings_back(users, lead_factory, db_session):
    lead = lead_factory()
    leads.delete(db_session, lead=lead, actor=users["admin"])
    assert lead.id not in _ids(
        leads.list_visible(db_session, user=users["admin"], filters=LeadFilter())
    )
    assert lead.id in _ids(
        leads.list_visible(db_session, user=users["admin"], filters=LeadFilter(deleted=True))
    )
    with pytest.raises(Forbidden):
        leads.restore(db_session, lead=lead, actor=users["manager"])
    leads.restore(db_session, lead=lead, actor=users["admin"])
    assert not lead.is_deleted


def _table_counts(db_session):
    rows = db_session.execute(
        select(
            LeadStatusCount.distributor_id,
            LeadStatusCount.assignee_key,
            LeadStatusCount.status,
            LeadStatusCount.n,
        ).where(LeadStatusCount.n != 0)
    )
    return {(d, a, s): n for d, a, s, n in rows}


def _true_counts(db_session):
    assignee_key = func.coalesce(Lead.assignee_id, literal_column("0"))
    rows = db_session.execute(
        select(Lead.distributor_id, assignee_key, Lead.status, func.count())
        .where(Lead.deleted_at.is_(None))
        .group_by(Lead.distributor_id, assignee_key, Lead.status)
    )
    return {(d, a, s): n for d, a, s, n in rows}


def test_status_counts_follow_every_change(users, lead_factory, db_session):
    a, b, c = lead_factory(), lead_factory(), lead_factory()
    leads.assign(db_session, lead=a, assignee_id=users["agent"].id, actor=users["admin"])
    leads.change_status(
        db_session, lead=b, status=Status.INVALID, actor=users["admin"], reason="spam"
    )
    leads.delete(db_session, lead=c, actor=users["admin"])
    db_session.flush()
    assert _table_counts(db_session) == _true_counts(db_session)
    counts = leads.count_by_status(db_session, user=users["manager"])
    assert counts[Status.ASSIGNED] == 1 and counts[Status.INVALID] == 1
    assert counts[Status.NEW] == 0
    agent_counts = leads.count_by_status(db_session, user=users["agent"])
    # the agent's own lead, plus the unassigned pool of their distributor
    assert agent_counts[Status.ASSIGNED] == 1 and agent_counts[Status.INVALID] == 1
    assert sum(agent_counts.values()) == 2
    db_session.delete(a)
    db_session.flush()
    assert _table_counts(db_session) == _true_counts(db_session)


def test_timeline_shows_work_and_changes_newest_first(users, lead_factory, db_session):
    lead = lead_factory()
    leads.log_interaction(
        db_session,
        lead=lead,
        actor=users["agent"],
        data=InteractionCreate(kind=Kind.NOTE, body="<b>not bold</b>"),
    )
    leads.update(
        db_session,
        lead=lead,
        actor=users["admin"],
        data=LeadUpdate(version=lead.version, tags=["vip"]),
    )
    kinds = [item.kind for item in leads.timeline(db_session, lead=lead)]
    assert kinds == ["update", "note"]


def test_many_leads_keep_factories_honest(db_session):
    LeadFactory.create_batch(3)
    assert db_session.scalar(select(func.count()).select_from(Lead)) == 3
