"""factory-boy factories; each test makes the rows it needs."""

from __future__ import annotations

from datetime import timedelta

import factory
from werkzeug.security import generate_password_hash

from leadhub.auth.models import Role, User
from leadhub.db import db, utcnow
from leadhub.distributors.models import Distributor
from leadhub.interactions.models import Interaction, Kind
from leadhub.leads.models import Lead, Platform, Source, Status

PASSWORD = "correct horse battery"
_PASSWORD_HASH = generate_password_hash(PASSWORD)


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = db.session
        # Commit releases the test's SAVEPOINT: requests, which use sessions of their own on the
        # same connection, see the rows; the test's outer transaction still rolls them back.
        sqlalchemy_session_persistence = "commit"


class DistributorFactory(_Base):
    class Meta:
        model = Distributor

    name = factory.Sequence(lambda n: f"Agency {n}")
    country = "TR"
    language = "tr"


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = Role.AGENT
    distributor = factory.LazyAttribute(
        lambda o: DistributorFactory() if o.role in (Role.MANAGER, Role.AGENT) else None
    )
    password_hash = _PASSWORD_HASH
    language = "en"
    timezone = "UTC"
    active = True


class LeadFactory(_Base):
    class Meta:
        model = Lead

    distributor_id = factory.LazyFunction(lambda: DistributorFactory().id)
    status = Status.NEW
    source = Source.META
    meta_lead_id = factory.Sequence(lambda n: str(1290384756100000 + n))
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = factory.Sequence(lambda n: f"+90532{1000000 + n:07d}")
    country = "TR"
    language = "tr"
    treatment = "hair_transplant"
    platform = Platform.FACEBOOK
    campaign_id = "120210987654310001"
    campaign_name = "Q1 Hair Leads"
    ad_id = "120210987654321098"
    ad_name = "Hair Jan - Carousel A"
    form_id = "834712093847561"
    page_id = "104857291038475"
    answers = factory.LazyFunction(lambda: {"which_treatment": "hair_transplant"})
    score = 50
    created_time = factory.Sequence(lambda n: utcnow() - timedelta(minutes=10_000 - n))


class InteractionFactory(_Base):
    class Meta:
        model = Interaction

    kind = Kind.NOTE
    body = "Called back later."
    occurred_at = factory.LazyFunction(utcnow)
