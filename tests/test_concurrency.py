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


def test_concurrent_defers_of_one_participant_apply_once(world, client):
    """Optimistic locking on the profile: of ten simultaneous defers exactly one applies."""
    from chalicelib.repositories import participants as participant_repo
    from chalicelib.services import induction
    from chalicelib.services import participants as participant_service
    from chalicelib.services import schools as school_service
    from chalicelib.services.importers import import_cohort
    from tests.test_migration import deliver

    serialise_dynamodb()
    lp = world.lead_provider("Ambition Institute")
    world.lead_provider("Capita")
    import_cohort("tests/data/cli/cohort", NOW)
    dp = world.delivery_partner(lp, [2024])
    school = world.school()
    school_service.set_programme_choice(school.urn, 2024, "provider_led", NOW)
    person = induction.add_participant(
        urn=school.urn, cohort=2024, full_name="Ada", email="ada@example.org", participant_type="ect",
        trn=None, mentor_email=None, appropriate_body=None, partnership_id=None, now=NOW,
    )  # fmt: skip
    partnership = service.create_partnership(
        lp.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp.id}, NOW
    )
    deliver(client, partnership.id)
    attributes = {"reason": "career-break", "course_identifier": "ecf-induction"}
    outcomes = run_concurrently(
        [
            (lambda: participant_service.change_training_status(lp.id, person.user_id, "defer", attributes, NOW))
            for _ in range(10)
        ]
    )
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": 1, "invalid": 9}, outcomes
    assert all(value == {"participant_profile": [m.ALREADY_DEFERRED]} for kind, value in outcomes if kind == "invalid")
    profile = participant_repo.get_profile(person.profile_id)
    records = profile.records  # type: ignore[union-attr]
    assert sorted(r.training_status for r in records) == ["active", "deferred"]
    assert sorted(s.state for s in participant_repo.states_of(profile.id)) == ["active", "deferred"]
