"""Every text the API and CLI show for a rule. Tests assert these word for word.

The partnership texts are the mission text's (``docs/reference/partnerships-seed.md``); the
request-shape texts are the real service's (``docs/reference/ecf-domain.md`` section 2.1).
"""

# --- POST /api/v3/partnerships/ecf -------------------------------------------------
COHORT_BLANK = "Enter a '#/cohort'."
COHORT_INVALID = "The '#/cohort' you have entered is invalid. Check cohort details and try again."
SCHOOL_BLANK = "Enter a '#/school_id'."
SCHOOL_INVALID = (
    "The '#/school_id' you have entered is invalid. Check school details and try again. "
    "Contact the DfE for support if you are unable to find the '#/school_id'."
)
SCHOOL_CIP_ONLY = (
    "The school you have entered has not registered to deliver DfE-funded training. "
    "Contact the school for more information."
)
SCHOOL_INELIGIBLE = (
    "The school you have entered is currently ineligible for DfE funding. Contact the school for more information."
)
ALREADY_CONFIRMED = "You are already in a confirmed partnership with this school for the entered cohort."
RECRUITED_BY_OTHER_PROVIDER = (
    "Another provider is in a confirmed partnership with the school for the cohort you entered. "
    "Contact the school for more information."
)
SCHOOL_PROGRAMME_NOT_YET_CONFIRMED = (
    "The school you have entered has not yet confirmed they will deliver DfE-funded training. "
    "Contact the school for more information."
)
LEAD_PROVIDER_BLANK = "Enter a '#/lead_provider_id'."
LEAD_PROVIDER_INVALID = "Enter a valid '#/lead_provider_id'."
DELIVERY_PARTNER_BLANK = "Enter a '#/delivery_partner_id'."
DELIVERY_PARTNER_INVALID = (
    "The '#/delivery_partner_id' you have entered is invalid. Check delivery partner details and try again."
)
DELIVERY_PARTNER_NO_RELATIONSHIP = (
    "The entered delivery partner is not recognised to be working in partnership with you for the given "
    "cohort. Contact the DfE for more information."
)

# --- PUT /api/v3/partnerships/ecf/{id} ----------------------------------------------
PARTNERSHIP_BLANK = "Enter a '#/partnership'."
PARTNERSHIP_CHALLENGED = (
    "Your update cannot be made as this partnership has been challenged by the school. If this partnership "
    "has been challenged in error, submit a new partnership confirmation using the endpoint "
    "POST /api/v3/partnerships/ecf."
)
RELATIONSHIP_ALREADY_EXISTS = (
    "We are unable to process this request. You are already confirmed to be in partnership with the "
    "entered delivery partner. Contact the DfE for support."
)
# POST or PUT that kept losing to concurrent writes of the same school cohort.
PARTNERSHIP_CONCURRENT_CHANGES = "The partnership could not be saved because of concurrent changes; try again"

# --- Request shape, filters, pagination (docs/reference/ecf-domain.md 2.1) -------------------------
BAD_REQUEST = "Bad request"
BAD_PARAMETER = "Bad parameter"
DATA_REQUIRED = "correct json data structure required. See API docs for reference"
COHORT_FILTER_REQUIRED = "The filter '#/cohort' must be included in your request"
UPDATED_SINCE_INVALID = "The filter '#/updated_since' must be a valid RCF3339 date"
FILTER_NOT_A_HASH = "Filter must be a hash"
FILTER_TOO_MANY_VALUES = "The filter '#/{name}' accepts at most {limit} comma-separated values"
SERVER_DATE_INVALID = "The header 'X-With-Server-Date' must be a valid RFC 3339 date"
SERVER_DATE_OUT_OF_RANGE = "The header 'X-With-Server-Date' must be a date in the years 2000 to 2099"
PAGINATION_INVALID = (
    "The '#/page[page]' and '#/page[per_page]' parameter values must be a valid number (equal and more than 1)"
)
# Cursor pages (docs/api-guide.md "Cursor pages"): not in the real API.
CURSOR_INVALID = (
    "The '#/page[cursor]' value is not valid for this request. Send the links.next URL of the previous page "
    "unchanged (same filters and sort), or an empty '#/page[cursor]' to start."
)
CURSOR_WITH_PAGE_NUMBER = "Send either '#/page[page]' or '#/page[cursor]', not both."
# Idempotency-Key on POST and PUT (docs/idempotency.md): not in the real API.
IDEMPOTENCY_KEY_INVALID = "The header 'Idempotency-Key' must be 1 to 255 printable ASCII characters"
IDEMPOTENCY_KEY_TITLE = "Idempotency-Key"
IDEMPOTENCY_KEY_REUSED = (
    "This 'Idempotency-Key' was already used for a different request (method, path or body) in the last 24 hours. "
    "Use a new key for a new request."
)
IDEMPOTENCY_KEY_IN_PROGRESS = (
    "A request with this 'Idempotency-Key' is still being processed. Retry after it has finished to get its response."
)
# The change feed (docs/change-feed.md): not in the real API.
CHANGES_RESOURCE_TYPE_INVALID = (
    "The filter '#/resource_type' must be a comma-separated list of "
    '["participant", "partnership", "school", "participant-declaration", "statement"]'
)
CHANGES_PAGE_NUMBER = (
    "The change feed has no page numbers: send an empty '#/page[cursor]' to start, then follow links.next."
)
CHANGES_CURSOR_EXPIRED_TITLE = "Cursor expired"
CHANGES_CURSOR_EXPIRED = (
    "This '#/page[cursor]' is older than the change feed's 30-day retention, so changes after it may be gone. "
    "Run a full sync: note links.latest of a feed page, page through each list with '#/page[cursor]', then follow "
    "the feed from that links.latest."
)
ACCESS_DENIED = "HTTP Token: Access denied"
# Admin: token lifecycle
TOKEN_UNKNOWN = "no API token with id {token_id}"
TOKEN_ALREADY_REVOKED = "API token {token_id} is already revoked"
NOT_FOUND = "Resource not Found"
INTERNAL_ERROR = "Internal server error"
# Rate limits (docs/rate-limits.md): the 429's title and detail, by what was counted. {window}: "5 minutes".
TOO_MANY_REQUESTS = "Too many requests"
RATE_LIMITED_TOKEN = (
    "The limit is {limit} requests per {window} for each token, and this token has reached it. "
    "Retry after {seconds} seconds (Retry-After), when a new window starts."
)
RATE_LIMITED_ADDRESS = (
    "The limit is {limit} requests per {window} from one address without a valid token, and this address has "
    "reached it. Retry after {seconds} seconds (Retry-After), when a new window starts."
)
# The edge's own 429s (infra/template.json; tests/test_infra.py checks the template carries these texts): API
# Gateway's stage throttle, and the WAF rule that limits each address ({limit}: the WafIpRateLimit parameter, 2000).
EDGE_THROTTLED = "The API is receiving more requests than it can take at the moment. Retry after a second."
EDGE_ADDRESS_LIMITED = (
    "More than {limit} requests in 5 minutes came from your address. Retry in a few minutes, and spread your requests "
    "out."
)

# --- The API documentation pages (/api-docs/{version}, docs/api-docs.md) ----------------------------
API_DOCS_TITLE = "Lead Provider API (ECF) {version} — API documentation"
API_DOCS_HEADING = "Lead Provider API (ECF)"

# --- School challenge (docs/reference/ecf-domain.md 3.4) ------------------------------------------
CHALLENGE_REASON_REQUIRED = "Select a reason why you think this confirmation is incorrect"
CHALLENGE_ALREADY_CHALLENGED = "This partnership has already been challenged"
CHALLENGE_DEADLINE_PASSED = "The challenge deadline for this partnership has passed"

# --- Admin: lead providers, delivery partners, schools' programme choices ---------
NAME_REQUIRED = "A name is required"
COHORTS_REQUIRED = "At least one cohort is required"
PROGRAMME_CHANGE_PARTNERED = "Cannot change induction programme for a partnered school"


def lead_provider_unknown(name: str) -> str:
    return f"No lead provider named {name!r}"


def lead_provider_name_taken(name: str) -> str:
    return f"A lead provider named {name!r} already exists"


def delivery_partner_unknown(delivery_partner_id: str) -> str:
    return f"No delivery partner with id {delivery_partner_id}"


def school_urn_unknown(urn: str) -> str:
    return f"No school with URN {urn}"


def cohort_not_imported(year: object) -> str:
    return f"No cohort {year}: import it first"


def programme_choice_unknown(choice: str, choices: list[str]) -> str:
    return f"Unknown choice {choice!r}: use one of {', '.join(choices)}"


# --- Participant actions (docs/reference/ecf-domain.md 3.11) -------------------------------------
PARTICIPANT_NOT_RECOGNISED = (
    "Your update cannot be made as the '#/participant_id' is not recognised. Check participant details and try again."
)
COURSE_IDENTIFIER_BLANK = "Enter a '#/course_identifier' value for this participant."
COURSE_IDENTIFIER_INVALID = (
    "The entered '#/course_identifier' is not recognised for the given participant. Check details and try again."
)
REASON_BLANK = "The property '#/reason' must be present"
REASON_INVALID = "The property '#/reason' must be a valid reason"
ALREADY_DEFERRED = "The participant is already deferred"
ALREADY_WITHDRAWN = "The participant is already withdrawn"
ALREADY_ACTIVE = "The participant is already active"
SCHEDULE_BLANK = "The property '#/schedule_identifier' must be present"
SCHEDULE_INVALID = "The property '#/schedule_identifier' must be a valid schedule for the cohort"
COHORT_CANNOT_CHANGE = "The property '#/cohort' cannot be changed"
PARTICIPANT_CHANGED_CONCURRENTLY = "The participant changed concurrently; try again"
TRAINING_STATUS_FILTER_INVALID = 'The filter \'#/training_status\' must be ["active", "deferred", "withdrawn"]'

# --- Onboarding and transfers (docs/reference/ecf-domain.md 3.6; the admin CLI shows these) ---------
PARTICIPANT_TYPE_INVALID = "The participant type must be ect or mentor"
NAME_AND_EMAIL_REQUIRED = "A full name and a valid email are required"
KEEP_PROVIDER_NEEDS_PARTNERSHIP = (
    "The provider can only be kept when the participant's current programme has a partnership"
)
NO_CURRENT_RECORD_TO_TRANSFER = "The participant has no current induction record to transfer from"
ALREADY_AT_THAT_SCHOOL = "The participant is already at that school"
PROFILE_OF_TYPE = {"ect": "an ECT profile", "mentor": "a mentor profile"}


def no_school_with_urn(urn: str) -> str:
    return f"No school with URN {urn}"


def no_cohort(cohort: object) -> str:
    return f"No cohort {cohort}: import it first"


def no_programme_choice(urn: str, cohort: object) -> str:
    return f"School {urn} has not chosen an induction programme for {cohort}"


def not_a_partnership_of_school(partnership_id: str, cohort: object, urn: str) -> str:
    return f"Partnership {partnership_id} is not a {cohort} partnership of school {urn}"


def no_mentor_with_email(email: str) -> str:
    return f"No mentor onboarded with email {email}"


def no_schedule(cohort: object, schedule_identifier: str) -> str:
    return f"Cohort {cohort} has no {schedule_identifier} schedule: import the cohort's schedules"


def already_has_profile(email: str, participant_type: str) -> str:
    return f"{email} already has {PROFILE_OF_TYPE[participant_type]}"


def no_default_programme(urn: str, cohort: object) -> str:
    return f"School {urn} has no default induction programme for {cohort}"


# --- POST /api/v{1,2,3}/participant-declarations (docs/reference/ecf-declarations-statements.md 1.3) ---
NPQ_NOT_SUPPORTED = "NPQ Courses are no longer supported"
DECLARATION_DATE_BLANK = "Enter a '#/declaration_date'."
DECLARATION_TYPE_BLANK = "Enter a '#/declaration_type'."
DECLARATION_DATE_FUTURE = "The '#/declaration_date' value cannot be a future date. Check the date and try again."
DECLARATION_DATE_INVALID = "Enter a valid RCF3339 '#/declaration_date'."
DECLARATION_BEFORE_MILESTONE_START = "Enter a '#/declaration_date' that's on or after the milestone start."
DECLARATION_AFTER_MILESTONE_END = "Enter a '#/declaration_date' that's before the milestone end date."
DECLARATION_TYPE_NOT_IN_SCHEDULE = "The property '#/declaration_type' does not exist for this schedule."
DECLARATION_ALREADY_SUBMITTED = (
    "A declaration has already been submitted that will be, or has been, paid for this event"
)
MENTOR_STARTED_OR_COMPLETED_ONLY = (
    "You cannot send retained or extended declarations for participants who began their mentor training after "
    "June 2025. Resubmit this declaration with either a started or completed declaration."
)
EVIDENCE_HELD_BLANK = "Enter a '#/evidence_held' value for this participant."
EVIDENCE_HELD_INVALID = "Enter an available '#/evidence_held' type for this participant's event and course."
_WITHDRAWN_BEFORE = (
    "This participant withdrew from this course on {date}. Enter a '#/declaration_date' that's on or before the "
    "withdrawal date."
)
_FUNDING_CONTRACT_ENDED = (
    "You cannot submit or void declarations for the {cohort} cohort. The funding contract for this cohort has "
    "ended. Get in touch if you need to discuss this with us"
)


def declaration_after_withdrawal(date: str) -> str:
    return _WITHDRAWN_BEFORE.format(date=date)


def funding_contract_ended(cohort: object) -> str:
    return _FUNDING_CONTRACT_ENDED.format(cohort=cohort)


# --- PUT /api/v{1,2,3}/participant-declarations/{id}/void (1.6) ----------------------
INVALID_ACTION = "Invalid action"
ALREADY_VOIDED = "This declaration has already been voided."
CLAWED_BACK_VIEW_ONLY = "This declaration has been clawed-back, so you can only view it."
CLAWBACK_ALREADY_REFUNDED = "will or has been be refunded"
CLAWBACK_NOT_PAID = "must be paid before it can be clawed back"


# --- Change feed: replaying failed stream batches (ecf-admin changes replay-failures) ---------------
def replay_records_missing(found: int, expected: int) -> str:
    return f"the stream gave {found} of the batch's {expected} record(s): left on the queue"


def replay_not_a_failure_record(cause: str) -> str:
    return f"not a DynamoDB stream failure record ({cause}): left on the queue"


def replay_not_a_stream(stream_arn: str) -> str:
    return f"not a DynamoDB stream ARN: {stream_arn!r}: left on the queue"


def replay_records_gone(code: str) -> str:
    return f"the stream no longer has these records ({code}): left on the queue"


def replay_no_queue(name: str) -> str:
    return f"no dead-letter queue named {name}"


REPLAY_BAD_SEQUENCE_NUMBERS = "its sequence numbers are not numbers: left on the queue"

# The local stack while it starts (localdev/startup.py): 503 with Retry-After until it prints "Ready.".
STARTING_TITLE = "Service unavailable"
STARTING_DETAIL = "The local stack is starting (loading demo data); try again in a few seconds."
