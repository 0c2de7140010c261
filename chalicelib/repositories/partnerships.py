"""Partnerships: reads, list pages, and the conditional transactions that report and challenge them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.partnerships import FIP, NO_ECTS
from chalicelib.models import Partnership, ProviderRelationship, School, SchoolCohort
from chalicelib.repositories.common import batch_get, condition_failed, ordered_page, read_index_keys, transaction
from chalicelib.repositories.providers import relationship_key
from chalicelib.repositories.schools import LISTED, drop_listing_if_unpartnered, sort_key


def get_partnership(partnership_id: str) -> Partnership | None:
    try:
        return Partnership.get(partnership_id)
    except Partnership.DoesNotExist:
        return None


def partnerships_by_id(ids: Sequence[str]) -> dict[str, Partnership]:
    return batch_get(Partnership, ids)


def rows_for_school_cohort(school_id: str, cohort: int) -> list[Partnership]:
    """Every row (active, challenged, relationship) of one school and cohort, oldest first."""
    rows = list(Partnership.by_school.query(school_id, Partnership.cohort == cohort))
    rows.sort(key=lambda p: p.created_key)
    return rows


def rows_for_school(school_id: str) -> list[Partnership]:
    return list(Partnership.by_school.query(school_id))


def list_page(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int],
    delivery_partner_ids: Sequence[str] | None,
    order: str,
    descending: bool,
    offset: int,
    limit: int,
    updated_since: datetime | None,
) -> list[str]:
    condition = Partnership.cohort.is_in(*cohorts)
    if delivery_partner_ids:
        condition = condition & Partnership.delivery_partner_id.is_in(*delivery_partner_ids)
    return ordered_page(
        Partnership,
        by_created=Partnership.by_lead_provider_created.Meta.index_name,
        by_updated=Partnership.by_lead_provider_updated.Meta.index_name,
        hash_value=lead_provider_id,
        updated_key=Partnership.updated_key,
        order=order,
        descending=descending,
        offset=offset,
        limit=limit,
        updated_since=updated_since,
        filter_condition=condition,
    )


PENDING = "Y"


def stamp(partnership: Partnership, now: datetime) -> None:
    """Keep the derived keys in step with the row."""
    partnership.updated_at = now
    partnership.updated_key = sort_key(now, partnership.id)
    partnership.created_key = sort_key(partnership.created_at, partnership.id)
    partnership.lead_provider_visible = None if partnership.relationship else partnership.lead_provider_id


def save_reported(partnership: Partnership, *, is_new: bool, school: School, now: datetime) -> None:
    """Write a reported (confirmed) partnership, all or nothing.

    The school cohort's ``active_partnership_id`` is set only where it is free:
    two reports for one school and cohort can never both succeed (a reported
    row is always new, challenged or a relationship row, so never the holder).
    The provider relationship must still be live, the school's list keys
    move, and a new school cohort starts as provider-led.
    """
    stamp(partnership, now)
    partnership.migration_pending = PENDING
    cohort = int(partnership.cohort)
    school_cohort = SchoolCohort(school_id=school.id, cohort=cohort)
    sc_actions: list[Action] = [
        SchoolCohort.active_partnership_id.set(partnership.id),
        SchoolCohort.active_lead_provider_id.set(partnership.lead_provider_id),
        SchoolCohort.induction_programme_choice.set(FIP),
        SchoolCohort.opt_out_of_updates.set(False),
        SchoolCohort.created_at.set(SchoolCohort.created_at | now),
        SchoolCohort.updated_at.set(now),
        SchoolCohort.relationship_partnership_ids.delete({partnership.id}),
    ]
    try:
        with transaction() as tx:
            if is_new:
                tx.save(partnership, condition=Partnership.id.does_not_exist())
            else:
                tx.save(partnership)  # version condition: nobody changed it since we read it
            tx.update(school_cohort, actions=sc_actions, condition=SchoolCohort.active_partnership_id.does_not_exist())
            tx.update(
                School(id=school.id),
                actions=[
                    School.updated_at.set(now),
                    School.updated_key.set(sort_key(now, school.id)),
                    School.listed.set(LISTED),
                    School.partnered_cohorts.add({cohort}),
                ],
                condition=School.id.exists(),
            )
            tx.condition_check(
                ProviderRelationship,
                partnership.lead_provider_id,
                relationship_key(partnership.delivery_partner_id, cohort),
                condition=ProviderRelationship.lead_provider_id.exists()
                & ProviderRelationship.discarded_at.does_not_exist(),
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("partnership changed concurrently") from error
        raise


def save_challenged(
    partnership: Partnership,
    *,
    school: School,
    holds_lock: bool,
    reason: str,
    now: datetime,
) -> None:
    """Challenge: mark the row, release the school cohort's lock, move the school's list keys."""
    cohort = int(partnership.cohort)
    partnership.challenge_reason = reason
    partnership.challenged_at = now
    stamp(partnership, now)
    school_actions: list[Action] = [
        School.updated_at.set(now),
        School.updated_key.set(sort_key(now, school.id)),
        School.partnered_cohorts.delete({cohort}),
    ]
    try:
        with transaction() as tx:
            tx.save(partnership, condition=Partnership.challenge_reason.does_not_exist())
            if holds_lock:
                sc_actions: list[Action] = [
                    SchoolCohort.active_partnership_id.remove(),
                    SchoolCohort.active_lead_provider_id.remove(),
                    SchoolCohort.updated_at.set(now),
                ]
                if reason == "no_ects":
                    sc_actions += [
                        SchoolCohort.induction_programme_choice.set(NO_ECTS),
                        SchoolCohort.opt_out_of_updates.set(True),
                        SchoolCohort.default_induction_programme_id.remove(),
                    ]
                tx.update(
                    SchoolCohort(school_id=school.id, cohort=cohort),
                    actions=sc_actions,
                    condition=SchoolCohort.active_partnership_id == partnership.id,
                )
                tx.update(School(id=school.id), actions=school_actions, condition=School.id.exists())
            else:
                tx.update(
                    School(id=school.id),
                    actions=[School.updated_at.set(now), School.updated_key.set(sort_key(now, school.id))],
                    condition=School.id.exists(),
                )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("partnership changed concurrently") from error
        raise
    if holds_lock and not school.listed_by_eligibility:
        drop_listing_if_unpartnered(school.id)


def save_delivery_partner_change(partnership: Partnership, *, school_id: str, now: datetime) -> None:
    """PUT: the same row, a new delivery partner; still the active row of its school cohort."""
    stamp(partnership, now)
    partnership.migration_pending = PENDING
    try:
        with transaction() as tx:
            tx.save(partnership, condition=Partnership.challenge_reason.does_not_exist())
            tx.update(
                School(id=school_id),
                actions=[School.updated_at.set(now), School.updated_key.set(sort_key(now, school_id))],
                condition=School.id.exists(),
            )
            tx.condition_check(
                ProviderRelationship,
                partnership.lead_provider_id,
                relationship_key(partnership.delivery_partner_id, int(partnership.cohort)),
                condition=ProviderRelationship.lead_provider_id.exists()
                & ProviderRelationship.discarded_at.does_not_exist(),
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("partnership changed concurrently") from error
        raise


def touch_rows(rows: Sequence[Partnership], now: datetime) -> None:
    """Bump ``updated_at`` on rows whose school changed, so ``updated_since`` finds them."""
    for row in rows:
        row.update(
            actions=[Partnership.updated_at.set(now), Partnership.updated_key.set(sort_key(now, row.id))],
            add_version_condition=False,
        )


def save_relationship(partnership: Partnership, now: datetime) -> None:
    """A relationship row (a transfer kept its provider): never the school cohort's lock holder."""
    stamp(partnership, now)
    cohort = int(partnership.cohort)
    try:
        with transaction() as tx:
            tx.save(partnership, condition=Partnership.id.does_not_exist())
            tx.update(
                SchoolCohort(school_id=partnership.school_id, cohort=cohort),
                actions=[
                    SchoolCohort.relationship_partnership_ids.add({partnership.id}),
                    SchoolCohort.induction_programme_choice.set(SchoolCohort.induction_programme_choice | FIP),
                    SchoolCohort.created_at.set(SchoolCohort.created_at | now),
                    SchoolCohort.updated_at.set(now),
                ],
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise Conflict("partnership changed concurrently") from error
        raise


def pending_migration_ids(limit: int, older_than: datetime | None = None) -> list[str]:
    """Reported rows whose migration has not completed (oldest first)."""
    range_condition = Partnership.updated_key < iso(older_than) if older_than is not None else None
    return read_index_keys(
        Partnership,
        Partnership.pending_migration.Meta.index_name,
        PENDING,
        offset=0,
        limit=limit,
        range_condition=range_condition,
    )


def mark_migrated(partnership_id: str, report_id: str) -> bool:
    """Clear the pending flag, unless a newer report came in meanwhile."""
    from pynamodb.exceptions import UpdateError

    try:
        Partnership(id=partnership_id).update(
            actions=[Partnership.migration_pending.remove()],
            condition=(Partnership.report_id == report_id) & Partnership.migration_pending.exists(),
            add_version_condition=False,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True
