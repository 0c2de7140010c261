"""Cohorts and what the cohort importer loads for them (one table, see models).

``get_cohort`` and ``list_cohorts`` return domain records (``chalicelib.domain.records.Cohort``); the
importer's items (LP links, contracts, schedules) are still written and read as models here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from pynamodb.models import Model

from chalicelib import config
from chalicelib.domain.cohorts import CohortRules
from chalicelib.domain.declarations import Milestone
from chalicelib.domain.records import Cohort
from chalicelib.models import CallOffContract, CohortLeadProvider, Schedule
from chalicelib.models import Cohort as CohortItem

COHORTS_PK = "COHORT"


def cohort_key(year: int) -> str:
    return f"{year:04d}"


def cohort_pk(year: int) -> str:
    return f"COHORT#{year:04d}"


def _record(item: CohortItem) -> Cohort:
    return Cohort(
        start_year=int(item.start_year),
        registration_start_date=item.registration_start_date,
        academic_year_start_date=item.academic_year_start_date,
        automatic_assignment_period_end_date=item.automatic_assignment_period_end_date,
        payments_frozen_at=item.payments_frozen_at,
        mentor_funding=bool(item.mentor_funding),
        detailed_evidence_types=bool(item.detailed_evidence_types),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


_cache: list[tuple[float, dict[int, Cohort]]] = []


def _all() -> dict[int, Cohort]:
    """Every cohort (a handful of items, one Query), cached per process for REFERENCE_CACHE_SECONDS:
    cohorts change once a year, and list endpoints would otherwise spend a request on them."""
    ttl = config.current().reference_cache_seconds
    if _cache and ttl > 0 and _cache[0][0] > time.monotonic():
        return _cache[0][1]
    cohorts = {int(c.start_year): _record(c) for c in CohortItem.query(COHORTS_PK)}
    _cache.clear()
    if ttl > 0:
        _cache.append((time.monotonic() + ttl, cohorts))
    return cohorts


def clear_cache() -> None:
    _cache.clear()


def get_cohort(year: int) -> Cohort | None:
    return _all().get(year)


def list_cohorts() -> list[Cohort]:
    return [cohort for _, cohort in sorted(_all().items())]


def years() -> list[int]:
    """The start years of every cohort, ascending."""
    return sorted(_all())


def lead_providers_of(year: int) -> list[CohortLeadProvider]:
    return list(CohortLeadProvider.query(cohort_pk(year), CohortLeadProvider.sk.startswith("LP#")))


def schedules_of(year: int) -> list[Schedule]:
    return list(Schedule.query(cohort_pk(year), Schedule.sk.startswith("SCHEDULE#")))


def save_all(items: Iterable[Model]) -> None:
    """Upsert with BatchWriteItem, grouped by item type.

    The importer checks every row before writing and the keys are natural, so
    re-running an import repairs a partial write (a transaction per chunk would
    buy nothing and costs twice the write capacity).
    """
    clear_cache()
    by_model: dict[type[Model], list[Model]] = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    for model, group in by_model.items():
        with model.batch_write() as batch:
            for item in group:
                batch.save(item)


def contracts_of(year: int) -> list[str]:
    """Lead provider ids with a call-off contract in the cohort."""
    return [
        c.lead_provider_id for c in CallOffContract.query(cohort_pk(year), CallOffContract.sk.startswith("CONTRACT#"))
    ]


# --------------------------------------------------------------------------- domain records


def rules_of(year: int) -> CohortRules | None:
    cohort = get_cohort(year)
    if cohort is None:
        return None
    return CohortRules(
        start_year=year,
        mentor_funding=cohort.mentor_funding,
        detailed_evidence_types=cohort.detailed_evidence_types,
    )


def milestones_of(year: int, schedule_identifier: str) -> list[Milestone] | None:
    """The schedule's milestones (one GetItem), or None when the cohort has no such schedule."""
    try:
        schedule = Schedule.get(cohort_pk(year), f"SCHEDULE#{schedule_identifier}")
    except Schedule.DoesNotExist:
        return None
    return [
        Milestone(declaration_type=m.declaration_type, start_date=m.start_date, milestone_date=m.milestone_date)
        for m in schedule.milestones or []
    ]
