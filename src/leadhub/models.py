"""Every model, imported once so the metadata (and Alembic) sees all tables."""

from leadhub.analytics import models as analytics_indexes  # noqa: F401 - its indexes
from leadhub.analytics import stages  # noqa: F401 - keeps pipeline stages in step
from leadhub.assignment.models import AgentSkill, AssignmentRule
from leadhub.audit.models import AuditEvent
from leadhub.auth.models import ApiKey, User
from leadhub.bulk.models import BulkOperation, BulkOperationItem
from leadhub.distributors.models import Distributor
from leadhub.interactions.models import Interaction
from leadhub.leads import projections  # noqa: F401 - keeps counts and search terms in step
from leadhub.leads.models import Lead, LeadSearchTerm, LeadStatusCount, Tag
from leadhub.meta.models import LeadForm, MetaApp, PageConnection, WebhookEvent
from leadhub.notifications.models import (
    DistributorNotificationSetting,
    LeadWatcher,
    Notification,
    NotificationPref,
    OutboxMessage,
)
from leadhub.privacy.models import (
    AccessRecord,
    AccessRecordLead,
    AnonymisedLead,
    ErasedMetaLead,
    ErasureRequest,
    LeadConsent,
    RetentionRun,
)
from leadhub.scoring.models import ScoringRuleSet, ScoringRun

__all__ = [
    "AgentSkill",
    "AssignmentRule",
    "ApiKey",
    "AuditEvent",
    "BulkOperation",
    "BulkOperationItem",
    "Distributor",
    "DistributorNotificationSetting",
    "Interaction",
    "Lead",
    "LeadSearchTerm",
    "LeadForm",
    "LeadStatusCount",
    "LeadWatcher",
    "MetaApp",
    "Notification",
    "NotificationPref",
    "OutboxMessage",
    "AccessRecord",
    "AccessRecordLead",
    "AnonymisedLead",
    "ErasedMetaLead",
    "ErasureRequest",
    "LeadConsent",
    "RetentionRun",
    "PageConnection",
    "ScoringRuleSet",
    "ScoringRun",
    "Tag",
    "User",
    "WebhookEvent",
]
