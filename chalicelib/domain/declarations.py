"""Declarations: records, states and the submission rules (docs/reference/ecf-declarations-statements.md 1).

Pure: no storage and no clock. The service gathers the facts (``Facts``), ``validate`` applies the rules in
the real service's order with its gating, and ``outcome`` decides the state of a valid declaration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib.domain import messages as m
from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.participants import MENTOR, Record, latest

DECLARATION_TYPES = (
    "started",
    "retained-1",
    "retained-2",
    "retained-3",
    "retained-4",
    "completed",
    "extended-1",
    "extended-2",
    "extended-3",
)
STATES = ("submitted", "eligible", "payable", "paid", "voided", "ineligible", "awaiting_clawback", "clawed_back")
BILLABLE = frozenset({"eligible", "payable", "paid"})
# States that occupy the (user, course, declaration type) slot: at most one such declaration, across providers.
SLOT_STATES = frozenset({"submitted", "eligible", "payable", "paid"})
VOIDABLE = frozenset({"submitted", "eligible", "payable", "ineligible"})
REFUNDABLE = frozenset({"awaiting_clawback", "clawed_back"})
# Line states a void turns into ``voided`` (1.6).
VOIDABLE_LINE_STATES = frozenset({"eligible", "payable", "ineligible"})
UPLIFT_PAID_STATES = frozenset({"paid", "awaiting_clawback", "clawed_back"})

LEGACY_EVIDENCE = ("training-event-attended", "self-study-material-completed", "other")
DETAILED_EVIDENCE = (
    "training-event-attended",
    "self-study-material-completed",
    "materials-engaged-with-offline",
    "other",
)
ENGAGEMENT_EVIDENCE = ("75-percent-engagement-met", "75-percent-engagement-met-reduced-induction")
DUPLICATE = "duplicate"

# DeclarationDateValidator::RFC3339_DATE_REGEX (1.3, row 6a).
RFC3339 = re.compile(
    r"\A\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2}):(\d{2})([.,]\d+)?(Z|[+-](\d{2})(:?\d{2})?)?\Z", re.IGNORECASE
)
# ActiveModel's ISO datetime cast: date, ``T`` or a space, time, optional fraction and offset.
_ISO_CAST = re.compile(
    r"\A(\d{4})-(\d\d)-(\d\d)(?:T|\s)(\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:(Z)|([+-]\d\d)(?::?(\d\d))?)?\Z",
    re.IGNORECASE,
)
_DATE_ONLY = re.compile(r"\A(\d{4})-(\d{1,2})-(\d{1,2})\Z")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Declaration:
    id: str
    user_id: str
    profile_id: str
    participant_type: str
    lead_provider_id: str
    lead_provider_name: str
    cohort: int
    course_identifier: str
    declaration_type: str
    declaration_date: datetime
    evidence_held: str | None
    state: str
    state_reason: str | None
    delivery_partner_id: str | None
    mentor_user_id: str | None
    superseded_by_id: str | None
    pupil_premium_uplift: bool
    sparsity_uplift: bool
    statement_id: str | None
    line_state: str | None
    clawback_statement_id: str | None
    viewers: frozenset[str]
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int | None = None

    @property
    def holds_slot(self) -> bool:
        return self.state in SLOT_STATES

    @property
    def billable_statement_id(self) -> str | None:
        """v3 ``statement_id``: the statement of the line in a billable state."""
        return self.statement_id if self.line_state in BILLABLE else None

    @property
    def uplift_paid(self) -> bool:
        return (
            self.course_identifier == "ecf-induction"
            and self.declaration_type == "started"
            and self.state in UPLIFT_PAID_STATES
            and (self.sparsity_uplift or self.pupil_premium_uplift)
        )

    @property
    def ineligible_for_funding_reason(self) -> str | None:
        if self.state != "ineligible":
            return None
        return "duplicate_declaration" if self.state_reason == DUPLICATE else self.state_reason


@dataclass(frozen=True)
class StateChange:
    declaration_id: str
    state: str
    reason: str | None
    at: datetime
    actor: str | None = None


@dataclass(frozen=True)
class Attempt:
    id: str
    user_id: str
    lead_provider_id: str
    course_identifier: str | None
    declaration_date: str | None
    declaration_type: str | None
    evidence_held: str | None
    created_at: datetime
    declaration_id: str | None = None


@dataclass(frozen=True)
class Milestone:
    declaration_type: str
    start_date: datetime | None
    milestone_date: datetime | None


@dataclass(frozen=True)
class ProviderDeclarationView:
    """That ``lead_provider_id`` may see the declaration (in v3; ``in_v1_v2`` also in v1 and v2)."""

    lead_provider_id: str
    declaration_id: str
    user_id: str
    cohort: int
    delivery_partner_id: str | None
    in_v1_v2: bool
    created_at: datetime
    updated_at: datetime


def slot_key(user_id: str, course_identifier: str, declaration_type: str) -> str:
    return f"{user_id}#{course_identifier}#{declaration_type}"


def dasherised(state: str) -> str:
    return state.replace("_", "-")


# --------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class DeclarationDate:
    raw: object
    value: datetime | None  # after the cast; None when blank or impossible

    @property
    def blank(self) -> bool:
        return self.raw is None or (isinstance(self.raw, str) and not self.raw.strip())

    @property
    def well_formed(self) -> bool:
        """Row 6a: the RFC 3339 pattern (offset optional: no offset is UTC) and a real time."""
        return isinstance(self.raw, str) and bool(RFC3339.match(self.raw)) and self.value is not None


def cast_declaration_date(raw: object) -> DeclarationDate:
    """The ``:datetime`` cast: ISO-like strings (``T`` or a space), then bare dates; impossible dates are None."""
    if not isinstance(raw, str) or not raw.strip():
        return DeclarationDate(raw, None)
    text = raw.strip()
    match = _ISO_CAST.match(text)
    try:
        if match:
            year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
            fraction = match.group(7) or "0"
            micro = int((fraction + "000000")[:6])
            offset = timedelta(0)
            if match.group(9):
                sign = -1 if match.group(9).startswith("-") else 1
                offset = sign * timedelta(hours=int(match.group(9)[1:]), minutes=int(match.group(10) or 0))
            value = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC) - offset
            return DeclarationDate(raw, value)
        match = _DATE_ONLY.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return DeclarationDate(raw, datetime(year, month, day, tzinfo=UTC))
    except ValueError:
        pass
    return DeclarationDate(raw, None)


def start_of_day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def end_of_day(value: datetime) -> datetime:
    return value.replace(hour=23, minute=59, second=59, microsecond=999999)


def rfc3339_seconds(value: datetime) -> str:
    """``2024-05-01T10:00:00Z``: Rails' ``rfc3339`` in UTC, no fraction."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- evidence (1.4)


_MENTOR_EVIDENCE = {"started": DETAILED_EVIDENCE, "completed": ENGAGEMENT_EVIDENCE}
_ECT_EVIDENCE = {"retained-2": ENGAGEMENT_EVIDENCE, "completed": (*ENGAGEMENT_EVIDENCE, "one-term-induction")}


def allowed_evidence(detailed: bool, participant_type: str, declaration_type: str) -> tuple[str, ...]:
    if not detailed:
        return LEGACY_EVIDENCE
    if participant_type == MENTOR:
        return _MENTOR_EVIDENCE.get(declaration_type, ())
    return _ECT_EVIDENCE.get(declaration_type, DETAILED_EVIDENCE)


def evidence_error(detailed: bool, participant_type: str, declaration_type: str, evidence: object) -> str | None:
    """None when the evidence is acceptable. Legacy ``started`` ignores it; detailed ``started`` may omit it."""
    blank = evidence is None or (isinstance(evidence, str) and not evidence.strip())
    if declaration_type == "started" and (not detailed or blank):
        return None
    if blank:
        return m.EVIDENCE_HELD_BLANK
    if evidence not in allowed_evidence(detailed, participant_type, declaration_type):
        return m.EVIDENCE_HELD_INVALID
    return None


def stored_evidence(detailed: bool, declaration_type: str, evidence: object) -> str | None:
    """Legacy cohorts store no evidence for ``started``, whatever was sent."""
    if declaration_type == "started" and not detailed:
        return None
    if evidence is None or (isinstance(evidence, str) and not evidence.strip()):
        return None
    return str(evidence)


# --------------------------------------------------------------------------- validation (1.3)


@dataclass(frozen=True)
class ProviderState:
    """The provider's latest profile state (``participant_profile_states``) for a participant."""

    state: str
    created_at: datetime


@dataclass(frozen=True)
class Facts:
    """Everything the rules look at, gathered by the service before it decides."""

    course_identifier: object
    declaration_type: object
    declaration_date: DeclarationDate
    evidence_held: object
    now: datetime
    user_resolved: bool
    participant_type: str | None  # the course's type (ect/mentor) when the course is known
    profile_found: bool
    user_has_course: bool  # an active-status profile of the user has this course
    provider_state: ProviderState | None
    provider_record_at_date: Record | None  # the provider's latest record started on or before the date
    milestone: Milestone | None
    schedule_has_milestone: bool
    existing_state: str | None  # the slot's declaration (same user, course, type) in submitted..paid, any provider
    fundable: bool
    cohort: int | None
    has_output_statement: bool
    mentor_funding: bool
    detailed_evidence: bool
    provider_trains_on_schedule: bool  # row 12: a record with this provider, on the profile's schedule


@dataclass
class Errors:
    by_attribute: dict[str, list[str]] = field(default_factory=dict)

    def add(self, attribute: str, message: str) -> None:
        messages = self.by_attribute.setdefault(attribute, [])
        if message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.by_attribute)


def is_npq(course_identifier: object) -> bool:
    return str(course_identifier or "").startswith("npq-")


def validate(facts: Facts) -> dict[str, list[str]]:
    """The 422 errors in the real order and gating; empty when the declaration may be recorded."""
    errors = Errors()
    _participant_and_date_rules(facts, errors)  # rows 1-6
    _profile_rules(facts, errors)  # rows 7-10
    if not errors:
        _gated_rules(facts, errors)  # rows 11-13
    return errors.by_attribute


def _participant_and_date_rules(facts: Facts, errors: Errors) -> None:
    """Rows 1-6: the participant, the withdrawal, the declaration type and the date."""
    date = facts.declaration_date
    if not facts.user_resolved:  # row 1
        errors.add("participant_id", m.PARTICIPANT_NOT_RECOGNISED)
    withdrawn = withdrawn_on(facts)
    if withdrawn is not None:  # row 2
        errors.add("participant_id", m.declaration_after_withdrawal(rfc3339_seconds(withdrawn)))
    if date.value is None:  # row 3
        errors.add("declaration_date", m.DECLARATION_DATE_BLANK)
    if facts.declaration_type is None or (
        isinstance(facts.declaration_type, str) and not facts.declaration_type.strip()
    ):
        errors.add("declaration_type", m.DECLARATION_TYPE_BLANK)  # row 4
    if date.value is not None and date.value > facts.now:  # row 5
        errors.add("declaration_date", m.DECLARATION_DATE_FUTURE)
    if not date.blank:  # row 6
        if not date.well_formed:
            errors.add("declaration_date", m.DECLARATION_DATE_INVALID)
        _milestone_window(facts, errors)


def _profile_rules(facts: Facts, errors: Errors) -> None:
    """Rows 7-10: what the participant's profile and schedule allow."""
    if not facts.profile_found:
        return
    _statement_available(facts, errors)  # row 7
    if not facts.schedule_has_milestone:  # row 8
        errors.add("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE)
    if facts.existing_state is not None:  # row 9
        errors.add("base", m.DECLARATION_ALREADY_SUBMITTED)
    if (
        facts.participant_type == MENTOR
        and facts.mentor_funding
        and facts.declaration_type not in ("started", "completed")
    ):
        errors.add("declaration_type", m.MENTOR_STARTED_OR_COMPLETED_ONLY)  # row 10


def _gated_rules(facts: Facts, errors: Errors) -> None:
    """Rows 11-13: each applies only when nothing before it failed, so at most one of them is reported."""
    if not facts.user_has_course:  # row 11
        errors.add("course_identifier", m.COURSE_IDENTIFIER_INVALID)
        return
    if not facts.profile_found or not facts.provider_trains_on_schedule:  # row 12
        errors.add("participant_id", m.PARTICIPANT_NOT_RECOGNISED)
        return
    if facts.participant_type is not None:  # row 13
        message = evidence_error(
            facts.detailed_evidence, facts.participant_type, str(facts.declaration_type), facts.evidence_held
        )
        if message:
            errors.add("evidence_held", message)


def withdrawn_on(facts: Facts) -> datetime | None:
    """Row 2: when the provider withdrew the participant, if that bars a declaration at this date.

    Exempt when the provider's record as of the date is active (a resumed participant). A missing date
    skips the rule (the real service raises there); no record as of the date counts as not active.
    """
    state, when = facts.provider_state, facts.declaration_date.value
    if not facts.profile_found or state is None or state.state != "withdrawn" or when is None:
        return None
    if state.created_at > when:
        return None
    record = facts.provider_record_at_date
    if record is not None and record.training_status == "active":
        return None
    return state.created_at


def _milestone_window(facts: Facts, errors: Errors) -> None:
    milestone, when = facts.milestone, facts.declaration_date.value
    if milestone is None or when is None:
        return
    if milestone.start_date is not None and when < start_of_day(milestone.start_date):
        errors.add("declaration_date", m.DECLARATION_BEFORE_MILESTONE_START)
    if milestone.milestone_date is not None and end_of_day(milestone.milestone_date) <= when:
        errors.add("declaration_date", m.DECLARATION_AFTER_MILESTONE_END)


def _statement_available(facts: Facts, errors: Errors) -> None:
    if facts.existing_state == "submitted":
        return
    if facts.existing_state is None and not facts.fundable:
        return
    if facts.has_output_statement:
        return
    errors.add("cohort", m.funding_contract_ended(facts.cohort))


def record_at(records: Sequence[Record], when: datetime, mine: object) -> Record | None:
    """``Induction::FindBy(date_range: ..when)``: the provider's latest record started on or before ``when``."""
    keep = mine if callable(mine) else (lambda r: True)
    return latest(records, lambda r: r.start_date <= when and bool(keep(r)))


# --------------------------------------------------------------------------- outcome (1.5)


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str | None
    superseded_by_id: str | None

    @property
    def attaches(self) -> bool:
        """Eligible and ineligible declarations get a line on the next output-fee statement."""
        return self.state != "submitted"


def outcome(duplicate_of: str | None, fundable: bool) -> Outcome:
    if duplicate_of is not None:
        return Outcome("ineligible", DUPLICATE, duplicate_of)
    if fundable:
        return Outcome("eligible", None, None)
    return Outcome("submitted", None, None)


# --------------------------------------------------------------------------- void (1.6)


@dataclass(frozen=True)
class VoidPlan:
    state: str  # voided | awaiting_clawback
    clawback: bool


def plan_void(declaration: Declaration, has_output_statement: bool) -> VoidPlan:
    """What a void does, or ``InvalidTransition`` with the exact message."""
    if declaration.state == "paid":
        problems = []
        if declaration.clawback_statement_id is not None:
            problems.append(m.CLAWBACK_ALREADY_REFUNDED)
        if declaration.state != "paid":
            problems.append(m.CLAWBACK_NOT_PAID)
        if not has_output_statement:
            problems.append(m.funding_contract_ended(declaration.cohort))
        if problems:
            raise InvalidTransition(", ".join(f"Participant declaration {p}" for p in problems))
        return VoidPlan("awaiting_clawback", clawback=True)
    if declaration.state == "voided":
        raise InvalidTransition(m.ALREADY_VOIDED)
    if declaration.state not in VOIDABLE:
        raise InvalidTransition(m.CLAWED_BACK_VIEW_ONLY)
    return VoidPlan("voided", clawback=False)


# --------------------------------------------------------------------------- visibility (1.7)


def visible_to(
    declaration: Declaration, lead_provider_id: str, records_of_provider: Sequence[Record]
) -> tuple[bool, bool]:
    """(visible in v3, visible in v1/v2) for a provider, given that provider's records on the profile.

    Own declarations: always. Others': only submitted..paid, when the provider has an active or completed
    record on the profile (v1, v2, v3), or a leaving one that ended on or after the declaration date (v3).
    """
    if declaration.lead_provider_id == lead_provider_id:
        return True, True
    if declaration.state not in SLOT_STATES:
        return False, False
    v12 = any(r.induction_status in ("active", "completed") for r in records_of_provider)
    v3 = v12 or any(
        r.induction_status == "leaving" and (r.end_date is None or declaration.declaration_date <= r.end_date)
        for r in records_of_provider
    )
    return v3, v12


# --------------------------------------------------------------------------- changes the repository applies


@dataclass(frozen=True)
class DeclarationChange:
    """One declaration's change, written all or nothing.

    ``before`` is what was read (None for a new declaration): the write is conditional on it being unchanged.
    The billable slot follows the states: taken when ``after`` holds it and ``before`` did not, released the
    other way round. ``open_statement_id``: the statement a new line goes on must still be open.
    """

    before: Declaration | None
    after: Declaration
    states: tuple[StateChange, ...] = ()
    new_lines: tuple[StatementLineChange, ...] = ()
    changed_lines: tuple[StatementLineChange, ...] = ()
    views: tuple[ProviderDeclarationView, ...] = ()
    removed_viewers: tuple[str, ...] = ()
    open_statement_id: str | None = None
    attempt: Attempt | None = None

    @property
    def takes_slot(self) -> bool:
        return self.after.holds_slot and (self.before is None or not self.before.holds_slot)

    @property
    def releases_slot(self) -> bool:
        return self.before is not None and self.before.holds_slot and not self.after.holds_slot

    @property
    def size(self) -> int:
        """Items in the transaction."""
        return (
            1
            + int(self.takes_slot or self.releases_slot)
            + len(self.states)
            + len(self.new_lines)
            + len(self.changed_lines)
            + len(self.views)
            + len(self.removed_viewers)
            + int(self.open_statement_id is not None)
            + int(self.attempt is not None)
            + int(self.before is None)  # the user's declarations flag
        )


@dataclass(frozen=True)
class StatementLineChange:
    statement_id: str
    declaration_id: str
    state: str
    refundable: bool
    declaration_type: str
    participant_name: str
    at: datetime
