"""Finding a lead by name, email or phone, typed any way."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from leadhub.leads import search
from leadhub.leads import service as leads
from leadhub.leads.models import LeadSearchTerm
from leadhub.leads.schemas import LeadFilter


def test_fold_handles_turkish_and_arabic_letters():
    assert search.fold("İLKAY Şahin Yılmaz") == "ilkay sahin yilmaz"
    assert search.fold("أحمد") == search.fold("احمد")


def test_terms_of_a_lead():
    terms = search.terms_for(
        full_name="Zeynep Şahin", email="Zeynep.Sahin@Example.com", phone="+905321234567"
    )
    assert {"zeynep", "sahin", "zeynep.sahin@example.com", "905321234567", "5321234567"} <= terms


@given(st.text(max_size=80))
def test_any_query_gives_a_condition_or_none_and_never_fails(query):
    ids = search.matching(query)
    if ids is not None:
        search.clause(ids)


@pytest.mark.parametrize(
    "query",
    [
        "yılmaz",
        "YIL",
        "ahmet yil",
        "ahmet@exa",
        "AHMET@EXAMPLE.COM",
        "+90 532 123 45 67",
        "0532 123 45 67",
        "(0532) 123-4567",
        "5321234",
        "905321234567",
    ],
)
def test_search_finds_the_lead_however_it_is_typed(users, lead_factory, db_session, query):
    wanted = lead_factory(
        full_name="Ahmet Yılmaz", email="ahmet@example.com", phone="+905321234567"
    )
    lead_factory(full_name="Fatma Demir", email="fatma@example.com", phone="+905559876543")
    page = leads.list_visible(db_session, user=users["admin"], filters=LeadFilter(q=query))
    assert [lead.id for lead in page.items] == [wanted.id]


def test_search_in_arabic(users, lead_factory, db_session):
    wanted = lead_factory(full_name="أحمد العلي", email=None, phone="+971501234567")
    page = leads.list_visible(db_session, user=users["admin"], filters=LeadFilter(q="احمد"))
    assert [lead.id for lead in page.items] == [wanted.id]


def test_renamed_lead_is_found_by_its_new_name_only(users, lead_factory, db_session):
    lead = lead_factory(full_name="Old Name")
    lead.full_name = "Brand New"
    db_session.flush()
    assert not leads.list_visible(
        db_session, user=users["admin"], filters=LeadFilter(q="old")
    ).items
    assert leads.list_visible(
        db_session, user=users["admin"], filters=LeadFilter(q="brand")
    ).items == [lead]


def test_terms_carry_the_leads_distributor_and_follow_a_move(
    lead_factory, db_session, distributor, other_distributor
):
    lead = lead_factory(full_name="Deniz Aydın")
    stored = db_session.scalars(
        select(LeadSearchTerm.distributor_id).where(LeadSearchTerm.lead_id == lead.id)
    ).all()
    assert stored and set(stored) == {distributor.id}
    lead.distributor_id = other_distributor.id
    db_session.flush()
    stored = db_session.scalars(
        select(LeadSearchTerm.distributor_id).where(LeadSearchTerm.lead_id == lead.id)
    ).all()
    assert set(stored) == {other_distributor.id}


def test_a_manager_searches_only_their_distributors_terms(
    users, lead_factory, other_distributor, db_session
):
    mine = lead_factory(full_name="Selin Kaya")
    lead_factory(full_name="Selin Kaya", distributor_id=other_distributor.id)
    page = leads.list_visible(db_session, user=users["manager"], filters=LeadFilter(q="kaya"))
    assert page.items == [mine]


@pytest.mark.parametrize("broad_from", [2, search.BROAD])
def test_a_broad_search_pages_the_same_as_a_narrow_one(
    users, lead_factory, db_session, monkeypatch, broad_from
):
    """A common name is checked in list order instead of read by id: same pages, same order."""
    monkeypatch.setattr(search, "BROAD", broad_from)
    kayas = [lead_factory(full_name=f"Kaya {n}") for n in range(5)]
    lead_factory(full_name="Someone Else")
    seen, cursor = [], None
    while True:
        filters = LeadFilter(q="kaya", limit=2, cursor=cursor)
        page = leads.list_visible(db_session, user=users["admin"], filters=filters)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    newest_first = sorted(kayas, key=lambda lead: (lead.created_time, lead.id), reverse=True)
    assert seen == newest_first
