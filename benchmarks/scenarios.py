"""Timed scenarios through the real Flask app: sign-in, scope checks, queries and rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from benchmarks import world as bench_world
from benchmarks.queries import (
    EMAILS,
    ROLES,
    Params,
    filter_sets,
    gather_facts,
    in_scope,
    query_string,
    search_queries,
)
from benchmarks.timing import ITERATIONS, Result, SqlClock, check, measure
from leadhub.app import create_app
from leadhub.auth import service as accounts
from leadhub.auth.models import User
from leadhub.extensions import db

DEEP_PAGES = 20
LIST_TARGET_MS = 50.0
LEAD_PAGE_TARGET_MS = 30.0
__all__ = ["ITERATIONS", "Result", "run_all"]


def make_app(url: str) -> Any:
    # The scenarios time the app, not the limiter: one key makes thousands of API calls, past
    # the default allowance for a key (1,000 an hour).
    return create_app(
        {
            "DATABASE_URL": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": None,
        }
    )


def sign_in(app: Any, email: str) -> Any:
    """A test client signed in through the real sign-in form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the sign-in page")
    form = {"email": email, "password": bench_world.PASSWORD, "csrf_token": match.group(1)}
    response = client.post("/login", data=form)
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} failed: {response.status_code}")
    return client


def api_key(user: User) -> str:
    key = accounts.create_api_key(db.session, user=user, name="bench", actor=None)
    db.session.commit()
    return key


@dataclass
class Plan:
    """Everything one role's scenarios request, prepared before the first timed request."""

    role: str
    key: str
    combos: list[Params]
    queries: list[str]
    busy: list[int]


def prepare(app: Any, *, seed: int) -> list[Plan]:
    """Read the data once. No app context stays open: each request must get its own session."""
    with app.app_context():
        facts = gather_facts(db.session)
        plans = [
            Plan(
                role=role,
                key=api_key(facts.users[role]),
                combos=filter_sets(facts, role, count=50, seed=seed + n),
                queries=search_queries(db.session, facts, role, seed=seed + n),
                busy=[lead.id for lead in facts.busy_leads if in_scope(lead, facts.users[role])],
            )
            for n, role in enumerate(ROLES)
        ]
        db.session.remove()
    return plans


def run_all(
    url: str, *, seed: int, iterations: int = ITERATIONS, log: Callable[[str], None]
) -> list[Result]:
    """Every scenario for the three roles on one database."""
    app = make_app(url)
    results: list[Result] = []
    api = app.test_client()
    clock = SqlClock(db.engine)
    for plan in prepare(app, seed=seed):
        role, combos = plan.role, plan.combos
        client = sign_in(app, EMAILS[role])
        headers = {"Authorization": f"Bearer {plan.key}"}
        log(f"{role}: list, first page")
        results.append(
            measure(
                "list, first page",
                role,
                [f"/leads?{query_string(c)}" for c in combos],
                client.get,
                iterations=iterations,
                clock=clock,
                target_ms=LIST_TARGET_MS,
                note=f"{len(combos)} filter combinations",
            )
        )
        log(f"{role}: list, {DEEP_PAGES} pages deep (walking cursors through the API)")
        deep, shallow = deep_urls(api, headers, combos[:30])
        results.append(
            measure(
                f"list, page {DEEP_PAGES + 1}",
                role,
                deep,
                client.get,
                iterations=iterations,
                clock=clock,
                target_ms=LIST_TARGET_MS,
                note=f"{len(deep)} combinations; {shallow} had fewer pages and were left out",
            )
        )
        log(f"{role}: search")
        results.append(
            measure(
                "search",
                role,
                [f"/leads?{urlencode({'q': q})}" for q in plan.queries],
                client.get,
                iterations=iterations,
                clock=clock,
                target_ms=LIST_TARGET_MS,
                note=f"{len(plan.queries)} queries: phone, e-mail, name",
            )
        )
        log(f"{role}: lead page")
        results.append(
            measure(
                "lead page, 50 interactions",
                role,
                [f"/leads/{lead_id}" for lead_id in plan.busy],
                client.get,
                iterations=iterations,
                clock=clock,
                target_ms=LEAD_PAGE_TARGET_MS,
                note=f"{len(plan.busy)} leads",
            )
        )
        log(f"{role}: API list, first page")
        results.append(
            measure(
                "API list, first page",
                role,
                [f"/api/v1/leads?{query_string(c)}" for c in combos],
                lambda u, h=headers: api.get(u, headers=h),
                iterations=iterations,
                clock=clock,
                target_ms=LIST_TARGET_MS,
                report_only=True,
                note="report only",
            )
        )
    return results


def deep_urls(api: Any, headers: dict[str, str], combos: list[Params]) -> tuple[list[str], int]:
    """The HTML page after DEEP_PAGES pages of each combination, found through the JSON API."""
    urls, shallow = [], 0
    for params in combos:
        cursor = None
        for _ in range(DEEP_PAGES):
            query = query_string({**params, **({"cursor": cursor} if cursor else {})})
            response = api.get(f"/api/v1/leads?{query}", headers=headers)
            check(response, query)
            cursor = response.get_json()["next_cursor"]
            if cursor is None:
                break
        if cursor is None:
            shallow += 1
            continue
        urls.append(f"/leads?{query_string({**params, 'cursor': cursor})}")
    return urls, shallow
