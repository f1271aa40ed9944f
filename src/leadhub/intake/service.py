"""The one door every lead comes in through: normalize, link duplicates, store, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ARRAY, String, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadhub import events
from leadhub.assignment import service as assignment
from leadhub.audit import service as audit
from leadhub.auth.models import CLINIC_ROLES, Role, User
from leadhub.auth.permissions import ensure_can
from leadhub.db import among
from leadhub.distributors.models import Distributor
from leadhub.errors import N_, InvalidInput, NotFound
from leadhub.intake import meta, normalize
from leadhub.leads import service as leads
from leadhub.leads.models import Lead, Source
from leadhub.leads.schemas import LeadCreate, LeadUpdate
from leadhub.meta.models import LeadForm, PageConnection
from leadhub.privacy import anonymise
from leadhub.scoring import service as scoring

CREATE_AUDIT_FIELDS = (
    "distributor_id",
    "full_name",
    "email",
    "phone",
    "treatment",
    "source",
    "meta_lead_id",
)


def find_original(session: Session, *, email: str | None, phone: str | None) -> Lead | None:
    """The first live lead of the same person (same phone or email), if any."""
    conditions = []
    if email:
        conditions.append(Lead.email == email)
    if phone:
        conditions.append(Lead.phone == phone)
    if not conditions:
        return None
    stmt = (
        select(Lead)
        .where(Lead.deleted_at.is_(None), or_(*conditions))
        .order_by(Lead.created_time, Lead.id)
        .limit(1)
    )
    return session.scalar(stmt)


def _distributor_for(session: Session, *, data: LeadCreate, actor: User) -> Distributor:
    if actor.role in CLINIC_ROLES:
        if data.distributor_id is None:
            raise InvalidInput(N_("Choose the distributor this lead belongs to."))
        distributor = session.get(Distributor, data.distributor_id)
    else:
        if data.distributor_id not in (None, actor.distributor_id):
            raise NotFound(N_("No such distributor."))
        distributor = session.get(Distributor, actor.distributor_id)
    if distributor is None:
        raise NotFound(N_("No such distributor."))
    if not distributor.active:
        raise InvalidInput(N_("This distributor is not active."))
    return distributor


def create_manual(session: Session, *, data: LeadCreate, actor: User) -> Lead:
    """A lead staff enter by hand (a phone call, a walk-in); source `manual`."""
    ensure_can(actor, "create")
    distributor = _distributor_for(session, data=data, actor=actor)
    region = data.country or distributor.country
    phone = normalize.phone_e164(data.phone, region=region)
    email = normalize.email_address(data.email)
    original = find_original(session, email=email, phone=phone)
    lead = Lead(
        distributor_id=distributor.id,
        source=Source.MANUAL,
        full_name=normalize.person_name(data.full_name),
        email=email,
        phone=phone,
        country=(data.country or normalize.region_of(phone) or distributor.country or None),
        city=normalize.person_name(data.city),
        language=normalize.language(data.language) or distributor.language,
        treatment=data.treatment.strip().lower() if data.treatment else None,
        answers=data.answers,
        duplicate_of_id=(original.duplicate_of_id or original.id) if original else None,
    )
    if lead.country:
        lead.country = lead.country.upper()
    assignee_id = data.assignee_id or (actor.id if actor.role is Role.AGENT else None)
    # the distributor's assignment rules route the lead unless someone is named for it
    _store(session, lead=lead, actor=actor, route=assignee_id is None)
    if assignee_id is not None or data.tags:
        named = {"assignee_id": assignee_id} if assignee_id is not None else {}
        changes = LeadUpdate(version=lead.version, tags=data.tags or None, **named)
        leads.update(session, lead=lead, data=changes, actor=actor)
    return lead


def _store(session: Session, *, lead: Lead, actor: User | None, route: bool = True) -> None:
    """Insert a new lead, audit it, and tell the rest of LeadHub once the transaction commits."""
    _store_many(session, leads=[lead], actor=actor, route=route)
    _announce(session, [lead])


def _store_many(
    session: Session, *, leads: list[Lead], actor: User | None, route: bool = True
) -> None:
    """Score and insert new leads in one flush, then audit them; every new lead passes here.

    The caller announces them (_announce) once they can no longer be rolled back by a savepoint.
    """
    for lead in leads:
        scoring.score_lead(session, lead=lead, actor=actor)
    routed = assignment.route(session, leads_in=leads) if route else []
    session.add_all(leads)
    session.flush()
    for lead in leads:
        audit.record(
            session,
            actor=actor,
            action="lead.create",
            object_type="lead",
            object_id=lead.id,
            after=audit.snapshot(lead, CREATE_AUDIT_FIELDS),
        )
    assignment.record(session, routed)


def _announce(session: Session, leads: list[Lead]) -> None:
    for lead in leads:
        events.emit(session, events.LeadCreated(lead.id, lead.distributor_id))


def find_by_meta_id(session: Session, meta_lead_id: str) -> Lead | None:
    """The lead with this Meta id, deleted or not: a lead Meta sends again is the same lead."""
    return session.scalar(select(Lead).where(Lead.meta_lead_id == meta_lead_id))


@dataclass(frozen=True)
class Ingested:
    """What became of one lead read from Meta: stored now, here already, or unreadable."""

    lead: Lead | None
    created: bool = False
    error: InvalidInput | None = None


def parse_meta(
    payload: Any, *, connection: PageConnection, form: LeadForm | None
) -> meta.ParsedLead:
    """Meta's lead through the form's mapping, locale and treatment; InvalidInput if unreadable."""
    return meta.parse(
        payload,
        mapping=form.field_mapping if form else None,
        locale=form.locale if form else None,
        default_region=connection.distributor.country,
        form_treatment=form.treatment if form else None,
    )


def ingest_meta(
    session: Session,
    *,
    payload: dict[str, Any],
    connection: PageConnection,
    form: LeadForm | None = None,
) -> tuple[Lead, bool]:
    """Store a lead fetched from Meta once, however often it arrives; (lead, created)."""
    (outcome,) = ingest_meta_many(session, payloads=[payload], connection=connection, form=form)
    if outcome.lead is None:
        raise outcome.error or InvalidInput(N_("The lead is not a JSON object."))
    return outcome.lead, outcome.created


def ingest_meta_many(
    session: Session,
    *,
    payloads: Sequence[Any],
    connection: PageConnection,
    form: LeadForm | None = None,
) -> list[Ingested]:
    """Store leads of one Page fetched from Meta (a poll or backfill page), each once.

    The same as ingest_meta one by one, with a few queries for the whole batch instead of
    several per lead. One Ingested per payload, in order.
    """
    parsed: list[meta.ParsedLead | InvalidInput] = []
    for payload in payloads:
        try:
            parsed.append(parse_meta(payload, connection=connection, form=form))
        except InvalidInput as exc:
            parsed.append(exc)
    readable = [p for p in parsed if isinstance(p, meta.ParsedLead)]
    saved = _save(session, readable, connection=connection, form=form) if readable else {}
    outcomes, told = [], set()
    for item in parsed:
        if isinstance(item, InvalidInput):
            outcomes.append(Ingested(None, error=item))
            continue
        lead, created = saved[item.meta_lead_id]
        outcomes.append(Ingested(lead, created and item.meta_lead_id not in told))
        told.add(item.meta_lead_id)
    return outcomes


def _save(
    session: Session,
    leads: list[meta.ParsedLead],
    *,
    connection: PageConnection,
    form: LeadForm | None,
) -> dict[str, tuple[Lead, bool]]:
    """(lead, created) per Meta id, the new ones stored in a savepoint.

    Another delivery of the same lead may commit first (unique Meta id): a lone lead then reads
    that one; a batch goes again one lead at a time.
    """
    try:
        with session.begin_nested():
            saved = _store_meta(session, leads, connection=connection, form=form)
    except IntegrityError:
        if len(leads) > 1:
            one_by_one: dict[str, tuple[Lead, bool]] = {}
            for lead in leads:
                if lead.meta_lead_id not in one_by_one:
                    one_by_one |= _save(session, [lead], connection=connection, form=form)
            return one_by_one
        existing = find_by_meta_id(session, leads[0].meta_lead_id)
        if existing is None:
            raise
        return {leads[0].meta_lead_id: (existing, False)}
    _announce(session, [lead for lead, created in saved.values() if created])
    return saved


def _store_meta(
    session: Session,
    leads: list[meta.ParsedLead],
    *,
    connection: PageConnection,
    form: LeadForm | None,
) -> dict[str, tuple[Lead, bool]]:
    """Known leads as they are; new ones linked to the first lead of the same person, stored."""
    known = _known(session, {p.meta_lead_id for p in leads})
    # an erased person stays erased: their Meta ids answer with the anonymous rows (one lookup)
    known |= anonymise.erased_leads(session, {p.meta_lead_id for p in leads} - known.keys())
    saved = {meta_lead_id: (lead, False) for meta_lead_id, lead in known.items()}
    fresh: dict[str, meta.ParsedLead] = {}
    for item in leads:  # the first of repeated deliveries counts, as it would one by one
        if item.meta_lead_id not in saved:
            fresh.setdefault(item.meta_lead_id, item)
    people = _People(session, list(fresh.values()))
    ids = _reserve_ids(session, len(fresh))
    waiting: list[Lead] = []
    for item in fresh.values():
        keys = _person_keys(item.fields["email"], item.fields["phone"])
        original = people.first(keys)
        if original is not None and original.needs_id():
            # a new person's first lead, earlier in this batch: store it to learn its id
            _store_many(session, leads=waiting, actor=None)
            waiting = []
        lead = _new_meta_lead(
            item,
            connection=connection,
            form=form,
            duplicate_of_id=original.root() if original else None,
        )
        lead.id = next(ids, None)
        people.add(lead)
        waiting.append(lead)
        saved[item.meta_lead_id] = (lead, True)
    if waiting:
        _store_many(session, leads=waiting, actor=None)
    return saved


def _reserve_ids(session: Session, count: int) -> Iterator[int]:
    """PostgreSQL: ids for `count` new leads, in order, taken from the sequence now.

    Leads that know their ids before the flush go in as one short INSERT, prepared once and
    pipelined; without ids each flush is an INSERT ... RETURNING of the whole batch, which
    psycopg parses anew every time (too long for its cache). A batch also never waits to learn
    the id of a new person's first lead. SQLite: none, the ids come at the flush.
    """
    if count == 0 or session.connection().dialect.name != "postgresql":
        return iter(())
    sequence = func.pg_get_serial_sequence(Lead.__tablename__, "id")
    stmt = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    return iter(sorted(session.scalars(stmt)))


def _known(session: Session, meta_lead_ids: set[str]) -> dict[str, Lead]:
    """The leads stored under these Meta ids, deleted or not (as find_by_meta_id, at once)."""
    stmt = select(Lead).where(among(session, Lead.meta_lead_id, sorted(meta_lead_ids)))
    return {lead.meta_lead_id: lead for lead in session.scalars(stmt) if lead.meta_lead_id}


def _new_meta_lead(
    parsed: meta.ParsedLead,
    *,
    connection: PageConnection,
    form: LeadForm | None,
    duplicate_of_id: int | None,
) -> Lead:
    distributor = connection.distributor
    fields = parsed.fields
    return Lead(
        distributor_id=distributor.id,
        source=Source.META,
        meta_lead_id=parsed.meta_lead_id,
        created_time=parsed.created_time,
        page_name=connection.page_name,
        form_name=form.name if form else None,
        answers=parsed.answers,
        consent=parsed.consent,
        privacy_policy_url=form.privacy_policy_url if form else None,
        intake_warnings=parsed.warnings,
        duplicate_of_id=duplicate_of_id,
        **{
            **fields,
            "page_id": fields["page_id"] or connection.page_id,
            "language": fields["language"] or distributor.language,
        },
    )


PersonKey = tuple[str, str]  # ("email", value) or ("phone", value)


def _person_keys(email: str | None, phone: str | None) -> list[PersonKey]:
    return [(kind, value) for kind, value in (("email", email), ("phone", phone)) if value]


@dataclass(frozen=True)
class _Candidate:
    """A live lead that may be a person's first, ordered as find_original orders them."""

    created_time: datetime
    # (0, id) for a stored lead; (1, place in the batch) for one of this batch, whose id, when
    # it gets one, will be higher than every stored lead's, in the order the batch adds them
    rank: tuple[int, int]
    duplicate_of_id: int | None
    stored_id: int | None = None  # a lead stored before this batch
    lead: Lead | None = None  # a lead of this batch, with an id once it is stored

    @property
    def lead_id(self) -> int | None:
        return self.lead.id if self.lead is not None else self.stored_id

    def needs_id(self) -> bool:
        """A new lead of this batch that starts a chain: its id is known only once stored."""
        return self.lead_id is None and self.duplicate_of_id is None

    def root(self) -> int | None:
        """What a later lead of the same person points to (as ingest did with find_original)."""
        return self.duplicate_of_id or self.lead_id


class _People:
    """The first live lead of each email and phone of a batch, as find_original finds it.

    A query per kind for the whole batch, which returns only the first lead of each value (a
    common address may have hundreds); the batch's own leads join as they are made.
    """

    def __init__(self, session: Session, leads: list[meta.ParsedLead]) -> None:
        self._first: dict[PersonKey, _Candidate] = {}
        self._added = 0
        for kind, column in (("email", Lead.email), ("phone", Lead.phone)):
            values = {p.fields[kind] for p in leads if p.fields[kind]}
            if not values:
                continue
            for row in session.execute(_first_leads(session, column, values)):
                if row.id is None:
                    continue
                self._first[(kind, row.key)] = _Candidate(
                    row.created_time, (0, row.id), row.duplicate_of_id, stored_id=row.id
                )

    def first(self, keys: list[PersonKey]) -> _Candidate | None:
        """The earliest lead with any of these keys."""
        found = [self._first[key] for key in keys if key in self._first]
        return min(found, key=lambda c: (c.created_time, c.rank)) if found else None

    def add(self, lead: Lead) -> None:
        """A lead of this batch, a candidate for the ones after it."""
        self._added += 1
        candidate = _Candidate(lead.created_time, (1, self._added), lead.duplicate_of_id, lead=lead)
        for key in _person_keys(lead.email, lead.phone):
            known = self._first.get(key)
            if known is None or (candidate.created_time, candidate.rank) < (
                known.created_time,
                known.rank,
            ):
                self._first[key] = candidate


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # no lead was deleted then (see _first_leads)


def _first_leads(session: Session, column: Any, wanted: set[str]) -> Any:
    """Per value of `column`, the live lead find_original would pick: earliest, then lowest id.

    One walk of the column's index per value (it holds each value's leads by created_time and
    id), which stops at the first live one however many leads share the value (a common address
    has hundreds); no id where none is live. "Live" is written so that no index on live leads
    only can serve it: a database without statistics yet (a new one, a backfill's first minute)
    takes `deleted_at IS NULL` for a rare condition and would walk such an index by time,
    every live lead, to find one address.
    """
    given = _rows_of(session, wanted)
    live = func.coalesce(Lead.deleted_at, _NEVER) == _NEVER

    def first(attribute: Any) -> Any:
        return (
            select(attribute)
            .where(column == given.c.value, live)
            .order_by(Lead.created_time, Lead.id)
            .limit(1)
            .scalar_subquery()
        )

    return select(
        given.c.value.label("key"),
        first(Lead.id).label("id"),
        first(Lead.created_time).label("created_time"),
        first(Lead.duplicate_of_id).label("duplicate_of_id"),
    )


def _rows_of(session: Session, values: set[str]) -> Any:
    """`values` as a table of one column, `value`, bound as one parameter: db.among's
    counterpart where each value needs a row of its own (a lookup per value, _first_leads)."""
    if session.connection().dialect.name == "postgresql":
        array = literal(sorted(values), ARRAY(String))
        return func.unnest(array).table_valued("value").render_derived(name="given")
    return func.json_each(json.dumps(sorted(values))).table_valued("value", name="given")
