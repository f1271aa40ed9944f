"""The pieces of anonymisation: what counts as a person's value, how copies are cleaned, and
that finding a person and checking erased Meta ids read indexes, not tables."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import event, text

from leadhub.db import db
from leadhub.intake import service as intake
from leadhub.privacy import anonymise
from leadhub.privacy.models import AnonymisedCause, ErasedMetaLead


def lead_row(**values):
    base = {
        "full_name": None,
        "email": None,
        "phone": None,
        "city": None,
        "meta_lead_id": None,
        "answers": {},
        "intake_warnings": {},
    }
    return SimpleNamespace(**{**base, **values})


def test_tokens_are_the_persons_words_not_option_keys():
    row = lead_row(
        full_name="Ayşe Nur Yılmaz",
        phone="+905551112233",
        answers={"treatment": "hair_transplant", "history": "Asthma since 2010", "age": "42"},
        intake_warnings={"email": "ayse at mail"},
    )
    found = anonymise.tokens_of([row], ["Call her after 5"])
    assert {"Ayşe Nur Yılmaz", "Ayşe", "Yılmaz", "+905551112233", "905551112233"} <= found
    assert {"Asthma since 2010", "ayse at mail", "Call her after 5"} <= found
    assert "hair_transplant" not in found and "Nur" in found and "42" not in found


def test_scrub_replaces_values_anywhere_and_drops_personal_keys():
    pattern = anonymise.pattern_of({"Ayşe Yılmaz", "+905551112233"})
    snapshot = {
        "full_name": "Ayşe Yılmaz",
        "status": "new",
        "note": "called AYŞE YILMAZ on +905551112233",
        "list": ["x", {"deep": "Ayşe Yılmaz"}],
    }
    assert anonymise.scrub(snapshot, pattern, drop_keys=True) == {
        "status": "new",
        "note": "called [erased] on [erased]",
        "list": ["x", {"deep": "[erased]"}],
    }
    assert anonymise.scrub(7, pattern) == 7 and anonymise.scrub("plain", None) == "plain"


def test_every_other_table_with_a_lead_id_is_cleaned_by_value():
    names = {table.name for table in anonymise.other_lead_tables()}
    assert "lead" not in names and "interaction" not in names
    from leadhub.db import Base

    if "notification_outbox" in Base.metadata.tables:
        assert "notification_outbox" in names


def plan(sql: str, **params) -> str:
    rows = db.session.execute(text("EXPLAIN QUERY PLAN " + sql), params).all()
    return " ".join(str(row[-1]) for row in rows)


def test_finding_a_person_reads_the_phone_and_email_indexes(db_session):
    if db_session.get_bind().dialect.name != "sqlite":
        return  # EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans by its statistics
    from sqlalchemy import or_, select

    from leadhub.leads.models import Lead

    stmt = select(Lead.id).where(or_(Lead.phone == "+905321234567", Lead.email == "a@b.c"))
    compiled = stmt.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    found = plan(str(compiled))
    assert "ix_lead_phone" in found and "ix_lead_email" in found and "SCAN lead" not in found


def test_a_batch_of_meta_ids_is_checked_against_erased_ones_in_one_query(
    app, lead_factory, db_session
):
    erased = lead_factory(meta_lead_id="5550001")
    with app.app_context():
        anonymise.anonymise(db_session, lead_ids=[erased.id], cause=AnonymisedCause.ERASURE)
        db_session.commit()
        assert db_session.get(ErasedMetaLead, anonymise.meta_hash("5550001")) is not None
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            if "erased_meta_lead" in statement:
                statements.append(statement)

        engine = db_session.get_bind().engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            found = anonymise.erased_leads(db_session, {"5550001", "5550002", "5550003"})
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert {k: v.id for k, v in found.items()} == {"5550001": erased.id}
    assert intake.find_by_meta_id(db_session, "5550001") is None  # the id itself is gone
