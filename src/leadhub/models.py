"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from leadhub.audit.models import AuditEvent
from leadhub.auth.models import ApiKey, User
from leadhub.distributors.models import Distributor
from leadhub.interactions.models import Interaction
from leadhub.leads import projections  # noqa: F401 - keeps counts and search terms in step
from leadhub.leads.models import Lead, LeadSearchTerm, LeadStatusCount, Tag
from leadhub.meta.models import LeadForm, MetaApp, PageConnection, WebhookEvent
from leadhub.scoring.models import ScoringRuleSet, ScoringRun

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Distributor",
    "Interaction",
    "Lead",
    "LeadSearchTerm",
    "LeadForm",
    "LeadStatusCount",
    "MetaApp",
    "PageConnection",
    "ScoringRuleSet",
    "ScoringRun",
    "Tag",
    "User",
    "WebhookEvent",
]
