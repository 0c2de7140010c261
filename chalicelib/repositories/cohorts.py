"""Cohorts and what the cohort importer loads for them (one table, see models)."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.models import Model

from chalicelib.models import Cohort, CohortLeadProvider, Schedule

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
    """Upsert with BatchWriteItem, grouped by item type.

    The importer checks every row before writing and the keys are natural, so
    re-running an import repairs a partial write (a transaction per chunk would
    buy nothing and costs twice the write capacity).
    """
    by_model: dict[type[Model], list[Model]] = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    for model, group in by_model.items():
        with model.batch_write() as batch:
            for item in group:
                batch.save(item)


def contracts_of(year: int) -> list[str]:
    """Lead provider ids with a call-off contract in the cohort."""
    from chalicelib.models import CallOffContract

    return [
        c.lead_provider_id for c in CallOffContract.query(cohort_pk(year), CallOffContract.sk.startswith("CONTRACT#"))
    ]
