"""``finance statements list|show|mark-payable|authorise``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from admin import arguments, texts
from admin.commands.providers import provider_names
from admin.context import Context, Output
from admin.output import fields, table, to_jsonable
from chalicelib.domain.declarations import DECLARATION_TYPES
from chalicelib.domain.statements import Statement
from chalicelib.services import providers, statements

if TYPE_CHECKING:
    from admin.parser import Commands

LINE_STATES = ("eligible", "payable", "paid", "ineligible", "voided", "awaiting_clawback", "clawed_back")
STATE_OF_TYPE = {"ECF": "open", "ECF::Payable": "payable", "ECF::Paid": "paid"}
LIST_HEADERS = ["id", "cohort", "name", "state", "output fee", "deadline", "payment date", "authorised at"]


def _state(statement: Statement) -> str:
    return STATE_OF_TYPE.get(statement.statement_type, statement.statement_type)


def _statement_data(statement: Statement, names: dict[str, str]) -> dict[str, Any]:
    data = dict(to_jsonable(statement))
    data["lead_provider_name"] = names.get(statement.lead_provider_id)
    data["state"] = _state(statement)
    return data


# --------------------------------------------------------------------------- list, show


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
        cohort = texts.IN_COHORT.format(cohort=args.cohort) if args.cohort else ""
        return Output(data, texts.NO_STATEMENTS.format(name=provider.name, cohort=cohort))
    rows = [
        (s.id, s.cohort, s.name, _state(s), s.output_fee, s.deadline_date, s.payment_date, s.marked_as_paid_at)
        for s in found
    ]
    return Output(data, texts.STATEMENTS_OF.format(name=provider.name) + "\n" + table(LIST_HEADERS, rows))


def cmd_statements_show(args: argparse.Namespace, ctx: Context) -> Output:
    summary = statements.summary(args.statement_id)
    statement = summary.statement
    names = provider_names()
    counts = [
        {"declaration_type": t, "state": s, "count": n}
        for (t, s), n in sorted(summary.lines.items(), key=lambda item: _line_order(item[0]))
    ]
    data = {"statement": _statement_data(statement, names), "declarations": summary.total, "lines": counts}
    text = _statement_text(statement, names, summary.total)
    if not summary.lines:
        return Output(data, f"{text}\n\n{texts.NO_STATEMENT_DECLARATIONS}")
    return Output(data, f"{text}\n\n{texts.STATEMENT_LINES_HEADING}\n" + _pivot(summary.lines))


def _statement_text(statement: Statement, names: dict[str, str], declarations: int) -> str:
    state = texts.STATEMENT_STATE.format(
        state=STATE_OF_TYPE.get(statement.statement_type), statement_type=statement.statement_type
    )
    return fields(
        [
            ("statement", statement.id),
            ("name", statement.name),
            ("lead provider", names.get(statement.lead_provider_id, statement.lead_provider_id)),
            ("cohort", statement.cohort),
            ("state", state),
            ("output fee", statement.output_fee),
            ("deadline", statement.deadline_date),
            ("payment date", statement.payment_date),
            ("authorised at", statement.marked_as_paid_at),
            ("declarations", declarations),
        ]
    )


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


# --------------------------------------------------------------------------- mark payable, authorise


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
    names = provider_names()
    data = {"as_of": as_of, "statements": [_moved_data(m, names) for m in moved]}
    if not moved:
        return Output(data, texts.NOTHING_TO_MARK_PAYABLE.format(as_of=as_of))
    rows = [(m.statement_id, m.statement_name, names.get(m.lead_provider_id), m.declarations) for m in moved]
    text = texts.MARKED_PAYABLE.format(as_of=as_of) + "\n"
    text += table(["statement", "name", "lead provider", "declarations now payable"], rows)
    return Output(data, text)


def cmd_statements_authorise(args: argparse.Namespace, ctx: Context) -> Output:
    moved = statements.authorise(args.statement_id, ctx.now)
    names = provider_names()
    data = {**_moved_data(moved, names), "clawed_back": moved.clawed_back, "state": "paid", "authorised_at": ctx.now}
    data["paid"] = data.pop("declarations")
    text = texts.STATEMENT_AUTHORISED + "\n"
    text += fields(
        [
            ("statement", moved.statement_id),
            ("name", moved.statement_name),
            ("lead provider", names.get(moved.lead_provider_id, moved.lead_provider_id)),
            ("declarations paid", moved.declarations),
            ("declarations clawed back", moved.clawed_back),
        ]
    )
    return Output(data, text)


# --------------------------------------------------------------------------- parser


def register(finance: Any, add: Commands) -> None:
    actions = add.group(finance, "statements", texts.STATEMENTS, texts.STATEMENTS_EXAMPLE)
    p = add.add(actions, "list", cmd_statements_list, texts.STATEMENTS_LIST, texts.STATEMENTS_LIST_EXAMPLE)
    p.add_argument(
        "--lead-provider", metavar="LP_NAME", type=arguments.value, required=True, help=texts.HELP_LEAD_PROVIDER
    )
    p.add_argument("--cohort", metavar="YEAR", type=arguments.year, help=texts.HELP_STATEMENTS_COHORT)
    p = add.add(actions, "show", cmd_statements_show, texts.STATEMENTS_SHOW, texts.STATEMENTS_SHOW_EXAMPLE)
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=arguments.value, help=texts.HELP_STATEMENT_ID)
    p = add.add(
        actions,
        "mark-payable",
        cmd_statements_mark_payable,
        texts.STATEMENTS_MARK_PAYABLE,
        texts.STATEMENTS_MARK_PAYABLE_EXAMPLE,
    )
    p.add_argument("--as-of", metavar="DATE", type=arguments.day, help=texts.HELP_AS_OF)
    p.add_argument("--statement", metavar="STATEMENT_ID", type=arguments.value, help=texts.HELP_ONLY_STATEMENT)
    p = add.add(
        actions, "authorise", cmd_statements_authorise, texts.STATEMENTS_AUTHORISE, texts.STATEMENTS_AUTHORISE_EXAMPLE
    )
    p.add_argument("statement_id", metavar="STATEMENT_ID", type=arguments.value, help=texts.HELP_STATEMENT_ID)
