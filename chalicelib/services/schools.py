"""Schools: the v3 list and show, the SIT's programme choice, the admin view."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.paging import Listing, Order, Page
from chalicelib.domain.partnerships import SIT_CHOICES, partnership_record
from chalicelib.domain.records import CohortView, PartnershipRecord, SchoolListing, SchoolView
from chalicelib.domain.schools import School, SchoolCohort, in_cip_only_scope, is_cip_only, is_eligible, is_open
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import providers as provider_repo
from chalicelib.repositories import schools as repo
from chalicelib.services.ids import is_uuid


def _to_listing(school: School, cohort: int, school_cohort: SchoolCohort | None) -> SchoolListing:
    updated = school.updated_at
    if school_cohort is not None and school_cohort.updated_at > updated:
        updated = school_cohort.updated_at
    return SchoolListing(
        id=school.id,
        name=school.name,
        urn=school.urn,
        cohort=cohort,
        in_partnership=school_cohort is not None and school_cohort.in_partnership,
        induction_programme_choice=school_cohort.induction_programme_choice if school_cohort else None,
        created_at=school.created_at,
        updated_at=updated,
    )


def list_schools(
    cohort: int, *, urn: str | None, updated_since: datetime | None, order: Order, page: Page
) -> Listing[SchoolListing]:
    """GET /api/v3/schools/ecf (docs/reference/ecf-domain.md 3.7). An unknown cohort lists nothing."""
    if cohort_repo.get_cohort(cohort) is None:
        return Listing()
    if urn is not None:
        school = repo.find_school_by_urn(urn)
        if school is None or not school.listed_for(cohort) or page.offset > 0 or page.after is not None:
            return Listing()
        if updated_since is not None and school.updated_at < updated_since:
            return Listing()
        return Listing([_to_listing(school, cohort, repo.find_school_cohort(school.id, cohort))])
    found = repo.listing_page(
        cohort,
        order=order.field,
        descending=order.descending,
        page=page,
        updated_since=updated_since,
    )
    ids = found.keys
    schools = repo.find_schools(ids)
    school_cohorts = repo.school_cohorts_for(ids, cohort)
    return Listing([_to_listing(schools[i], cohort, school_cohorts.get(i)) for i in ids if i in schools], found.next)


def get_school(cohort: int, school_id: str) -> SchoolListing:
    """GET /api/v3/schools/ecf/{id}: the school if the list for that cohort would show it."""
    school = repo.find_school(school_id) if is_uuid(school_id) else None
    if school is None or cohort_repo.get_cohort(cohort) is None or not school.listed_for(cohort):
        raise NotFound(school_id)
    return _to_listing(school, cohort, repo.find_school_cohort(school.id, cohort))


# --------------------------------------------------------------------------- SIT and admin


def set_programme_choice(urn: str, cohort: int, choice: str, now: datetime) -> SchoolCohort:
    """The school induction tutor confirms how the school will deliver training for a cohort."""
    if choice not in SIT_CHOICES:
        raise InputError(m.programme_choice_unknown(choice, list(SIT_CHOICES)))
    school = repo.find_school_by_urn(urn)
    if school is None:
        raise InputError(m.school_urn_unknown(urn))
    if cohort_repo.get_cohort(cohort) is None:
        raise InputError(m.cohort_not_imported(cohort))
    stored = SIT_CHOICES[choice]
    try:
        return repo.save_programme_choice(
            school.id, cohort, stored, now, require_unpartnered=stored != SIT_CHOICES["provider_led"]
        )
    except Conflict as error:
        # docs/reference/ecf-domain.md 3.5 (ChangeCohortInductionProgramme)
        raise InputError(m.PROGRAMME_CHANGE_PARTNERED) from error


def show_school(urn: str) -> SchoolView:
    """The admin view: GIAS details, eligibility, and per cohort the programme and providers."""
    school = repo.find_school_by_urn(urn)
    if school is None:
        raise InputError(m.school_urn_unknown(urn))
    facts = school.facts
    rows = partnership_repo.find_school_partnerships(school.id)
    by_cohort: dict[int, list[PartnershipRecord]] = {}
    for row in rows:
        by_cohort.setdefault(row.cohort, []).append(partnership_record(row, school))
    providers = {lp.id: lp.name for lp in provider_repo.list_lead_providers()}
    cohorts = []
    school_cohorts = {sc.cohort: sc for sc in repo.school_cohorts_of(school.id)}
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
        status=school.status_name,
        type=school.type_name,
        district=facts.district_code,
        section_41_approved=facts.section_41_approved,
        open=is_open(facts),
        eligible=is_eligible(facts),
        cip_only=is_cip_only(facts),
        cip_only_scope=in_cip_only_scope(facts),
        contact_email=school.contact_email,
        created_at=school.created_at,
        updated_at=school.updated_at,
        cohorts=tuple(cohorts),
    )
