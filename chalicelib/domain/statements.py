"""Statements, their lines, and participant eligibility (docs/reference/ecf-declarations-statements.md 2;
docs/reference/ecf-domain.md 1.11).

Pure: no storage and no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

OPEN = "ECF"
PAYABLE = "ECF::Payable"
PAID = "ECF::Paid"
STATEMENT_TYPES = (OPEN, PAYABLE, PAID)

ELIGIBILITY_STATUSES = ("eligible", "matched", "manual_check", "ineligible")
ELIGIBILITY_REASONS = (
    "active_flags",
    "previous_participation",
    "previous_induction",
    "no_qts",
    "different_trn",
    "duplicate_profile",
    "none",
    "no_induction",
    "exempt_from_induction",
)


@dataclass(frozen=True)
class Statement:
    id: str
    lead_provider_id: str
    cohort: int
    name: str
    statement_type: str
    deadline_date: date
    payment_date: date
    output_fee: bool
    marked_as_paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
    contract_version: str = "0.0.1"
    mentor_contract_version: str = "0.0.1"

    @property
    def is_open(self) -> bool:
        return self.statement_type == OPEN

    @property
    def payable(self) -> bool:
        return self.statement_type == PAYABLE

    @property
    def paid(self) -> bool:
        return self.statement_type == PAID

    @property
    def month(self) -> str:
        """The name's first word: "November 2021" → "November"."""
        found = re.search(r"[^\s]+", self.name)
        return found.group(0) if found else ""

    @property
    def year(self) -> str:
        """The name's first run of digits: "November 2021" → "2021"."""
        found = re.search(r"\d+", self.name)
        return found.group(0) if found else ""


def initial_type(deadline: date | None, payment: date | None, today: date) -> str:
    """The importer's class from dates (docs/reference/ecf-domain.md 4): Paid if paid in the past, Payable inside
    [deadline, payment], else open."""
    if payment and payment < today:
        return PAID
    if deadline and payment and deadline <= today <= payment:
        return PAYABLE
    return OPEN


@dataclass(frozen=True)
class StatementLine:
    statement_id: str
    declaration_id: str
    state: str
    refundable: bool
    declaration_type: str
    participant_name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Eligibility:
    profile_id: str
    user_id: str
    status: str
    reason: str | None
    change_id: str
    pending: bool
    created_at: datetime
    updated_at: datetime

    @property
    def fundable(self) -> bool:
        return self.status == "eligible"

    @property
    def eligible_for_funding(self) -> bool | None:
        """The API's ``eligible_for_funding``: true if eligible, false if ineligible, else null."""
        if self.status == "eligible":
            return True
        if self.status == "ineligible":
            return False
        return None


def trn_validated(trn: str | None, eligibility: Eligibility | None) -> bool:
    """``teacher_reference_number_validated``: true when the participant has a TRN and an eligibility row whose
    reason is not ``different_trn``. The real service sends null without a TRN; the reference schema does not
    allow null there, so that case is false."""
    return bool(trn) and eligibility is not None and eligibility.reason != "different_trn"


class StatementRefused(Exception):
    """A finance action that does not apply to the statement (the CLI's one-line error)."""
