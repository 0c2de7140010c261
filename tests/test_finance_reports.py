"""The finance views (``chalicelib.services.finance_reports``): the assurance report's rows, its file name,
its streaming and its request budget; the participant page's search order. ecf-declarations-statements.md
2.3 and 2.4."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.counting import count_requests
from chalicelib.domain.errors import NotFound
from chalicelib.domain.finance_reports import (
    ASSURANCE_COLUMNS,
    NO_RECORDS_FOUND,
    AssuranceRow,
    assurance_file_name,
    latest_created,
    shown_reason,
)
from chalicelib.domain.participants import Record
from chalicelib.models.finance import DeclarationItem, EligibilityItem, StatementLineItem
from chalicelib.models.participants import ParticipantProfile
from chalicelib.repositories import common
from chalicelib.repositories import statements as statement_repo
from chalicelib.services import finance_reports, statements
from chalicelib.services import participants as participant_service
from tests.finance_env import NOW, FinanceEnv

T0 = datetime(2024, 9, 1, tzinfo=UTC)


@pytest.fixture
def env(world: Any, client: Any) -> FinanceEnv:
    return FinanceEnv(world, client)


def october(env: FinanceEnv, lead_provider_id: str | None = None) -> str:
    lp = lead_provider_id or env.lp.id
    return next(s.id for s in statements.statements_of(lp, 2024) if s.name == "October 2025")


def rows_of(statement_id: str) -> list[AssuranceRow]:
    return list(finance_reports.assurance_report(statement_id).rows)


# --------------------------------------------------------------------------- domain


@pytest.mark.parametrize(
    ("provider", "cohort", "statement", "expected"),
    [
        ("Ambition Institute", 2024, "October 2025", "ECF-Declarations-AmbitionInstitute-Cohort2024-October2025.csv"),
        ("Best Practice Network (home of Outstanding Leaders Partnership)", 2025, "January 2026",
         "ECF-Declarations-BestPracticeNetworkhomeofOutstandingLeadersPartnership-Cohort2025-January2026.csv"),
        ("UCL Institute of Education", 2021, "Nov-2021 (final)",
         "ECF-Declarations-UCLInstituteofEducation-Cohort2021-Nov2021final.csv"),
        ("Éducation_Trust & Co.", 2022, "  March  2023 ", "ECF-Declarations-ducation_TrustCo-Cohort2022-March2023.csv"),
    ],
)  # fmt: skip
def test_file_name_drops_non_word_characters_as_ruby_does(
    provider: str, cohort: int, statement: str, expected: str
) -> None:
    # Ruby's \W is ASCII: "É" is dropped, "_" is a word character and stays.
    assert assurance_file_name(provider, cohort, statement) == expected


def row(**changes: Any) -> AssuranceRow:
    base = AssuranceRow(
        participant_id="u1",
        participant_name='Ada, "the" Lovelace',
        trn=None,
        participant_type="mentor",
        mentor_profile_id=None,
        schedule="ecf-standard-september",
        eligible_for_funding=False,
        eligible_for_funding_reason="no_qts",
        sparsity_uplift=True,
        pupil_premium_uplift=False,
        lead_provider_name="Capita",
        delivery_partner_name=None,
        school_urn="100001",
        school_name="A School",
        training_status="withdrawn",
        training_status_reason="switched-to-school-led",
        declaration_id="d1",
        declaration_status="awaiting_clawback",
        declaration_type="started",
        declaration_date=datetime(2024, 10, 1, 10, 0, 0, 123000, tzinfo=UTC),
        declaration_created_at=datetime(2025, 9, 15, 13, 0, tzinfo=UTC) - timedelta(hours=1),
        statement_name="October 2025",
        statement_id="s1",
    )
    return replace(base, **changes)


def test_cells_follow_the_columns_and_formats() -> None:
    cells = dict(zip(ASSURANCE_COLUMNS, row().cells(), strict=True))
    assert cells == {
        "Participant ID": "u1",
        "Participant Name": 'Ada, "the" Lovelace',
        "TRN": "",
        "Type": "ParticipantProfile::Mentor",
        "Mentor Profile ID": "",
        "Schedule": "ecf-standard-september",
        "Eligible For Funding": "false",
        "Eligible For Funding Reason": "no_qts",
        "Sparsity Uplift": "true",
        "Pupil Premium Uplift": "false",
        "Sparsity And Pp": "false",
        "Lead Provider Name": "Capita",
        "Delivery Partner Name": "",
        "School Urn": "100001",
        "School Name": "A School",
        "Training Status": "withdrawn",
        "Training Status Reason": "switched-to-school-led",
        "Declaration ID": "d1",
        "Declaration Status": "awaiting_clawback",
        "Declaration Type": "started",
        "Declaration Date": "2024-10-01T10:00:00Z",
        "Declaration Created At": "2025-09-15T12:00:00Z",
        "Statement Name": "October 2025",
        "Statement ID": "s1",
        "Uplift Payable": "true",
    }
    assert row(participant_type="ect").cells()[3] == "ParticipantProfile::ECT"


@pytest.mark.parametrize(
    ("sparsity", "pupil_premium", "both", "either"),
    [(False, False, "false", "false"), (True, False, "false", "true"), (False, True, "false", "true"),
     (True, True, "true", "true")],
)  # fmt: skip
def test_uplift_columns(sparsity: bool, pupil_premium: bool, both: str, either: str) -> None:
    cells = dict(zip(ASSURANCE_COLUMNS, row(sparsity_uplift=sparsity, pupil_premium_uplift=pupil_premium).cells(),
                     strict=True))  # fmt: skip
    assert (cells["Sparsity And Pp"], cells["Uplift Payable"]) == (both, either)


def record(record_id: str, *, start: datetime, created: datetime) -> Record:
    return Record(
        id=record_id, programme_id="p", school_id="s", school_urn="1", start_date=start, end_date=None,
        training_status="active", induction_status="active", email=None, mentor_profile_id=None,
        mentor_user_id=None, schedule_identifier="ecf-standard-september", schedule_cohort=2024,
        school_transfer=False, appropriate_body=None, created_at=created, updated_at=created,
    )  # fmt: skip


def test_the_latest_record_is_the_last_created_not_the_last_started() -> None:
    later_start = record("a", start=T0 + timedelta(days=30), created=T0)
    later_created = record("b", start=T0, created=T0 + timedelta(days=1))
    assert latest_created([later_start, later_created]) == later_created
    assert latest_created([]) is None
    assert (shown_reason("school-left-fip"), shown_reason("moved-school"), shown_reason(None)) == (
        "switched-to-school-led", "moved-school", None)  # fmt: skip


# --------------------------------------------------------------------------- the report's rows


def test_rows_join_participant_profile_eligibility_school_partner_and_line(env: FinanceEnv) -> None:
    school = env.school(2024)
    env.partner(school, 2024)
    mentor = env.onboard(school, 2024, "Mia Mentor", kind="mentor", trn="3000001")
    ect = env.onboard(school, 2024, "zoe Zed", trn="3000002", mentor_email="mia.mentor@example.org")
    left = env.onboard(school, 2024, "Adam Ant", trn="3000003")
    checked = env.onboard(school, 2024, "Bea Bee", trn="3000004")
    env.eligible(mentor.user_id, course="ecf-mentor")
    for person in (ect, left, checked):
        env.eligible(person.user_id)
    ParticipantProfile.get(ect.profile_id).update(
        actions=[ParticipantProfile.sparsity_uplift.set(True), ParticipantProfile.pupil_premium_uplift.set(True)]
    )
    ids = {
        "mentor": env.declare(mentor.user_id, course="ecf-mentor")["id"],
        "ect": env.declare(ect.user_id)["id"],
        "left": env.declare(left.user_id)["id"],
        "checked": env.declare(checked.user_id)["id"],
    }
    # Withdrawn afterwards (a legacy reason: shown as its new name); Bea re-checked as not eligible.
    participant_service.change_training_status(
        env.lp.id, left.user_id, "withdraw", {"reason": "school-left-fip", "course_identifier": "ecf-induction"},
        NOW + timedelta(minutes=5),
    )  # fmt: skip
    env.eligible(checked.user_id, "ineligible")
    EligibilityItem.get(checked.profile_id).update(actions=[EligibilityItem.reason.set("no_qts")])

    report = finance_reports.assurance_report(october(env))
    assert report.file_name == "ECF-Declarations-AmbitionInstitute-Cohort2024-October2025.csv"
    rows = list(report.rows)
    assert [r.participant_name for r in rows] == ["Adam Ant", "Bea Bee", "Mia Mentor", "zoe Zed"]
    by_name = {r.participant_name: r for r in rows}

    assert by_name["Mia Mentor"].participant_type == "mentor"
    assert by_name["Mia Mentor"].mentor_profile_id is None
    zoe = by_name["zoe Zed"]
    assert zoe.mentor_profile_id == mentor.profile_id
    assert (zoe.sparsity_uplift, zoe.pupil_premium_uplift, zoe.sparsity_and_pp, zoe.uplift_payable) == (
        True, True, True, True)  # fmt: skip
    assert (zoe.trn, zoe.declaration_id, zoe.declaration_status) == ("3000002", ids["ect"], "eligible")

    adam = by_name["Adam Ant"]
    assert (adam.training_status, adam.training_status_reason) == ("withdrawn", "switched-to-school-led")
    assert (adam.schedule, adam.eligible_for_funding, adam.eligible_for_funding_reason) == (
        "ecf-standard-september", True, None)  # fmt: skip

    bea = by_name["Bea Bee"]
    assert (bea.eligible_for_funding, bea.eligible_for_funding_reason) == (False, "no_qts")
    assert (bea.training_status, bea.training_status_reason) == ("active", None)

    for r in rows:
        assert (r.lead_provider_name, r.delivery_partner_name) == ("Ambition Institute", "Alpha Partners")
        assert (r.school_urn, r.school_name) == (school.urn, school.name)
        assert (r.statement_name, r.statement_id) == ("October 2025", october(env))
        assert r.declaration_created_at == NOW
        assert r.declaration_type == "started"


def test_rows_are_only_the_statements_lines(env: FinanceEnv) -> None:
    mine = env.trained(2024, name="Eve One")
    theirs = env.trained(2024, who="other", name="Carl Capita", trn="2000009")
    env.declare(mine)
    env.declare(theirs, who="other")
    [capita] = rows_of(october(env, env.other.id))
    assert (capita.participant_id, capita.lead_provider_name, capita.delivery_partner_name) == (
        theirs, "Capita", "Gamma Partners")  # fmt: skip
    assert [r.participant_id for r in rows_of(october(env))] == [mine]


def test_a_line_without_its_declaration_is_left_out(env: FinanceEnv) -> None:
    user_id = env.trained(2024)
    declaration_id = env.declare(user_id)["id"]
    DeclarationItem.get(declaration_id).delete()
    assert rows_of(october(env)) == []
    assert StatementLineItem.get(october(env), declaration_id) is not None


def test_unknown_statement(env: FinanceEnv) -> None:
    with pytest.raises(Exception, match="No statement 8f1c1f9e"):
        finance_reports.assurance_report("8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11")


# --------------------------------------------------------------------------- streaming and request budget


def many(env: FinanceEnv, count: int) -> list[str]:
    """``count`` eligible ECTs at one school, each with a declaration on October 2025."""
    school = env.school(2024)
    env.partner(school, 2024)
    ids = []
    for n in range(count):
        person = env.onboard(school, 2024, f"Person {n:03d}", trn=f"4{n:06d}")
        env.eligible(person.user_id)
        ids.append(env.declare(person.user_id)["id"])
    return ids


def test_rows_stream_one_page_of_lines_at_a_time(env: FinanceEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    many(env, 5)
    monkeypatch.setattr(statement_repo, "LINES_PAGE", 2)
    report = finance_reports.assurance_report(october(env))
    with count_requests() as counts:
        first = next(report.rows)
    # Nothing is read before the rows are asked for; then one page: its lines, and each kind of record once.
    line_queries = [c for c in counts.calls if c.operation == "Query"]
    declaration_reads = [c for c in counts.calls if c.tables == (DeclarationItem.Meta.table_name,)]
    assert (len(line_queries), len(declaration_reads)) == (1, 1), counts.detail()
    assert first.participant_name == "Person 000"
    rest = list(report.rows)
    assert [r.participant_name for r in rest] == [f"Person {n:03d}" for n in range(1, 5)]


def report_requests(statement_id: str) -> tuple[int, Any]:
    with count_requests() as counts:
        rows = rows_of(statement_id)
    return len(rows), counts


def test_requests_grow_with_batches_of_lines_not_with_rows(env: FinanceEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """N lines cost about N/100 requests per kind of record (BatchGets of 100), never one per row.

    With 1 and then 24 rows at one school, the report makes the same requests. With BatchGets shrunk to 5
    keys, the 24 rows cost ceil(24/5) = 5 BatchGets of each per-row record (declarations, users, profiles,
    eligibilities), and still no GetItem or Query per row.
    """
    ids = many(env, 1)
    statement_id = october(env)
    one, small = report_requests(statement_id)
    school = env.school(2024)  # the rest at a second school: one more school and programme to read
    env.partner(school, 2024)
    for n in range(23):
        person = env.onboard(school, 2024, f"Later {n:02d}", trn=f"5{n:06d}")
        env.eligible(person.user_id)
        ids.append(env.declare(person.user_id)["id"])
    rows, large = report_requests(statement_id)
    assert (one, rows) == (1, 24)
    assert large.by_operation == small.by_operation, (small.detail(), large.detail())
    assert large.count("GetItem") == 1
    assert large.count("Query") == 1

    monkeypatch.setattr(common, "BATCH_GET_MAX", 5)
    rows, batched = report_requests(statement_id)
    per_row_tables = {DeclarationItem.Meta.table_name, EligibilityItem.Meta.table_name,
                      ParticipantProfile.Meta.table_name}  # fmt: skip
    for table in per_row_tables:
        reads = [c for c in batched.calls if c.operation == "BatchGetItem" and c.tables == (table,)]
        assert len(reads) == math.ceil(rows / 5), (table, batched.detail())
    assert batched.count("GetItem") == 1
    assert batched.count("Query") == 1
    assert batched.total <= 8 * math.ceil(rows / 5) + 3, batched.detail()


# --------------------------------------------------------------------------- the participant page


def test_participant_search_order_and_miss(env: FinanceEnv) -> None:
    user_id = env.trained(2024)
    declaration_id = env.declare(user_id)["id"]
    by_user = finance_reports.find_participant(user_id)
    by_declaration = finance_reports.find_participant(f"  {declaration_id} ")
    assert (by_user.matched_by, by_user.participant_id) == ("participant_id", user_id)
    assert (by_declaration.matched_by, by_declaration.participant_id) == ("declaration_id", user_id)
    assert by_declaration.profiles == by_user.profiles
    assert by_declaration.declarations == by_user.declarations
    for query in ("8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11", "", "eve.one@example.org"):
        with pytest.raises(NotFound) as raised:
            finance_reports.find_participant(query)
        assert str(raised.value) == NO_RECORDS_FOUND


def test_participant_page_shows_a_withdrawal_and_each_record(env: FinanceEnv) -> None:
    user_id = env.trained(2024)
    env.declare(user_id)
    participant_service.change_training_status(
        env.lp.id, user_id, "withdraw", {"reason": "moved-school", "course_identifier": "ecf-induction"},
        NOW + timedelta(minutes=5),
    )  # fmt: skip
    page = finance_reports.find_participant(user_id)
    [profile] = page.profiles
    assert (profile.training_status, profile.heading, profile.eligible_for_funding) == ("withdrawn", "ECT", True)
    # The withdrawal ends the record ("changed") and starts a withdrawn copy: newest start first.
    assert [(r.induction_status, r.training_status) for r in profile.induction_records] == [
        ("active", "withdrawn"), ("changed", "active")]  # fmt: skip
    assert {r.lead_provider_name for r in profile.induction_records} == {"Ambition Institute"}
