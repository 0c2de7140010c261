"""PynamoDB models: one class per item type, one module per table family. Key and index design: docs/architecture.md."""

from chalicelib.models import finance as _finance  # noqa: F401 - registers the finance tables
from chalicelib.models import mentors as _mentors  # noqa: F401 - registers the unfunded-mentors tables
from chalicelib.models import participants as _participants  # noqa: F401 - registers the participant tables
from chalicelib.models.base import all_models, create_tables, rebind_all, table_models

# isort: off
# In this order, so the tables register (and ``table_models()`` lists them) in the order they always have.
from chalicelib.models.cohorts import CallOffContract, Cohort, CohortLeadProvider, MentorCallOffContract, Schedule
from chalicelib.models.providers import DeliveryPartner, LeadProvider, ProviderRelationship
from chalicelib.models.schools import School, SchoolCohort
from chalicelib.models.partnerships import Partnership
from chalicelib.models.tokens import ApiToken
from chalicelib.models.events import Event
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models import changes as _changes  # noqa: F401 - registers the change-feed tables
from chalicelib.models.rate_limits import RateLimitCounter
from chalicelib.models import api_requests as _api_requests  # noqa: F401 - registers the audit trail (last: newest)

# isort: on

__all__ = [
    "ApiToken",
    "CallOffContract",
    "Cohort",
    "CohortLeadProvider",
    "DeliveryPartner",
    "Event",
    "IdempotencyRecord",
    "LeadProvider",
    "MentorCallOffContract",
    "Partnership",
    "ProviderRelationship",
    "RateLimitCounter",
    "Schedule",
    "School",
    "SchoolCohort",
    "all_models",
    "create_tables",
    "rebind_all",
    "table_models",
]
