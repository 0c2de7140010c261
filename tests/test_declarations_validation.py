"""POST participant-declarations: every rule and message of ecf-declarations-statements.md 1.3/1.4, in the real
order and with its gating, through the API. Successful bodies are validated against the reference of their
version; 422 bodies are asserted exactly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.domain import messages as m
from chalicelib.models.finance import DeclarationAttemptItem
from chalicelib.services import participants as participant_service
from tests.finance_env import NOW, FinanceEnv, declaration_body, errors_of

RANDOM_ID = "0b6f3c1e-5d2a-4c8e-9f47-2a1d3b4c5e6f"
DATE_BLANK_AND_INVALID = f"{m.DECLARATION_DATE_BLANK}, {m.DECLARATION_DATE_INVALID}"


@pytest.fixture
def env(world, client):
    return FinanceEnv(world, client)


@pytest.fixture
def ect(env):
    """A 2024 ECT (legacy evidence cohort) trained by Ambition Institute, eligible for funding."""
    return env.trained(2024)


def attempts() -> int:
    return sum(1 for _ in DeclarationAttemptItem.scan())


def assert_422(response, expected):
    assert response.status_code == 422, response.body
    assert errors_of(response) == expected
    assert response.headers["Content-Type"] == "application/vnd.api+json"


# --------------------------------------------------------------------------- request shape


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
@pytest.mark.parametrize("raw", ["", "not json", "[]", '{"data": null}', '{"data": "x"}', '{"other": {}}'])
def test_a_body_without_a_data_object_is_the_reference_400(env, version, raw):
    response = env.post(raw, version)
    assert response.status_code == 400
    assert json.loads(response.body) == {"errors": [{"title": "Bad request", "detail": m.DATA_REQUIRED}]}


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_empty_attributes_give_exactly_the_three_presence_errors(env, version):
    response = env.post({"data": {"type": "participant-declaration", "attributes": {}}}, version)
    assert_422(
        response,
        [
            ("participant_id", m.PARTICIPANT_NOT_RECOGNISED),
            ("declaration_date", m.DECLARATION_DATE_BLANK),
            ("declaration_type", m.DECLARATION_TYPE_BLANK),
        ],
    )


def test_missing_attributes_object_is_every_field_missing(env):
    response = env.post({"data": {"type": "participant-declaration"}})
    assert [title for title, _ in errors_of(response)] == ["participant_id", "declaration_date", "declaration_type"]


def test_without_a_token_it_is_401(env, client):
    response = client.http.post(
        "/api/v3/participant-declarations", body="{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert json.loads(response.body) == {"error": m.ACCESS_DENIED}


# --------------------------------------------------------------------------- row 0a / 0b


def test_npq_courses_are_refused_before_anything_else_and_record_no_attempt(env, ect):
    response = env.post(declaration_body("not-a-participant", course="npq-leading-teaching", date="foo"))
    assert_422(response, [("course_identifier", m.NPQ_NOT_SUPPORTED)])
    assert attempts() == 0


def test_an_attempt_is_recorded_only_when_the_participant_resolves(env, ect):
    env.post(declaration_body(RANDOM_ID))
    assert attempts() == 0
    env.post(declaration_body(ect, date="foo"))  # invalid, but the participant resolves
    assert attempts() == 1
    env.declare(ect)
    assert attempts() == 2
    linked = [a for a in DeclarationAttemptItem.scan() if a.declaration_id]
    assert len(linked) == 1


# --------------------------------------------------------------------------- rows 1-6: identity and dates


def test_an_unknown_participant_is_not_recognised(env, ect):
    assert_422(env.post(declaration_body(RANDOM_ID)), [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)])
    assert_422(env.post(declaration_body("not-a-uuid")), [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)])


@pytest.mark.parametrize("date", ["2023-19-01T11:21:55Z", "2024-10-01T29:21:55Z", "foo"])
def test_an_impossible_date_gives_both_date_messages(env, ect, date):
    assert_422(env.post(declaration_body(ect, date=date)), [("declaration_date", DATE_BLANK_AND_INVALID)])


def test_a_date_without_the_t_casts_but_is_not_rfc3339(env, ect):
    assert_422(
        env.post(declaration_body(ect, date="2024-10-01 08:46:29")), [("declaration_date", m.DECLARATION_DATE_INVALID)]
    )


def test_a_date_without_an_offset_is_utc_and_accepted(env, ect):
    data = env.declare(ect, date="2024-10-01T10:00:00")
    assert data["attributes"]["declaration_date"] == "2024-10-01T10:00:00.000Z"


def test_a_future_date_is_refused_at_the_server_date(env, ect):
    future = (NOW + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_422(env.post(declaration_body(ect, declaration_type="retained-3", date=future, evidence="other")),
               [("declaration_date", m.DECLARATION_DATE_FUTURE)])  # fmt: skip


def test_x_with_server_date_moves_now(env, ect):
    """The same date is in the future at one server date and accepted at a later one."""
    body = declaration_body(ect, date="2024-10-01T10:00:00Z")
    early = env.post(body, at=NOW.replace(year=2024, month=9))
    assert_422(early, [("declaration_date", m.DECLARATION_DATE_FUTURE)])
    assert env.post(body).status_code == 200


def test_a_missing_type_also_fails_the_schedule_check(env, ect):
    response = env.post(declaration_body(ect, declaration_type=None))
    assert_422(response, [("declaration_type", f"{m.DECLARATION_TYPE_BLANK}, {m.DECLARATION_TYPE_NOT_IN_SCHEDULE}")])


def test_the_milestone_window(env, ect):
    before = env.post(declaration_body(ect, date="2024-05-31T23:59:59Z"))
    assert_422(before, [("declaration_date", m.DECLARATION_BEFORE_MILESTONE_START)])
    after = env.post(declaration_body(ect, date="2025-01-01T00:00:00Z"))
    assert_422(after, [("declaration_date", m.DECLARATION_AFTER_MILESTONE_END)])
    assert env.post(declaration_body(ect, date="2024-06-01T00:00:00Z")).status_code == 200


def test_the_last_moment_of_the_milestone_day_is_inside(env, ect):
    assert env.post(declaration_body(ect, date="2024-12-31T23:59:59Z")).status_code == 200


# --------------------------------------------------------------------------- row 2: withdrawn


def _withdraw(env, participant_id, at):
    participant_service.change_training_status(
        env.lp.id, participant_id, "withdraw", {"reason": "moved-school", "course_identifier": "ecf-induction"}, at
    )


def test_a_declaration_after_the_withdrawal_is_refused_with_its_date(env, ect):
    withdrawn_at = NOW.replace(year=2024, month=11, day=1, hour=10, minute=0)
    _withdraw(env, ect, withdrawn_at)
    response = env.post(declaration_body(ect, date="2024-11-02T10:00:00Z"))
    assert_422(response, [("participant_id", m.declaration_after_withdrawal("2024-11-01T10:00:00Z"))])


def test_a_declaration_before_the_withdrawal_is_accepted(env, ect):
    _withdraw(env, ect, NOW.replace(year=2024, month=11, day=1))
    assert env.post(declaration_body(ect, date="2024-10-15T10:00:00Z")).status_code == 200


def test_a_resumed_participant_may_be_declared_again(env, ect):
    _withdraw(env, ect, NOW.replace(year=2024, month=11, day=1))
    participant_service.change_training_status(
        env.lp.id, ect, "resume", {"course_identifier": "ecf-induction"}, NOW.replace(year=2024, month=11, day=5)
    )
    assert env.post(declaration_body(ect, date="2024-11-10T10:00:00Z")).status_code == 200


# --------------------------------------------------------------------------- row 7: funding contract


def test_no_future_output_statement_refuses_a_fundable_participant(env, ect):
    late = NOW.replace(year=2026, month=1, day=15)
    response = env.post(declaration_body(ect), at=late)
    assert_422(response, [("cohort", m.funding_contract_ended(2024))])


def test_no_future_output_statement_does_not_stop_an_unfunded_participant(env):
    unfunded = env.trained(2024, eligible=False)
    data = env.declare(unfunded, at=NOW.replace(year=2026, month=1, day=15))
    assert data["attributes"]["state"] == "submitted"
    assert data["attributes"]["statement_id"] is None


# --------------------------------------------------------------------------- rows 8-12


def test_a_type_not_in_the_schedule(env, ect):
    response = env.post(declaration_body(ect, declaration_type="extended-1", evidence="other"))
    assert_422(response, [("declaration_type", m.DECLARATION_TYPE_NOT_IN_SCHEDULE)])


def test_a_second_declaration_of_the_same_event_is_refused_across_providers(env, ect):
    env.declare(ect)
    assert_422(env.post(declaration_body(ect)), [("base", m.DECLARATION_ALREADY_SUBMITTED)])
    # Another provider that does not train the participant gets the same base error: access is checked last.
    assert_422(env.post(declaration_body(ect), who="other"), [("base", m.DECLARATION_ALREADY_SUBMITTED)])


def test_mentors_in_a_mentor_funding_cohort_get_started_and_completed_only(env):
    mentor = env.trained(2025, kind="mentor", name="Mary Mentor")
    response = env.post(declaration_body(mentor, course="ecf-mentor", declaration_type="retained-1",
                                         date="2025-09-01T10:00:00Z", evidence="training-event-attended"))  # fmt: skip
    assert_422(response, [("declaration_type", m.MENTOR_STARTED_OR_COMPLETED_ONLY)])
    data = env.declare(mentor, course="ecf-mentor", date="2025-09-01T10:00:00Z")
    assert data["attributes"]["course_identifier"] == "ecf-mentor"


def test_a_course_the_participant_does_not_have(env, ect):
    response = env.post(declaration_body(ect, course="ecf-mentor"))
    assert_422(response, [("course_identifier", m.COURSE_IDENTIFIER_INVALID)])
    response = env.post(declaration_body(ect, course="made-up-course"))
    assert_422(response, [("course_identifier", m.COURSE_IDENTIFIER_INVALID)])


def test_the_course_check_is_gated_by_earlier_errors(env, ect):
    future = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = env.post(declaration_body(ect, course="ecf-mentor", date=future))
    assert_422(response, [("declaration_date", m.DECLARATION_DATE_FUTURE)])


def test_a_provider_that_does_not_train_the_participant_is_told_it_is_not_recognised(env, ect):
    assert_422(env.post(declaration_body(ect), who="other"), [("participant_id", m.PARTICIPANT_NOT_RECOGNISED)])


def test_a_challenged_partnership_still_lets_the_provider_declare(env):
    """Row 12 looks at the provider's records whatever their partnership's state (as actions do)."""
    from chalicelib.models import Partnership
    from chalicelib.services import partnerships as partnership_service

    school = env.school(2024)
    partnership_id = env.partner(school, 2024)
    onboarded = env.onboard(school, 2024, "Cara Challenged", trn="2000009")
    env.eligible(onboarded.user_id)
    before = Partnership.get(partnership_id).serialize()
    partnership_service.challenge_partnership(
        partnership_id, "mistake", NOW - timedelta(days=380), ignore_deadline=True
    )
    env.deliver(partnership_id, old=before)
    assert env.post(declaration_body(onboarded.user_id)).status_code == 200


# --------------------------------------------------------------------------- row 13: evidence


@pytest.mark.parametrize(
    ("cohort", "kind", "declaration_type", "date", "evidence", "expected"),
    [
        (2024, "ect", "retained-1", "2025-02-01T10:00:00Z", ..., m.EVIDENCE_HELD_BLANK),
        (2024, "ect", "retained-1", "2025-02-01T10:00:00Z", "materials-engaged-with-offline", m.EVIDENCE_HELD_INVALID),
        (2024, "ect", "retained-1", "2025-02-01T10:00:00Z", "self-study-material-completed", None),
        (2025, "ect", "started", "2025-09-01T10:00:00Z", ..., None),
        (2025, "ect", "retained-2", "2025-09-01T10:00:00Z", "training-event-attended", m.EVIDENCE_HELD_INVALID),
        (2025, "ect", "retained-2", "2025-09-01T10:00:00Z", "75-percent-engagement-met", None),
        (2025, "ect", "completed", "2025-09-01T10:00:00Z", "one-term-induction", None),
        (2025, "ect", "retained-1", "2025-09-01T10:00:00Z", "materials-engaged-with-offline", None),
        (2025, "ect", "retained-3", "2025-09-01T10:00:00Z", ..., m.EVIDENCE_HELD_BLANK),
        (2025, "mentor", "completed", "2025-09-01T10:00:00Z", "other", m.EVIDENCE_HELD_INVALID),
        (2025, "mentor", "completed", "2025-09-01T10:00:00Z", "75-percent-engagement-met-reduced-induction", None),
        (2025, "mentor", "started", "2025-09-01T10:00:00Z", "materials-engaged-with-offline", None),
    ],
)
def test_evidence_rules_per_cohort_and_course(env, cohort, kind, declaration_type, date, evidence, expected):
    participant = env.trained(cohort, kind=kind, name=f"{kind.title()} Person")
    course = "ecf-mentor" if kind == "mentor" else "ecf-induction"
    body = declaration_body(participant, course=course, declaration_type=declaration_type, date=date, evidence=evidence)
    response = env.post(body)
    if expected is None:
        assert response.status_code == 200, response.body
        assert json.loads(response.body)["data"]["attributes"]["evidence_held"] == (
            None if evidence is ... else evidence
        )
    else:
        assert_422(response, [("evidence_held", expected)])


def test_legacy_started_ignores_the_evidence_sent(env, ect):
    data = env.declare(ect, evidence="test")
    assert data["attributes"]["evidence_held"] is None


def test_evidence_is_checked_only_when_nothing_else_failed(env, ect):
    response = env.post(declaration_body(ect, declaration_type="retained-1", date="2025-05-01T10:00:00Z"))
    assert_422(response, [("declaration_date", m.DECLARATION_AFTER_MILESTONE_END)])


# --------------------------------------------------------------------------- outcomes (1.5)


def test_an_eligible_participant_is_attached_to_the_next_output_fee_statement(env, ect):
    data = env.declare(ect)
    attributes = data["attributes"]
    assert attributes["state"] == "eligible"
    statements = env.api().get_ok("/api/v3/statements?filter[cohort]=2024")["data"]
    october = next(s for s in statements if s["attributes"]["month"] == "October")
    assert attributes["statement_id"] == october["id"]
    assert attributes["delivery_partner_id"] == env.dp.id
    assert attributes["lead_provider_name"] == "Ambition Institute"


def test_a_participant_not_yet_eligible_is_submitted_and_unattached(env):
    participant = env.trained(2024, eligible=False)
    attributes = env.declare(participant)["attributes"]
    assert (attributes["state"], attributes["statement_id"]) == ("submitted", None)


def test_another_user_with_the_same_trn_makes_a_duplicate_ineligible(env):
    first = env.trained(2024, name="Tess Trn", trn="3000001")
    second = env.trained(2024, name="Tess Again", trn="3000001")
    original = env.declare(first)
    duplicate = env.declare(second)["attributes"]
    assert duplicate["state"] == "ineligible"
    assert duplicate["ineligible_for_funding_reason"] == "duplicate_declaration"
    assert duplicate["statement_id"] is None  # its line is ineligible, not billable
    assert original["attributes"]["state"] == "eligible"


def test_the_mentor_is_stamped_on_an_ect_declaration(env):
    school = env.school(2024)
    env.partner(school, 2024)
    mentor = env.onboard(school, 2024, "Mo Mentor", kind="mentor", trn="4000001")
    ect = env.onboard(school, 2024, "Ed Ect", trn="4000002", mentor_email="mo.mentor@example.org")
    env.eligible(ect.user_id)
    assert env.declare(ect.user_id)["attributes"]["mentor_id"] == mentor.user_id


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_and_v2_bodies(env, ect, version):
    data = env.declare(ect, version=version)
    expected = {"participant_id": ect, "declaration_type": "started", "course_identifier": "ecf-induction",
                "declaration_date": "2024-10-01T10:00:00.000Z", "updated_at": "2025-09-15T12:00:00.000Z",
                "state": "eligible", "has_passed": None}  # fmt: skip
    if version == "v1":
        expected = {**expected, "eligible_for_payment": True, "voided": False}
        order = ["participant_id", "declaration_type", "course_identifier", "eligible_for_payment",
                 "declaration_date", "updated_at", "voided", "state", "has_passed"]  # fmt: skip
    else:
        order = ["participant_id", "declaration_type", "course_identifier", "declaration_date", "updated_at",
                 "state", "has_passed"]  # fmt: skip
    assert data["attributes"] == expected
    assert list(data["attributes"]) == order
