"""Schools and school cohorts.

The ``find_*`` functions, ``school_cohorts_of``, ``school_cohorts_for`` and ``save_programme_choice`` take and
return domain records (``chalicelib.domain.schools``). ``get_school``, ``get_school_by_urn``, ``schools_by_id``,
``get_school_cohort``, ``save_new_schools`` and ``update_gias_fields`` still hand storage items to the services
not moved to records yet (induction, importers). This module owns the listing keys (``listed``, ``created_key``,
``updated_key``) and their conditions.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime

from pynamodb.expressions.condition import Condition

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.paging import KeyPage, Page
from chalicelib.domain.schools import School, SchoolCohort, SchoolFacts
from chalicelib.models import School as SchoolItem
from chalicelib.models import SchoolCohort as SchoolCohortItem
from chalicelib.repositories.common import OrderedList, batch_get, conflicts_as, ordered_page, transaction

LISTED = "Y"


def sort_key(at: datetime, item_id: str) -> str:
    return f"{iso(at)}#{item_id}"


# --------------------------------------------------------------------------- mapping


def _facts(item: SchoolItem) -> SchoolFacts:
    return SchoolFacts(
        status_code=int(item.school_status_code) if item.school_status_code is not None else None,
        type_code=int(item.school_type_code) if item.school_type_code is not None else None,
        district_code=item.administrative_district_code,
        section_41_approved=bool(item.section_41_approved),
    )


def _school(item: SchoolItem) -> School:
    return School(
        id=item.id,
        urn=item.urn,
        name=item.name,
        facts=_facts(item),
        status_name=item.school_status_name,
        type_name=item.school_type_name,
        primary_contact_email=item.primary_contact_email,
        secondary_contact_email=item.secondary_contact_email,
        listed_by_eligibility=bool(item.listed_by_eligibility),
        partnered_cohorts=frozenset(int(c) for c in item.partnered_cohorts or ()),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _school_cohort(item: SchoolCohortItem) -> SchoolCohort:
    return SchoolCohort(
        school_id=item.school_id,
        cohort=int(item.cohort),
        induction_programme_choice=item.induction_programme_choice,
        active_partnership_id=item.active_partnership_id,
        active_lead_provider_id=item.active_lead_provider_id,
        relationship_partnership_ids=frozenset(item.relationship_partnership_ids or ()),
        default_induction_programme_id=item.default_induction_programme_id,
        appropriate_body=item.appropriate_body,
        opt_out_of_updates=bool(item.opt_out_of_updates),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


# --------------------------------------------------------------------------- records


def find_school(school_id: str) -> School | None:
    item = get_school(school_id)
    return _school(item) if item is not None else None


def find_school_by_urn(urn: str) -> School | None:
    item = get_school_by_urn(urn)
    return _school(item) if item is not None else None


def find_schools(ids: Sequence[str]) -> dict[str, School]:
    return {school_id: _school(item) for school_id, item in schools_by_id(ids).items()}


def find_school_cohort(school_id: str, cohort: int) -> SchoolCohort | None:
    item = get_school_cohort(school_id, cohort)
    return _school_cohort(item) if item is not None else None


def school_cohorts_of(school_id: str) -> list[SchoolCohort]:
    return [_school_cohort(item) for item in SchoolCohortItem.query(school_id)]


def school_cohorts_for(school_ids: Sequence[str], cohort: int) -> dict[str, SchoolCohort]:
    found = batch_get(SchoolCohortItem, [(sid, cohort) for sid in school_ids])
    return {key[0]: _school_cohort(value) for key, value in found.items()}


# --------------------------------------------------------------------------- storage items


def get_school(school_id: str) -> SchoolItem | None:
    try:
        return SchoolItem.get(school_id)
    except SchoolItem.DoesNotExist:
        return None


def get_school_by_urn(urn: str) -> SchoolItem | None:
    for school in SchoolItem.by_urn.query(urn, limit=1):
        return school
    return None


def schools_by_id(ids: Sequence[str]) -> dict[str, SchoolItem]:
    return batch_get(SchoolItem, ids)


def get_school_cohort(school_id: str, cohort: int) -> SchoolCohortItem | None:
    try:
        return SchoolCohortItem.get(school_id, cohort)
    except SchoolCohortItem.DoesNotExist:
        return None


# --------------------------------------------------------------------------- the v3 list


def listing_filter(cohort: int) -> Condition:
    """Listed for a cohort: eligible (not CIP-only scope), or partnered in that cohort."""
    # PynamoDB's ``Condition.__or__`` is unannotated; the result is a Condition.
    listed: Condition = (SchoolItem.listed_by_eligibility == 1) | SchoolItem.partnered_cohorts.contains(cohort)
    return listed


_LISTING = OrderedList(
    SchoolItem,
    by_created=SchoolItem.listing_by_created.Meta.index_name,
    by_updated=SchoolItem.listing_by_updated.Meta.index_name,
    updated_key=SchoolItem.updated_key,
)


def listing_page(
    cohort: int,
    *,
    order: str,
    descending: bool,
    page: Page,
    updated_since: datetime | None,
) -> KeyPage:
    """Ids of one page of the schools list, in order."""
    return ordered_page(
        _LISTING,
        LISTED,
        order=order,
        descending=descending,
        page=page,
        updated_since=updated_since,
        filter_condition=listing_filter(cohort),
    )


# --------------------------------------------------------------------------- writes


def save_new_schools(schools: Sequence[SchoolItem]) -> None:
    """BatchWriteItem, 25 a request. New schools have no partnerships yet, so nothing to merge."""
    with SchoolItem.batch_write() as batch:
        for school in schools:
            batch.save(school)


def update_gias_fields(school_id: str, fields: dict[str, object], now: datetime) -> None:
    """Change the GIAS fields of an existing school, leaving its partnership keys alone."""
    actions = [
        getattr(SchoolItem, key).set(value) if value is not None else getattr(SchoolItem, key).remove()
        for key, value in fields.items()
    ]
    actions += [SchoolItem.updated_at.set(now), SchoolItem.updated_key.set(sort_key(now, school_id))]
    if fields.get("listed_by_eligibility"):
        actions.append(SchoolItem.listed.set(LISTED))
    SchoolItem(id=school_id).update(actions=actions, condition=SchoolItem.id.exists())
    if not fields.get("listed_by_eligibility"):
        drop_listing_if_unpartnered(school_id)


def drop_listing_if_unpartnered(school_id: str) -> None:
    """Take a school out of the listing indexes when nothing lists it any more.

    A condition, not a read: a partnership reported meanwhile (which sets
    ``partnered_cohorts``) keeps the school listed. A school left listed by mistake would
    only cost a filtered read; one dropped by mistake would vanish, so this
    errs on the side of keeping it.
    """
    with suppress(Conflict), conflicts_as("school still listed"):
        SchoolItem(id=school_id).update(
            actions=[SchoolItem.listed.remove()],
            condition=SchoolItem.id.exists()
            & SchoolItem.partnered_cohorts.does_not_exist()
            & (SchoolItem.listed_by_eligibility == 0),
        )


def save_programme_choice(
    school_id: str, cohort: int, choice: str, now: datetime, *, require_unpartnered: bool
) -> SchoolCohort:
    """Create or change the school cohort's choice; the school is touched for ``updated_since``.

    With ``require_unpartnered`` the write is conditional on there being no
    active partnership, so a concurrent report cannot be silently overridden
    (``Conflict`` if there is one).
    """
    with conflicts_as("partnered"), transaction() as tx:
        tx.update(
            SchoolCohortItem(school_id=school_id, cohort=cohort),
            actions=[
                SchoolCohortItem.induction_programme_choice.set(choice),
                SchoolCohortItem.created_at.set(SchoolCohortItem.created_at | now),
                SchoolCohortItem.updated_at.set(now),
            ],
            condition=SchoolCohortItem.active_partnership_id.does_not_exist() if require_unpartnered else None,
        )
        tx.update(
            SchoolItem(id=school_id),
            actions=[SchoolItem.updated_at.set(now), SchoolItem.updated_key.set(sort_key(now, school_id))],
            condition=SchoolItem.id.exists(),
        )
    found = find_school_cohort(school_id, cohort)
    assert found is not None
    return found
