"""Statements: the provider's list and show, and the moves open → payable → paid
(docs/reference/ecf-declarations-statements.md 2.1, 2.2).

Both moves are batched (a page of lines read, its declarations fetched in BatchGets, then written 20-25
declarations a transaction), idempotent (only declarations still in the state being moved change) and
resumable (the statement keeps a marker until every line has moved, so a re-run finishes a crashed one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from chalicelib.domain.cohorts import listed_by_default
from chalicelib.domain.declarations import (
    Declaration,
    DeclarationChange,
    ProviderDeclarationView,
    StateChange,
    StatementLineChange,
)
from chalicelib.domain.errors import Conflict, InputError, NotFound
from chalicelib.domain.paging import Listing, Page, joined, page_of
from chalicelib.domain.statements import Statement, StatementLine, StatementRefused
from chalicelib.repositories import declarations as declaration_repo
from chalicelib.repositories import statements as repo
from chalicelib.services.ids import is_uuid

log = logging.getLogger("ecf.statements")
RETRIES = 3


# --------------------------------------------------------------------------- API


def list_statements(
    lead_provider_id: str,
    *,
    statement_type: str | None,
    cohorts: Sequence[int] | None,
    updated_since: datetime | None,
    page: Page,
) -> Listing[Statement]:
    """Output-fee statements of the provider, payment date first. ``filter[type]`` other than ``ecf`` matches none;
    without ``filter[cohort]`` every cohort after 2020."""
    if statement_type not in (None, "", "ecf"):
        return Listing()
    rows = repo.of_lead_provider(lead_provider_id, output_fee_only=True, cohorts=cohorts, updated_since=updated_since)
    if not cohorts:
        rows = [s for s in rows if listed_by_default(s.cohort)]
    return page_of(rows, page, _payment_order)


def _payment_order(statement: Statement) -> str:
    """The list's order (payment date, then id), as one string: a keyset page's position."""
    return joined((statement.payment_date.isoformat(), statement.id))


def get_statement(lead_provider_id: str, statement_id: str, *, statement_type: str | None = None) -> Statement:
    """Any of the provider's statements (output-fee or not); another provider's looks like a random id."""
    statement = repo.get(statement_id) if is_uuid(statement_id) else None
    if statement is None or statement.lead_provider_id != lead_provider_id or statement_type not in (None, "", "ecf"):
        raise NotFound(statement_id)
    return statement


def find_statement(statement_id: str) -> Statement:
    statement = repo.get(statement_id) if is_uuid(statement_id) else None
    if statement is None:
        raise InputError(f"No statement {statement_id}")
    return statement


# --------------------------------------------------------------------------- moves


@dataclass(frozen=True)
class Moved:
    statement_id: str
    statement_name: str
    lead_provider_id: str
    declarations: int
    clawed_back: int = 0


def mark_payable(now: datetime, *, as_of: date | None = None, statement_id: str | None = None) -> list[Moved]:
    """Every statement whose deadline has passed (before ``as_of``, default today) moves from open to payable,
    with its eligible declarations and their lines. ``statement_id`` limits it to one statement."""
    today = as_of or now.date()
    if statement_id is not None:
        statement = find_statement(statement_id)
        if statement.paid:
            raise StatementRefused(f"Statement {statement.id} ({statement.name}) is already paid")
        if statement.deadline_date >= today:
            raise StatementRefused(
                f"Statement {statement.id} ({statement.name}): its deadline {statement.deadline_date} has not passed"
            )
        ids = [statement.id]
    else:
        ids = repo.awaiting_payable(before=today)
    return [_mark_one_payable(sid, now) for sid in ids]


def _mark_one_payable(statement_id: str, now: datetime) -> Moved:
    statement = find_statement(statement_id)
    if statement.is_open:
        try:
            repo.start_payable(statement.id, now)
        except Conflict:
            statement = find_statement(statement_id)  # someone else started it: carry on from there
    moved = _move_lines(statement.id, "eligible", "payable", now)
    repo.finish_payable(statement.id)
    log.info("statement %s (%s): payable, %d declarations", statement.id, statement.name, moved)
    return Moved(statement.id, statement.name, statement.lead_provider_id, moved)


def authorise(statement_id: str, now: datetime, *, today: date | None = None) -> Moved:
    """ "Authorise for payment": payable declarations → paid, awaiting clawback → clawed back, statement → paid.

    Refused (and nothing changes) unless the statement is an output-fee statement, payable, past its deadline
    and holds declarations. A re-run after a crash half-way resumes (the statement stays payable until the end).
    """
    statement = find_statement(statement_id)
    today = today or now.date()
    if not statement.output_fee:
        raise StatementRefused(f"Statement {statement.id} ({statement.name}) is not an output-fee statement")
    if not statement.payable:
        state = "paid" if statement.paid else "open"
        raise StatementRefused(f"Statement {statement.id} ({statement.name}) is not payable (it is {state})")
    if statement.deadline_date >= today:
        raise StatementRefused(
            f"Statement {statement.id} ({statement.name}): its deadline {statement.deadline_date} has not passed"
        )
    if not repo.has_lines(statement.id):
        raise StatementRefused(f"Statement {statement.id} ({statement.name}) holds no declarations")
    repo.start_paid(statement.id, now)
    paid = _move_lines(statement.id, "payable", "paid", now)
    clawed = _move_lines(statement.id, "awaiting_clawback", "clawed_back", now)
    repo.finish_paid(statement.id, now)
    log.info("statement %s (%s): paid, %d paid, %d clawed back", statement.id, statement.name, paid, clawed)
    return Moved(statement.id, statement.name, statement.lead_provider_id, paid, clawed)


def _move_lines(statement_id: str, from_state: str, to_state: str, now: datetime) -> int:
    """Move every line of the statement in ``from_state``, and its declaration, to ``to_state``."""
    moved = 0
    for page in repo.line_pages(statement_id, states=[from_state]):
        moved += _move_page(statement_id, page, from_state, to_state, now)
    return moved


def _move_page(statement_id: str, lines: Sequence[StatementLine], from_state: str, to_state: str, now: datetime) -> int:
    """One page of lines: BatchGet their declarations and read-model items, then write in transactions.

    A declaration changed meanwhile (a void) fails its transaction; what was written stays, and the page is
    re-read and re-planned: declarations already moved (or no longer in ``from_state``) are skipped.
    """
    ids = [line.declaration_id for line in lines]
    planned: set[str] = set()
    for _ in range(RETRIES):
        declarations = declaration_repo.by_ids(ids)
        views = declaration_repo.view_items([(lp, d.id) for d in declarations.values() for lp in sorted(d.viewers)])
        changes = [
            change
            for line in lines
            if (change := move_line(statement_id, line, declarations.get(line.declaration_id), views, to_state, now))
        ]
        planned |= {c.after.id for c in changes}
        try:
            declaration_repo.apply_all(changes)
        except Conflict:
            continue
        final = declaration_repo.by_ids(sorted(planned)) if len(planned) > len(changes) else {}
        return len(changes) + sum(1 for i, d in final.items() if d.state == to_state and i not in
                                  {c.after.id for c in changes})  # fmt: skip
    raise Conflict(f"statement {statement_id}: lines kept changing; run the command again to finish")


def move_line(
    statement_id: str,
    line: StatementLine,
    declaration: Declaration | None,
    views: Mapping[tuple[str, str], ProviderDeclarationView],
    to_state: str,
    now: datetime,
) -> DeclarationChange | None:
    if declaration is None:
        return None
    refundable = declaration.clawback_statement_id == statement_id and line.refundable
    expected = "awaiting_clawback" if refundable else line.state
    if declaration.state != expected:
        log.warning("line %s/%s is %s but its declaration is %s", statement_id, declaration.id, line.state,
                    declaration.state)  # fmt: skip
        return None
    after = replace(declaration, state=to_state, updated_at=now)
    if not refundable:
        after = replace(after, line_state=to_state)
    return DeclarationChange(
        before=declaration,
        after=after,
        states=(StateChange(declaration.id, to_state, None, now),),
        changed_lines=(
            StatementLineChange(
                statement_id=statement_id,
                declaration_id=declaration.id,
                state=to_state,
                refundable=refundable,
                declaration_type=declaration.declaration_type,
                participant_name=line.participant_name,
                at=now,
            ),
        ),
        views=tuple(replace(v, updated_at=now) for (lp, did), v in views.items() if did == declaration.id),
    )


# --------------------------------------------------------------------------- finance views


@dataclass(frozen=True)
class StatementSummary:
    statement: Statement
    lines: dict[tuple[str, str], int]  # (declaration type, line state) → count

    @property
    def total(self) -> int:
        return sum(self.lines.values())


def summary(statement_id: str) -> StatementSummary:
    statement = find_statement(statement_id)
    return StatementSummary(statement=statement, lines=repo.counts(statement.id))


def statements_of(lead_provider_id: str, cohort: int | None = None) -> list[Statement]:
    return repo.of_lead_provider(lead_provider_id, cohorts=[cohort] if cohort else None)
