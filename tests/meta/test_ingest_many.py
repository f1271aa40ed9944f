"""A page of leads ingested at once ends exactly as the same leads ingested one by one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from leadhub.intake import service as intake
from leadhub.leads.models import Lead
from leadhub.simulator import World
from tests.meta.conftest import lead_payload


def person(leadgen_id: str, *, email: str, phone: str, created: datetime) -> dict[str, Any]:
    return lead_payload(
        leadgen_id,
        created_time=created.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        field_data=[
            {"name": "full_name", "values": [f"Lead {leadgen_id}"]},
            {"name": "email", "values": [email]},
            {"name": "phone_number", "values": [phone]},
        ],
    )


def test_a_batch_links_each_person_to_their_first_lead_as_one_by_one(
    db_session, page, lead_factory
):
    start = datetime(2026, 1, 10, tzinfo=UTC)
    earlier = lead_factory(
        email="ayse@example.com", phone="+905321110000", created_time=start - timedelta(days=5)
    )
    lead_factory(  # the same address later: not the one to link to
        email="ayse@example.com", phone="+905321110001", created_time=start + timedelta(days=5)
    )
    payloads = [
        # the same email as two leads here already: linked to the earlier one
        person("501", email="ayse@example.com", phone="+905329990001", created=start),
        # a new person, then the same person again by phone in the same batch
        person("502", email="mehmet@example.com", phone="+905329990002", created=start),
        person(
            "503",
            email="m.yilmaz@example.com",
            phone="+905329990002",
            created=start + timedelta(hours=1),
        ),
        # Meta listing the same lead twice: one lead, created once
        person("502", email="mehmet@example.com", phone="+905329990002", created=start),
        {"created_time": "2026-01-10T00:00:00+0000"},  # no id: unreadable
    ]
    outcomes = intake.ingest_meta_many(db_session, payloads=payloads, connection=page)

    assert [o.created for o in outcomes] == [True, True, True, False, False]
    assert outcomes[4].lead is None and outcomes[4].error is not None
    first, new_person, same_person, repeated = (o.lead for o in outcomes[:4])
    assert first.duplicate_of_id == earlier.id
    assert new_person.duplicate_of_id is None
    assert same_person.duplicate_of_id == new_person.id
    assert repeated is new_person
    stored = select(func.count()).select_from(Lead).where(Lead.meta_lead_id.in_(["501", "502"]))
    assert db_session.scalar(stored) == 2


def test_a_batch_follows_a_chain_to_its_original(db_session, page, lead_factory):
    original = lead_factory(email="zeynep@example.com", phone="+905321112222")
    follow_up = lead_factory(
        email="z.kaya@example.com",
        phone="+905321112222",
        duplicate_of_id=original.id,
        created_time=original.created_time + timedelta(days=1),
    )
    payload = person(
        "601",
        email="z.kaya@example.com",
        phone="+905320000601",
        created=follow_up.created_time + timedelta(days=1),
    )
    (outcome,) = intake.ingest_meta_many(db_session, payloads=[payload], connection=page)
    assert outcome.created and outcome.lead.duplicate_of_id == original.id


def test_a_tie_on_created_time_goes_to_the_lead_stored_first(db_session, page, lead_factory):
    """find_original orders by (created_time, id): a lead of the batch comes after a stored one."""
    at = datetime(2026, 1, 10, tzinfo=UTC)
    stored = lead_factory(email="deniz@example.com", phone="+905321113333", created_time=at)
    payloads = [
        person("801", email="d.new@example.com", phone="+905320000801", created=at),
        person(
            "802",
            email="deniz@example.com",
            phone="+905320000801",
            created=at + timedelta(hours=1),
        ),
    ]
    new_person, both = (
        o.lead for o in intake.ingest_meta_many(db_session, payloads=payloads, connection=page)
    )
    assert new_person.duplicate_of_id is None
    assert both.duplicate_of_id == stored.id


def test_a_batch_passes_over_deleted_leads_to_the_first_live_one(db_session, page, lead_factory):
    at = datetime(2026, 1, 10, tzinfo=UTC)
    lead_factory(  # the first of this address, deleted: not an original any more
        email="ece@example.com", created_time=at - timedelta(days=9), deleted_at=at
    )
    live = lead_factory(email="ece@example.com", created_time=at - timedelta(days=3))
    lead_factory(phone="+905321114444", created_time=at - timedelta(days=2), deleted_at=at)
    payloads = [
        person("901", email="ece@example.com", phone="+905320000901", created=at),
        person("902", email="e.new@example.com", phone="+905321114444", created=at),
    ]
    same_address, deleted_phone = (
        o.lead for o in intake.ingest_meta_many(db_session, payloads=payloads, connection=page)
    )
    assert same_address.duplicate_of_id == live.id
    assert deleted_phone.duplicate_of_id is None


def test_a_batch_meeting_a_lead_stored_meanwhile_goes_one_by_one(
    db_session, page, lead_factory, monkeypatch
):
    """Another worker stored one of the batch's leads after the batch looked for known ones."""
    stored_meanwhile = lead_factory(meta_lead_id="702")
    real_known = intake._known
    looks = []

    def known_before_the_other_worker(session, meta_lead_ids):
        looks.append(sorted(meta_lead_ids))
        return {} if len(looks) == 1 else real_known(session, meta_lead_ids)

    monkeypatch.setattr(intake, "_known", known_before_the_other_worker)
    now = datetime.now(UTC)
    payloads = [
        person("701", email="a701@example.com", phone="+905320000701", created=now),
        person("702", email="a702@example.com", phone="+905320000702", created=now),
    ]
    outcomes = intake.ingest_meta_many(db_session, payloads=payloads, connection=page)

    assert looks == [["701", "702"], ["701"], ["702"]]  # the batch, then one at a time
    assert [o.created for o in outcomes] == [True, False]
    assert outcomes[1].lead.id == stored_meanwhile.id
    count = select(func.count()).select_from(Lead).where(Lead.meta_lead_id.in_(["701", "702"]))
    assert db_session.scalar(count) == 2


def _links(session, meta_lead_ids: list[str]) -> dict[str, str | None]:
    """Each lead's duplicate_of, as Meta ids (comparable across two runs)."""
    by_id = {
        lead_id: meta_id for lead_id, meta_id in session.execute(select(Lead.id, Lead.meta_lead_id))
    }
    rows = session.execute(
        select(Lead.meta_lead_id, Lead.duplicate_of_id).where(Lead.meta_lead_id.in_(meta_lead_ids))
    )
    return {meta_id: by_id.get(original) for meta_id, original in rows}


def test_batches_link_simulated_people_exactly_as_one_by_one(db_session, page):
    """The simulator's people share addresses and phones often: batches of them, in Meta's
    newest-first order, end with the same links as the same leads taken one at a time."""
    world = World.seed_default(pages=1, forms_per_page=1, seed=11)
    form = world.forms()[0]
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    for n in range(400):  # two hundred in each of two seconds: ties broken by id, everywhere
        world.add_leads(1, form.id, start + n % 2)
    payloads = [lead.graph() for lead in world.leads(form_id=form.id)]
    stored, incoming = payloads[300:], payloads[:300]
    intake.ingest_meta_many(db_session, payloads=stored, connection=page)
    ids = [p["id"] for p in incoming]

    savepoint = db_session.begin_nested()
    for batch in (incoming[:150], incoming[150:]):
        intake.ingest_meta_many(db_session, payloads=batch, connection=page)
    in_batches = _links(db_session, ids)
    savepoint.rollback()

    for payload in incoming:
        intake.ingest_meta(db_session, payload=payload, connection=page)
    one_by_one = _links(db_session, ids)

    assert in_batches == one_by_one
    assert sum(original is not None for original in in_batches.values()) >= 10
