"""Exactly one active partnership per school and cohort, under concurrent reports.

DynamoDB makes each request atomic; moto does not (a transaction checks its
conditions and then writes, unlocked), so moto's request handler is
serialised first (localdev.motolock), which is what DynamoDB guarantees.
Requests from the threads still interleave freely between each other.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services import partnerships as service
from localdev.motolock import serialise_dynamodb

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def run_concurrently(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        barrier.wait()
        try:
            outcomes[index] = ("ok", call())
        except ValidationFailed as error:
            outcomes[index] = ("invalid", error.errors)
        except Conflict as error:
            outcomes[index] = ("conflict", str(error))

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_simultaneous_reports_from_two_providers_make_one_partnership(world):
    serialise_dynamodb()
    world.cohort(2024)
    providers = [world.lead_provider("Ambition Institute"), world.lead_provider("Teach First")]
    partners = [world.delivery_partner(lp, [2024]) for lp in providers]
    school = world.school()

    def report(i):
        lp, dp = providers[i % 2], partners[i % 2]
        return lambda: service.create_partnership(
            lp.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp.id}, NOW
        )

    outcomes = run_concurrently([report(i) for i in range(20)])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds["ok"] == 1, outcomes
    assert kinds["ok"] + kinds["invalid"] == 20, outcomes
    winner = next(value for kind, value in outcomes if kind == "ok")
    for i, (kind, value) in enumerate(outcomes):
        if kind == "invalid":
            same_provider = providers[i % 2].id == winner.lead_provider_id
            assert value == {"school_id": [m.ALREADY_CONFIRMED if same_provider else m.RECRUITED_BY_OTHER_PROVIDER]}
    rows = partnership_repo.rows_for_school_cohort(school.id, 2024)
    assert [r.id for r in rows] == [winner.id]
    school_cohort = school_repo.get_school_cohort(school.id, 2024)
    assert school_cohort.active_partnership_id == winner.id
    assert school_cohort.active_lead_provider_id == winner.lead_provider_id


def test_concurrent_challenge_and_report_never_leave_two_active(world):
    serialise_dynamodb()
    world.cohort(2024)
    a, b = world.lead_provider("A"), world.lead_provider("B")
    dp_a, dp_b = world.delivery_partner(a, [2024]), world.delivery_partner(b, [2024])
    school = world.school()
    first = service.create_partnership(
        a.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp_a.id}, NOW
    )
    calls = [lambda: service.challenge_partnership(first.id, "mistake", NOW)] + [
        (lambda: service.create_partnership(
            b.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp_b.id}, NOW
        ))
        for _ in range(9)
    ]  # fmt: skip
    run_concurrently(calls)
    rows = partnership_repo.rows_for_school_cohort(school.id, 2024)
    active = [r for r in rows if not r.challenge_reason and not r.relationship]
    assert len(active) <= 1
    school_cohort = school_repo.get_school_cohort(school.id, 2024)
    assert school_cohort.active_partnership_id == (active[0].id if active else None)
