"""A world for declaration, statement and finance tests, built through the services (the CLI's code paths).

``tests/data/finance``: cohorts 2024 (legacy evidence) and 2025 (mentor funding, detailed evidence); for each
provider with a contract, output-fee statements August 2025 (paid on import), October 2025 (deadline
2025-09-30: the next one at ``NOW``) and January 2026, and a non-output November 2025.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.services import eligibility as eligibility_service
from chalicelib.services import induction
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from chalicelib.services.importers import import_cohort
from tests.api_helpers import Api
from tests.test_stream_handler import stream_event

NOW = datetime(2025, 9, 15, 12, 0, tzinfo=UTC)
DATA = "tests/data/finance"
V = {"v1": "/api/v1/participant-declarations", "v2": "/api/v2/participant-declarations",
     "v3": "/api/v3/participant-declarations"}  # fmt: skip


def declaration_body(
    participant_id: Any,
    *,
    course: Any = "ecf-induction",
    declaration_type: Any = "started",
    date: Any = "2024-10-01T10:00:00Z",
    evidence: Any = ...,
    **extra: Any,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {"participant_id": participant_id, "declaration_type": declaration_type,
                                  "declaration_date": date, "course_identifier": course}  # fmt: skip
    if evidence is not ...:
        attributes["evidence_held"] = evidence
    attributes.update(extra)
    return {"data": {"type": "participant-declaration", "attributes": {k: v for k, v in attributes.items()
                                                                        if v is not ...}}}  # fmt: skip


class FinanceEnv:
    """Two providers (Ambition Institute, Capita) with a delivery partner each for 2024 and 2025, schools and
    participants on demand, tokens, and an API driver per provider and version."""

    def __init__(self, world: Any, client: Any):
        self.world, self.client = world, client
        self.lp = world.lead_provider("Ambition Institute")
        self.other = world.lead_provider("Capita")
        import_cohort(DATA, NOW)
        self.dp = world.delivery_partner(self.lp, [2024, 2025], name="Alpha Partners")
        self.other_dp = world.delivery_partner(self.other, [2024, 2025], name="Gamma Partners")
        self.tokens = {"lp": world.token(self.lp), "other": world.token(self.other)}
        self._tick = 0

    def at(self, base: datetime) -> datetime:
        """Strictly increasing times after ``base``, so creation orders are deterministic."""
        self._tick += 1
        return base + timedelta(seconds=self._tick)

    def api(self, version: str = "v3", who: str = "lp") -> Api:
        return Api(self.client, self.tokens[who], version)

    def school(self, *cohorts: int) -> Any:
        school = self.world.school()
        for year in cohorts:
            school_service.set_programme_choice(school.urn, year, "provider_led", NOW - timedelta(days=400))
        return school

    def partner(self, school: Any, cohort: int, who: str = "lp") -> str:
        lp, dp = (self.lp, self.dp) if who == "lp" else (self.other, self.other_dp)
        record = partnership_service.create_partnership(
            lp.id, {"cohort": str(cohort), "school_id": school.id, "delivery_partner_id": dp.id},
            NOW - timedelta(days=400),
        )  # fmt: skip
        self.deliver(record.id)
        return record.id

    def deliver(self, partnership_id: str, old: Any = None) -> None:
        new = Partnership.get(partnership_id).serialize()
        event = stream_event([("MODIFY" if old else "INSERT", old, new)])
        self.client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, event)

    def onboard(self, school: Any, cohort: int, name: str, *, kind: str = "ect", trn: str | None = "1234567",
                mentor_email: str | None = None, email: str | None = None) -> induction.Onboarded:  # fmt: skip
        return induction.add_participant(
            urn=school.urn,
            cohort=cohort,
            full_name=name,
            email=email or f"{name.lower().replace(' ', '.')}@example.org",
            participant_type=kind,
            trn=trn,
            mentor_email=mentor_email,
            appropriate_body=None,
            partnership_id=None,
            now=self.at(NOW - timedelta(days=390)),
        )

    def eligible(self, participant_id: str, status: str = "eligible", *, course: str | None = None) -> None:
        """Record eligibility and apply it as the stream handler would."""
        recorded = eligibility_service.record(participant_id, status, None, NOW - timedelta(days=1), course=course)
        eligibility_service.apply(recorded.eligibility.profile_id, NOW - timedelta(days=1))

    def trained(self, cohort: int = 2024, *, who: str = "lp", eligible: bool = True, name: str = "Eve One",
                trn: str | None = "2000001", kind: str = "ect") -> str:  # fmt: skip
        """A participant at a school partnered with ``who`` in ``cohort``; its user id."""
        school = self.school(cohort)
        self.partner(school, cohort, who)
        onboarded = self.onboard(school, cohort, name, trn=trn, kind=kind)
        if eligible:
            self.eligible(onboarded.user_id, course="ecf-mentor" if kind == "mentor" else None)
        return onboarded.user_id

    def post(self, body: Any, version: str = "v3", who: str = "lp", at: datetime = NOW) -> Any:
        return self.api(version, who).send("POST", V[version], body, headers={"X-With-Server-Date": at.isoformat()})

    def declare(self, participant_id: str, version: str = "v3", who: str = "lp", at: datetime = NOW,
                **kwargs: Any) -> dict[str, Any]:  # fmt: skip
        """POST a declaration that must succeed (200, valid against the reference); the response data."""
        response = self.post(declaration_body(participant_id, **kwargs), version, who, at)
        assert response.status_code == 200, response.body
        from tests.openapi import assert_valid

        return assert_valid(version, "POST", V[version], response)["data"]

    def void(self, declaration_id: str, version: str = "v3", who: str = "lp", at: datetime = NOW) -> Any:
        return self.api(version, who).send(
            "PUT", f"{V[version]}/{declaration_id}/void", {}, headers={"X-With-Server-Date": at.isoformat()}
        )


def errors_of(response: Any) -> list[tuple[str, str]]:
    return [(e["title"], e["detail"]) for e in json.loads(response.body)["errors"]]
