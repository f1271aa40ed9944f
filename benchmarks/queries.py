"""What the desk's users ask for: filter combinations and search queries from the data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from sqlalchemy import func, select

from benchmarks import world as bench_world
from leadhub.auth.models import Role, User
from leadhub.auth.scope import visible_leads
from leadhub.interactions.models import Interaction
from leadhub.leads.models import TREATMENTS, Lead
from leadhub.leads.search import fold

ROLES = ("admin", "manager", "agent")
EMAILS = {
    "admin": bench_world.BENCH_ADMIN,
    "manager": bench_world.BENCH_MANAGER,
    "agent": bench_world.BENCH_AGENT,
}
Params = dict[str, Any]


@dataclass
class Facts:
    """What the scenarios need to know about the loaded data."""

    today: date  # the day of the newest lead
    distributor_ids: list[int]
    agents_of: dict[int, list[int]]
    users: dict[str, User]
    busy_leads: list[Lead]  # leads with 50 interactions or more
    size: int


def gather_facts(session: Any) -> Facts:
    newest = session.scalar(select(func.max(Lead.created_time)))
    users = {
        role: session.scalar(select(User).where(User.email == email))
        for role, email in EMAILS.items()
    }
    missing = [role for role, user in users.items() if user is None]
    if missing:
        raise RuntimeError(f"the bench users are missing ({missing}); load the data again")
    agents: dict[int, list[int]] = {}
    for user_id, distributor_id in session.execute(
        select(User.id, User.distributor_id).where(User.role == Role.AGENT).order_by(User.id)
    ):
        agents.setdefault(distributor_id, []).append(user_id)
    busy = session.scalars(
        select(Interaction.lead_id)
        .group_by(Interaction.lead_id)
        .having(func.count() >= 50)
        .order_by(Interaction.lead_id)
    ).all()
    return Facts(
        today=newest.date(),
        distributor_ids=sorted(agents),
        agents_of=agents,
        users=users,  # type: ignore[arg-type]
        busy_leads=list(session.scalars(select(Lead).where(Lead.id.in_(busy)))),
        size=session.scalar(select(func.count()).select_from(Lead)) or 0,
    )


# -- what the desk's users ask for ---------------------------------------------------------------


def filter_sets(facts: Facts, role: str, *, count: int, seed: int) -> list[Params]:
    """The obvious filter combinations first, then random ones of one to three filters."""
    rng = random.Random(seed)
    user = facts.users[role]
    own = user.distributor_id
    if role == "admin":
        distributors = facts.distributor_ids
        assignees = [a for ids in facts.agents_of.values() for a in ids]
    else:
        distributors = [own]
        assignees = [user.id] if role == "agent" else facts.agents_of[own]
    today = facts.today

    def day(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    obvious: list[Params] = [
        {},
        {"sort": "score"},
        {"status": "new"},
        {"status": "contacted", "sort": "score"},
        {"unassigned": "true"},
        {"limit": "100"},
        {"limit": "50", "sort": "score"},
        {"created_from": day(7)},
        {"created_from": day(30), "created_to": day(0)},
        {"treatment": "hair_transplant"},
        {"treatment": "eye_surgery"},
        {"platform": "instagram"},
        {"score_min": "80"},
        {"score_min": "80", "sort": "score"},
        {"score_max": "20"},
        {"assignee_id": str(assignees[0])},
        {"distributor_id": str(distributors[-1])},
        {"status": ["new", "assigned", "contacted"]},
        {"status": "converted", "created_from": day(365), "created_to": day(335)},
        {"status": "new", "unassigned": "true", "sort": "score"},
    ]
    kinds = ["status", "assignee", "unassigned", "score", "created", "treatment", "platform"]
    if role == "admin":
        kinds.append("distributor")
    combos = list(obvious)
    while len(combos) < count:
        params: Params = {}
        chosen = rng.sample(kinds, rng.randint(1, 3))
        if "assignee" in chosen and "unassigned" in chosen:
            chosen.remove("unassigned")
        for kind in chosen:
            if kind == "status":
                params["status"] = rng.choice(
                    ["new", "assigned", "contacted", "converted", "lost", "invalid"]
                )
            elif kind == "assignee":
                params["assignee_id"] = str(rng.choice(assignees))
            elif kind == "unassigned":
                params["unassigned"] = "true"
            elif kind == "distributor":
                params["distributor_id"] = str(rng.choice(distributors))
            elif kind == "score":
                low = rng.choice([None, 20, 40, 60, 80])
                high = rng.choice([None, 40, 60, 80, 100])
                if low is not None and (high is None or high > low):
                    params["score_min"] = str(low)
                if high is not None and (low is None or high > low):
                    params["score_max"] = str(high)
            elif kind == "created":
                start = rng.randint(1, 700)
                params["created_from"] = day(start)
                params["created_to"] = day(max(0, start - rng.choice([1, 7, 30, 90])))
            elif kind == "treatment":
                params["treatment"] = rng.choice(TREATMENTS)
            elif kind == "platform":
                params["platform"] = rng.choice(["facebook", "instagram"])
        params["sort"] = rng.choice(["newest", "newest", "score"])
        params["limit"] = rng.choice(["25", "25", "25", "50", "100"])
        combos.append(params)
    return combos[:count]


def query_string(params: Params) -> str:
    return urlencode(params, doseq=True)


def search_queries(session: Any, facts: Facts, role: str, *, seed: int) -> list[str]:
    """Phones in three spellings, e-mails whole and begun, names in Turkish, Arabic, English."""
    rng = random.Random(seed)
    user = facts.users[role]
    ids = rng.sample(range(1, facts.size + 1), min(facts.size, 20_000 if role == "agent" else 3000))
    stmt = visible_leads(user).where(Lead.id.in_(ids)).order_by(Lead.id).limit(400)
    leads = list(session.scalars(stmt))
    rng.shuffle(leads)
    queries: list[str] = []
    for lead in leads[:8]:
        number = phonenumbers.parse(lead.phone)
        national = str(number.national_number)
        queries.append(lead.phone)
        queries.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
        queries.append(national[:7])
    with_email = [lead for lead in leads if lead.email][:8]
    for lead in with_email:
        local = lead.email.split("@")[0]
        queries.append(lead.email)
        queries.append(lead.email[: len(local) + 3])
    scripts = {
        "turkish": lambda n: any(c in n for c in "şışğŞİçöüÇÖÜĞ"),
        "arabic": lambda n: any("\u0600" <= c <= "\u06ff" for c in n),
        "latin": lambda n: n.isascii(),
    }
    for test in scripts.values():
        named = [lead for lead in leads if lead.full_name and test(lead.full_name)][:6]
        for n, lead in enumerate(named):
            parts = lead.full_name.split()
            if n % 3 == 0:
                queries.append(lead.full_name)
            elif n % 3 == 1:
                queries.append(f"{parts[0]} {parts[-1][: max(3, len(parts[-1]) - 2)]}")
            else:
                queries.append(parts[-1])
    if not any(fold(q) != q.lower() for q in queries):
        queries.append("Ayşe Yılmaz")
    return queries


def in_scope(lead: Lead, user: User) -> bool:
    if user.role in (Role.ADMIN, Role.SUPERADMIN):
        return True
    if user.role is Role.AGENT:
        return lead.assignee_id == user.id or (
            lead.assignee_id is None and lead.distributor_id == user.distributor_id
        )
    return lead.distributor_id == user.distributor_id
