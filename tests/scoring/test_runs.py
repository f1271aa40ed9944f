"""Rescoring many leads: runs in batches over the scope asked, and the periodic freshness pass."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from leadhub.db import db, utcnow
from leadhub.interactions.models import Kind, Outcome
from leadhub.leads.models import Lead, ScoreLevel
from leadhub.scoring import batch, engine, jobs, service
from leadhub.scoring.defaults import DEFAULT_RULE_SET
from leadhub.scoring.models import RunKind, RunStatus, ScoringRun
from leadhub.scoring.schemas import RuleSetInput
from tests.factories import DistributorFactory, InteractionFactory, LeadFactory

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOURS_AFTER_EACH_BOUNDARY = (1.5, 7, 25, 73, 169, 721)


def version_2(db_session, users):  # noqa: ANN001, ANN201
    """Rules where contact is worth less and freshness more: every score changes."""
    weights = {"contact": 20, "freshness": 30, "service": 25, "engagement": 15, "age_fit": 10}
    data = RuleSetInput(**{**DEFAULT_RULE_SET, "weights": weights})
    _, run = service.change_rules(db_session, data=data, actor=users["superadmin"])
    db_session.commit()
    return run


def lead_row(lead_id: int) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def expected(lead: Lead, now: datetime, rules=None, engagement=engine.Engagement()):  # noqa: ANN001, ANN201, B008
    rules = rules or service.active_rules(db.session)
    return engine.score(service.facts_of(lead), engagement, rules, now)


def test_a_rule_change_rescores_only_the_scope_asked(
    db_session, users, lead_factory, distributor, other_distributor
):
    mine = [lead_factory(score=50, score_version=1) for _ in range(5)]
    theirs = [lead_factory(score=50, score_version=1, distributor_id=other_distributor.id)]
    queued = version_2(db_session, users)  # queued for every lead: not worked in this test
    run = service.start_run(db_session, version=2, distributor_id=distributor.id)
    db_session.commit()
    seen = []
    jobs.run_rescore(run.id, progress=lambda done, total: seen.append((done, total)), batch_size=2)
    assert seen == [(2, 5), (4, 5), (5, 5), (5, 5)]
    for lead in mine:
        stored = lead_row(lead.id)
        assert stored.score_version == 2
        assert stored.score == sum(e["points"] for e in stored.score_breakdown.values())
        assert stored.score_breakdown["freshness"]["max"] == 30
    assert (lead_row(theirs[0].id).score_version, lead_row(theirs[0].id).score) == (1, 50)
    run = service.get_run(db.session, run_id=run.id)
    assert (run.status, run.total, run.done, run.changed, run.percent) == (
        RunStatus.DONE,
        5,
        5,
        5,
        100,
    )
    assert service.get_run(db.session, run_id=queued.id).status is RunStatus.QUEUED


def test_without_all_only_leads_on_another_version_are_rescored(db_session, users, lead_factory):
    version_2(db_session, users)
    behind = lead_factory(score=50, score_version=1)
    never = lead_factory(score=0, score_version=None)
    current = lead_factory(score=77, score_version=2)  # as if scored by version 2 already
    run = service.start_run(db_session, everything=False)
    db_session.commit()
    jobs.run_rescore(run.id)
    assert lead_row(behind.id).score_version == 2 and lead_row(never.id).score_version == 2
    assert lead_row(current.id).score == 77
    assert service.get_run(db.session, run_id=run.id).done == 2


def test_a_run_cut_off_midway_goes_on_after_its_last_written_batch(
    db_session, users, lead_factory, monkeypatch
):
    leads = [lead_factory(score=50, score_version=1) for _ in range(7)]
    run = version_2(db_session, users)
    real_score = batch.score_fetched
    calls = []

    def failing_third(fetched, rules):  # noqa: ANN001, ANN202
        calls.append(fetched.high)
        if len(calls) == 3:
            raise RuntimeError("the worker was stopped")
        return real_score(fetched, rules)

    monkeypatch.setattr(batch, "score_fetched", failing_third)
    with pytest.raises(RuntimeError, match="stopped"):
        jobs.run_rescore(run.id, batch_size=2)
    stopped = service.get_run(db.session, run_id=run.id)
    # The two batches scored before the failure were written, each with its progress.
    assert (stopped.status, stopped.done) == (RunStatus.RUNNING, 4)
    written = [lead.id <= stopped.last_lead_id for lead in leads]
    assert written == [True] * stopped.done + [False] * (7 - stopped.done)
    assert [lead_row(lead.id).score_version for lead in leads] == [
        2 if done else 1 for done in written
    ]
    monkeypatch.setattr(batch, "score_fetched", real_score)
    jobs.run_rescore(run.id, batch_size=2)
    finished = service.get_run(db.session, run_id=run.id)
    assert (finished.status, finished.done, finished.total) == (RunStatus.DONE, 7, 7)
    assert {lead_row(lead.id).score_version for lead in leads} == {2}


def test_a_rescore_counts_engagement_and_is_no_edit(db_session, users, lead_factory):
    lead = lead_factory(score=50, score_version=1)
    InteractionFactory(lead_id=lead.id, kind=Kind.MEETING)
    InteractionFactory(lead_id=lead.id, kind=Kind.WHATSAPP, outcome=Outcome.REPLIED)
    InteractionFactory(lead_id=lead.id, kind=Kind.CALL, outcome=Outcome.NO_ANSWER)
    version, updated_at = lead.version, lead.updated_at
    run = service.start_run(db_session)
    db_session.commit()
    jobs.run_rescore(run.id)
    stored = lead_row(lead.id)
    assert stored.score_breakdown["engagement"]["params"] == {
        "answered_calls": 0,
        "replies": 1,
        "meetings": 1,
    }
    assert stored.score_breakdown["engagement"]["points"] == 11  # 75% of 15
    assert (stored.version, stored.updated_at) == (version, updated_at)  # no one's edit is stale


def test_a_run_for_a_version_no_longer_in_force_stops(db_session, users, lead_factory):
    lead = lead_factory(score=50, score_version=1)
    old_run = service.start_run(db_session, version=1)
    db_session.commit()
    version_2(db_session, users)
    jobs.run_rescore(old_run.id)
    run = service.get_run(db.session, run_id=old_run.id)
    assert run.status is RunStatus.FAILED and "version 2" in run.error
    assert lead_row(lead.id).score == 50


def test_saving_rules_runs_the_rescore_job(db_session, users, lead_factory):
    lead = lead_factory(score=50, score_version=1)
    run = version_2(db_session, users)
    jobs.rescore(run.id)  # immediate in tests, queued in production
    assert lead_row(lead.id).score_version == 2
    assert service.get_run(db.session, run_id=run.id).status is RunStatus.DONE
    jobs.rescore(run.id)  # safe to run twice
    assert service.get_run(db.session, run_id=run.id).done == 1


def test_a_stalled_run_is_taken_up_again(db_session, lead_factory):
    lead = lead_factory(score=50, score_version=None)
    run = service.start_run(db_session)
    run.updated_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    assert service.stalled_runs(db_session) == [run.id]
    jobs.refresh_freshness()
    assert lead_row(lead.id).score_version == 1
    assert service.stalled_runs(db.session) == []


# -- freshness ------------------------------------------------------------------------------------


def test_freshness_pass_moves_leads_past_a_boundary_and_no_others(db_session, users, lead_factory):
    with time_machine.travel(T0, tick=False):
        lead = lead_factory(score=0, score_version=None, created_time=T0)
        later = lead_factory(score=0, score_version=None, created_time=T0 + timedelta(minutes=50))
        unscored = lead_factory(score=0, score_version=None, created_time=T0)
        for each in (lead, later):
            service.score_lead(db_session, lead=each)
        db_session.commit()
        assert lead.score_breakdown["freshness"]["points"] == 20
        score, version = lead.score, lead.version
        first = batch.freshness_pass(db_session)
        db_session.commit()
        assert first.changed == 0
    with time_machine.travel(T0 + timedelta(minutes=90), tick=False):
        run = batch.freshness_pass(db_session)
        db_session.commit()
        assert run.changed == 1 and run.kind is RunKind.FRESHNESS
        stored = lead_row(lead.id)
        now = utcnow()
        assert stored.score_breakdown == expected(stored, now).breakdown()
        assert stored.score == expected(stored, now).total == score - 2
        assert stored.version == version  # not an edit: no one's form goes stale
        assert lead_row(later.id).score_breakdown["freshness"]["points"] == 20
        assert lead_row(unscored.id).score_version is None


def test_every_boundary_is_passed_in_turn(db_session, lead_factory):
    with time_machine.travel(T0, tick=False):
        lead = lead_factory(score=0, score_version=None, created_time=T0, answers={})
        service.score_lead(db_session, lead=lead)
        batch.freshness_pass(db_session)
        db_session.commit()
    for hours in HOURS_AFTER_EACH_BOUNDARY:
        with time_machine.travel(T0 + timedelta(hours=hours), tick=False):
            batch.freshness_pass(db_session)
            db_session.commit()
            stored = lead_row(lead.id)
            fresh = expected(stored, utcnow())
            assert (stored.score, stored.score_level) == (fresh.total, fresh.level), hours
            assert stored.score_breakdown == fresh.breakdown(), hours
    assert stored.score_breakdown["freshness"]["reason"] == "freshness.older"


def test_a_pass_after_a_long_stop_catches_up(db_session, lead_factory):
    with time_machine.travel(T0, tick=False):
        leads = [
            lead_factory(score=0, score_version=None, created_time=T0 - timedelta(hours=h))
            for h in (0, 5, 20, 60)
        ]
        for lead in leads:
            service.score_lead(db_session, lead=lead)
        batch.freshness_pass(db_session)
        db_session.commit()
    with time_machine.travel(T0 + timedelta(days=2), tick=False):  # the workers were down
        run = batch.freshness_pass(db_session)
        db_session.commit()
        assert run.changed == 4
        for lead in leads:
            stored = lead_row(lead.id)
            assert stored.score_breakdown == expected(stored, utcnow()).breakdown()


def test_freshness_leaves_leads_of_another_version_to_their_rescore(
    db_session, users, lead_factory
):
    with time_machine.travel(T0, tick=False):
        lead = lead_factory(score=0, score_version=None, created_time=T0)
        service.score_lead(db_session, lead=lead)
        batch.freshness_pass(db_session)
        db_session.commit()
        version_2(db_session, users)
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        assert batch.freshness_pass(db_session).changed == 0
        db_session.commit()
        assert lead_row(lead.id).score_breakdown["freshness"]["points"] == 20


def test_the_level_follows_the_new_score(db_session, lead_factory):
    with time_machine.travel(T0, tick=False):
        # contact 30 + fresh 20 + dental 25 + age 10 = 85: hot, until freshness drops below 15
        lead = lead_factory(
            score=0,
            score_version=None,
            created_time=T0,
            treatment="dental_implants",
            answers={"age": "50"},
        )
        service.score_lead(db_session, lead=lead)
        batch.freshness_pass(db_session)
        db_session.commit()
        assert (lead.score, lead.score_level) == (85, ScoreLevel.HOT)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        batch.freshness_pass(db_session)
        db_session.commit()
        stored = lead_row(lead.id)
        assert (stored.score, stored.score_level) == (75, ScoreLevel.WARM)


def test_old_freshness_runs_are_pruned(db_session):
    with time_machine.travel(T0, tick=False):
        batch.freshness_pass(db_session)
        db_session.commit()
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        batch.freshness_pass(db_session)
        db_session.commit()
        runs = db_session.scalars(
            select(ScoringRun.window_end).where(ScoringRun.kind == RunKind.FRESHNESS)
        ).all()
        assert runs == [T0 + timedelta(days=3)]


def test_batches_are_written_side_by_side_and_committed_in_order(committed, monkeypatch):
    distributor = DistributorFactory(name=f"Rescore {uuid.uuid4().hex[:6]}")
    leads = [
        LeadFactory(distributor_id=distributor.id, score=0, score_version=None) for _ in range(11)
    ]
    run = service.start_run(db.session, distributor_id=distributor.id, everything=True)
    db.session.commit()
    writers = {"postgresql": 2, "sqlite": 1}[db.engine.dialect.name]
    together = threading.Barrier(writers, timeout=10)
    real_write = batch.write_scores
    writing = []

    def write_scores(session, rows, version):  # noqa: ANN001, ANN202
        writing.append(threading.current_thread().name)
        if len(writing) <= writers:
            together.wait()  # the first batches wait for each other: they are written at once
        real_write(session, rows, version)

    monkeypatch.setattr(batch, "write_scores", write_scores)
    seen = []
    jobs.run_rescore(run.id, progress=lambda done, total: seen.append(done), batch_size=2)
    assert len(set(writing)) == writers
    assert seen == [2, 4, 6, 8, 10, 11, 11]  # progress only ever covers whole leading batches
    db.session.expire_all()
    finished = service.get_run(db.session, run_id=run.id)
    assert (finished.status, finished.done, finished.last_lead_id) == (
        RunStatus.DONE,
        11,
        leads[-1].id,
    )
    assert {db.session.get(Lead, lead.id).score_version for lead in leads} == {1}
