"""Retention: leads never converted are anonymised N months after their last activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from leadhub.audit.models import AuditEvent
from leadhub.distributors.models import Distributor
from leadhub.leads.models import Lead, Status
from leadhub.privacy import jobs, retention
from leadhub.privacy.models import AnonymisedCause, AnonymisedLead, RetentionRun
from tests.conftest import post_form
from tests.factories import InteractionFactory


def test_months_before_keeps_the_day_or_the_months_last_day():
    moment = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert retention.months_before(moment, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert retention.months_before(moment, 15) == datetime(2024, 12, 31, 12, 0, tzinfo=UTC)


def test_an_admin_sets_retention_on_the_distributor_page(client, login_as, distributor, db_session):
    login_as("admin")
    response = post_form(
        client,
        f"/settings/distributors/{distributor.id}",
        name=distributor.name,
        country="TR",
        language="tr",
        active="on",
        retention_months="18",
    )
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Distributor, distributor.id).retention_months == 18
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "distributor.update")
    ).one()
    assert event.after["retention_months"] == 18
    bad = post_form(
        client,
        f"/settings/distributors/{distributor.id}",
        name=distributor.name,
        language="tr",
        retention_months="0",
    )
    assert bad.status_code == 200 and "Please correct the form." in bad.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Distributor, distributor.id).retention_months == 18


def old(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def test_the_daily_job_anonymises_only_idle_leads_never_converted(
    client, login_as, lead_factory, distributor, other_distributor, db_session
):
    distributor.retention_months = 12
    db_session.commit()
    idle = [lead_factory(created_time=old(500)) for _ in range(3)]
    converted = lead_factory(created_time=old(500), status=Status.CONVERTED, converted_at=old(450))
    recent = lead_factory(created_time=old(30))
    worked = lead_factory(created_time=old(500))
    InteractionFactory(lead_id=worked.id, occurred_at=old(10))
    elsewhere = lead_factory(distributor_id=other_distributor.id, created_time=old(900))
    touched = jobs.run_retention(batch_size=2)
    assert touched == 3
    db_session.expire_all()
    for lead in idle:
        row = db_session.get(Lead, lead.id)
        assert row.full_name is None and row.email is None and row.phone is None
        assert db_session.get(AnonymisedLead, lead.id).cause is AnonymisedCause.RETENTION
    for lead in (converted, recent, worked, elsewhere):
        assert db_session.get(Lead, lead.id).full_name is not None
    (run,) = db_session.scalars(select(RetentionRun)).all()
    assert run.anonymised == 3 and run.finished_at is not None and run.months == 12
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "privacy.retention")
    ).one()
    assert event.object_id == distributor.id and event.after["anonymised"] == 3
    assert jobs.run_retention() == 0  # safe to run again: nothing is due twice
    login_as("admin")
    page = client.get(f"/settings/distributors/{distributor.id}").get_data(as_text=True)
    assert 'id="retention-runs"' in page and '<td class="retention-count">3</td>' in page


def test_retention_is_off_by_default(lead_factory, db_session):
    lead = lead_factory(created_time=old(3000))
    assert jobs.run_retention() == 0
    db_session.expire_all()
    assert db_session.get(Lead, lead.id).full_name is not None


def test_the_job_is_on_the_schedule():
    from leadhub.queue import SCHEDULE

    assert "privacy.retention" in SCHEDULE
    assert jobs.retention_daily.name == "privacy.retention"
