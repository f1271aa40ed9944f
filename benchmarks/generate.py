"""A fast, deterministic generator of realistic leads and the rows derived from them.

Rows come out as plain tuples in `LEAD_COLUMNS` order, ready for sqlite3's executemany or
psycopg's COPY: datetimes are UTC text in the exact form `leadhub.db.UTCDateTime` stores on
SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`; PostgreSQL reads it as UTC under `TimeZone=UTC`), JSON is
text, enums are their values. Search terms equal `leadhub.leads.search.terms_for` of each lead;
they are built per field with caches (the function is a union over its three fields), and
`check` proves the equality, and the validity of the phone number, on every 97th lead.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import phonenumbers

from benchmarks import pools
from benchmarks.people import Emails, Names, Phones, Timestamps, Weighted, score_level
from benchmarks.world import DAY, World
from leadhub.leads.search import terms_for

LEAD_COLUMNS = (
    "id", "distributor_id", "assignee_id", "status", "source", "meta_lead_id",
    "page_id", "page_name", "form_id", "form_name", "ad_id", "ad_name", "adset_id", "adset_name",
    "campaign_id", "campaign_name", "platform", "is_organic", "created_time", "received_at",
    "full_name", "email", "phone", "country", "city", "language", "treatment",
    "answers", "consent", "score", "score_level", "score_breakdown", "score_version",
    "first_contacted_at", "converted_at", "lost_reason", "duplicate_of_id", "version",
    "created_at", "updated_at", "deleted_at",
)  # fmt: skip
INTERACTION_COLUMNS = (
    "id", "lead_id", "kind", "outcome", "body", "duration_seconds", "actor_id", "actor_name",
    "occurred_at", "created_at", "updated_at",
)  # fmt: skip

DUPLICATE_SHARE = 0.05
DELETED_SHARE = 0.01
MANUAL_SHARE = 0.03
TAGGED_SHARE = 0.03
SPRINKLED_SHARE = 0.04  # contacted leads with one to three interactions
INTERACTIONS_PER_SAMPLE = 50  # for the lead page scenario
CHECK_EVERY = 97

# Status mix by the age of a lead: (younger than days, {status: weight}); lead() hard-codes ages
STATUS_BY_AGE = (
    (2, {"new": 55, "assigned": 30, "contacted": 12, "invalid": 3}),
    (14, {"new": 25, "assigned": 30, "contacted": 35, "lost": 5, "invalid": 5}),
    (10**9, {"new": 6, "assigned": 8, "contacted": 34, "converted": 8, "lost": 36, "invalid": 8}),
)
WHEN_POINTS = {"as_soon_as_possible": 25, "within_1_month": 20, "1_3_months": 12, "3_6_months": 5}
BUDGET_POINTS = {"1000_2500_eur": 5, "2500_5000_eur": 10, "over_5000_eur": 15}
COUNTRIES = ("TR", "AE", "SA", "GB", "DE", "NL")
NO_META = (None,) * 12
BASE_VERSION = {"new": 1, "assigned": 2, "contacted": 3}
CONSENT = (
    json.dumps({"privacy_policy": True}),
    json.dumps({"privacy_policy": True, "marketing_opt_in": True}),
)


@dataclass
class Chunk:
    leads: list[tuple] = field(default_factory=list)
    terms: list[tuple[str, int, int]] = field(default_factory=list)  # term, lead, distributor
    lead_tags: list[tuple[int, int]] = field(default_factory=list)
    interactions: list[tuple] = field(default_factory=list)


@dataclass
class Sample:
    """A live lead kept aside for the scenarios (search queries, lead pages)."""

    id: int
    distributor_id: int
    assignee_id: int | None
    full_name: str
    email: str | None
    phone: str
    country: str
    culture: str


class Reservoir:
    """A uniform sample of `size` items from a stream of unknown length."""

    def __init__(self, size: int) -> None:
        self.size, self.seen, self.items = size, 0, []

    def offer(self, item: object, rnd: object) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            j = rnd.randrange(self.seen)  # type: ignore[attr-defined]
            if j < self.size:
                self.items[j] = item


class LeadGenerator:
    """`size` leads with ids 1..size, oldest first, spread over the world's two years."""

    def __init__(self, world: World, *, size: int, seed: int) -> None:
        self.world = world
        self.size = size
        self.rnd = random.Random(seed)
        self.ts = Timestamps()
        self.names = Names()
        self.phones = Phones()
        self.emails = Emails()
        self.distributors = Weighted([(d, d.weight) for d in world.distributors])
        self.by_id = {d.id: d for d in world.distributors}
        self.cultures = {c: Weighted(w) for c, w in pools.CULTURES_BY_COUNTRY.items()}
        self.statuses = [Weighted(mix) for _, mix in STATUS_BY_AGE]
        self.treatments = Weighted(pools.TREATMENT_WEIGHTS)
        self.when = Weighted(pools.WHEN)
        self.budget = Weighted(pools.BUDGET)
        self.word_terms: dict[str, set[str]] = {}
        self.json_cache: dict[tuple, str] = {}
        self.originals: list[tuple] = []  # recent people who may come back as a duplicate
        self.bench_distributor = world.distributors[0].id
        self.bench_agent = world.distributors[0].agent_ids[0]
        self.samples = Reservoir(200)
        self.manager_samples = Reservoir(50)
        self.agent_samples = Reservoir(50)
        self.next_interaction_id = 1
        self.checked = 0

    def chunks(self, chunk_size: int) -> Iterator[Chunk]:
        chunk = Chunk()
        for lead_id in range(1, self.size + 1):
            self.lead(lead_id, chunk)
            if len(chunk.leads) >= chunk_size:
                yield chunk
                chunk = Chunk()
        chunk.interactions.extend(self.sample_interactions())
        yield chunk

    def sample_leads(self) -> list[Sample]:
        out: dict[int, Sample] = {}
        for reservoir in (self.samples, self.manager_samples, self.agent_samples):
            out.update((s.id, s) for s in reservoir.items)
        return list(out.values())

    def name_terms(self, full_name: str) -> set[str]:
        out: set[str] = set()
        for word in full_name.split(" "):
            terms = self.word_terms.get(word)
            if terms is None:
                terms = self.word_terms[word] = terms_for(full_name=word, email=None, phone=None)
            out |= terms
        return out

    def person(self, lead_id: int, dist: object) -> tuple:
        """A new person: (original id, distributor, name, email, phone, country, culture, terms)."""
        rnd = self.rnd.random
        country = dist.country if rnd() < 0.88 else COUNTRIES[int(rnd() * 6)]  # type: ignore[attr-defined]
        culture = self.cultures[country].pick(rnd())
        full_name, first, last = self.names.make(culture, self.rnd)
        phone, code, national = self.phones.next(country)
        terms = self.name_terms(full_name)
        terms.add(code + national)
        terms.add(national)
        email = None
        if rnd() < 0.92:
            email = self.emails.make(lead_id, country, first, last, rnd(), rnd())
            terms |= self.emails.terms(email)
        return (None, dist.id, full_name, email, phone, country, culture, terms)  # type: ignore[attr-defined]

    def lead(self, lead_id: int, chunk: Chunk) -> None:
        rnd = self.rnd.random
        world, ts, cache = self.world, self.ts, self.json_cache
        t = world.start + int((world.end - world.start) * (lead_id - 1 + rnd()) / self.size)
        dist = self.distributors.pick(rnd())
        deleted = rnd() < DELETED_SHARE
        if self.originals and rnd() < DUPLICATE_SHARE:
            person = self.originals[int(rnd() * len(self.originals))]
            if rnd() < 0.6:
                dist = self.by_id[person[1]]
            if person[3] is not None and rnd() < 0.3:  # came back with the phone number only
                person = (*person[:3], None, *person[4:7], self.name_terms(person[2]))
                person[7].add(person[4][1:])
                person[7].add(person[4][1 + len(pools.PHONE_PLANS[person[5]][0]) :])
        else:
            person = self.person(lead_id, dist)
        duplicate_of, _, full_name, email, phone, country, culture, terms = person
        age_days = (world.end - t) / DAY
        mix = self.statuses[0 if age_days < 2 else 1 if age_days < 14 else 2]
        status = mix.pick(rnd())
        assignee = None
        if status != "new":
            agents = dist.agent_ids
            assignee = dist.manager_id if rnd() < 0.1 else agents[int(rnd() * len(agents))]
        manual = rnd() < MANUAL_SHARE
        when_points = budget_points = 0
        if manual:
            meta, answers, consent = NO_META, "{}", "{}"
            treatment = self.treatments.pick(rnd())
        else:
            campaigns = dist.campaigns[world.month_of(t)]
            campaign = campaigns[int(rnd() * len(campaigns))]
            treatment = campaign.treatment if rnd() < 0.9 else self.treatments.pick(rnd())
            adset_id, adset_name, ads = campaign.adsets[int(rnd() * len(campaign.adsets))]
            ad_id, ad_name = ads[int(rnd() * len(ads))]
            page_id, page_name = dist.pages[int(rnd() * len(dist.pages))]
            form_id, form_name = dist.forms[(page_id, treatment)]
            meta = (
                str(1_200_000_000_000_000 + lead_id * 37 + int(rnd() * 37)),
                page_id, page_name, form_id, form_name, ad_id, ad_name, adset_id, adset_name,
                campaign.id, campaign.name, "facebook" if rnd() < 0.62 else "instagram",
            )  # fmt: skip
            when, budget = self.when.pick(rnd()), self.budget.pick(rnd())
            extra = pools.EXTRA_QUESTION.get(treatment)
            choice = extra[1][int(rnd() * len(extra[1]))] if extra else None
            key = (treatment, when, budget, choice)
            answers = cache.get(key)
            if answers is None:
                answer = {
                    "which_treatment_are_you_interested_in?": treatment,
                    "when_would_you_like_to_travel?": when,
                    "what_is_your_budget?": budget,
                }
                if extra:
                    answer[extra[0]] = choice
                answers = cache[key] = json.dumps(answer, ensure_ascii=False)
            consent = CONSENT[rnd() < 0.3]
            when_points, budget_points = WHEN_POINTS.get(when, 0), BUDGET_POINTS.get(budget, 0)
        base = int(30 * (rnd() + rnd()))
        score = min(100, base + when_points + budget_points)
        key = (base, when_points, budget_points)
        breakdown = cache.get(key)
        if breakdown is None:
            parts = {"base": base, "travel_date": when_points, "budget": budget_points}
            breakdown = cache[key] = json.dumps(parts)
        received = t + 2 + int(rnd() * 40) if rnd() > 0.02 else t + 3600 + int(rnd() * 172_800)
        first_contact = converted = lost_reason = None
        if status in ("contacted", "converted") or (status in ("lost", "invalid") and rnd() < 0.7):
            first_contact = min(world.end, received + 60 + int(self.rnd.expovariate(1 / 10_800)))
        if status == "converted":
            converted = min(world.end, t + int((3 + rnd() * 57) * DAY))
        elif status == "lost":
            lost_reason = pools.LOST_REASONS[int(rnd() * len(pools.LOST_REASONS))]
        deleted_at = min(world.end, t + int(rnd() * 30 * DAY)) if deleted else None
        updated = max(received, first_contact or 0, converted or 0, deleted_at or 0)
        cities = pools.CITIES[country]
        city = cities[int(rnd() * len(cities))] if rnd() < 0.85 else None
        language = pools.LANGUAGE_OF_CULTURE.get(culture) or pools.LANGUAGE_OF_COUNTRY[country]
        created = ts(received)
        chunk.leads.append(
            (lead_id, dist.id, assignee, status, "manual" if manual else "meta", *meta)
            + (not manual and rnd() < 0.03, ts(t), created)
            + (full_name, email, phone, country, city, language, treatment, answers, consent)
            + (score, score_level(score), breakdown, 1, ts(first_contact), ts(converted))
            + (lost_reason, duplicate_of, BASE_VERSION.get(status, 4) + int(rnd() * 3))
            + (created, ts(updated), ts(deleted_at))
        )
        chunk.terms.extend([(term, lead_id, dist.id) for term in terms])
        if lead_id % CHECK_EVERY == 0:
            self.check(full_name, email, phone, country, terms)
        if rnd() < TAGGED_SHARE:
            for tag_id in {1 + int(rnd() * len(pools.TAGS)) for _ in range(1 + int(rnd() * 2))}:
                chunk.lead_tags.append((lead_id, tag_id))
        if first_contact is not None and rnd() < SPRINKLED_SHARE:
            for _ in range(1 + int(rnd() * 3)):
                at = min(world.end, first_contact + int(rnd() * 5 * DAY))
                chunk.interactions.append(
                    self.interaction(lead_id, assignee or dist.manager_id, at)
                )
        if deleted:
            return
        if duplicate_of is None:
            self.originals.append((lead_id, *person[1:]))
            if len(self.originals) > 200_000:
                del self.originals[:100_000]
        self.keep_samples(lead_id, dist.id, assignee, person)

    def keep_samples(self, lead_id: int, dist_id: int, assignee: int | None, person: tuple) -> None:
        manager = dist_id == self.bench_distributor
        agent = assignee == self.bench_agent
        if not (manager or agent or self.rnd.random() < 0.01):
            return
        sample = Sample(lead_id, dist_id, assignee, *person[2:7])
        if manager:
            self.manager_samples.offer(sample, self.rnd)
        if agent:
            self.agent_samples.offer(sample, self.rnd)
        if not (manager or agent) or self.rnd.random() < 0.01:
            self.samples.offer(sample, self.rnd)

    def interaction(self, lead_id: int, actor_id: int, at: int) -> tuple:
        rnd = self.rnd.random
        r = rnd()
        if r < 0.45:
            kind, outcome = "call", ("answered", "no_answer", "busy")[int(rnd() * 3)]
        elif r < 0.7:
            kind, outcome = "whatsapp", ("sent", "replied")[int(rnd() * 2)]
        elif r < 0.8:
            kind, outcome = "email", "sent"
        else:
            kind, outcome = "note", None
        body = pools.NOTES[int(rnd() * len(pools.NOTES))]
        duration = int(rnd() * 900) if outcome == "answered" else None
        stamp = self.ts(at)
        row = (self.next_interaction_id, lead_id, kind, outcome, body, duration, actor_id)
        self.next_interaction_id += 1
        return (*row, self.world.user_names[actor_id], stamp, stamp, stamp)

    def sample_interactions(self) -> list[tuple]:
        """Fifty interactions on each sample lead, over its last two months."""
        rows: list[tuple] = []
        for sample in self.sample_leads():
            actor = sample.assignee_id or self.by_id[sample.distributor_id].manager_id
            for _ in range(INTERACTIONS_PER_SAMPLE):
                at = self.world.end - int(self.rnd.random() * 60 * DAY)
                rows.append(self.interaction(sample.id, actor, at))
        return rows

    def check(
        self, full_name: str, email: str | None, phone: str, country: str, terms: set
    ) -> None:
        """The fast path must equal what the app writes at flush time, and phones be valid."""
        expected = terms_for(full_name=full_name, email=email, phone=phone)
        if terms != expected:
            raise AssertionError(f"search terms differ for {full_name!r}: {terms} != {expected}")
        number = phonenumbers.parse(phone)
        if not phonenumbers.is_valid_number(number):
            raise AssertionError(f"generated an invalid phone number {phone}")
        if phonenumbers.region_code_for_number(number) != country:
            raise AssertionError(f"{phone} is not a {country} number")
        self.checked += 1
