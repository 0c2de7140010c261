"""Partnership use cases: create (report), update, challenge, read.

Validation follows docs/reference/ecf-domain.md 3.1 and 3.3 in order; the uniqueness of the
active partnership is left to the conditional transaction in the repository.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from chalicelib.domain import messages as m
from chalicelib.domain.clock import start_of_day
from chalicelib.domain.cohorts import listed_by_default
from chalicelib.domain.errors import Conflict, InputError, NotFound, ValidationFailed
from chalicelib.domain.paging import Listing, Order, Page
from chalicelib.domain.partnerships import (
    CHALLENGE_REASONS,
    Partnership,
    challenge_deadline,
    in_challenge_window,
    partnership_record,
    programme_choice_after_challenge,
)
from chalicelib.domain.providers import DeliveryPartner
from chalicelib.domain.records import Cohort, PartnershipRecord
from chalicelib.domain.schools import School, is_cip_only, is_eligible
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import partnerships as repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services.ids import is_uuid, parse_year

ATTEMPTS = 3


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------- create


def create_partnership(lead_provider_id: str, attributes: Mapping[str, Any], now: datetime) -> PartnershipRecord:
    """POST /api/v3/partnerships/ecf. Raises ValidationFailed with the seed's messages."""
    for _ in range(ATTEMPTS):
        school, partnership, is_new = _plan_report(lead_provider_id, attributes, now)
        try:
            saved = repo.save_reported(partnership, is_new=is_new, now=now)
        except Conflict:
            # Someone else wrote this school cohort first: validate again against what they wrote.
            continue
        return partnership_record(saved, school)
    raise Conflict(m.PARTNERSHIP_CONCURRENT_CHANGES)


def _plan_report(
    lead_provider_id: str, attributes: Mapping[str, Any], now: datetime
) -> tuple[School, Partnership, bool]:
    cohort, school, partner = _validated_report(lead_provider_id, attributes)
    return _planned_partnership(lead_provider_id, cohort, school, partner, now)


def _validated_report(lead_provider_id: str, attributes: Mapping[str, Any]) -> tuple[Cohort, School, DeliveryPartner]:
    """The report's cohort, school and delivery partner, or ValidationFailed with every field's error in order."""
    errors: dict[str, list[str]] = {}
    cohort = _reported_cohort(attributes.get("cohort"), errors)
    _check_lead_provider(lead_provider_id, errors)
    school = _reported_school(attributes.get("school_id"), cohort, lead_provider_id, errors)
    partner = _reported_partner(attributes.get("delivery_partner_id"), cohort, lead_provider_id, errors)
    if errors:
        raise ValidationFailed(errors)
    assert cohort is not None
    assert school is not None
    assert partner is not None
    return cohort, school, partner


def _reported_cohort(raw_cohort: Any, errors: dict[str, list[str]]) -> Cohort | None:
    if _blank(raw_cohort):
        errors["cohort"] = [m.COHORT_BLANK]
        return None
    year = parse_year(raw_cohort)
    cohort = cohort_repo.get_cohort(year) if year is not None else None
    if cohort is None:
        errors["cohort"] = [m.COHORT_INVALID]
    return cohort


def _check_lead_provider(lead_provider_id: str, errors: dict[str, list[str]]) -> None:
    lead_provider = provider_repo.get_lead_provider(lead_provider_id) if lead_provider_id else None
    if not lead_provider_id:
        errors["lead_provider_id"] = [m.LEAD_PROVIDER_BLANK]
    elif lead_provider is None:
        errors["lead_provider_id"] = [m.LEAD_PROVIDER_INVALID]


def _reported_school(
    raw_school: Any, cohort: Cohort | None, lead_provider_id: str, errors: dict[str, list[str]]
) -> School | None:
    if _blank(raw_school):
        errors["school_id"] = [m.SCHOOL_BLANK]
        return None
    school = school_repo.find_school(str(raw_school)) if is_uuid(raw_school) else None
    problem = _school_problem(school, cohort.start_year if cohort else None, lead_provider_id)
    if problem:
        errors["school_id"] = [problem]
    return school


def _reported_partner(
    raw_partner: Any, cohort: Cohort | None, lead_provider_id: str, errors: dict[str, list[str]]
) -> DeliveryPartner | None:
    if _blank(raw_partner):
        errors["delivery_partner_id"] = [m.DELIVERY_PARTNER_BLANK]
        return None
    partner = provider_repo.get_delivery_partner(str(raw_partner)) if is_uuid(raw_partner) else None
    if partner is None:
        errors["delivery_partner_id"] = [m.DELIVERY_PARTNER_INVALID]
    elif cohort is not None and not provider_repo.get_relationship(lead_provider_id, partner.id, cohort.start_year):
        errors["delivery_partner_id"] = [m.DELIVERY_PARTNER_NO_RELATIONSHIP]
    return partner


def _planned_partnership(
    lead_provider_id: str, cohort: Cohort, school: School, partner: DeliveryPartner, now: datetime
) -> tuple[School, Partnership, bool]:
    """The row the report writes: our challenged row or a relationship row with this partner, else a new row."""
    year = cohort.start_year
    rows = repo.find_school_cohort_partnerships(school.id, year)
    row = next(
        (
            r
            for r in rows
            if r.relationship and r.lead_provider_id == lead_provider_id and r.delivery_partner_id == partner.id
        ),
        None,
    ) or next((r for r in rows if not r.relationship and r.lead_provider_id == lead_provider_id), None)
    if row is not None and not row.relationship and not row.challenge_reason:
        # Our own confirmed row appeared after the school check read the school cohort (a concurrent report).
        raise ValidationFailed({"school_id": [m.ALREADY_CONFIRMED]})
    deadline = challenge_deadline(now, academic_start(cohort))
    if row is None:
        partnership_id = str(uuid.uuid4())
        new = Partnership(
            id=partnership_id,
            school_id=school.id,
            urn=school.urn,
            lead_provider_id=lead_provider_id,
            delivery_partner_id=partner.id,
            delivery_partner_name=partner.name,
            cohort=year,
            relationship=False,
            pending=False,
            challenged_at=None,
            challenge_reason=None,
            challenge_deadline=deadline,
            report_id=str(uuid.uuid4()),
            created_at=now,
            updated_at=now,
            induction_tutor_email=school.contact_email,
        )
        return school, new, True
    # A challenged row of ours, or a relationship row with this partner, becomes the reported row.
    reported = replace(
        row,
        relationship=False,
        pending=False,
        challenge_reason=None,
        challenged_at=None,
        delivery_partner_id=partner.id,
        delivery_partner_name=partner.name,
        report_id=str(uuid.uuid4()),
        challenge_deadline=deadline,
        induction_tutor_email=school.contact_email,
    )
    return school, reported, False


def academic_start(cohort: Cohort) -> datetime | None:
    """The start of the cohort's academic year (midnight), which a challenge deadline counts from."""
    value = cohort.academic_year_start_date
    return start_of_day(value.date()) if value is not None else None


def _school_problem(school: School | None, year: int | None, lead_provider_id: str) -> str | None:
    """The first failing school check (docs/reference/ecf-domain.md 3.1 step 3)."""
    if school is None:
        return m.SCHOOL_INVALID
    if is_cip_only(school.facts):
        return m.SCHOOL_CIP_ONLY
    if not is_eligible(school.facts):
        return m.SCHOOL_INELIGIBLE
    if year is None:
        return None  # the cohort error is reported; the rest depends on the cohort
    return _school_cohort_problem(school, year, lead_provider_id)


def _school_cohort_problem(school: School, year: int, lead_provider_id: str) -> str | None:
    """The school's checks in the reported cohort: not already recruited, and last year's programme confirmed."""
    school_cohort = school_repo.find_school_cohort(school.id, year)
    active_provider = school_cohort.active_lead_provider_id if school_cohort else None
    if active_provider == lead_provider_id:
        return m.ALREADY_CONFIRMED
    if active_provider:
        return m.RECRUITED_BY_OTHER_PROVIDER
    if school_cohort is None:
        previous = school_repo.find_school_cohort(school.id, year - 1)
        if previous is not None and previous.active_partnership_id:
            return m.SCHOOL_PROGRAMME_NOT_YET_CONFIRMED
    return None


# --------------------------------------------------------------------------- update


def update_partnership(
    lead_provider_id: str, partnership_id: str, attributes: Mapping[str, Any], now: datetime
) -> PartnershipRecord:
    """PUT /api/v3/partnerships/ecf/{id}: change the delivery partner (docs/reference/ecf-domain.md 3.3)."""
    for _ in range(ATTEMPTS):
        partnership = _own_row(lead_provider_id, partnership_id)
        raw_partner = attributes.get("delivery_partner_id")
        if _blank(raw_partner):
            raise ValidationFailed({"delivery_partner_id": [m.DELIVERY_PARTNER_BLANK]})
        partner = provider_repo.get_delivery_partner(str(raw_partner)) if is_uuid(raw_partner) else None
        if partner is None:
            raise ValidationFailed({"delivery_partner_id": [m.DELIVERY_PARTNER_INVALID]})
        cohort = partnership.cohort
        if not provider_repo.get_relationship(lead_provider_id, partner.id, cohort):
            raise ValidationFailed({"delivery_partner_id": [m.DELIVERY_PARTNER_NO_RELATIONSHIP]})
        if partnership.challenge_reason:
            raise ValidationFailed({"partnership": [m.PARTNERSHIP_CHALLENGED]})
        rows = repo.find_school_cohort_partnerships(partnership.school_id, cohort)
        if any(
            r.relationship
            and r.id != partnership.id
            and r.lead_provider_id == lead_provider_id
            and r.delivery_partner_id == partner.id
            for r in rows
        ):
            raise ValidationFailed({"delivery_partner_id": [m.RELATIONSHIP_ALREADY_EXISTS]})
        school = school_repo.find_school(partnership.school_id)
        assert school is not None
        if partner.id == partnership.delivery_partner_id:
            return partnership_record(partnership, school)
        cohort_row = cohort_repo.get_cohort(cohort)
        changed = replace(
            partnership,
            delivery_partner_id=partner.id,
            delivery_partner_name=partner.name,
            report_id=str(uuid.uuid4()),
            challenge_deadline=challenge_deadline(now, academic_start(cohort_row) if cohort_row else None),
            induction_tutor_email=school.contact_email,
        )
        try:
            saved = repo.save_delivery_partner_change(changed, now=now)
        except Conflict:
            continue
        return partnership_record(saved, school)
    raise Conflict(m.PARTNERSHIP_CONCURRENT_CHANGES)


def _own_row(lead_provider_id: str, partnership_id: str) -> Partnership:
    """The caller's own non-relationship row, or NotFound (a foreign id looks like a missing one)."""
    partnership = repo.find_partnership(partnership_id) if is_uuid(partnership_id) else None
    if partnership is None or partnership.lead_provider_id != lead_provider_id or partnership.relationship:
        raise NotFound(partnership_id)
    return partnership


# --------------------------------------------------------------------------- challenge


def challenge_partnership(
    partnership_id: str, reason: str | None, now: datetime, *, ignore_deadline: bool = False
) -> PartnershipRecord:
    """A school (or admin) challenge (docs/reference/ecf-domain.md 3.4). Admins may ignore the deadline."""
    partnership = repo.find_partnership(partnership_id) if is_uuid(partnership_id) else None
    if partnership is None:
        raise NotFound(partnership_id)
    if not reason or reason not in CHALLENGE_REASONS:
        raise InputError(m.CHALLENGE_REASON_REQUIRED)
    if partnership.challenge_reason:
        raise InputError(m.CHALLENGE_ALREADY_CHALLENGED)
    if not ignore_deadline and not in_challenge_window(partnership.challenge_deadline, now):
        raise InputError(m.CHALLENGE_DEADLINE_PASSED)
    school = school_repo.find_school(partnership.school_id)
    assert school is not None
    school_cohort = school_repo.find_school_cohort(school.id, partnership.cohort)
    holds_lock = school_cohort is not None and school_cohort.active_partnership_id == partnership.id
    challenged = replace(partnership, challenge_reason=reason, challenged_at=now)
    try:
        saved = repo.save_challenged(
            challenged,
            holds_lock=holds_lock,
            programme_choice=programme_choice_after_challenge(reason),
            school_listed_by_eligibility=school.listed_by_eligibility,
            now=now,
        )
    except Conflict as error:
        raise InputError(m.CHALLENGE_ALREADY_CHALLENGED) from error
    return partnership_record(saved, school)


# --------------------------------------------------------------------------- read


def get_partnership(lead_provider_id: str, partnership_id: str) -> PartnershipRecord:
    partnership = _own_row(lead_provider_id, partnership_id)
    school = school_repo.find_school(partnership.school_id)
    assert school is not None
    return partnership_record(partnership, school)


def list_partnerships(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int] | None,
    delivery_partner_ids: Sequence[str] | None,
    updated_since: datetime | None,
    order: Order,
    page: Page,
) -> Listing[PartnershipRecord]:
    years = list(cohorts) if cohorts else [year for year in cohort_repo.years() if listed_by_default(year)]
    if not years:
        return Listing()
    found = repo.list_page(
        lead_provider_id,
        cohorts=years,
        delivery_partner_ids=delivery_partner_ids,
        order=order.field,
        descending=order.descending,
        page=page,
        updated_since=updated_since,
    )
    rows = repo.find_partnerships(found.keys)  # each row carries its school's contact email: no school reads
    return Listing([partnership_record(rows[i]) for i in found.keys if i in rows], found.next)


def admin_rows_for_school(school_id: str) -> list[PartnershipRecord]:
    school = school_repo.find_school(school_id)
    if school is None:
        raise NotFound(school_id)
    return [partnership_record(p, school) for p in repo.find_school_partnerships(school_id)]
