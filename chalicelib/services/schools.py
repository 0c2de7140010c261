"""Schools: the v3 list and show, the SIT's programme choice, the admin view."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.paging import Order, Page
from chalicelib.domain.partnerships import SIT_CHOICES
from chalicelib.domain.records import PartnershipRecord, SchoolListing
from chalicelib.domain.schools import SchoolFacts, in_cip_only_scope, is_cip_only, is_eligible, is_open
from chalicelib.models import School, SchoolCohort
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as repo
from chalicelib.services.ids import is_uuid
from chalicelib.services.partnerships import facts, to_record


def _listed(school: School, cohort: int) -> bool:
    return bool(school.listed_by_eligibility) or cohort in (school.partnered_cohorts or set())


def _to_listing(school: School, cohort: int, school_cohort: SchoolCohort | None) -> SchoolListing:
    in_partnership = bool(
        school_cohort and (school_cohort.active_partnership_id or school_cohort.relationship_partnership_ids)
    )
    updated = school.updated_at
    if school_cohort is not None and school_cohort.updated_at > updated:
        updated = school_cohort.updated_at
    return SchoolListing(
        id=school.id,
        name=school.name,
        urn=school.urn,
        cohort=cohort,
        in_partnership=in_partnership,
        induction_programme_choice=school_cohort.induction_programme_choice if school_cohort else None,
        created_at=school.created_at,
        updated_at=updated,
    )


def list_schools(
    cohort: int, *, urn: str | None, updated_since: datetime | None, order: Order, page: Page
) -> list[SchoolListing]:
    """GET /api/v3/schools/ecf (ecf-domain.md 3.7). An unknown cohort lists nothing."""
    if cohort_repo.get_cohort(cohort) is None:
        return []
    if urn is not None:
        school = repo.get_school_by_urn(urn)
        if school is None or not _listed(school, cohort) or page.offset > 0:
            return []
        if updated_since is not None and school.updated_at < updated_since:
            return []
        return [_to_listing(school, cohort, repo.get_school_cohort(school.id, cohort))]
    ids = repo.listing_page(
        cohort,
        order=order.field,
        descending=order.descending,
        offset=page.offset,
        limit=page.per_page,
        updated_since=updated_since,
    )
    schools = repo.schools_by_id(ids)
    school_cohorts = repo.school_cohorts_for(ids, cohort)
    return [_to_listing(schools[i], cohort, school_cohorts.get(i)) for i in ids if i in schools]


def get_school(cohort: int, school_id: str) -> SchoolListing:
    """GET /api/v3/schools/ecf/{id}: the school if the list for that cohort would show it."""
    school = repo.get_school(school_id) if is_uuid(school_id) else None
    if school is None or cohort_repo.get_cohort(cohort) is None or not _listed(school, cohort):
        raise NotFound(school_id)
    return _to_listing(school, cohort, repo.get_school_cohort(school.id, cohort))


# --------------------------------------------------------------------------- SIT and admin


def set_programme_choice(urn: str, cohort: int, choice: str, now: datetime) -> SchoolCohort:
    """The school induction tutor confirms how the school will deliver training for a cohort."""
    if choice not in SIT_CHOICES:
        raise InputError(f"Unknown choice {choice!r}: use one of {', '.join(SIT_CHOICES)}")
    school = repo.get_school_by_urn(urn)
    if school is None:
        raise InputError(f"No school with URN {urn}")
    if cohort_repo.get_cohort(cohort) is None:
        raise InputError(f"No cohort {cohort}: import it first")
    stored = SIT_CHOICES[choice]
    try:
        return repo.save_programme_choice(
            school, cohort, stored, now, require_unpartnered=stored != SIT_CHOICES["provider_led"]
        )
    except Conflict as error:
        # ecf-domain.md 3.5 (ChangeCohortInductionProgramme)
        raise InputError("Cannot change induction programme for a partnered school") from error


@dataclass(frozen=True)
class CohortView:
    cohort: int
    training_programme: str | None
    appropriate_body: str | None
    delivery_partner: str | None
    lead_provider: str | None
    partnerships: tuple[PartnershipRecord, ...]


@dataclass(frozen=True)
class SchoolView:
    id: str
    urn: str
    name: str
    status: str | None
    type: str | None
    district: str | None
    section_41_approved: bool
    open: bool
    eligible: bool
    cip_only: bool
    cip_only_scope: bool
    contact_email: str | None
    created_at: datetime
    updated_at: datetime
    cohorts: tuple[CohortView, ...]


def show_school(urn: str) -> SchoolView:
    """The admin view: GIAS details, eligibility, and per cohort the programme and providers."""
    school = repo.get_school_by_urn(urn)
    if school is None:
        raise InputError(f"No school with URN {urn}")
    school_facts: SchoolFacts = facts(school)
    rows = partnership_repo.rows_for_school(school.id)
    by_cohort: dict[int, list[PartnershipRecord]] = {}
    for row in rows:
        by_cohort.setdefault(int(row.cohort), []).append(to_record(row, school))
    providers = {lp.id: lp.name for lp in provider_repo.list_lead_providers()}
    cohorts = []
    school_cohorts = {int(sc.cohort): sc for sc in repo.school_cohorts_of(school.id)}
    for year in sorted(set(school_cohorts) | set(by_cohort)):
        sc = school_cohorts.get(year)
        records = tuple(sorted(by_cohort.get(year, []), key=lambda r: r.created_at))
        active = next((r for r in records if sc and r.id == sc.active_partnership_id), None)
        cohorts.append(
            CohortView(
                cohort=year,
                training_programme=sc.induction_programme_choice if sc else None,
                appropriate_body=sc.appropriate_body if sc else None,
                delivery_partner=active.delivery_partner_name if active else None,
                lead_provider=providers.get(active.lead_provider_id) if active else None,
                partnerships=records,
            )
        )
    return SchoolView(
        id=school.id,
        urn=school.urn,
        name=school.name,
        status=school.school_status_name,
        type=school.school_type_name,
        district=school.administrative_district_code,
        section_41_approved=bool(school.section_41_approved),
        open=is_open(school_facts),
        eligible=is_eligible(school_facts),
        cip_only=is_cip_only(school_facts),
        cip_only_scope=in_cip_only_scope(school_facts),
        contact_email=school.primary_contact_email or school.secondary_contact_email,
        created_at=school.created_at,
        updated_at=school.updated_at,
        cohorts=tuple(cohorts),
    )
