"""Declarations after validation: evidence (1.4), outcome (1.5), void (1.6), visibility (1.7), record properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.domain import messages as m
from chalicelib.domain.declarations import (
    DETAILED_EVIDENCE,
    ENGAGEMENT_EVIDENCE,
    LEGACY_EVIDENCE,
    Attempt,
    Declaration,
    DeclarationChange,
    Outcome,
    ProviderDeclarationView,
    StateChange,
    StatementLineChange,
    VoidPlan,
    allowed_evidence,
    dasherised,
    end_of_day,
    evidence_error,
    outcome,
    plan_void,
    rfc3339_seconds,
    slot_key,
    start_of_day,
    stored_evidence,
    visible_to,
)
from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.participants import Record
from tests.unit.builders import induction_record

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def declaration(**changes: object) -> Declaration:
    base = Declaration(
        id="d1",
        user_id="u1",
        profile_id="p1",
        participant_type="ect",
        lead_provider_id="lp-a",
        lead_provider_name="Provider A",
        cohort=2024,
        course_identifier="ecf-induction",
        declaration_type="started",
        declaration_date=T0,
        evidence_held=None,
        state="submitted",
        state_reason=None,
        delivery_partner_id="dp1",
        mentor_user_id=None,
        superseded_by_id=None,
        pupil_premium_uplift=False,
        sparsity_uplift=False,
        statement_id=None,
        line_state=None,
        clawback_statement_id=None,
        viewers=frozenset({"lp-a"}),
        voided_at=None,
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def record(induction: str = "active", end: datetime | None = None) -> Record:
    return induction_record(programme_id="prog-b", end_date=end, induction_status=induction)


# --------------------------------------------------------------------------- evidence (1.4)

ECT_DETAILED_TYPES = ("started", "retained-1", "retained-3", "retained-4", "extended-1", "extended-2", "extended-3")


@pytest.mark.parametrize(
    ("detailed", "participant_type", "declaration_type", "expected"),
    [
        *((False, kind, t, LEGACY_EVIDENCE) for kind in ("ect", "mentor") for t in ("started", "retained-2", "x")),
        *((True, "ect", t, DETAILED_EVIDENCE) for t in ECT_DETAILED_TYPES),
        (True, "ect", "retained-2", ENGAGEMENT_EVIDENCE),
        (True, "ect", "completed", (*ENGAGEMENT_EVIDENCE, "one-term-induction")),
        (True, "mentor", "started", DETAILED_EVIDENCE),
        (True, "mentor", "completed", ENGAGEMENT_EVIDENCE),
        *((True, "mentor", t, ()) for t in ("retained-1", "retained-2", "extended-1")),
    ],
)
def test_allowed_evidence(detailed: bool, participant_type: str, declaration_type: str, expected: tuple) -> None:
    assert allowed_evidence(detailed, participant_type, declaration_type) == expected


def test_evidence_value_lists() -> None:
    assert LEGACY_EVIDENCE == ("training-event-attended", "self-study-material-completed", "other")
    assert DETAILED_EVIDENCE == (
        "training-event-attended",
        "self-study-material-completed",
        "materials-engaged-with-offline",
        "other",
    )
    assert ENGAGEMENT_EVIDENCE == ("75-percent-engagement-met", "75-percent-engagement-met-reduced-induction")


@pytest.mark.parametrize(
    ("detailed", "participant_type", "declaration_type", "evidence", "expected"),
    [
        # legacy: started ignores evidence, whatever it is
        (False, "ect", "started", None, None),
        (False, "ect", "started", "test", None),
        (False, "mentor", "started", "75-percent-engagement-met", None),
        # legacy: other types need a legacy value
        (False, "ect", "retained-1", None, m.EVIDENCE_HELD_BLANK),
        (False, "ect", "retained-1", "  ", m.EVIDENCE_HELD_BLANK),
        (False, "ect", "retained-1", "other", None),
        (False, "ect", "completed", "materials-engaged-with-offline", m.EVIDENCE_HELD_INVALID),
        (False, "mentor", "retained-2", "self-study-material-completed", None),
        # detailed: started may omit it, but a sent value is checked
        (True, "ect", "started", None, None),
        (True, "ect", "started", "", None),
        (True, "ect", "started", "materials-engaged-with-offline", None),
        (True, "ect", "started", "75-percent-engagement-met", m.EVIDENCE_HELD_INVALID),
        (True, "mentor", "started", "one-term-induction", m.EVIDENCE_HELD_INVALID),
        # detailed: other types need a value from their list
        (True, "ect", "retained-1", None, m.EVIDENCE_HELD_BLANK),
        (True, "ect", "retained-2", "other", m.EVIDENCE_HELD_INVALID),
        (True, "ect", "retained-2", "75-percent-engagement-met-reduced-induction", None),
        (True, "ect", "completed", "one-term-induction", None),
        (True, "mentor", "completed", "one-term-induction", m.EVIDENCE_HELD_INVALID),
        (True, "mentor", "completed", "75-percent-engagement-met", None),
        (True, "mentor", "retained-1", "other", m.EVIDENCE_HELD_INVALID),
        (True, "mentor", "retained-1", None, m.EVIDENCE_HELD_BLANK),
        (True, "ect", "retained-1", 7, m.EVIDENCE_HELD_INVALID),
    ],
)
def test_evidence_error(
    detailed: bool, participant_type: str, declaration_type: str, evidence: object, expected: str | None
) -> None:
    assert evidence_error(detailed, participant_type, declaration_type, evidence) == expected


@pytest.mark.parametrize(
    ("detailed", "declaration_type", "evidence", "expected"),
    [
        (False, "started", "test", None),
        (False, "retained-1", "other", "other"),
        (True, "started", "other", "other"),
        (True, "started", None, None),
        (True, "retained-1", "  ", None),
        (True, "retained-1", 7, "7"),
    ],
)
def test_stored_evidence(detailed: bool, declaration_type: str, evidence: object, expected: str | None) -> None:
    assert stored_evidence(detailed, declaration_type, evidence) == expected


# --------------------------------------------------------------------------- outcome (1.5)


@pytest.mark.parametrize(
    ("duplicate_of", "fundable", "expected", "attaches"),
    [
        ("d0", True, Outcome("ineligible", "duplicate", "d0"), True),
        ("d0", False, Outcome("ineligible", "duplicate", "d0"), True),
        (None, True, Outcome("eligible", None, None), True),
        (None, False, Outcome("submitted", None, None), False),
    ],
)
def test_outcome(duplicate_of: str | None, fundable: bool, expected: Outcome, attaches: bool) -> None:
    result = outcome(duplicate_of, fundable)
    assert result == expected
    assert result.attaches is attaches


# --------------------------------------------------------------------------- void (1.6)


@pytest.mark.parametrize("state", ["submitted", "eligible", "payable", "ineligible"])
@pytest.mark.parametrize("has_statement", [True, False])
def test_void_of_a_voidable_declaration_never_needs_a_statement(state: str, has_statement: bool) -> None:
    assert plan_void(declaration(state=state), has_statement) == VoidPlan("voided", clawback=False)


def test_void_of_a_paid_declaration_is_a_clawback() -> None:
    assert plan_void(declaration(state="paid", statement_id="s1", line_state="paid"), True) == VoidPlan(
        "awaiting_clawback", clawback=True
    )


@pytest.mark.parametrize(
    ("given", "has_statement", "detail"),
    [
        pytest.param(
            declaration(state="paid", cohort=2021),
            False,
            "Participant declaration You cannot submit or void declarations for the 2021 cohort. The funding "
            "contract for this cohort has ended. Get in touch if you need to discuss this with us",
            id="paid-no-statement",
        ),
        pytest.param(
            declaration(state="paid", clawback_statement_id="s2"),
            True,
            f"Participant declaration {m.CLAWBACK_ALREADY_REFUNDED}",
            id="paid-already-refunded",
        ),
        pytest.param(
            declaration(state="paid", clawback_statement_id="s2"),
            False,
            f"Participant declaration {m.CLAWBACK_ALREADY_REFUNDED}, "
            f"Participant declaration {m.funding_contract_ended(2024)}",
            id="paid-refunded-and-no-statement",
        ),
        pytest.param(declaration(state="voided"), True, m.ALREADY_VOIDED, id="voided"),
        pytest.param(declaration(state="voided"), False, m.ALREADY_VOIDED, id="voided-no-statement"),
        pytest.param(declaration(state="awaiting_clawback"), True, m.CLAWED_BACK_VIEW_ONLY, id="awaiting-clawback"),
        pytest.param(declaration(state="clawed_back"), True, m.CLAWED_BACK_VIEW_ONLY, id="clawed-back"),
    ],
)
def test_void_refusals(given: Declaration, has_statement: bool, detail: str) -> None:
    with pytest.raises(InvalidTransition) as raised:
        plan_void(given, has_statement)
    assert raised.value.detail == detail
    assert str(raised.value) == detail


def test_void_messages_are_the_reference_texts() -> None:
    assert m.ALREADY_VOIDED == "This declaration has already been voided."
    assert m.CLAWED_BACK_VIEW_ONLY == "This declaration has been clawed-back, so you can only view it."
    assert m.CLAWBACK_ALREADY_REFUNDED == "will or has been be refunded"
    assert m.CLAWBACK_NOT_PAID == "must be paid before it can be clawed back"


# --------------------------------------------------------------------------- visibility (1.7)


@pytest.mark.parametrize("state", ["submitted", "eligible", "voided", "ineligible", "clawed_back"])
def test_own_declarations_are_always_visible(state: str) -> None:
    assert visible_to(declaration(state=state), "lp-a", []) == (True, True)


@pytest.mark.parametrize(
    ("state", "records", "expected"),
    [
        pytest.param("eligible", [record("active")], (True, True), id="active-record"),
        pytest.param("paid", [record("completed")], (True, True), id="completed-record"),
        pytest.param("submitted", [record("leaving")], (True, False), id="leaving-open-end"),
        pytest.param("payable", [record("leaving", end=T0)], (True, False), id="leaving-ends-on-the-date"),
        pytest.param("eligible", [record("leaving", end=datetime(2024, 4, 30, tzinfo=UTC))], (False, False), id="left"),
        pytest.param("eligible", [record("changed")], (False, False), id="changed-record"),
        pytest.param("eligible", [record("withdrawn")], (False, False), id="withdrawn-record"),
        pytest.param("eligible", [], (False, False), id="no-records"),
        pytest.param(
            "eligible",
            [record("leaving", end=datetime(2024, 4, 30, tzinfo=UTC)), record("active")],
            (True, True),
            id="any-record-counts",
        ),
        *(
            pytest.param(state, [record("active")], (False, False), id=f"others-{state}-hidden")
            for state in ("voided", "ineligible", "awaiting_clawback", "clawed_back")
        ),
    ],
)
def test_other_providers_declarations(state: str, records: list[Record], expected: tuple[bool, bool]) -> None:
    assert visible_to(declaration(state=state), "lp-b", records) == expected


# --------------------------------------------------------------------------- record properties


@pytest.mark.parametrize(
    ("state", "holds"),
    [
        ("submitted", True),
        ("eligible", True),
        ("payable", True),
        ("paid", True),
        ("voided", False),
        ("ineligible", False),
        ("awaiting_clawback", False),
        ("clawed_back", False),
    ],
)
def test_holds_slot(state: str, holds: bool) -> None:
    assert declaration(state=state).holds_slot is holds


@pytest.mark.parametrize(
    ("line_state", "expected"),
    [("eligible", "s1"), ("payable", "s1"), ("paid", "s1"), ("ineligible", None), ("voided", None), (None, None)],
)
def test_billable_statement_id(line_state: str | None, expected: str | None) -> None:
    assert declaration(statement_id="s1", line_state=line_state).billable_statement_id == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"state": "paid", "sparsity_uplift": True}, True),
        ({"state": "awaiting_clawback", "pupil_premium_uplift": True}, True),
        ({"state": "clawed_back", "sparsity_uplift": True, "pupil_premium_uplift": True}, True),
        ({"state": "payable", "sparsity_uplift": True}, False),
        ({"state": "paid"}, False),
        ({"state": "paid", "sparsity_uplift": True, "declaration_type": "retained-1"}, False),
        ({"state": "paid", "sparsity_uplift": True, "course_identifier": "ecf-mentor"}, False),
    ],
)
def test_uplift_paid(changes: dict, expected: bool) -> None:
    assert declaration(**changes).uplift_paid is expected


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        ("ineligible", "duplicate", "duplicate_declaration"),
        ("ineligible", "something_else", "something_else"),
        ("ineligible", None, None),
        ("eligible", "duplicate", None),
        ("voided", "duplicate", None),
    ],
)
def test_ineligible_for_funding_reason(state: str, reason: str | None, expected: str | None) -> None:
    assert declaration(state=state, state_reason=reason).ineligible_for_funding_reason == expected


def test_small_helpers() -> None:
    assert slot_key("u1", "ecf-induction", "started") == "u1#ecf-induction#started"
    assert dasherised("awaiting_clawback") == "awaiting-clawback"
    assert dasherised("paid") == "paid"
    value = datetime(2024, 5, 1, 10, 30, 15, 123456, tzinfo=UTC)
    assert start_of_day(value) == datetime(2024, 5, 1, tzinfo=UTC)
    assert end_of_day(value) == datetime(2024, 5, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert rfc3339_seconds(value) == "2024-05-01T10:30:15Z"
    assert rfc3339_seconds(datetime(2024, 5, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))) == "2024-05-01T10:00:00Z"


# --------------------------------------------------------------------------- the change the repository applies


def _view() -> ProviderDeclarationView:
    return ProviderDeclarationView("lp-b", "d1", "u1", 2024, None, True, T0, T0)


def _line(state: str) -> StatementLineChange:
    return StatementLineChange("s1", "d1", state, False, "started", "Name", T0)


def _attempt() -> Attempt:
    return Attempt("a1", "u1", "lp-a", "ecf-induction", "2024-05-01T10:00:00Z", "started", None, T0)


@pytest.mark.parametrize(
    ("before", "after", "takes", "releases"),
    [
        (None, "submitted", True, False),
        (None, "ineligible", False, False),
        ("submitted", "eligible", False, False),
        ("eligible", "voided", False, True),
        ("paid", "awaiting_clawback", False, True),
        ("voided", "voided", False, False),
    ],
)
def test_slot_changes(before: str | None, after: str, takes: bool, releases: bool) -> None:
    change = DeclarationChange(before=declaration(state=before) if before else None, after=declaration(state=after))
    assert (change.takes_slot, change.releases_slot) == (takes, releases)


def test_change_size_counts_every_transaction_item() -> None:
    new = DeclarationChange(
        before=None,
        after=declaration(state="eligible"),
        states=(StateChange("d1", "submitted", None, T0), StateChange("d1", "eligible", None, T0)),
        new_lines=(_line("eligible"),),
        views=(_view(), _view()),
        open_statement_id="s1",
        attempt=_attempt(),
    )
    # item + slot + 2 states + 1 line + 2 views + open statement + attempt + the user's declarations flag
    assert new.size == 10
    void = DeclarationChange(
        before=declaration(state="eligible"),
        after=declaration(state="voided"),
        states=(StateChange("d1", "voided", None, T0),),
        changed_lines=(_line("voided"),),
        removed_viewers=("lp-b", "lp-c"),
    )
    # item + slot release + 1 state + 1 changed line + 2 removed viewers
    assert void.size == 6
    assert DeclarationChange(before=declaration(state="voided"), after=declaration(state="voided")).size == 1
