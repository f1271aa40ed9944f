"""Assignment fixtures: a distributor's agents, its rule, new leads through intake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadhub import crypto
from leadhub.assignment import service
from leadhub.assignment.schemas import AssignmentRulesInput
from leadhub.auth.models import Role, User
from leadhub.db import db
from leadhub.intake import service as intake
from leadhub.leads.models import Lead
from leadhub.leads.schemas import LeadCreate
from leadhub.meta.models import LeadForm, PageConnection
from tests.factories import UserFactory

PAGE_ID = "104857392099001"
FORM_ID = "834712093899001"


@pytest.fixture
def agents(distributor: Any, users: dict[str, User]) -> list[User]:
    """Three more active agents of the distributor (with the `users` agent: four in all)."""
    made = [
        UserFactory(role=Role.AGENT, distributor=distributor, name=name)
        for name in ("Burak Agent", "Cem Agent", "Deniz Agent")
    ]
    return [users["agent"], *made]


@pytest.fixture
def set_rules(distributor: Any, users: dict[str, User]) -> Callable[..., Any]:
    """Save the distributor's rule as an admin would."""

    def save(**fields: Any) -> Any:
        data = AssignmentRulesInput.model_validate(fields)
        settings = service.update(
            db.session, distributor=distributor, data=data, actor=users["admin"]
        )
        db.session.commit()
        return settings

    return save


@pytest.fixture
def new_lead(distributor: Any, users: dict[str, User]) -> Callable[..., Lead]:
    """A lead entered by a manager (no assignee named): the rules route it."""
    count = iter(range(1, 10_000))

    def make(**fields: Any) -> Lead:
        n = next(count)
        data = LeadCreate(
            distributor_id=distributor.id,
            full_name=f"Lead Person {n}",
            phone=f"+90532{5000000 + n:07d}",
            **fields,
        )
        lead = intake.create_manual(db.session, data=data, actor=users["manager"])
        db.session.commit()
        return lead

    return make


@pytest.fixture
def page(db_session: Any, distributor: Any) -> PageConnection:
    connection = PageConnection(
        distributor_id=distributor.id,
        page_id=PAGE_ID,
        page_name="Istanbul Smile Clinic",
        token_encrypted=crypto.encrypt("page-token-1"),
    )
    db_session.add(connection)
    db_session.flush()
    db_session.add(LeadForm(page_connection_id=connection.id, form_id=FORM_ID, name="Hair TR"))
    db_session.commit()
    return connection
