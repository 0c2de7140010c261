"""Schools and school cohorts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.models import School, SchoolCohort
from chalicelib.repositories.common import batch_get, ordered_page

LISTED = "Y"


def sort_key(at: datetime, item_id: str) -> str:
    return f"{iso(at)}#{item_id}"


def get_school(school_id: str) -> School | None:
    try:
        return School.get(school_id)
    except School.DoesNotExist:
        return None


def get_school_by_urn(urn: str) -> School | None:
    for school in School.by_urn.query(urn, limit=1):
        return school
    return None


def schools_by_id(ids: Sequence[str]) -> dict[str, School]:
    return batch_get(School, ids)


def get_school_cohort(school_id: str, cohort: int) -> SchoolCohort | None:
    try:
        return SchoolCohort.get(school_id, cohort)
    except SchoolCohort.DoesNotExist:
        return None


def school_cohorts_of(school_id: str) -> list[SchoolCohort]:
    return list(SchoolCohort.query(school_id))


def school_cohorts_for(school_ids: Sequence[str], cohort: int) -> dict[str, SchoolCohort]:
    found = batch_get(SchoolCohort, [(sid, cohort) for sid in school_ids])
    return {key[0]: value for key, value in found.items()}


def listing_filter(cohort: int):  # type: ignore[no-untyped-def]
    """Listed for a cohort: eligible (not CIP-only scope), or partnered in that cohort."""
    return (School.listed_by_eligibility == 1) | School.partnered_cohorts.contains(cohort)


def listing_page(
    cohort: int,
    *,
    order: str,
    descending: bool,
    offset: int,
    limit: int,
    updated_since: datetime | None,
) -> list[str]:
    """Ids of one page of the schools list, in order."""
    return ordered_page(
        School,
        by_created=School.listing_by_created.Meta.index_name,
        by_updated=School.listing_by_updated.Meta.index_name,
        hash_value=LISTED,
        updated_key=School.updated_key,
        order=order,
        descending=descending,
        offset=offset,
        limit=limit,
        updated_since=updated_since,
        filter_condition=listing_filter(cohort),
    )


def save_new_schools(schools: Sequence[School]) -> None:
    """BatchWriteItem, 25 a request. New schools have no partnerships yet, so nothing to merge."""
    with School.batch_write() as batch:
        for school in schools:
            batch.save(school)


def update_gias_fields(school_id: str, fields: dict[str, object], now: datetime) -> None:
    """Change the GIAS fields of an existing school, leaving its partnership keys alone."""
    actions = [
        getattr(School, key).set(value) if value is not None else getattr(School, key).remove()
        for key, value in fields.items()
    ]
    actions += [School.updated_at.set(now), School.updated_key.set(sort_key(now, school_id))]
    if fields.get("listed_by_eligibility"):
        actions.append(School.listed.set(LISTED))
    School(id=school_id).update(actions=actions, condition=School.id.exists())
    if not fields.get("listed_by_eligibility"):
        drop_listing_if_unpartnered(school_id)


def drop_listing_if_unpartnered(school_id: str) -> None:
    """Take a school out of the listing indexes when nothing lists it any more.

    A condition, not a read: a partnership reported meanwhile (which sets
    ``pc``) keeps the school listed. A school left listed by mistake would
    only cost a filtered read; one dropped by mistake would vanish, so this
    errs on the side of keeping it.
    """
    from pynamodb.exceptions import UpdateError

    from chalicelib.repositories.common import condition_failed

    try:
        School(id=school_id).update(
            actions=[School.listed.remove()],
            condition=School.id.exists()
            & School.partnered_cohorts.does_not_exist()
            & (School.listed_by_eligibility == 0),
        )
    except UpdateError as error:
        if not condition_failed(error):
            raise


def save_programme_choice(
    school: School, cohort: int, choice: str, now: datetime, *, require_unpartnered: bool
) -> SchoolCohort:
    """Create or change the school cohort's choice; the school is touched for ``updated_since``.

    With ``require_unpartnered`` the write is conditional on there being no
    active partnership, so a concurrent report cannot be silently overridden.
    """
    from pynamodb.exceptions import TransactWriteError

    from chalicelib.domain.errors import Conflict
    from chalicelib.repositories.common import condition_failed, transaction

    school_cohort = SchoolCohort(school_id=school.id, cohort=cohort)
    try:
        with transaction() as tx:
            tx.update(
                school_cohort,
                actions=[
                    SchoolCohort.induction_programme_choice.set(choice),
                    SchoolCohort.created_at.set(SchoolCohort.created_at | now),
                    SchoolCohort.updated_at.set(now),
                ],
                condition=SchoolCohort.active_partnership_id.does_not_exist() if require_unpartnered else None,
            )
            tx.update(
                School(id=school.id),
                actions=[School.updated_at.set(now), School.updated_key.set(sort_key(now, school.id))],
                condition=School.id.exists(),
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("partnered") from error
        raise
    found = get_school_cohort(school.id, cohort)
    assert found is not None
    return found
