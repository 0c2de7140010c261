from chalicelib.models import finance as _finance  # noqa: F401  (registers the finance tables)
from chalicelib.models import mentors as _mentors  # noqa: F401  (registers the unfunded-mentors tables)
from chalicelib.models import participants as _participants  # noqa: F401  (registers the participant tables)
from chalicelib.models.base import all_models, create_tables, rebind_all, table_models
from chalicelib.models.tables import (
    ApiToken,
    CallOffContract,
    Cohort,
    CohortLeadProvider,
    DeliveryPartner,
    Event,
    LeadProvider,
    MentorCallOffContract,
    Partnership,
    ProviderRelationship,
    Schedule,
    School,
    SchoolCohort,
)

__all__ = [
    "ApiToken",
    "CallOffContract",
    "Cohort",
    "CohortLeadProvider",
    "DeliveryPartner",
    "Event",
    "LeadProvider",
    "MentorCallOffContract",
    "Partnership",
    "ProviderRelationship",
    "Schedule",
    "School",
    "SchoolCohort",
    "all_models",
    "create_tables",
    "rebind_all",
    "table_models",
]
