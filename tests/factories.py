"""Test data with named traits, built through the services (the same code paths as the CLI)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

from chalicelib.models import Cohort, School
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services import providers, tokens
from chalicelib.services.importers import school_id_for

_urns = itertools.count(100000)

# GIAS facts per trait (ecf-domain.md 6: eligible, cip_only, closed).
TRAITS = {
    "eligible": {"school_status_code": 1, "school_type_code": 1, "administrative_district_code": "E09000001"},
    "district_9999": {"school_status_code": 1, "school_type_code": 34, "administrative_district_code": "9999"},
    "cip_only": {"school_status_code": 1, "school_type_code": 11, "administrative_district_code": "E09000001"},
    "closed": {"school_status_code": 2, "school_type_code": 1, "administrative_district_code": "E09000001"},
    "welsh": {"school_status_code": 1, "school_type_code": 1, "administrative_district_code": "W06000001"},
    "ineligible_type": {"school_status_code": 1, "school_type_code": 56, "administrative_district_code": "E09000001"},
    "section_41_independent": {
        "school_status_code": 1,
        "school_type_code": 11,
        "administrative_district_code": "E09000001",
        "section_41_approved": True,
    },
}


class World:
    def __init__(self, now: datetime):
        self.now = now
        self._tick = 0

    def later(self) -> datetime:
        """Strictly increasing times, so orderings in tests are deterministic."""
        self._tick += 1
        return self.now.replace(microsecond=0) + __import__("datetime").timedelta(seconds=self._tick)

    def cohort(self, year: int, academic_start: datetime | None = None) -> Cohort:
        item = Cohort(
            pk=cohort_repo.COHORTS_PK,
            sk=cohort_repo.cohort_key(year),
            start_year=year,
            academic_year_start_date=academic_start or datetime(year, 9, 1, tzinfo=UTC),
            registration_start_date=datetime(year, 5, 10, tzinfo=UTC),
            created_at=self.now,
            updated_at=self.now,
        )
        item.save()
        return item

    def lead_provider(self, name: str | None = None):  # type: ignore[no-untyped-def]
        return providers.add_lead_provider(name or f"Provider {uuid.uuid4().hex[:6]}", self.later())

    def token(self, provider) -> str:  # type: ignore[no-untyped-def]
        return tokens.create_token(provider.name, self.later()).token

    def delivery_partner(self, provider, years, name: str | None = None):  # type: ignore[no-untyped-def]
        return providers.add_delivery_partner(
            name or f"Partner {uuid.uuid4().hex[:6]}", provider.name, list(years), self.later()
        )

    def school(self, trait: str = "eligible", *, name: str | None = None, urn: str | None = None) -> School:
        from chalicelib.domain.schools import SchoolFacts, listed_by_eligibility

        urn = urn or str(next(_urns))
        facts = dict(TRAITS[trait])
        at = self.later()
        school_id = school_id_for(urn)
        school = School(
            id=school_id,
            urn=urn,
            name=name or f"School {urn}",
            section_41_approved=bool(facts.pop("section_41_approved", False)),
            primary_contact_email=f"office@{urn}.example.org",
            created_at=at,
            updated_at=at,
            **facts,
        )
        elig = listed_by_eligibility(
            SchoolFacts(
                school.school_status_code,
                school.school_type_code,
                school.administrative_district_code,
                bool(school.section_41_approved),
            )
        )
        school.listed_by_eligibility = 1 if elig else 0
        school.listed = school_repo.LISTED if elig else None
        school.created_key = school_repo.sort_key(at, school_id)
        school.updated_key = school_repo.sort_key(at, school_id)
        school.save()
        return school
