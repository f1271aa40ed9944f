"""The safety nets: polls and backfills read forms from Meta; a lead is never doubled."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from leadhub.db import utcnow
from leadhub.leads.models import Lead
from leadhub.meta import service as meta
from leadhub.meta.models import InboxSource, InboxStatus, LeadForm, WebhookEvent
from tests.meta.conftest import FORM_ID, lead_payload, sample


class FormGraph:
    def __init__(self, leads):
        self.leads = leads
        self.since: list[int | None] = []

    def form_leads(self, form_id, *, token, since=None, limit=100):
        self.since.append(since)
        return iter(self.leads)

    def close(self):
        pass


def _form(db_session) -> LeadForm:
    return db_session.scalars(select(LeadForm).where(LeadForm.form_id == FORM_ID)).one()


def _count(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Lead))


def test_a_poll_ingests_new_leads_once(db_session, page):
    leads = sample("form_leads_page1.json")["data"] + sample("form_leads_page2.json")["data"]
    graph = FormGraph(leads)
    form = _form(db_session)
    first = meta.sync_form(db_session, form=form, graph=graph, since=meta.poll_since(form))
    assert (first.seen, first.created, first.failed) == (len(leads), len(leads), 0)
    again = meta.sync_form(db_session, form=form, graph=graph, since=meta.poll_since(form))
    assert again.created == 0 and _count(db_session) == len(leads)
    newest = max(int(meta.meta_time(lead["created_time"]).timestamp()) for lead in leads)
    assert form.last_polled_time == newest
    assert graph.since[1] == newest - meta.POLL_OVERLAP


def test_a_webhook_and_a_poll_for_the_same_lead_make_one_lead(db_session, page, graph):
    graph.leads["555"] = lead_payload("555")
    ids = meta.record_changes(
        db_session,
        [{"leadgen_id": "555", "page_id": page.page_id, "form_id": FORM_ID, "ad_id": None}],
    )
    meta.process_event(db_session, event_id=ids[0], graph=graph)
    meta.sync_form(
        db_session, form=_form(db_session), graph=FormGraph([lead_payload("555")]), since=None
    )
    assert _count(db_session) == 1


def test_an_unreadable_lead_in_a_poll_is_kept_as_failed(db_session, page):
    graph = FormGraph([lead_payload("556"), {"id": "557", "field_data": 7}])
    result = meta.sync_form(
        db_session, form=_form(db_session), graph=graph, since=None, source=InboxSource.BACKFILL
    )
    assert (result.created, result.failed) == (1, 1)
    failed = db_session.scalars(select(WebhookEvent)).one()
    assert (failed.leadgen_id, failed.status, failed.source) == (
        "557",
        InboxStatus.FAILED,
        InboxSource.BACKFILL,
    )
    assert failed.payload == {"id": "557", "field_data": 7}


def test_the_first_poll_reads_a_day_and_later_ones_overlap(db_session, page):
    form = _form(db_session)
    assert abs(meta.poll_since(form) - (utcnow() - timedelta(days=1)).timestamp()) < 5
    form.last_polled_time = 1_767_225_600
    assert meta.poll_since(form) == 1_767_225_600 - 600


def test_only_active_forms_of_working_pages_are_polled(db_session, page):
    assert [f.form_id for f in meta.active_forms(db_session)] == [FORM_ID]
    page.status = page.status.NEEDS_REAUTH
    db_session.flush()
    assert meta.active_forms(db_session) == []
