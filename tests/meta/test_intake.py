"""Reading Meta's lead format: every field mapped, nothing lost, odd input kept with a warning."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadhub.errors import InvalidInput
from leadhub.intake import meta
from leadhub.intake import service as intake
from leadhub.leads.models import Platform, Source
from tests.meta.conftest import lead_payload, sample


def test_the_sample_lead_maps_onto_lead_fields():
    parsed = meta.parse(sample("lead.json"), locale="da_DK", default_region="TR")
    assert parsed.meta_lead_id == "1290384756102938"
    assert parsed.created_time == datetime(2026, 1, 1, tzinfo=UTC)
    fields = parsed.fields
    assert fields["full_name"] == "Maria Jensen"
    assert fields["email"] == "maria.jensen@example.com"
    assert fields["phone"] == "+4520123456"
    assert fields["city"] == "Aarhus" and fields["country"] == "DK" and fields["language"] == "da"
    assert fields["treatment"] == "teeth_whitening"
    assert fields["platform"] is Platform.FACEBOOK and fields["is_organic"] is False
    assert fields["campaign_name"] == "Q1 Teeth Whitening Leads"
    assert fields["adset_id"] == "120210987654320011"
    assert parsed.answers["preferred_clinic"] == "aarhus_c"  # unmapped answers are kept
    assert parsed.consent == {"marketing_consent": True, "sms_reminders": False}
    assert parsed.warnings == {}


def test_ids_may_be_numbers_and_names_may_be_split():
    payload = {
        "id": 1290384756102938,
        "created_time": 1767225600,
        "platform": "ig",
        "field_data": [
            {"name": "first_name", "values": ["Ayşe"]},
            {"name": "last_name", "values": ["Yılmaz"]},
            {"name": "phone_number", "values": ["0532 123 45 67"]},
        ],
    }
    parsed = meta.parse(payload, locale="tr_TR")
    assert parsed.meta_lead_id == "1290384756102938"
    assert parsed.fields["full_name"] == "Ayşe Yılmaz"
    assert parsed.fields["phone"] == "+905321234567"
    assert parsed.fields["platform"] is Platform.INSTAGRAM


def test_a_form_mapping_wins_and_unreadable_values_become_warnings():
    payload = lead_payload(
        "1",
        field_data=[
            {"name": "isim_soyisim", "values": ["محمد العلي 😀"]},
            {"name": "phone_number", "values": ["call me maybe"]},
            {"name": "email", "values": ["not-an-email"]},
            {"name": "story", "values": ["x" * 2000]},
        ],
    )
    parsed = meta.parse(payload, mapping={"isim_soyisim": "full_name"}, locale="ar_AE")
    assert parsed.fields["full_name"] == "محمد العلي 😀"
    assert parsed.fields["phone"] is None and parsed.fields["email"] is None
    assert parsed.warnings == {"phone": "call me maybe", "email": "not-an-email"}
    assert len(parsed.answers["story"]) == 2000


def test_a_lead_without_an_id_cannot_be_read():
    with pytest.raises(InvalidInput):
        meta.parse({"field_data": []})
    with pytest.raises(InvalidInput):
        meta.parse(["not", "a", "lead"])
    with pytest.raises(InvalidInput):
        meta.parse({"id": "1", "field_data": "nonsense"})


@given(
    st.dictionaries(
        st.text(max_size=20),
        st.one_of(st.text(max_size=50), st.integers(), st.none(), st.lists(st.text(max_size=5))),
    )
)
def test_any_payload_is_read_or_refused_clearly(payload):
    with contextlib.suppress(InvalidInput):
        meta.parse({"id": "123", **payload})


def test_ingest_is_idempotent_and_links_duplicates(db_session, page, other_distributor):
    first, created = intake.ingest_meta(db_session, payload=lead_payload("111"), connection=page)
    assert created and first.source is Source.META and first.page_id == page.page_id
    again, created = intake.ingest_meta(db_session, payload=lead_payload("111"), connection=page)
    assert (again.id, created) == (first.id, False)
    same_person, created = intake.ingest_meta(
        db_session, payload=lead_payload("222"), connection=page
    )
    assert created and same_person.duplicate_of_id == first.id


def test_ingest_keeps_a_bad_phone_with_a_warning(db_session, page):
    payload = lead_payload(
        "333",
        field_data=[
            {"name": "full_name", "values": ["Ali"]},
            {"name": "phone_number", "values": ["12"]},
        ],
    )
    lead, _ = intake.ingest_meta(db_session, payload=payload, connection=page)
    assert lead.phone is None and lead.intake_warnings == {"phone": "12"}
    assert lead.answers["phone_number"] == "12"
