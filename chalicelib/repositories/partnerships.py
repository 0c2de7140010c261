"""Partnerships: reads, list pages, and the conditional transactions that report and challenge them.

The ``find_*`` functions and the ``save_*`` functions of the partnership use cases take and return domain
records (``chalicelib.domain.partnerships.Partnership``). ``get_partnership``, ``partnerships_by_id``,
``rows_for_school_cohort``, ``rows_for_school``, ``touch_rows`` and ``save_relationship`` still hand storage
items to the services not moved to records yet (induction, importers, projection, participants, migrations).
This module owns every key (``created_key``, ``updated_key``, ``lead_provider_visible``, ``migration_pending``,
the school's listing keys) and every condition of those writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.paging import KeyPage, Page
from chalicelib.domain.partnerships import FIP, Partnership
from chalicelib.models import Partnership as PartnershipItem
from chalicelib.models import ProviderRelationship as RelationshipItem
from chalicelib.models import School as SchoolItem
from chalicelib.models import SchoolCohort as SchoolCohortItem
from chalicelib.repositories.common import (
    IndexPartition,
    OrderedList,
    batch_get,
    conflicts_as,
    ordered_page,
    read_index_keys,
    transaction,
)
from chalicelib.repositories.providers import relationship_key
from chalicelib.repositories.schools import LISTED, drop_listing_if_unpartnered, sort_key

PENDING = "Y"
CONCURRENT = "partnership changed concurrently"


# --------------------------------------------------------------------------- mapping


def _record(item: PartnershipItem) -> Partnership:
    return Partnership(
        id=item.id,
        school_id=item.school_id,
        urn=item.urn,
        lead_provider_id=item.lead_provider_id,
        delivery_partner_id=item.delivery_partner_id,
        delivery_partner_name=item.delivery_partner_name,
        cohort=int(item.cohort),
        relationship=bool(item.relationship),
        pending=bool(item.pending),
        challenged_at=item.challenged_at,
        challenge_reason=item.challenge_reason,
        challenge_deadline=item.challenge_deadline,
        report_id=item.report_id,
        created_at=item.created_at,
        updated_at=item.updated_at,
        migration_pending=item.migration_pending == PENDING,
        version=item.version,
        induction_tutor_email=item.induction_tutor_email,
    )


def partnership_item(partnership: Partnership) -> PartnershipItem:
    item = PartnershipItem(
        id=partnership.id,
        school_id=partnership.school_id,
        urn=partnership.urn,
        lead_provider_id=partnership.lead_provider_id,
        delivery_partner_id=partnership.delivery_partner_id,
        delivery_partner_name=partnership.delivery_partner_name,
        cohort=partnership.cohort,
        relationship=partnership.relationship,
        pending=partnership.pending,
        challenged_at=partnership.challenged_at,
        challenge_reason=partnership.challenge_reason,
        challenge_deadline=partnership.challenge_deadline,
        report_id=partnership.report_id,
        created_at=partnership.created_at,
        updated_at=partnership.updated_at,
        migration_pending=PENDING if partnership.migration_pending else None,
        induction_tutor_email=partnership.induction_tutor_email,
    )
    if partnership.version is not None:
        item.version = partnership.version
    return item


def stamp(partnership: PartnershipItem, now: datetime) -> None:
    """Keep the derived keys in step with the row."""
    partnership.updated_at = now
    partnership.updated_key = sort_key(now, partnership.id)
    partnership.created_key = sort_key(partnership.created_at, partnership.id)
    partnership.lead_provider_visible = None if partnership.relationship else partnership.lead_provider_id


# --------------------------------------------------------------------------- records


def find_partnership(partnership_id: str) -> Partnership | None:
    item = get_partnership(partnership_id)
    return _record(item) if item is not None else None


def find_partnerships(ids: Sequence[str]) -> dict[str, Partnership]:
    return {partnership_id: _record(item) for partnership_id, item in partnerships_by_id(ids).items()}


def find_school_cohort_partnerships(school_id: str, cohort: int) -> list[Partnership]:
    """Every row (active, challenged, relationship) of one school and cohort, oldest first."""
    return [_record(item) for item in rows_for_school_cohort(school_id, cohort)]


def find_school_partnerships(school_id: str) -> list[Partnership]:
    return [_record(item) for item in rows_for_school(school_id)]


_LISTING = OrderedList(
    PartnershipItem,
    by_created=PartnershipItem.by_lead_provider_created.Meta.index_name,
    by_updated=PartnershipItem.by_lead_provider_updated.Meta.index_name,
    updated_key=PartnershipItem.updated_key,
)


def list_page(
    lead_provider_id: str,
    *,
    cohorts: Sequence[int],
    delivery_partner_ids: Sequence[str] | None,
    order: str,
    descending: bool,
    page: Page,
    updated_since: datetime | None,
) -> KeyPage:
    condition = PartnershipItem.cohort.is_in(*cohorts)
    if delivery_partner_ids:
        condition = condition & PartnershipItem.delivery_partner_id.is_in(*delivery_partner_ids)
    return ordered_page(
        _LISTING,
        lead_provider_id,
        order=order,
        descending=descending,
        page=page,
        updated_since=updated_since,
        filter_condition=condition,
    )


def _relationship_is_live(tx: TransactWrite, partnership: PartnershipItem) -> None:
    """The provider relationship the row names must still exist and not be discarded."""
    tx.condition_check(
        RelationshipItem,
        partnership.lead_provider_id,
        relationship_key(partnership.delivery_partner_id, int(partnership.cohort)),
        condition=RelationshipItem.lead_provider_id.exists() & RelationshipItem.discarded_at.does_not_exist(),
    )


def _touch_school(school_id: str, now: datetime) -> list[Action]:
    return [SchoolItem.updated_at.set(now), SchoolItem.updated_key.set(sort_key(now, school_id))]


def save_reported(partnership: Partnership, *, is_new: bool, now: datetime) -> Partnership:
    """Write a reported (confirmed) partnership, all or nothing; the saved row. ``Conflict`` if anything changed.

    The school cohort's ``active_partnership_id`` is set only where it is free:
    two reports for one school and cohort can never both succeed (a reported
    row is always new, challenged or a relationship row, so never the holder).
    The provider relationship must still be live, the school's list keys
    move, and a new school cohort starts as provider-led.

    ``is_new``: the row must not exist yet; otherwise nobody may have changed it since it was read (its version).
    """
    item = partnership_item(partnership)
    stamp(item, now)
    item.migration_pending = PENDING
    cohort = partnership.cohort
    school_id = partnership.school_id
    sc_actions: list[Action] = [
        SchoolCohortItem.active_partnership_id.set(partnership.id),
        SchoolCohortItem.active_lead_provider_id.set(partnership.lead_provider_id),
        SchoolCohortItem.induction_programme_choice.set(FIP),
        SchoolCohortItem.opt_out_of_updates.set(False),
        SchoolCohortItem.created_at.set(SchoolCohortItem.created_at | now),
        SchoolCohortItem.updated_at.set(now),
        SchoolCohortItem.relationship_partnership_ids.delete({partnership.id}),
    ]
    with conflicts_as(CONCURRENT), transaction() as tx:
        if is_new:
            tx.save(item, condition=PartnershipItem.id.does_not_exist())
        else:
            tx.save(item)  # version condition: nobody changed it since we read it
        tx.update(
            SchoolCohortItem(school_id=school_id, cohort=cohort),
            actions=sc_actions,
            condition=SchoolCohortItem.active_partnership_id.does_not_exist(),
        )
        tx.update(
            SchoolItem(id=school_id),
            actions=[
                *_touch_school(school_id, now),
                SchoolItem.listed.set(LISTED),
                SchoolItem.partnered_cohorts.add({cohort}),
            ],
            condition=SchoolItem.id.exists(),
        )
        _relationship_is_live(tx, item)
    return _record(item)  # the transaction bumped the item's version


def save_challenged(
    partnership: Partnership,
    *,
    holds_lock: bool,
    programme_choice: str | None,
    school_listed_by_eligibility: bool,
    now: datetime,
) -> Partnership:
    """Challenge: write the challenged row, release the school cohort's lock, move the school's list keys.

    ``partnership`` carries its challenge (reason, time); the write fails with ``Conflict`` if the stored row
    was challenged meanwhile. ``holds_lock``: the row is its school cohort's active partnership, whose lock is
    released (on the condition that it still holds it). ``programme_choice``: with the lock, the school
    cohort's new programme choice, or None to keep it; a new choice opts the school cohort out of updates and
    drops its default induction programme. A school no longer partnered in any cohort, and not listed by
    eligibility, leaves the schools list.
    """
    cohort = partnership.cohort
    school_id = partnership.school_id
    item = partnership_item(partnership)
    stamp(item, now)
    school_actions: list[Action] = [*_touch_school(school_id, now), SchoolItem.partnered_cohorts.delete({cohort})]
    with conflicts_as(CONCURRENT), transaction() as tx:
        tx.save(item, condition=PartnershipItem.challenge_reason.does_not_exist())
        if holds_lock:
            sc_actions: list[Action] = [
                SchoolCohortItem.active_partnership_id.remove(),
                SchoolCohortItem.active_lead_provider_id.remove(),
                SchoolCohortItem.updated_at.set(now),
            ]
            if programme_choice is not None:
                sc_actions += [
                    SchoolCohortItem.induction_programme_choice.set(programme_choice),
                    SchoolCohortItem.opt_out_of_updates.set(True),
                    SchoolCohortItem.default_induction_programme_id.remove(),
                ]
            tx.update(
                SchoolCohortItem(school_id=school_id, cohort=cohort),
                actions=sc_actions,
                condition=SchoolCohortItem.active_partnership_id == partnership.id,
            )
            tx.update(SchoolItem(id=school_id), actions=school_actions, condition=SchoolItem.id.exists())
        else:
            tx.update(SchoolItem(id=school_id), actions=_touch_school(school_id, now), condition=SchoolItem.id.exists())
    if holds_lock and not school_listed_by_eligibility:
        drop_listing_if_unpartnered(school_id)
    return _record(item)  # the transaction bumped the item's version


def save_delivery_partner_change(partnership: Partnership, *, now: datetime) -> Partnership:
    """PUT: the same row, a new delivery partner; still the active row of its school cohort. ``Conflict`` if
    the row changed since it was read, was challenged, or the provider relationship is gone."""
    item = partnership_item(partnership)
    stamp(item, now)
    item.migration_pending = PENDING
    with conflicts_as(CONCURRENT), transaction() as tx:
        tx.save(item, condition=PartnershipItem.challenge_reason.does_not_exist())
        tx.update(
            SchoolItem(id=partnership.school_id),
            actions=_touch_school(partnership.school_id, now),
            condition=SchoolItem.id.exists(),
        )
        _relationship_is_live(tx, item)
    return _record(item)  # the transaction bumped the item's version


# --------------------------------------------------------------------------- migrations


def pending_migration_ids(limit: int, older_than: datetime | None = None) -> list[str]:
    """Reported rows whose migration has not completed (oldest first)."""
    range_condition = PartnershipItem.updated_key < iso(older_than) if older_than is not None else None
    return read_index_keys(
        IndexPartition(PartnershipItem, PartnershipItem.pending_migration.Meta.index_name, PENDING),
        offset=0,
        limit=limit,
        range_condition=range_condition,
    )


def mark_migrated(partnership_id: str, report_id: str) -> bool:
    """Clear the pending flag, unless a newer report came in meanwhile."""
    try:
        with conflicts_as("newer report"):
            PartnershipItem(id=partnership_id).update(
                actions=[PartnershipItem.migration_pending.remove()],
                condition=(PartnershipItem.report_id == report_id) & PartnershipItem.migration_pending.exists(),
                add_version_condition=False,
            )
    except Conflict:
        return False
    return True


# --------------------------------------------------------------------------- storage items


def get_partnership(partnership_id: str) -> PartnershipItem | None:
    try:
        return PartnershipItem.get(partnership_id)
    except PartnershipItem.DoesNotExist:
        return None


def partnerships_by_id(ids: Sequence[str]) -> dict[str, PartnershipItem]:
    return batch_get(PartnershipItem, ids)


def rows_for_school_cohort(school_id: str, cohort: int) -> list[PartnershipItem]:
    """Every row (active, challenged, relationship) of one school and cohort, oldest first."""
    rows = list(PartnershipItem.by_school.query(school_id, PartnershipItem.cohort == cohort))
    rows.sort(key=lambda p: p.created_key)
    return rows


def rows_for_school(school_id: str) -> list[PartnershipItem]:
    return list(PartnershipItem.by_school.query(school_id))


def touch_rows(rows: Sequence[PartnershipItem], now: datetime, *, induction_tutor_email: str | None) -> None:
    """Bump ``updated_at`` on rows whose school changed, so ``updated_since`` finds them, and copy the school's
    contact email onto them."""
    for row in rows:
        email = PartnershipItem.induction_tutor_email
        row.update(
            actions=[
                PartnershipItem.updated_at.set(now),
                PartnershipItem.updated_key.set(sort_key(now, row.id)),
                email.set(induction_tutor_email) if induction_tutor_email else email.remove(),
            ],
            add_version_condition=False,
        )


def save_relationship(partnership: PartnershipItem, now: datetime) -> None:
    """A relationship row (a transfer kept its provider): never the school cohort's lock holder."""
    stamp(partnership, now)
    cohort = int(partnership.cohort)
    with conflicts_as(CONCURRENT), transaction() as tx:
        tx.save(partnership, condition=PartnershipItem.id.does_not_exist())
        tx.update(
            SchoolCohortItem(school_id=partnership.school_id, cohort=cohort),
            actions=[
                SchoolCohortItem.relationship_partnership_ids.add({partnership.id}),
                SchoolCohortItem.induction_programme_choice.set(SchoolCohortItem.induction_programme_choice | FIP),
                SchoolCohortItem.created_at.set(SchoolCohortItem.created_at | now),
                SchoolCohortItem.updated_at.set(now),
            ],
        )
