"""``ecf-admin finance ...`` and ``ecf-admin participants eligibility``: the finance commands.

Each handler parses nothing itself (argparse did), calls one service and renders its result: aligned text by
default, the same data as one JSON document with ``--json``. Registered by ``admin.cli.build_parser`` through
:func:`register`. Statement moves and the eligibility check are the services'
(``chalicelib.services.statements``, ``chalicelib.services.eligibility``); the views are
``chalicelib.services.finance_reports``.
"""

from __future__ import annotations

import argparse
import csv
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from admin.cli import Context, Output, _text, _year
from admin.output import fields, table, to_jsonable
from chalicelib.domain.declarations import DECLARATION_TYPES
from chalicelib.domain.errors import InputError, NotFound
from chalicelib.domain.finance_reports import ASSURANCE_COLUMNS, NO_RECORDS_FOUND, FinanceParticipant, FinanceProfile
from chalicelib.domain.statements import ELIGIBILITY_REASONS, ELIGIBILITY_STATUSES, Statement
from chalicelib.services import eligibility, finance_reports, providers, statements

ELIGIBILITY_PENDING_NOTE = (
    "Recorded as pending: the eligibility stream applies it (submitted declarations become eligible when the "
    "participant is eligible; the providers' views show the new eligibility)."
)
LINE_STATES = ("eligible", "payable", "paid", "ineligible", "voided", "awaiting_clawback", "clawed_back")
STATE_OF_TYPE = {"ECF": "open", "ECF::Payable": "payable", "ECF::Paid": "paid"}
Command = Callable[..., argparse.ArgumentParser]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD, for example 2025-10-01)") from None


def _provider_names() -> dict[str, str]:
    return {p.id: p.name for p in providers.list_lead_providers()}


def _statement_data(statement: Statement, names: dict[str, str]) -> dict[str, Any]:
    data = dict(to_jsonable(statement))
    data["lead_provider_name"] = names.get(statement.lead_provider_id)
    data["state"] = STATE_OF_TYPE.get(statement.statement_type, statement.statement_type)
    return data


# --------------------------------------------------------------------------- participants eligibility


def cmd_participants_eligibility(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        recorded = eligibility.record(args.participant_id, args.status, args.reason, ctx.now, course=args.course)
    except NotFound as error:
        raise InputError(f"No participant with id {args.participant_id}") from error
    check = recorded.eligibility
    data = {
        "participant_id": recorded.participant_id,
        "training_record_id": check.profile_id,
        "participant_type": recorded.participant_type,
        "status": check.status,
        "reason": check.reason,
        "eligible_for_funding": check.eligible_for_funding,
        "change_id": check.change_id,
        "pending": check.pending,
        "recorded_at": check.updated_at,
    }
    text = "Eligibility recorded\n" + fields(
        [
            ("participant id", recorded.participant_id),
            ("training record id", check.profile_id),
            ("participant type", recorded.participant_type),
            ("status", check.status),
            ("reason", check.reason),
            ("recorded at", check.updated_at),
        ]
    )
    return Output(data, f"{text}\n{ELIGIBILITY_PENDING_NOTE}")


# --------------------------------------------------------------------------- statements


def cmd_statements_list(args: argparse.Namespace, ctx: Context) -> Output:
    provider = providers.lead_provider_named(args.lead_provider)
    found = statements.statements_of(provider.id, args.cohort)
    names = {provider.id: provider.name}
    data = {
        "lead_provider": {"id": provider.id, "name": provider.name},
        "cohort": args.cohort,
        "statements": [_statement_data(s, names) for s in found],
    }
    if not found:
        cohort = f" in cohort {args.cohort}" if args.cohort else ""
        return Output(data, f"No statements for {provider.name}{cohort}.")
    rows = [
        (
            s.id,
            s.cohort,
            s.name,
            STATE_OF_TYPE.get(s.statement_type, s.statement_type),
            s.output_fee,
            s.deadline_date,
            s.payment_date,
            s.marked_as_paid_at,
        )
        for s in found
    ]
    headers = ["id", "cohort", "name", "state", "output fee", "deadline", "payment date", "authorised at"]
    return Output(data, f"Statements of {provider.name}\n" + table(headers, rows))


def cmd_statements_show(args: argparse.Namespace, ctx: Context) -> Output:
    summary = statements.summary(args.statement_id)
    statement = summary.statement
    names = _provider_names()
    counts = [
        {"declaration_type": t, "state": s, "count": n}
        for (t, s), n in sorted(summary.lines.items(), key=lambda item: _line_order(item[0]))
    ]
    data = {"statement": _statement_data(statement, names), "declarations": summary.total, "lines": counts}
    text = fields(
        [
            ("statement", statement.id),
            ("name", statement.name),
            ("lead provider", names.get(statement.lead_provider_id, statement.lead_provider_id)),
            ("cohort", statement.cohort),
            ("state", f"{STATE_OF_TYPE.get(statement.statement_type)} ({statement.statement_type})"),
            ("output fee", statement.output_fee),
            ("deadline", statement.deadline_date),
            ("payment date", statement.payment_date),
            ("authorised at", statement.marked_as_paid_at),
            ("declarations", summary.total),
        ]
    )
    if not summary.lines:
        return Output(data, text + "\n\nNo declarations on this statement.")
    return Output(data, text + "\n\nDeclarations by type and line state\n" + _pivot(summary.lines))


def _type_index(name: str) -> int:
    return DECLARATION_TYPES.index(name) if name in DECLARATION_TYPES else len(DECLARATION_TYPES)


def _state_index(state: str) -> int:
    return LINE_STATES.index(state) if state in LINE_STATES else len(LINE_STATES)


def _line_order(key: tuple[str, str]) -> tuple[int, int, str, str]:
    return _type_index(key[0]), _state_index(key[1]), key[0], key[1]


def _pivot(lines: dict[tuple[str, str], int]) -> str:
    """Declaration types down, line states across, with totals."""
    types = sorted({t for t, _ in lines}, key=lambda t: (_type_index(t), t))
    states = sorted({s for _, s in lines}, key=lambda s: (_state_index(s), s))
    rows: list[list[Any]] = []
    for declaration_type in types:
        counts = [lines.get((declaration_type, s), 0) for s in states]
        rows.append([declaration_type, *counts, sum(counts)])
    totals = [sum(lines.get((t, s), 0) for t in types) for s in states]
    rows.append(["total", *totals, sum(totals)])
    return table(["type", *states, "total"], [[str(v) for v in row] for row in rows])


def _moved_data(moved: statements.Moved, names: dict[str, str]) -> dict[str, Any]:
    return {
        "statement_id": moved.statement_id,
        "statement_name": moved.statement_name,
        "lead_provider_id": moved.lead_provider_id,
        "lead_provider_name": names.get(moved.lead_provider_id),
        "declarations": moved.declarations,
    }


def cmd_statements_mark_payable(args: argparse.Namespace, ctx: Context) -> Output:
    as_of = args.as_of or ctx.now.date()
    moved = statements.mark_payable(ctx.now, as_of=as_of, statement_id=args.statement)
    names = _provider_names()
    data = {"as_of": as_of, "statements": [_moved_data(m, names) for m in moved]}
    if not moved:
        return Output(data, f"No statements to mark payable: none is open with a deadline before {as_of}.")
    rows = [(m.statement_id, m.statement_name, names.get(m.lead_provider_id), m.declarations) for m in moved]
    text = f"Marked payable (deadline before {as_of})\n" + table(
        ["statement", "name", "lead provider", "declarations now payable"], rows
    )
    return Output(data, text)


def cmd_statements_authorise(args: argparse.Namespace, ctx: Context) -> Output:
    moved = statements.authorise(args.statement_id, ctx.now)
    names = _provider_names()
    data = {**_moved_data(moved, names), "clawed_back": moved.clawed_back, "state": "paid", "authorised_at": ctx.now}
    data["paid"] = data.pop("declarations")
    text = "Statement authorised for payment\n" + fields(
        [
            ("statement", moved.statement_id),
            ("name", moved.statement_name),
            ("lead provider", names.get(moved.lead_provider_id, moved.lead_provider_id)),
            ("declarations paid", moved.declarations),
            ("declarations clawed back", moved.clawed_back),
        ]
    )
    return Output(data, text)


# --------------------------------------------------------------------------- declarations CSV


def cmd_declarations_csv(args: argparse.Namespace, ctx: Context) -> Output:
    report = finance_reports.assurance_report(args.statement_id)
    path = Path(args.output or report.file_name)
    partial = path.with_name(f".{path.name}.partial")
    rows = 0
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(ASSURANCE_COLUMNS)
            for row in report.rows:  # one page of lines in memory at a time
                writer.writerow(row.cells())
                rows += 1
        os.replace(partial, path)
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror or error}") from error
    finally:
        partial.unlink(missing_ok=True)  # after a failure part-way: no half-written file is left
    statement = report.statement
    data = {
        "file": str(path),
        "rows": rows,
        "statement_id": statement.id,
        "statement_name": statement.name,
        "lead_provider_name": report.lead_provider_name,
        "cohort": statement.cohort,
    }
    return Output(data, f"Wrote {rows} declaration row{'s' if rows != 1 else ''} to {path}")


# --------------------------------------------------------------------------- finance participant


def cmd_finance_participant(args: argparse.Namespace, ctx: Context) -> Output:
    try:
        view = finance_reports.find_participant(args.query)
    except NotFound as error:
        raise InputError(NO_RECORDS_FOUND) from error
    data = to_jsonable(view)
    if ctx.as_json:
        return Output(data, "")
    return Output(data, participant_text(view))


def participant_text(view: FinanceParticipant) -> str:
    parts = [
        "Participant\n"
        + fields(
            [
                ("User ID / Participant ID", view.participant_id),
                ("Full name", view.full_name),
                ("Email", view.email),
                ("TRN", view.trn),
                ("Found by", view.matched_by.replace("_", " ")),
            ],
            indent="  ",
        )
    ]
    parts += [_profile_text(p) for p in view.profiles] or ["No participant profiles."]
    if not view.declarations:
        parts.append("No declarations.")
    for declaration in view.declarations:
        history = [(s.state, s.changed_at, s.reason or "N/A") for s in declaration.state_history]
        parts.append(
            "Declaration\n"
            + fields(
                [
                    ("Declaration ID", declaration.id),
                    ("Declaration type", declaration.declaration_type),
                    ("Declaration date", declaration.declaration_date),
                    ("Course identifier", declaration.course_identifier),
                    ("Evidence held", declaration.evidence_held),
                    ("Lead provider", declaration.lead_provider_name),
                    ("Delivery partner", declaration.delivery_partner_name),
                    ("State", declaration.state),
                    ("Statement", _statement_cell(declaration.statement_name, declaration.line_state)),
                    ("Clawback statement", declaration.clawback_statement_name),
                    ("Created at", declaration.created_at),
                    ("Updated at", declaration.updated_at),
                ],
                indent="  ",
            )
            + "\n  Declaration State History\n"
            + table(["state", "changed at", "reason"], history, indent="  ")
        )
    return "\n\n".join(parts)


def _statement_cell(name: str | None, line_state: str | None) -> str | None:
    return f"{name} (line {line_state})" if name else None


def _eligibility_cell(profile: FinanceProfile) -> str | None:
    if profile.eligibility_status is None:
        return None
    return profile.eligibility_status + (f" ({profile.eligibility_reason})" if profile.eligibility_reason else "")


def _profile_text(profile: FinanceProfile) -> str:
    block = f"{profile.heading}\n" + fields(
        [
            ("User ID / Participant ID", profile.participant_id),
            ("Profile ID", profile.profile_id),
            ("Eligible for funding", "TRUE" if profile.eligible_for_funding else "FALSE"),
            ("Eligibility", _eligibility_cell(profile)),
            ("Lead provider", profile.lead_provider_name),
            ("School URN", profile.school_urn),
            ("Status", profile.status),
            ("Training status", profile.training_status),
            ("Schedule identifier", profile.schedule_identifier),
            ("Schedule cohort", profile.schedule_cohort),
            ("Cohort", profile.cohort),
            ("Created at", profile.created_at),
            ("Updated at", profile.updated_at),
        ],
        indent="  ",
    )
    if not profile.induction_records:
        return block + "\n  No induction records."
    rows = [
        (
            r.training_programme,
            r.school_urn,
            r.lead_provider_name,
            r.delivery_partner_name,
            r.induction_status,
            r.training_status,
            r.start_date,
            r.end_date,
            r.schedule_identifier,
        )
        for r in profile.induction_records
    ]
    headers = ["training programme", "school urn", "lead provider", "delivery partner", "induction status",
               "training status", "start date", "end date", "schedule"]  # fmt: skip
    return block + "\n  Induction records\n" + table(headers, rows, indent="  ")


# --------------------------------------------------------------------------- parser


def register(commands: Any, participant_actions: Any, command: Command) -> None:
    """Add ``participants eligibility`` to the participants group and the ``finance`` group to the commands."""
    p = command(
        participant_actions,
        "eligibility",
        cmd_participants_eligibility,
        "record a participant's funding eligibility check (the eligibility stream applies it)",
    )
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", type=_text)
    p.add_argument("--status", choices=ELIGIBILITY_STATUSES, required=True)
    p.add_argument("--reason", choices=ELIGIBILITY_REASONS, help="default: none when eligible")
    p.add_argument(
        "--course", choices=["ecf-induction", "ecf-mentor"], help="which profile (default: the ECT one, ecf-induction)"
    )

    group = command(commands, "finance", None, "statements, declarations CSV and the finance participant view")
    actions = group.add_subparsers(dest="finance_command", metavar="COMMAND", required=True)
    p = command(actions, "participant", cmd_finance_participant, "find a participant by participant or declaration id")
    p.add_argument("query", metavar="QUERY", type=_text, help="a participant id (user id) or a declaration id")
    p = command(actions, "declarations-csv", cmd_declarations_csv, "write a statement's declarations CSV")
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=_text)
    p.add_argument("--output", metavar="FILE", type=_text, help="default: the real service's file name, here")
    _register_statements(actions, command)


def _register_statements(finance: Any, command: Command) -> None:
    group = command(finance, "statements", None, "list, show, mark payable and authorise statements")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = command(actions, "list", cmd_statements_list, "a lead provider's statements, by payment date")
    p.add_argument("--lead-provider", metavar="LP_NAME", type=_text, required=True)
    p.add_argument("--cohort", metavar="YEAR", type=_year)
    p = command(actions, "show", cmd_statements_show, "a statement and its declarations by type and line state")
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=_text)
    p = command(
        actions,
        "mark-payable",
        cmd_statements_mark_payable,
        "move open statements whose deadline has passed, and their eligible declarations, to payable",
    )
    p.add_argument("--as-of", metavar="DATE", type=_day, help="the day it runs as (YYYY-MM-DD; default: today)")
    p.add_argument("--statement", metavar="STATEMENT_ID", type=_text, help="only this statement")
    p = command(
        actions,
        "authorise",
        cmd_statements_authorise,
        "authorise a payable statement for payment: its payable declarations become paid",
    )
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=_text)
