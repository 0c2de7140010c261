"""Creating a partnership moves the school's unpartnered participants into it (ecf-domain.md 3.5),
through the partnerships stream handler; challenges hide them; redelivery changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.events.handlers import PARTNERSHIPS_STREAM_HANDLER
from chalicelib.models import Partnership
from chalicelib.repositories import participants as participant_repo
from chalicelib.repositories import partnerships as partnership_repo
from chalicelib.repositories import schools as school_repo
from chalicelib.services import induction, migrations
from chalicelib.services import partnerships as partnership_service
from chalicelib.services import schools as school_service
from tests.test_stream_handler import stream_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def school_with_participants(world):
    from chalicelib.services.importers import import_cohort

    lp = world.lead_provider("Ambition Institute")
    other = world.lead_provider("Capita")
    import_cohort("tests/data/cli/cohort", NOW)
    dp = world.delivery_partner(lp, [2024])
    other_dp = world.delivery_partner(other, [2024])
    school = world.school()
    school_service.set_programme_choice(school.urn, 2024, "provider_led", NOW)
    people = [
        induction.add_participant(
            urn=school.urn, cohort=2024, full_name=f"Teacher {i}", email=f"t{i}@example.org",
            participant_type="ect", trn=None, mentor_email=None, appropriate_body=None, partnership_id=None, now=NOW,
        )
        for i in range(5)
    ]  # fmt: skip
    return {"lp": lp, "other": other, "dp": dp, "other_dp": other_dp, "school": school, "people": people}


def deliver(client, partnership_id, old=None):
    new = Partnership.get(partnership_id).serialize()
    client.lambda_.invoke(PARTNERSHIPS_STREAM_HANDLER, stream_event([("MODIFY" if old else "INSERT", old, new)]))
    return new


def visible(lp_id, people):
    views = participant_repo.views_for([(lp_id, p.user_id) for p in people])
    return sorted(uid for (_, uid), v in views.items() if v.visible)


def test_partnership_migrates_participants_once(school_with_participants, client):
    s = school_with_participants
    assert visible(s["lp"].id, s["people"]) == []
    record = partnership_service.create_partnership(
        s["lp"].id, {"cohort": "2024", "school_id": s["school"].id, "delivery_partner_id": s["dp"].id}, NOW
    )
    assert partnership_repo.pending_migration_ids(10) == [record.id]
    for _ in range(3):  # redelivery
        deliver(client, record.id)
    expected = sorted(p.user_id for p in s["people"])
    assert visible(s["lp"].id, s["people"]) == expected
    assert visible(s["other"].id, s["people"]) == []
    assert partnership_repo.pending_migration_ids(10) == []
    view = participant_repo.get_view(s["lp"].id, s["people"][0].user_id)
    (enrolment,) = view.enrolments
    assert enrolment["delivery_partner_id"] == s["dp"].id
    assert enrolment["school_urn"] == s["school"].urn
    assert enrolment["training_status"] == "active"
    # The default programme got the partnership: records were not copied, the programme was attached.
    school_cohort = school_repo.get_school_cohort(s["school"].id, 2024)
    programme = participant_repo.get_programme(school_cohort.default_induction_programme_id)
    assert programme.partnership_id == record.id


def test_challenge_hides_and_a_new_partnership_moves_them(school_with_participants, client):
    s = school_with_participants
    first = partnership_service.create_partnership(
        s["lp"].id, {"cohort": "2024", "school_id": s["school"].id, "delivery_partner_id": s["dp"].id}, NOW
    )
    deliver(client, first.id)
    before = Partnership.get(first.id).serialize()
    later = NOW + timedelta(days=1)
    partnership_service.challenge_partnership(first.id, "another_provider", later)
    deliver(client, first.id, old=before)
    assert visible(s["lp"].id, s["people"]) == []
    second = partnership_service.create_partnership(
        s["other"].id, {"cohort": "2024", "school_id": s["school"].id, "delivery_partner_id": s["other_dp"].id}, later
    )
    deliver(client, second.id)
    assert visible(s["other"].id, s["people"]) == sorted(p.user_id for p in s["people"])
    profile = participant_repo.profiles_of_user(s["people"][0].user_id)[0]
    records = profile.records
    assert [r.induction_status for r in sorted(records, key=lambda r: r.created_at)] == ["changed", "active"]


def test_reconcile_finishes_a_migration_the_stream_missed(school_with_participants):
    s = school_with_participants
    record = partnership_service.create_partnership(
        s["lp"].id, {"cohort": "2024", "school_id": s["school"].id, "delivery_partner_id": s["dp"].id}, NOW
    )
    assert migrations.reconcile(NOW + timedelta(minutes=1)) == {}  # too recent: the stream may still deliver
    assert migrations.reconcile(NOW + timedelta(minutes=10)) == {record.id: len(s["people"])}  # all of them moved
    assert visible(s["lp"].id, s["people"]) == sorted(p.user_id for p in s["people"])
    assert migrations.reconcile(NOW + timedelta(minutes=20)) == {}


WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class CountingCalls:
    def __init__(self, monkeypatch):
        from pynamodb.connection.base import Connection

        self.calls: list[str] = []
        original = Connection._make_api_call

        def counted(connection, operation_name, operation_kwargs, *args, **kwargs):
            self.calls.append(operation_name)
            return original(connection, operation_name, operation_kwargs, *args, **kwargs)

        monkeypatch.setattr(Connection, "_make_api_call", counted)

    def writes(self) -> int:
        return sum(1 for c in self.calls if c in WRITES)


def test_moving_n_participants_costs_about_n_over_25_writes(world, client, monkeypatch):
    from chalicelib.services.importers import import_cohort

    lp, other = world.lead_provider("Ambition Institute"), world.lead_provider("Capita")
    import_cohort("tests/data/cli/cohort", NOW)
    dp, other_dp = world.delivery_partner(lp, [2024]), world.delivery_partner(other, [2024])
    school = world.school()
    school_service.set_programme_choice(school.urn, 2024, "provider_led", NOW)
    first = partnership_service.create_partnership(
        lp.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": dp.id}, NOW
    )
    deliver(client, first.id)
    n = 150
    people = [
        induction.add_participant(
            urn=school.urn, cohort=2024, full_name=f"T {i}", email=f"m{i}@example.org", participant_type="ect",
            trn=None, mentor_email=None, appropriate_body=None, partnership_id=None, now=NOW,
        )
        for i in range(n)
    ]  # fmt: skip
    later = NOW + timedelta(days=1)
    partnership_service.challenge_partnership(first.id, "another_provider", later)
    second = partnership_service.create_partnership(
        other.id, {"cohort": "2024", "school_id": school.id, "delivery_partner_id": other_dp.id}, later
    )
    counter = CountingCalls(monkeypatch)
    result = induction.change_partnership(second.id, later)
    assert len(result.users) == n
    # Records move in transactions of 40 profiles; the read model is written 25 items a request for each
    # provider whose view changes (the new one, and the old one whose challenge was not yet processed);
    # plus the new programme and the school cohort's default: ceil(150/40) + 2 * ceil(150/25) + 2 = 18.
    assert counter.writes() <= -(-n // 40) + 2 * -(-n // 25) + 2
    assert counter.writes() < n / 5
    # Reads are batched too: no request per participant (users and profiles come by BatchGetItem).
    from collections import Counter

    reads = Counter(c for c in counter.calls if c not in WRITES)
    assert sum(reads.values()) < n / 5, reads
    assert visible(other.id, people) == sorted(p.user_id for p in people)
    assert visible(lp.id, people) == []
