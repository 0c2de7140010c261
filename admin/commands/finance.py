"""``finance participant`` and ``finance declarations-csv``; ``finance statements`` is ``commands.statements``."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.commands import statements
from admin.context import Context, Output
from admin.output import fields, table, to_jsonable
from chalicelib.domain.errors import InputError, NotFound
from chalicelib.domain.finance_reports import (
    ASSURANCE_COLUMNS,
    NO_RECORDS_FOUND,
    FinanceDeclaration,
    FinanceParticipant,
    FinanceProfile,
)
from chalicelib.services import finance_reports

if TYPE_CHECKING:
    from admin.parser import Commands

RECORD_HEADERS = [
    "training programme", "school urn", "lead provider", "delivery partner", "induction status", "training status",
    "start date", "end date", "schedule",
]  # fmt: skip


# --------------------------------------------------------------------------- declarations CSV


def cmd_declarations_csv(args: argparse.Namespace, ctx: Context) -> Output:
    report = finance_reports.assurance_report(args.statement_id)
    path = Path(args.output or report.file_name)
    rows = _write_csv(path, report)
    statement = report.statement
    data = {
        "file": str(path),
        "rows": rows,
        "statement_id": statement.id,
        "statement_name": statement.name,
        "lead_provider_name": report.lead_provider_name,
        "cohort": statement.cohort,
    }
    noun = texts.ROW if rows == 1 else texts.ROWS
    return Output(data, texts.WROTE_ROWS.format(rows=rows, noun=noun, path=path))


def _write_csv(path: Path, report: finance_reports.AssuranceReport) -> int:
    """Write the report through a partial file renamed at the end, so a failure leaves no half-written file."""
    partial = path.with_name(f".{path.name}.partial")
    rows = 0
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(ASSURANCE_COLUMNS)
            for row in report.rows:  # one page of lines in memory at a time
                writer.writerow(row.cells())
                rows += 1
        partial.replace(path)
    except OSError as error:
        raise InputError(texts.CANNOT_WRITE.format(path=path, reason=error.strerror or error)) from error
    finally:
        partial.unlink(missing_ok=True)
    return rows


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
    parts = [f"{texts.FINANCE_PARTICIPANT_HEADING}\n" + _participant_fields(view)]
    parts += [_profile_text(p) for p in view.profiles] or [texts.NO_PROFILES]
    if not view.declarations:
        parts.append(texts.NO_DECLARATIONS)
    parts += [_declaration_text(declaration) for declaration in view.declarations]
    return "\n\n".join(parts)


def _participant_fields(view: FinanceParticipant) -> str:
    return fields(
        [
            ("User ID / Participant ID", view.participant_id),
            ("Full name", view.full_name),
            ("Email", view.email),
            ("TRN", view.trn),
            ("Found by", view.matched_by.replace("_", " ")),
        ],
        indent="  ",
    )


def _declaration_text(declaration: FinanceDeclaration) -> str:
    history = [(s.state, s.changed_at, s.reason or texts.NOT_APPLICABLE) for s in declaration.state_history]
    block = fields(
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
    return f"{texts.DECLARATION_HEADING}\n{block}\n  {texts.STATE_HISTORY_HEADING}\n" + table(
        ["state", "changed at", "reason"], history, indent="  "
    )


def _statement_cell(name: str | None, line_state: str | None) -> str | None:
    return texts.ON_STATEMENT.format(name=name, line_state=line_state) if name else None


def _eligibility_cell(profile: FinanceProfile) -> str | None:
    status, reason = profile.eligibility_status, profile.eligibility_reason
    if status is None:
        return None
    return texts.WITH_REASON.format(text=status, reason=reason) if reason else status


def _profile_text(profile: FinanceProfile) -> str:
    block = f"{profile.heading}\n" + _profile_fields(profile)
    if not profile.induction_records:
        return f"{block}\n  {texts.NO_FINANCE_INDUCTION_RECORDS}"
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
    return f"{block}\n  {texts.INDUCTION_RECORDS_HEADING}\n" + table(RECORD_HEADERS, rows, indent="  ")


def _profile_fields(profile: FinanceProfile) -> str:
    return fields(
        [
            ("User ID / Participant ID", profile.participant_id),
            ("Profile ID", profile.profile_id),
            ("Eligible for funding", texts.YES_UPPER if profile.eligible_for_funding else texts.NO_UPPER),
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


# --------------------------------------------------------------------------- parser


def register(commands: Any, add: Commands) -> None:
    actions = add.group(
        commands, "finance", texts.FINANCE, texts.FINANCE_EXAMPLE, dest="finance_command", metavar="COMMAND"
    )
    p = add.add(
        actions, "participant", cmd_finance_participant, texts.FINANCE_PARTICIPANT, texts.FINANCE_PARTICIPANT_EXAMPLE
    )
    p.add_argument("query", metavar="QUERY", type=arguments.value, help=texts.HELP_FINANCE_QUERY)
    p = add.add(
        actions, "declarations-csv", cmd_declarations_csv, texts.DECLARATIONS_CSV, texts.DECLARATIONS_CSV_EXAMPLE
    )
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=arguments.value, help=texts.HELP_STATEMENT_ID)
    p.add_argument("--output", metavar="FILE", type=arguments.value, help=texts.HELP_CSV_OUTPUT)
    statements.register(actions, add)
