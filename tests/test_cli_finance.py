"""``ecf-admin participants eligibility`` and ``ecf-admin finance ...``, in-process against moto.

The world is ``tests/finance_env.FinanceEnv`` (two providers, cohorts 2024 and 2025, statements around
2025-09-15); declarations are POSTed through the API at its dates, and the CLI runs at ``NOW`` unless a test
moves the clock.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from admin.texts import ELIGIBILITY_PENDING_NOTE
from chalicelib.domain.finance_reports import ASSURANCE_COLUMNS
from chalicelib.models.finance import DeclarationItem, DeclarationStateItem, EligibilityItem, StatementItem
from chalicelib.repositories import declarations as declaration_repo
from chalicelib.repositories import participant_graph
from chalicelib.repositories import statements as statement_repo
from chalicelib.services import eligibility as eligibility_service
from chalicelib.services import statements
from tests.finance_env import NOW, FinanceEnv
from tests.test_cli import Result, assert_error, ecf

UNKNOWN = "8f1c1f9e-2a53-4d0e-9a43-8f1f4f0b7c11"
AFTER_DEADLINE = NOW + timedelta(days=17)  # 2025-10-02: October 2025's deadline (2025-09-30) has passed
OCTOBER = "October 2025"


def run(*argv: str, now: datetime = NOW) -> Result:
    return ecf(*argv, now=now)


def ok(*argv: str, now: datetime = NOW) -> Result:
    result = run(*argv, now=now)
    assert result.status == 0, (result.out, result.err)
    return result


def statement_id(lead_provider_id: str, name: str, cohort: int = 2024) -> str:
    return next(s.id for s in statements.statements_of(lead_provider_id, cohort) if s.name == name)


def history(declaration_id: str) -> list[str]:
    return [s.state for s in declaration_repo.states_of(declaration_id)]


def snapshot() -> tuple[Any, ...]:
    """Everything a statement move writes: statements, declarations, their state history."""
    return (
        sorted((s.id, s.statement_type, s.updated_at, s.marked_as_paid_at) for s in StatementItem.scan()),
        sorted((d.id, d.state, d.line_state, d.version) for d in DeclarationItem.scan()),
        sum(1 for _ in DeclarationStateItem.scan()),
    )


@pytest.fixture
def env(world: Any, client: Any) -> FinanceEnv:
    return FinanceEnv(world, client)


@pytest.fixture
def declared(env: FinanceEnv) -> dict[str, str]:
    """An eligible 2024 ECT of Ambition with a ``started`` declaration on the October 2025 statement."""
    user_id = env.trained(2024, name="Eve One")
    declaration = env.declare(user_id)
    assert declaration["attributes"]["state"] == "eligible"
    return {"user_id": user_id, "declaration_id": declaration["id"], "statement_id": statement_id(env.lp.id, OCTOBER)}


# --------------------------------------------------------------------------- participants eligibility


def test_eligibility_is_recorded_pending_and_the_stream_applies_it(env: FinanceEnv) -> None:
    user_id = env.trained(2024, eligible=False)
    declaration = env.declare(user_id)
    assert declaration["attributes"]["state"] == "submitted"

    result = ok("participants", "eligibility", user_id, "--status", "eligible")
    participant = participant_graph.get(user_id)
    assert participant is not None
    profile_id = participant.profiles[0].id
    assert result.out == (
        "Eligibility recorded\n"
        f"participant id      {user_id}\n"
        f"training record id  {profile_id}\n"
        "participant type    ect\n"
        "status              eligible\n"
        "reason              none\n"
        "recorded at         2025-09-15T12:00:00.000Z\n"
        f"{ELIGIBILITY_PENDING_NOTE}\n"
    )
    assert result.err == ""
    item = EligibilityItem.get(profile_id)
    assert (item.status, item.reason, item.pending) == ("eligible", "none", "Y")
    # The CLI only records: the declaration moves when the stream handler applies the change.
    assert declaration_repo.get(declaration["id"]).state == "submitted"  # type: ignore[union-attr]
    assert eligibility_service.apply(profile_id, NOW) == 1
    moved = declaration_repo.get(declaration["id"])
    assert moved is not None
    assert moved.state == "eligible"
    assert moved.statement_id == statement_id(env.lp.id, OCTOBER)
    assert EligibilityItem.get(profile_id).pending is None


def test_eligibility_json_and_reason(env: FinanceEnv) -> None:
    user_id = env.trained(2024, eligible=False)
    data = ok("participants", "eligibility", user_id, "--status", "ineligible", "--reason", "no_qts", "--json").json()
    assert set(data) == {"participant_id", "training_record_id", "participant_type", "status", "reason",
                         "eligible_for_funding", "change_id", "pending", "recorded_at"}  # fmt: skip
    assert (data["participant_id"], data["participant_type"]) == (user_id, "ect")
    assert (data["status"], data["reason"], data["eligible_for_funding"], data["pending"]) == (
        "ineligible", "no_qts", False, True)  # fmt: skip
    assert data["recorded_at"] == "2025-09-15T12:00:00.000Z"


def test_eligibility_of_a_mentor_profile(env: FinanceEnv) -> None:
    mentor = env.trained(2024, eligible=False, kind="mentor", name="Mia Mentor", trn="3000001")
    assert_error(
        run("participants", "eligibility", mentor, "--status", "eligible"),
        1,
        f"error: Participant {mentor} has no ecf-induction profile",
    )
    data = ok("participants", "eligibility", mentor, "--status", "matched", "--course", "ecf-mentor", "--json").json()
    assert (data["participant_type"], data["status"], data["reason"], data["eligible_for_funding"]) == (
        "mentor", "matched", None, None)  # fmt: skip


def test_eligibility_errors(env: FinanceEnv) -> None:
    user_id = env.trained(2024, eligible=False)
    assert_error(
        run("participants", "eligibility", UNKNOWN, "--status", "eligible"),
        1,
        f"error: No participant with id {UNKNOWN}",
    )
    assert_error(
        run("participants", "eligibility", "not-an-id", "--status", "eligible"), 1, "No participant with id not-an-id"
    )
    as_json = run("participants", "eligibility", UNKNOWN, "--status", "eligible", "--json")
    assert as_json.json() == {"error": f"No participant with id {UNKNOWN}", "exit_status": 1}
    assert_error(
        run("participants", "eligibility", user_id, "--status", "maybe"), 2, "argument --status: invalid choice"
    )
    assert_error(
        run("participants", "eligibility", user_id, "--status", "ineligible", "--reason", "bored"),
        2,
        "argument --reason: invalid choice",
    )
    assert_error(run("participants", "eligibility", user_id), 2, "the following arguments are required: --status")
    assert_error(run("participants", "eligibility", " ", "--status", "eligible"), 2, "a value cannot be blank")
    assert sum(1 for _ in EligibilityItem.scan()) == 0  # nothing recorded


# --------------------------------------------------------------------------- statements list / show


def test_statements_list(env: FinanceEnv) -> None:
    text = ok("finance", "statements", "list", "--lead-provider", "Ambition Institute", "--cohort", "2024").out
    lines = text.splitlines()
    assert lines[0] == "Statements of Ambition Institute"
    assert lines[1].split() == ["ID", "COHORT", "NAME", "STATE", "OUTPUT", "FEE", "DEADLINE", "PAYMENT", "DATE",
                                "AUTHORISED", "AT"]  # fmt: skip
    rows = [line.split()[1:] for line in lines[2:]]
    assert rows == [
        ["2024", "August", "2025", "paid", "yes", "2025-07-31", "2025-08-25", "-"],
        ["2024", "October", "2025", "open", "yes", "2025-09-30", "2025-10-25", "-"],
        ["2024", "November", "2025", "open", "no", "2025-10-31", "2025-11-25", "-"],
        ["2024", "January", "2026", "open", "yes", "2025-12-31", "2026-01-25", "-"],
    ]

    data = ok("finance", "statements", "list", "--lead-provider", "Capita", "--json").json()
    assert data["lead_provider"] == {"id": env.other.id, "name": "Capita"}
    assert data["cohort"] is None
    payment_dates = [s["payment_date"] for s in data["statements"]]
    assert payment_dates == sorted(payment_dates)
    assert len(payment_dates) == 8
    assert {(s["cohort"], s["name"]) for s in data["statements"][:2]} == {(2024, "August 2025"), (2025, "August 2025")}
    first = data["statements"][0]
    assert set(first) >= {"id", "name", "cohort", "statement_type", "state", "deadline_date", "payment_date",
                          "output_fee", "marked_as_paid_at", "lead_provider_id", "lead_provider_name"}  # fmt: skip
    assert (first["statement_type"], first["state"], first["deadline_date"]) == ("ECF::Paid", "paid", "2025-07-31")


def test_statements_list_errors(env: FinanceEnv) -> None:
    assert_error(
        run("finance", "statements", "list", "--lead-provider", "Nobody"), 1, "No lead provider named 'Nobody'"
    )
    assert_error(
        run("finance", "statements", "list", "--lead-provider", "Capita", "--cohort", "24"), 2, "is not a cohort year"
    )
    assert_error(run("finance", "statements", "list"), 2, "the following arguments are required: --lead-provider")
    empty = ok("finance", "statements", "list", "--lead-provider", "Capita", "--cohort", "2031")
    assert empty.out == "No statements for Capita in cohort 2031.\n"


def test_statements_show_counts_by_type_and_line_state(env: FinanceEnv, declared: dict[str, str]) -> None:
    other = env.trained(2024, name="Finn Two", trn="2000002")
    voided = env.declare(other)
    assert env.void(voided["id"]).status_code == 200
    text = ok("finance", "statements", "show", declared["statement_id"]).out
    assert text == (
        f"statement      {declared['statement_id']}\n"
        "name           October 2025\n"
        "lead provider  Ambition Institute\n"
        "cohort         2024\n"
        "state          open (ECF)\n"
        "output fee     yes\n"
        "deadline       2025-09-30\n"
        "payment date   2025-10-25\n"
        "authorised at  -\n"
        "declarations   2\n"
        "\n"
        "Declarations by type and line state\n"
        "TYPE     ELIGIBLE  VOIDED  TOTAL\n"
        "started  1         1       2\n"
        "total    1         1       2\n"
    )
    data = ok("finance", "statements", "show", declared["statement_id"], "--json").json()
    assert data["declarations"] == 2
    assert data["lines"] == [
        {"declaration_type": "started", "state": "eligible", "count": 1},
        {"declaration_type": "started", "state": "voided", "count": 1},
    ]
    assert (data["statement"]["name"], data["statement"]["state"]) == (OCTOBER, "open")

    empty = ok("finance", "statements", "show", statement_id(env.other.id, OCTOBER)).out
    assert empty.splitlines()[-1] == "No declarations on this statement."


def test_statements_show_unknown(env: FinanceEnv) -> None:
    assert_error(run("finance", "statements", "show", UNKNOWN), 1, f"error: No statement {UNKNOWN}")
    assert_error(run("finance", "statements", "show", "nope"), 1, "error: No statement nope")


# --------------------------------------------------------------------------- mark-payable / authorise


def test_mark_payable_moves_statements_past_their_deadline_once(env: FinanceEnv, declared: dict[str, str]) -> None:
    october = declared["statement_id"]
    nothing = ok("finance", "statements", "mark-payable")  # at NOW: no deadline has passed but August's (paid)
    assert nothing.out == "No statements to mark payable: none is open with a deadline before 2025-09-15.\n"

    result = ok("finance", "statements", "mark-payable", "--as-of", "2025-10-01", now=NOW + timedelta(hours=1))
    lines = result.out.splitlines()
    assert lines[0] == "Marked payable (deadline before 2025-10-01)"
    assert lines[1].split() == ["STATEMENT", "NAME", "LEAD", "PROVIDER", "DECLARATIONS", "NOW", "PAYABLE"]
    moved = {line.split()[0]: line.split()[-1] for line in lines[2:]}
    assert moved == {
        october: "1",
        statement_id(env.lp.id, OCTOBER, 2025): "0",
        statement_id(env.other.id, OCTOBER): "0",
        statement_id(env.other.id, OCTOBER, 2025): "0",
    }
    assert StatementItem.get(october).statement_type == "ECF::Payable"
    assert declaration_repo.get(declared["declaration_id"]).line_state == "payable"  # type: ignore[union-attr]

    before = snapshot()
    again = ok("finance", "statements", "mark-payable", "--as-of", "2025-10-01", "--json").json()
    assert again == {"as_of": "2025-10-01", "statements": []}
    one = ok("finance", "statements", "mark-payable", "--as-of", "2025-10-01", "--statement", october, "--json").json()
    assert one["statements"] == [
        {"statement_id": october, "statement_name": OCTOBER, "lead_provider_id": env.lp.id,
         "lead_provider_name": "Ambition Institute", "declarations": 0}
    ]  # fmt: skip
    assert snapshot() == before
    assert history(declared["declaration_id"]) == ["submitted", "eligible", "payable"]


def test_mark_payable_refusals_change_nothing(env: FinanceEnv, declared: dict[str, str]) -> None:
    october = declared["statement_id"]
    august = statement_id(env.lp.id, "August 2025")
    before = snapshot()
    assert_error(
        run("finance", "statements", "mark-payable", "--statement", october),
        1,
        f"error: Statement {october} (October 2025): its deadline 2025-09-30 has not passed",
    )
    assert_error(
        run("finance", "statements", "mark-payable", "--statement", august, "--as-of", "2025-10-01"),
        1,
        f"error: Statement {august} (August 2025) is already paid",
    )
    assert_error(run("finance", "statements", "mark-payable", "--statement", UNKNOWN), 1, f"No statement {UNKNOWN}")
    assert_error(run("finance", "statements", "mark-payable", "--as-of", "2025-13-01"), 2, "'2025-13-01' is not a date")
    assert snapshot() == before


def test_authorise_pays_once_and_refuses_what_it_cannot(env: FinanceEnv, declared: dict[str, str]) -> None:
    october = declared["statement_id"]
    capita_october = statement_id(env.other.id, OCTOBER)
    before = snapshot()
    assert_error(
        run("finance", "statements", "authorise", october, now=AFTER_DEADLINE),
        1,
        f"error: Statement {october} (October 2025) is not payable (it is open)",
    )
    november = statement_id(env.lp.id, "November 2025")
    assert_error(
        run("finance", "statements", "authorise", november, now=AFTER_DEADLINE),
        1,
        f"error: Statement {november} (November 2025) is not an output-fee statement",
    )
    assert snapshot() == before

    early = NOW + timedelta(hours=1)  # the deadline is still ahead
    ok("finance", "statements", "mark-payable", "--as-of", "2025-10-01", now=early)
    before = snapshot()
    assert_error(
        run("finance", "statements", "authorise", october, now=early),
        1,
        f"error: Statement {october} (October 2025): its deadline 2025-09-30 has not passed",
    )
    assert_error(
        run("finance", "statements", "authorise", capita_october, now=AFTER_DEADLINE),
        1,
        f"error: Statement {capita_october} (October 2025) holds no declarations",
    )
    as_json = run("finance", "statements", "authorise", capita_october, "--json", now=AFTER_DEADLINE)
    assert as_json.json()["exit_status"] == 1
    assert "holds no declarations" in as_json.json()["error"]
    assert snapshot() == before

    result = ok("finance", "statements", "authorise", october, now=AFTER_DEADLINE)
    assert result.out == (
        "Statement authorised for payment\n"
        f"statement                 {october}\n"
        "name                      October 2025\n"
        "lead provider             Ambition Institute\n"
        "declarations paid         1\n"
        "declarations clawed back  0\n"
    )
    paid = StatementItem.get(october)
    assert paid.statement_type == "ECF::Paid"
    assert paid.marked_as_paid_at == AFTER_DEADLINE
    declaration = declaration_repo.get(declared["declaration_id"])
    assert declaration is not None
    assert (declaration.state, declaration.line_state) == ("paid", "paid")

    before = snapshot()
    assert_error(
        run("finance", "statements", "authorise", october, now=AFTER_DEADLINE + timedelta(days=1)),
        1,
        f"error: Statement {october} (October 2025) is not payable (it is paid)",
    )
    assert snapshot() == before
    assert history(declared["declaration_id"]) == ["submitted", "eligible", "payable", "paid"]


def test_authorise_claws_back_on_the_next_statement(env: FinanceEnv, declared: dict[str, str]) -> None:
    october, january = declared["statement_id"], statement_id(env.lp.id, "January 2026")
    ok("finance", "statements", "mark-payable", now=AFTER_DEADLINE)
    ok("finance", "statements", "authorise", october, now=AFTER_DEADLINE + timedelta(hours=1))
    voided = env.void(declared["declaration_id"], at=AFTER_DEADLINE + timedelta(hours=2))
    assert voided.status_code == 200  # paid → awaiting clawback

    later = datetime(2026, 1, 2, 9, 0, tzinfo=NOW.tzinfo)
    marked = ok("finance", "statements", "mark-payable", "--as-of", "2026-01-01", "--json", now=later).json()
    assert {m["statement_id"]: m["declarations"] for m in marked["statements"]}[january] == 0  # nothing eligible
    data = ok("finance", "statements", "authorise", january, "--json", now=later).json()
    assert data == {
        "statement_id": january,
        "statement_name": "January 2026",
        "lead_provider_id": env.lp.id,
        "lead_provider_name": "Ambition Institute",
        "paid": 0,
        "clawed_back": 1,
        "state": "paid",
        "authorised_at": "2026-01-02T09:00:00.000Z",
    }
    declaration = declaration_repo.get(declared["declaration_id"])
    assert declaration is not None
    assert declaration.state == "clawed_back"
    assert history(declared["declaration_id"]) == ["submitted", "eligible", "payable", "paid", "awaiting_clawback",
                                                   "clawed_back"]  # fmt: skip


# --------------------------------------------------------------------------- declarations CSV


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_declarations_csv_default_file_name_and_columns(
    env: FinanceEnv, declared: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    october = declared["statement_id"]
    result = ok("finance", "declarations-csv", october)
    name = "ECF-Declarations-AmbitionInstitute-Cohort2024-October2025.csv"
    assert result.out == f"Wrote 1 declaration row to {name}\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left behind
    raw = (tmp_path / name).read_bytes()
    assert b"\r" not in raw
    assert raw.endswith(b"\n")
    header, row = read_csv(tmp_path / name)
    assert header == list(ASSURANCE_COLUMNS)
    assert header[0] == "Participant ID"
    assert header[-1] == "Uplift Payable"
    assert len(header) == 25
    declaration = declaration_repo.get(declared["declaration_id"])
    assert declaration is not None
    got = dict(zip(header, row, strict=True))
    assert got == {
        "Participant ID": declared["user_id"],
        "Participant Name": "Eve One",
        "TRN": "2000001",
        "Type": "ParticipantProfile::ECT",
        "Mentor Profile ID": "",
        "Schedule": "ecf-standard-september",
        "Eligible For Funding": "true",
        "Eligible For Funding Reason": "",
        "Sparsity Uplift": "false",
        "Pupil Premium Uplift": "false",
        "Sparsity And Pp": "false",
        "Lead Provider Name": "Ambition Institute",
        "Delivery Partner Name": "Alpha Partners",
        "School Urn": got["School Urn"],
        "School Name": f"School {got['School Urn']}",
        "Training Status": "active",
        "Training Status Reason": "",
        "Declaration ID": declared["declaration_id"],
        "Declaration Status": "eligible",
        "Declaration Type": "started",
        "Declaration Date": "2024-10-01T10:00:00Z",
        "Declaration Created At": "2025-09-15T12:00:00Z",
        "Statement Name": OCTOBER,
        "Statement ID": october,
        "Uplift Payable": "false",
    }
    assert got["School Urn"].isdigit()


def test_declarations_csv_output_json_and_line_states(
    env: FinanceEnv, declared: dict[str, str], tmp_path: Path
) -> None:
    october = declared["statement_id"]
    other = env.trained(2024, name="adam Ant", trn="2000002")  # sorts first, ignoring case
    voided = env.declare(other)
    assert env.void(voided["id"]).status_code == 200
    target = tmp_path / "out.csv"
    data = ok("finance", "declarations-csv", october, "--output", str(target), "--json").json()
    assert data == {"file": str(target), "rows": 2, "statement_id": october, "statement_name": OCTOBER,
                    "lead_provider_name": "Ambition Institute", "cohort": 2024}  # fmt: skip
    header, *rows = read_csv(target)
    at = {name: header.index(name) for name in ("Participant Name", "Declaration Status", "Declaration ID")}
    assert [(r[at["Participant Name"]], r[at["Declaration Status"]]) for r in rows] == [
        ("adam Ant", "voided"), ("Eve One", "eligible")]  # fmt: skip

    # Paid, then the paid declaration voided: it is awaiting clawback on January's statement (its refundable line).
    ok("finance", "statements", "mark-payable", now=AFTER_DEADLINE)
    ok("finance", "statements", "authorise", october, now=AFTER_DEADLINE + timedelta(hours=1))
    assert env.void(declared["declaration_id"], at=AFTER_DEADLINE + timedelta(hours=2)).status_code == 200
    january = tmp_path / "january.csv"
    ok("finance", "declarations-csv", statement_id(env.lp.id, "January 2026"), "--output", str(january))
    _, row = read_csv(january)
    assert (row[at["Declaration ID"]], row[at["Declaration Status"]]) == (
        declared["declaration_id"],
        "awaiting_clawback",
    )
    ok("finance", "declarations-csv", october, "--output", str(target))  # overwrites
    _, *rows = read_csv(target)
    assert [r[at["Declaration Status"]] for r in rows] == ["voided", "paid"]


def test_declarations_csv_of_an_empty_statement_is_the_header(env: FinanceEnv, tmp_path: Path) -> None:
    target = tmp_path / "empty.csv"
    result = ok("finance", "declarations-csv", statement_id(env.other.id, OCTOBER), "--output", str(target))
    assert result.out == f"Wrote 0 declaration rows to {target}\n"
    assert target.read_text(encoding="utf-8") == ",".join(ASSURANCE_COLUMNS) + "\n"


def test_declarations_csv_errors(env: FinanceEnv, declared: dict[str, str], tmp_path: Path) -> None:
    assert_error(run("finance", "declarations-csv", UNKNOWN), 1, f"error: No statement {UNKNOWN}")
    missing_dir = tmp_path / "no" / "such" / "dir.csv"
    result = run("finance", "declarations-csv", declared["statement_id"], "--output", str(missing_dir))
    assert_error(result, 1, f"error: cannot write {missing_dir}: No such file or directory")
    assert not (tmp_path / "no").exists()
    assert_error(run("finance", "declarations-csv"), 2, "the following arguments are required: STATEMENT_ID")
    assert_error(run("finance", "declarations-csv", declared["statement_id"], "--output", " "), 2, "cannot be blank")


# --------------------------------------------------------------------------- finance participant


def test_finance_participant_by_participant_or_declaration_id(env: FinanceEnv, declared: dict[str, str]) -> None:
    by_user = ok("finance", "participant", declared["user_id"]).out
    assert by_user.startswith(
        "Participant\n"
        f"  User ID / Participant ID  {declared['user_id']}\n"
        "  Full name                 Eve One\n"
        "  Email                     eve.one@example.org\n"
        "  TRN                       2000001\n"
        "  Found by                  participant id\n"
        "\n"
        "ECT\n"
        f"  User ID / Participant ID  {declared['user_id']}\n"
    )
    for line in ("  Eligible for funding      TRUE", "  Eligibility               eligible (none)",
                 "  Lead provider             Ambition Institute", "  Status                    active",
                 "  Schedule identifier       ecf-standard-september", "  Schedule cohort           2024",
                 f"  Declaration ID      {declared['declaration_id']}", "  State               eligible",
                 "  Statement           October 2025 (line eligible)", "  Declaration State History"):  # fmt: skip
        assert line in by_user.splitlines(), line
    records = by_user.split("  Induction records\n")[1].splitlines()
    assert records[0].split()[:4] == ["TRAINING", "PROGRAMME", "SCHOOL", "URN"]
    assert records[1].split()[0] == "full_induction_programme"
    assert "Alpha Partners" in records[1]
    states = by_user.split("  Declaration State History\n")[1].splitlines()
    assert [s.split() for s in states] == [
        ["STATE", "CHANGED", "AT", "REASON"],
        ["submitted", "2025-09-15T12:00:00.000Z", "N/A"],
        ["eligible", "2025-09-15T12:00:00.000Z", "N/A"],
    ]

    by_declaration = ok("finance", "participant", declared["declaration_id"], "--json").json()
    assert (by_declaration["matched_by"], by_declaration["participant_id"]) == ("declaration_id", declared["user_id"])
    [profile] = by_declaration["profiles"]
    assert (profile["eligible_for_funding"], profile["lead_provider_name"], profile["schedule_identifier"],
            profile["schedule_cohort"], profile["status"]) == (
        True, "Ambition Institute", "ecf-standard-september", 2024, "active")  # fmt: skip
    [record] = profile["induction_records"]
    assert (record["training_programme"], record["lead_provider_name"], record["delivery_partner_name"],
            record["induction_status"], record["training_status"]) == (
        "full_induction_programme", "Ambition Institute", "Alpha Partners", "active", "active")  # fmt: skip
    [declaration] = by_declaration["declarations"]
    assert declaration["id"] == declared["declaration_id"]
    assert declaration["statement_name"] == OCTOBER
    assert [s["state"] for s in declaration["state_history"]] == ["submitted", "eligible"]


def test_finance_participant_after_payment_shows_each_move(env: FinanceEnv, declared: dict[str, str]) -> None:
    ok("finance", "statements", "mark-payable", now=AFTER_DEADLINE)
    ok("finance", "statements", "authorise", declared["statement_id"], now=AFTER_DEADLINE + timedelta(hours=1))
    data = ok("finance", "participant", declared["user_id"], "--json").json()
    [declaration] = data["declarations"]
    assert [(s["state"], s["changed_at"]) for s in declaration["state_history"]] == [
        ("submitted", "2025-09-15T12:00:00.000Z"),
        ("eligible", "2025-09-15T12:00:00.000Z"),
        ("payable", "2025-10-02T12:00:00.000Z"),
        ("paid", "2025-10-02T13:00:00.000Z"),
    ]
    assert (declaration["state"], declaration["line_state"]) == ("paid", "paid")


@pytest.mark.parametrize("query", [UNKNOWN, "not-an-id", "eve.one@example.org"])
def test_finance_participant_no_records_found(env: FinanceEnv, declared: dict[str, str], query: str) -> None:
    result = run("finance", "participant", query)
    assert (result.status, result.out, result.err) == (1, "", "error: No records found\n")
    as_json = run("finance", "participant", query, "--json")
    assert as_json.json() == {"error": "No records found", "exit_status": 1}


def test_finance_usage_errors(env: FinanceEnv) -> None:
    assert_error(run("finance"), 2, "the following arguments are required: COMMAND")
    assert_error(run("finance", "statements"), 2, "the following arguments are required: ACTION")
    assert_error(run("finance", "statements", "pay"), 2, "invalid choice: 'pay'")
    assert_error(run("finance", "participant"), 2, "the following arguments are required: QUERY")
    assert_error(run("finance", "statements", "authorise"), 2, "the following arguments are required: STATEMENT_ID")
    help_text = io.StringIO()
    from admin import cli

    assert cli.run(["finance", "--help"], help_text, io.StringIO(), configure=False) == 0
    assert "declarations-csv" in help_text.getvalue()
    assert "statements" in help_text.getvalue()


# --------------------------------------------------------------------------- resuming after a crash


class Crash(RuntimeError):
    pass


def crash_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> None:
    """Make the statement moves' declaration writes fail after ``writes`` transactions (a Lambda timeout)."""
    real = statements.declaration_repo.apply_all
    done = [0]

    def apply_all(changes: Any) -> None:
        if done[0] >= writes:
            raise Crash("the process died here")
        done[0] += 1
        real(changes)

    monkeypatch.setattr(statements.declaration_repo, "apply_all", apply_all)


def test_moves_resume_after_a_crash_and_record_each_move_once(
    env: FinanceEnv, declared: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    others = [env.declare(env.trained(2024, name=f"Next {n}", trn=f"200001{n}"))["id"] for n in range(2)]
    ids = [declared["declaration_id"], *others]
    october = declared["statement_id"]
    monkeypatch.setattr(statement_repo, "LINES_PAGE", 1)  # a page, and a transaction, per declaration

    with monkeypatch.context() as patch:
        crash_after(patch, 1)
        failed = run("finance", "statements", "mark-payable", "--as-of", "2025-10-01", now=NOW + timedelta(hours=1))
    assert_error(failed, 1, "error: unexpected Crash: the process died here")
    assert sorted(declaration_repo.get(i).state for i in ids) == ["eligible", "eligible", "payable"]  # type: ignore[union-attr]
    assert StatementItem.get(october).pending_payable == "Y"  # still listed: the next run finishes it
    resumed = ok(
        "finance", "statements", "mark-payable", "--as-of", "2025-10-01", "--json", now=NOW + timedelta(hours=2)
    )
    assert {m["statement_id"]: m["declarations"] for m in resumed.json()["statements"]}[october] == 2
    assert StatementItem.get(october).pending_payable is None

    with monkeypatch.context() as patch:
        crash_after(patch, 2)
        failed = run("finance", "statements", "authorise", october, now=AFTER_DEADLINE)
    assert failed.status == 1
    half = StatementItem.get(october)
    assert (half.statement_type, half.marked_as_paid_at) == ("ECF::Payable", AFTER_DEADLINE)
    data = ok("finance", "statements", "authorise", october, "--json", now=AFTER_DEADLINE + timedelta(hours=1)).json()
    assert (data["paid"], data["state"]) == (1, "paid")
    assert StatementItem.get(october).marked_as_paid_at == AFTER_DEADLINE  # set once, by the first run
    for declaration_id in ids:
        assert history(declaration_id) == ["submitted", "eligible", "payable", "paid"], declaration_id
