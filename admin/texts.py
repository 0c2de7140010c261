"""Every sentence ``ecf-admin`` shows a person: error lines, headings, messages, help, examples.

Templates use ``str.format`` fields. Field labels of key/value blocks and table column
headings stay with the command that lays the data out (``admin.commands``): they name
the data, they are not messages. Domain messages shared with the API (such as
``chalicelib.domain.finance_reports.NO_RECORDS_FOUND``) stay in the domain.
"""

from __future__ import annotations

PROG = "ecf-admin"

# --------------------------------------------------------------------------- errors

ERROR_LINE = "error: {message}\n"
USAGE_HINT = "{message} (see '{prog} --help')"
INTERRUPTED = "interrupted"
UNEXPECTED = "unexpected {kind}: {error} (set {variable}=1 for a traceback)"
BAD_STAGE_VARIABLE = "{variable}={stage!r} is not a stage (use one of {stages})"

NOT_FOUND = "not found: {error}"
READ_TIMEOUT = "DynamoDB at {where} did not answer in time (read timeout); try again"
UNREACHABLE_LOCAL = "cannot reach DynamoDB at {where} — is `make run` running?"
UNREACHABLE = "cannot reach DynamoDB at {where}: {cause}"
NO_CREDENTIALS = "no usable AWS credentials for stage {stage}: {cause}"
NO_TABLE = "{cause} at {where}: wrong --stage, or the tables are not created"
TABLE_NOT_FOUND = "table not found at {where} ({message}): wrong --stage, or the tables are not created"
AWS_REFUSED = "AWS refused the request ({code}): {message}"
AWS_REGION = "AWS region {region}"

NO_PARTNERSHIP = "No partnership with id {id}"
NO_PARTICIPANT = "No participant with id {id}"
CANNOT_WRITE = "cannot write {path}: {reason}"

# Argument values (argparse adds "argument --x: invalid value" context itself).
NOT_A_YEAR = "{text!r} is not a cohort year (for example 2024)"
NOT_A_URN = "{text!r} is not a URN (a number, for example 100000)"
BLANK_NAME = "a name cannot be blank"
BLANK_VALUE = "a value cannot be blank"
NOT_A_START_DATE = "{text!r} is not a date (YYYY-MM-DD, for example 2024-09-01)"
NOT_A_DAY = "{text!r} is not a date (YYYY-MM-DD, for example 2025-10-01)"

# --------------------------------------------------------------------------- messages and headings

PROGRESS_DONE = "{label}: wrote {done}/{total} {unit} in {seconds:.1f}s\n"
IMPORTED = "Imported {source}"

LEAD_PROVIDER_ADDED = "Added lead provider"
NO_LEAD_PROVIDERS = "No lead providers yet: add one with '{prog} lead-providers add NAME'."
DELIVERY_PARTNER_ADDED = "Added delivery partner"
DELIVERY_PARTNER_RELATED = "Related delivery partner"

TOKEN_WARNING = (
    "warning: this token is shown only once. Store it now: only a keyed hash of it is saved, "
    "so it cannot be shown again (create a new token if it is lost)."
)
TOKEN_ISSUED = "API token {token_id} for {name} (lead provider {id}):\n\n    {token}\n"

PROGRAMME_SAVED = "Programme choice saved"
NO_SCHOOL_COHORTS = "No cohorts: no programme choice or partnership recorded yet."
PARTNERSHIPS_HEADING = "Partnerships"
PARTNERSHIP_CHALLENGED = "Partnership challenged"
KIND_RELATIONSHIP = "relationship"
KIND_REPORTED = "reported"
KIND_CHALLENGED = "{kind}, challenged"
WITH_REASON = "{text} ({reason})"
WINDOW_OPEN = "open"
WINDOW_PASSED = "passed"

PARTICIPANT_ADDED = "Added participant"
NOT_ENROLLED = "Not enrolled: school {urn} has no default induction programme for {cohort}."
PARTICIPANT_TRANSFERRED = "Transferred participant"
ECT_PROFILE = "ECT profile"
MENTOR_PROFILE = "Mentor profile"
NO_PROFILES = "No participant profiles."
INDUCTION_RECORDS_HEADING = "Induction records"
NOT_IN_A_PROGRAMME = "No induction records: not enrolled in a programme."
PROFILE_STATES_HEADING = "Profile states"
SCHEDULE_OF_COHORT = "{schedule} ({cohort})"

ELIGIBILITY_RECORDED = "Eligibility recorded"
ELIGIBILITY_PENDING_NOTE = (
    "Recorded as pending: the eligibility stream applies it (submitted declarations become eligible when the "
    "participant is eligible; the providers' views show the new eligibility)."
)

NO_STATEMENTS = "No statements for {name}{cohort}."
IN_COHORT = " in cohort {cohort}"
STATEMENTS_OF = "Statements of {name}"
STATEMENT_STATE = "{state} ({statement_type})"
NO_STATEMENT_DECLARATIONS = "No declarations on this statement."
STATEMENT_LINES_HEADING = "Declarations by type and line state"
NOTHING_TO_MARK_PAYABLE = "No statements to mark payable: none is open with a deadline before {as_of}."
MARKED_PAYABLE = "Marked payable (deadline before {as_of})"
STATEMENT_AUTHORISED = "Statement authorised for payment"
WROTE_ROWS = "Wrote {rows} declaration {noun} to {path}"
ROW, ROWS = "row", "rows"

FINANCE_PARTICIPANT_HEADING = "Participant"
NO_DECLARATIONS = "No declarations."
DECLARATION_HEADING = "Declaration"
STATE_HISTORY_HEADING = "Declaration State History"
ON_STATEMENT = "{name} (line {line_state})"
NO_FINANCE_INDUCTION_RECORDS = "No induction records."
YES_UPPER, NO_UPPER = "TRUE", "FALSE"
NOT_APPLICABLE = "N/A"

# --------------------------------------------------------------------------- help: the program


def examples(*lines: str) -> str:
    """A help epilog: the example command lines, last in the help."""
    heading = "Example:" if len(lines) == 1 else "Examples:"
    return "\n".join([heading, *(f"  {PROG} {line}" for line in lines)])


DESCRIPTION = (
    "Admin commands for the ECF Lead Provider API: imports, providers, tokens, schools, challenges,\n"
    "participants, finance, the change feed, the API request audit trail."
)
EXIT_STATUS = "Exit status: 0 success, 1 error (bad data, not found, AWS unreachable), 2 bad arguments."
PROGRAM_EXAMPLES = examples(
    "lead-providers add 'Ambition Institute'", "import-cohort data/demo-cohort", "--stage dev schools show 100000"
)
HELP_JSON = "print exactly one JSON document on stdout"
HELP_STAGE = "which tables to use (default: ${variable} or local)"
HELP_ENDPOINT = "DynamoDB endpoint (default for local/test: http://127.0.0.1:$DYNAMODB_PORT)"
HELP_VERSION = "print the version and exit"
HELP_COMMAND = "the command to run (see below)"
HELP_ACTION = "what to do (see below)"
VERSION = "%(prog)s {version}"

# --------------------------------------------------------------------------- help: shared arguments

HELP_YEAR = "cohort start year, for example 2025"
HELP_COHORTS = "cohort start year, for example 2025 (repeatable)"
HELP_LEAD_PROVIDER = "the lead provider's name, as added with 'lead-providers add'"
HELP_URN = "the school's URN (unique reference number from GIAS)"
HELP_PARTICIPANT_ID = "the participant's id (their user id)"
HELP_STATEMENT_ID = "the statement's id"

# --------------------------------------------------------------------------- help: commands

IMPORT_COHORT = "import a cohort folder of CSVs (safe to re-run)"
HELP_COHORT_DIR = "folder with cohort.csv, cohort_lead_providers.csv, contracts.csv, ..."
IMPORT_COHORT_EXAMPLE = examples("import-cohort data/demo-cohort")
IMPORT_SCHOOLS = "import a GIAS extract, ISO-8859-1 (safe to re-run)"
HELP_GIAS_FILE = "GIAS establishments CSV"
IMPORT_SCHOOLS_EXAMPLE = examples("import-schools edubasealldata20250101.csv")

LEAD_PROVIDERS = "add and list lead providers"
LEAD_PROVIDERS_EXAMPLE = examples("lead-providers add 'Ambition Institute'", "lead-providers list")
LEAD_PROVIDERS_ADD = "add a lead provider (names are unique)"
HELP_LEAD_PROVIDER_NAME = "the new lead provider's name"
LEAD_PROVIDERS_ADD_EXAMPLE = examples("lead-providers add 'Ambition Institute'")
LEAD_PROVIDERS_LIST = "list lead providers"
LEAD_PROVIDERS_LIST_EXAMPLE = examples("lead-providers list --json")

TOKENS = "issue, list and revoke API tokens"
TOKENS_EXAMPLE = examples("tokens create 'Ambition Institute'")
TOKENS_CREATE = "issue an API token for a lead provider (shown once)"
HELP_TOKEN_LEAD_PROVIDER = "the lead provider the token acts for"
TOKENS_LIST = "a lead provider's tokens: id, created, last used, revoked (never the token or its hash)"
TOKENS_LIST_EXAMPLE = examples("tokens list 'Ambition Institute'", "tokens list 'Ambition Institute' --json")
HELP_TOKENS_OF = "the lead provider whose tokens to list"
TOKENS_REVOKE = (
    "revoke a token by its id; API containers that cached it refuse it within AUTH_CACHE_SECONDS "
    "(the revocation delay), new lookups at once"
)
TOKENS_REVOKE_EXAMPLE = examples("tokens revoke 6f1c2a9e-3b7d-4c1e-9a2b-5d8e0f4c7b31")
HELP_TOKEN_ID = "the token's id (from tokens create or tokens list)"
NO_TOKENS = "{name} has no API tokens (create one with: {prog} tokens create '{name}')"
TOKEN_REVOKED = "Revoked API token {token_id} of {name}."

DELIVERY_PARTNERS = "add delivery partners and relate them to lead providers"
DELIVERY_PARTNERS_EXAMPLE = examples(
    "delivery-partners add 'Alpha Teaching School Hub' --lead-provider 'Ambition Institute' --cohort 2025",
    "delivery-partners relate DELIVERY_PARTNER_ID --lead-provider Capita --cohort 2025",
)
DELIVERY_PARTNERS_ADD = "add a delivery partner working with a lead provider"
HELP_DELIVERY_PARTNER_NAME = "the new delivery partner's name"
HELP_DP_LEAD_PROVIDER = "the lead provider the partner works with, by name"
DELIVERY_PARTNERS_ADD_EXAMPLE = examples(
    "delivery-partners add 'Alpha Teaching School Hub' --lead-provider 'Ambition Institute' --cohort 2024 --cohort 2025"
)
DELIVERY_PARTNERS_RELATE = "relate a delivery partner to a lead provider"
HELP_DELIVERY_PARTNER_ID = "the delivery partner's id (printed by 'delivery-partners add')"
DELIVERY_PARTNERS_RELATE_EXAMPLE = examples(
    "delivery-partners relate DELIVERY_PARTNER_ID --lead-provider Capita --cohort 2025"
)

SCHOOLS = "school programme choices and the admin view of a school"
SCHOOLS_EXAMPLE = examples("schools programme 100000 --cohort 2025 --choice provider_led", "schools show 100000")
SCHOOLS_PROGRAMME = "record a school's training programme for a cohort"
HELP_CHOICE = "the school's answer: how ECTs are trained that cohort"
SCHOOLS_PROGRAMME_EXAMPLE = examples("schools programme 100000 --cohort 2025 --choice provider_led")
SCHOOLS_SHOW = "show a school: GIAS details, eligibility, cohorts, partnerships"
SCHOOLS_SHOW_EXAMPLE = examples("schools show 100000", "schools show 100000 --json")

PARTNERSHIPS = "challenge partnerships"
PARTNERSHIPS_EXAMPLE = examples("partnerships challenge PARTNERSHIP_ID --reason mistake")
PARTNERSHIPS_CHALLENGE = "challenge a partnership on the school's behalf"
HELP_PARTNERSHIP_ID = "the partnership's id (see 'schools show URN')"
HELP_CHALLENGE_REASON = "why the school challenges it"
HELP_IGNORE_DEADLINE = "admin override: challenge even after the deadline"
PARTNERSHIPS_CHALLENGE_EXAMPLE = examples(
    "partnerships challenge PARTNERSHIP_ID --reason mistake",
    "partnerships challenge PARTNERSHIP_ID --reason another_provider --ignore-deadline",
)

PARTICIPANTS = "onboard, transfer and view participants (ECTs and mentors)"
PARTICIPANTS_EXAMPLE = examples(
    "participants add --urn 100000 --cohort 2025 --full-name 'Sam Smith' --email sam@example.org --type mentor",
    "participants show PARTICIPANT_ID",
)
PARTICIPANTS_ADD = "onboard a participant at a school and enrol them in the school cohort's programme"
HELP_ADD_URN = "the school the participant is at"
HELP_ADD_COHORT = "the cohort they start in (a start year, for example 2025)"
HELP_FULL_NAME = "the participant's full name"
HELP_EMAIL = "the participant's email address (unique)"
HELP_PARTICIPANT_TYPE = "ect (early career teacher) or mentor"
HELP_TRN = "teacher reference number"
HELP_MENTOR_EMAIL = "an onboarded mentor's email (ECTs)"
HELP_APPROPRIATE_BODY = "default: the school cohort's"
HELP_ENROL_PARTNERSHIP = "enrol in this partnership's programme (default: the school cohort's default programme)"
PARTICIPANTS_ADD_EXAMPLE = examples(
    "participants add --urn 100000 --cohort 2025 --full-name 'Ada Lovelace' --email ada@example.org --type ect "
    "--mentor-email sam@example.org"
)
PARTICIPANTS_TRANSFER = "move a participant to another school"
HELP_TO_URN = "the URN of the school they move to"
HELP_START_DATE = "YYYY-MM-DD (midnight UTC)"
HELP_KEEP_PROVIDER = "keep the lead provider and delivery partner (a relationship partnership at the new school)"
PARTICIPANTS_TRANSFER_EXAMPLE = examples("participants transfer PARTICIPANT_ID --to-urn 100001 --start-date 2025-01-06")
PARTICIPANTS_SHOW = "show a participant: profiles, current training, induction history, states"
PARTICIPANTS_SHOW_EXAMPLE = examples("participants show PARTICIPANT_ID")
PARTICIPANTS_ELIGIBILITY = "record a participant's funding eligibility check (the eligibility stream applies it)"
HELP_ELIGIBILITY_STATUS = "the check's outcome"
HELP_ELIGIBILITY_REASON = "default: none when eligible"
HELP_COURSE = "which profile (default: the ECT one, ecf-induction)"
PARTICIPANTS_ELIGIBILITY_EXAMPLE = examples(
    "participants eligibility PARTICIPANT_ID --status eligible",
    "participants eligibility PARTICIPANT_ID --status ineligible --reason duplicate_profile --course ecf-mentor",
)

FINANCE = "statements, declarations CSV and the finance participant view"
FINANCE_EXAMPLE = examples(
    "finance statements list --lead-provider 'Ambition Institute' --cohort 2025",
    "finance participant PARTICIPANT_ID",
)
FINANCE_PARTICIPANT = "find a participant by participant or declaration id"
HELP_FINANCE_QUERY = "a participant id (user id) or a declaration id"
FINANCE_PARTICIPANT_EXAMPLE = examples(
    "finance participant PARTICIPANT_ID", "finance participant DECLARATION_ID --json"
)
DECLARATIONS_CSV = "write a statement's declarations CSV"
HELP_CSV_OUTPUT = "default: the real service's file name, here"
DECLARATIONS_CSV_EXAMPLE = examples("finance declarations-csv STATEMENT_ID --output declarations.csv")

STATEMENTS = "list, show, mark payable and authorise statements"
STATEMENTS_EXAMPLE = examples(
    "finance statements list --lead-provider 'Ambition Institute' --cohort 2025",
    "finance statements mark-payable --as-of 2025-11-01",
    "finance statements authorise STATEMENT_ID",
)
STATEMENTS_LIST = "a lead provider's statements, by payment date"
HELP_STATEMENTS_COHORT = "only this cohort (a start year, for example 2025)"
STATEMENTS_LIST_EXAMPLE = examples("finance statements list --lead-provider 'Ambition Institute' --cohort 2025")
STATEMENTS_SHOW = "a statement and its declarations by type and line state"
STATEMENTS_SHOW_EXAMPLE = examples("finance statements show STATEMENT_ID")
STATEMENTS_MARK_PAYABLE = "move open statements whose deadline has passed, and their eligible declarations, to payable"
HELP_AS_OF = "the day it runs as (YYYY-MM-DD; default: today)"
HELP_ONLY_STATEMENT = "only this statement"
STATEMENTS_MARK_PAYABLE_EXAMPLE = examples(
    "finance statements mark-payable", "finance statements mark-payable --as-of 2025-11-01 --statement STATEMENT_ID"
)
STATEMENTS_AUTHORISE = "authorise a payable statement for payment: its payable declarations become paid"
STATEMENTS_AUTHORISE_EXAMPLE = examples("finance statements authorise STATEMENT_ID")

# Service errors re-worded with the command to run (services do not name CLI commands or flags).
USE_SCHOOLS_PROGRAMME = "{error} (use 'schools programme')"
KEEP_PROVIDER_NEEDS_PARTNERSHIP = "--keep-provider needs the participant's current programme to have a partnership"
COHORT_REQUIRED = "At least one --cohort is required"

# --------------------------------------------------------------------------- change feed

CHANGES = "the lead providers' change feed: replay stream batches that failed into it"
CHANGES_EXAMPLE = examples("changes replay-failures --max 20")
CHANGES_REPLAY = (
    "replay failed change-feed stream batches: read each dead-letter message's records from the stream again and "
    "record them (what was recorded before is not recorded twice); a message is deleted only once its records are "
    "recorded"
)
HELP_REPLAY_MAX = "at most this many dead-letter messages (default: 10)"
CHANGES_REPLAY_EXAMPLE = examples("changes replay-failures", "changes replay-failures --max 50 --json")
NO_FAILED_BATCHES = "No failed batches waiting in {queue}."
REPLAYED = "Replayed {replayed} of {total} failed batch(es) from {queue}; {appended} change(s) appended."
KEPT_ON_QUEUE = "Kept on the queue (they come back after {seconds}s for the next run):"
NOT_A_COUNT = "{text!r} is not a positive whole number"

# --------------------------------------------------------------------------- API request audit trail

API_REQUESTS = (
    "the API request audit trail: every /api/ request, recorded from the API's log lines (kept "
    "AUDIT_RETENTION_DAYS, default 90)"
)
API_REQUESTS_EXAMPLE = examples(
    "api-requests list --lead-provider 'Ambition Institute' --status 4xx --since 1d",
    "api-requests show 8f1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d",
)
API_REQUESTS_LIST = (
    "a lead provider's recorded requests, newest first: time, request id, method, path, status, duration "
    "(ms). Filters apply together."
)
HELP_API_LEAD_PROVIDER = "the lead provider whose requests to list (its name)"
HELP_SINCE = (
    "only requests at or after this time: RFC 3339 (2025-06-01T09:00:00Z), a date (2025-06-01, midnight UTC) or "
    "an age (30m, 6h, 2d)"
)
HELP_STATUS = "only this status (422) or class of statuses (4xx, 5xx)"
HELP_PATH_PREFIX = "only paths that start with this (/api/v3/participant-declarations)"
HELP_LIMIT = "at most this many requests (default: 50)"
API_REQUESTS_LIST_EXAMPLE = examples(
    "api-requests list --lead-provider 'Ambition Institute'",
    "api-requests list --lead-provider 'Ambition Institute' --status 422 --path /api/v3/participant-declarations",
    "api-requests list --lead-provider Capita --since 2025-06-01T09:00:00Z --status 5xx --json",
)
API_REQUESTS_SHOW = (
    "one recorded request: every field, the headers kept, the request body of a write and the response body of an "
    "error, pretty-printed"
)
HELP_REQUEST_ID = "the request id (the X-Request-Id response header, or the request_id of a 500 body)"
API_REQUESTS_SHOW_EXAMPLE = examples("api-requests show 8f1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d")
NO_API_REQUESTS = "No recorded requests of {name} match."
NO_API_REQUEST = (
    "No recorded request with id {id} (records are kept for AUDIT_RETENTION_DAYS, and arrive within about a "
    "minute of the request)"
)
API_REQUESTS_OF = "Requests of {name}, newest first"
API_REQUEST_HEADING = "Request {id}"
REQUEST_HEADERS_HEADING = "Request headers (whitelist; never Authorization)"
QUERY_HEADING = "Query"
REQUEST_BODY_HEADING = "Request body"
RESPONSE_BODY_HEADING = "Response body"
TRUNCATED_NOTE = "(cut at {limit} bytes)"
NOT_A_SINCE = "{text!r} is not a time (RFC 3339, YYYY-MM-DD, or an age such as 30m, 6h, 2d)"
NOT_A_STATUS = "{text!r} is not a status (a code such as 422, or a class such as 4xx)"
