"""Everything around the leads: distributors, staff, Pages, forms, campaigns, tags.

Deterministic for a seed, so a reused database and a fresh run agree on who is who.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from werkzeug.security import generate_password_hash

from benchmarks import pools
from leadhub.leads.search import fold

PASSWORD = "bench password 2026"  # noqa: S105 - every bench user has it; a throw-away database
DAY = 86_400

# name, country, language, share of the leads
DISTRIBUTORS = (
    ("Istanbul Smile Travel", "TR", "tr", 16),
    ("Antalya Hair Center", "TR", "tr", 11),
    ("Izmir Dental Partners", "TR", "tr", 7),
    ("Ankara Aesthetic Link", "TR", "tr", 4),
    ("Bursa Med Tours", "TR", "tr", 2),
    ("Dubai Care Agency", "AE", "ar", 9),
    ("Abu Dhabi Health Bridge", "AE", "ar", 5),
    ("Sharjah Smile", "AE", "ar", 2),
    ("Riyadh Medical Connect", "SA", "ar", 8),
    ("Jeddah Beauty Travel", "SA", "ar", 5),
    ("Dammam Health Partners", "SA", "ar", 2),
    ("London Med Travel", "GB", "en", 7),
    ("Manchester Smile Abroad", "GB", "en", 4),
    ("Birmingham Hair Partners", "GB", "en", 2),
    ("Berlin Health Tours", "DE", "de", 5),
    ("Munich Aesthetic Travel", "DE", "de", 2),
    ("Hamburg Dental Abroad", "DE", "de", 1),
    ("Amsterdam Care Travel", "NL", "nl", 4),
    ("Rotterdam Smile Partners", "NL", "nl", 2),
    ("Utrecht Med Link", "NL", "nl", 2),
)
TIMEZONES = {
    "TR": "Europe/Istanbul",
    "AE": "Asia/Dubai",
    "SA": "Asia/Riyadh",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
}
STAFF_TOTAL = 200
ADSETS = ("Women 25-45", "Men 30-55", "Lookalike 1%", "Broad, interests")
ADS = ("Carousel A", "Video B", "Before/After", "Doctor talks")

BENCH_ADMIN = "admin@bench.leadhub.test"
BENCH_MANAGER = "manager.1@bench.leadhub.test"  # manager of the largest distributor
BENCH_AGENT = "agent.1.1@bench.leadhub.test"  # first agent of the largest distributor


@dataclass
class Campaign:
    id: str
    name: str
    treatment: str
    adsets: list[tuple[str, str, list[tuple[str, str]]]]


@dataclass
class DistributorPlan:
    id: int
    name: str
    country: str
    language: str
    weight: int
    manager_id: int = 0
    agent_ids: list[int] = field(default_factory=list)
    pages: list[tuple[str, str]] = field(default_factory=list)
    forms: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    campaigns: list[list[Campaign]] = field(default_factory=list)  # per month of the span


@dataclass
class World:
    start: int  # epoch seconds of the oldest lead
    end: int  # epoch seconds of "now" for the data set
    distributors: list[DistributorPlan]
    users: list[dict]
    user_names: dict[int, str]
    tags: list[dict]

    @property
    def months(self) -> int:
        return len(self.distributors[0].campaigns)

    def month_of(self, t: int) -> int:
        return min(self.months - 1, (t - self.start) * self.months // (self.end - self.start + 1))


def _ids(rng: random.Random, prefix: str, digits: int) -> str:
    return prefix + "".join(rng.choice("0123456789") for _ in range(digits - len(prefix)))


def _person(rng: random.Random, country: str) -> str:
    if country in ("AE", "SA"):
        return f"{rng.choice(pools.ARABIC_FIRST)[1]} {rng.choice(pools.ARABIC_LAST)[1]}"
    if country == "GB":
        return f"{rng.choice(pools.ENGLISH_FIRST)} {rng.choice(pools.ENGLISH_LAST)}"
    return f"{rng.choice(pools.TURKISH_FIRST)} {rng.choice(pools.TURKISH_LAST)}"


def build_world(*, seed: int, end: int, span_days: int = 730) -> World:
    """Distributors, 200 staff, Pages, forms and two campaigns a month for each distributor."""
    rng = random.Random(seed)
    password_hash = generate_password_hash(PASSWORD)
    start = end - span_days * DAY
    months = span_days * 12 // 365 + 1
    plans = [
        DistributorPlan(id=n, name=name, country=country, language=language, weight=weight)
        for n, (name, country, language, weight) in enumerate(DISTRIBUTORS, start=1)
    ]
    users: list[dict] = []

    def add_user(email: str, role: str, distributor: DistributorPlan | None, name: str) -> int:
        country = distributor.country if distributor else "TR"
        users.append(
            {
                "id": len(users) + 1,
                "email": email,
                "name": name,
                "password_hash": password_hash,
                "role": role,
                "distributor_id": distributor.id if distributor else None,
                "language": {"de": "en", "nl": "en"}.get(distributor.language, distributor.language)
                if distributor
                else "en",
                "timezone": TIMEZONES[country],
                "active": True,
            }
        )
        return len(users)

    add_user("superadmin@bench.leadhub.test", "superadmin", None, "Selin Süper")
    add_user(BENCH_ADMIN, "admin", None, "Ali Admin")
    add_user("admin.2@bench.leadhub.test", "admin", None, "Deniz Yönetici")
    total_weight = sum(p.weight for p in plans)
    agents_left = STAFF_TOTAL - len(users) - 2 * len(plans)
    for plan in plans:
        plan.manager_id = add_user(
            f"manager.{plan.id}@bench.leadhub.test", "manager", plan, _person(rng, plan.country)
        )
        add_user(f"viewer.{plan.id}@bench.leadhub.test", "viewer", plan, _person(rng, plan.country))
        agents = max(2, round(agents_left * plan.weight / total_weight))
        for k in range(1, agents + 1):
            email = f"agent.{plan.id}.{k}@bench.leadhub.test"
            plan.agent_ids.append(add_user(email, "agent", plan, _person(rng, plan.country)))
        slug = fold(plan.name).split()[0].capitalize()
        for n in range(2):
            page_id = _ids(rng, "1048", 15)
            plan.pages.append((page_id, f"{slug} {('Clinic Travel', 'Beauty & Care')[n]}"))
            for treatment in pools.TREATMENT_WEIGHTS:
                form_name = f"{treatment.replace('_', ' ').title()} - {plan.language.upper()}"
                plan.forms[(page_id, treatment)] = (_ids(rng, "83", 15), form_name)
        treatments = list(pools.TREATMENT_WEIGHTS)
        weights = list(pools.TREATMENT_WEIGHTS.values())
        for month in range(months):
            campaigns = []
            for _ in range(2):
                treatment = rng.choices(treatments, weights)[0]
                adsets = [
                    (
                        _ids(rng, "12021", 18),
                        adset,
                        [(_ids(rng, "12021", 18), f"{treatment} - {ad}") for ad in ADS[:2]],
                    )
                    for adset in rng.sample(ADSETS, 3)
                ]
                name = f"{treatment.replace('_', ' ').title()} {plan.country} M{month + 1:02d}"
                campaigns.append(Campaign(_ids(rng, "12021", 18), name, treatment, adsets))
            plan.campaigns.append(campaigns)
    tags = [
        {"id": n, "name": name, "color": color} for n, (name, color) in enumerate(pools.TAGS, 1)
    ]
    return World(
        start=start,
        end=end,
        distributors=plans,
        users=users,
        user_names={u["id"]: u["name"] for u in users},
        tags=tags,
    )
