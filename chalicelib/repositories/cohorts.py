"""Cohorts and what the cohort importer loads for them (one table, see models)."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.models import Model

from chalicelib.models import Cohort, CohortLeadProvider, Schedule
from chalicelib.repositories.common import transaction

COHORTS_PK = "COHORT"


def cohort_key(year: int) -> str:
    return f"{year:04d}"


def cohort_pk(year: int) -> str:
    return f"COHORT#{year:04d}"


def get_cohort(year: int) -> Cohort | None:
    try:
        return Cohort.get(COHORTS_PK, cohort_key(year))
    except Cohort.DoesNotExist:
        return None


def list_cohorts() -> list[Cohort]:
    return list(Cohort.query(COHORTS_PK))


def lead_providers_of(year: int) -> list[CohortLeadProvider]:
    return list(CohortLeadProvider.query(cohort_pk(year), CohortLeadProvider.sk.startswith("LP#")))


def schedules_of(year: int) -> list[Schedule]:
    return list(Schedule.query(cohort_pk(year), Schedule.sk.startswith("SCHEDULE#")))


def save_all(items: Iterable[Model]) -> None:
    """Upsert items in transactions of up to 100 (each import step is all-or-nothing per chunk)."""
    pending = list(items)
    for start in range(0, len(pending), 100):
        with transaction() as tx:
            for item in pending[start : start + 100]:
                tx.save(item)


def contracts_of(year: int) -> list[str]:
    """Lead provider ids with a call-off contract in the cohort."""
    from chalicelib.models import CallOffContract

    return [
        c.lead_provider_id for c in CallOffContract.query(cohort_pk(year), CallOffContract.sk.startswith("CONTRACT#"))
    ]
