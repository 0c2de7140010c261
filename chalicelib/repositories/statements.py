"""Statements and their lines. Takes and returns domain records (``chalicelib.domain.statements``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from chalicelib.domain.statements import OPEN, PAID, PAYABLE, Statement, StatementLine
from chalicelib.models.finance import StatementItem, StatementLineItem
from chalicelib.repositories.common import batch_get, conflicts_as

PENDING = "Y"
LINES_PAGE = 1000  # lines read per Query page


def _day(value: date) -> str:
    return value.isoformat()


def _at(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _record(item: StatementItem) -> Statement:
    return Statement(
        id=item.id,
        lead_provider_id=item.lead_provider_id,
        cohort=int(item.cohort),
        name=item.name,
        statement_type=item.statement_type,
        deadline_date=item.deadline_date.date(),
        payment_date=item.payment_date.date(),
        output_fee=bool(item.output_fee),
        marked_as_paid_at=item.marked_as_paid_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        contract_version=item.contract_version,
        mentor_contract_version=item.mentor_contract_version,
    )


def _item(statement: Statement) -> StatementItem:
    return StatementItem(
        id=statement.id,
        lead_provider_id=statement.lead_provider_id,
        cohort=statement.cohort,
        name=statement.name,
        statement_type=statement.statement_type,
        deadline_date=_at(statement.deadline_date),
        payment_date=_at(statement.payment_date),
        output_fee=statement.output_fee,
        contract_version=statement.contract_version,
        mentor_contract_version=statement.mentor_contract_version,
        marked_as_paid_at=statement.marked_as_paid_at,
        payment_key=f"{_day(statement.payment_date)}#{statement.id}",
        deadline_key=f"{_day(statement.deadline_date)}#{statement.id}",
        open_output_key=_open_output_key(statement) if statement.is_open and statement.output_fee else None,
        pending_payable=PENDING if statement.is_open else None,
        created_at=statement.created_at,
        updated_at=statement.updated_at,
    )


def _open_output_key(statement: Statement) -> str:
    return f"{statement.lead_provider_id}#{statement.cohort:04d}"


# --------------------------------------------------------------------------- reads


def get(statement_id: str) -> Statement | None:
    try:
        return _record(StatementItem.get(statement_id))
    except StatementItem.DoesNotExist:
        return None


def by_ids(ids: Sequence[str]) -> dict[str, Statement]:
    return {key: _record(item) for key, item in batch_get(StatementItem, ids).items()}


def of_lead_provider(
    lead_provider_id: str,
    *,
    output_fee_only: bool = False,
    cohorts: Sequence[int] | None = None,
    updated_since: datetime | None = None,
) -> list[Statement]:
    """The provider's statements in payment-date order (then id): one Query (a few hundred items at most)."""
    condition: Any = None
    if output_fee_only:
        condition = StatementItem.output_fee == True  # noqa: E712 - a PynamoDB condition, not a truth test
    if cohorts:
        clause: Any = StatementItem.cohort.is_in(*cohorts)
        condition = clause if condition is None else condition & clause
    if updated_since is not None:
        clause = StatementItem.updated_at >= updated_since
        condition = clause if condition is None else condition & clause
    return [_record(i) for i in StatementItem.by_lead_provider.query(lead_provider_id, filter_condition=condition)]


def next_output_fee(lead_provider_id: str, cohort: int, today: date) -> Statement | None:
    """``next_output_fee_statement``: the provider's open output-fee statement of the cohort with the earliest
    deadline on or after ``today``. One Query of one item."""
    key = f"{lead_provider_id}#{cohort:04d}"
    for item in StatementItem.next_output.query(key, StatementItem.deadline_key >= _day(today), limit=1):
        return _record(item)
    return None


def awaiting_payable(before: date) -> list[str]:
    """Ids of statements still open (or whose move to payable did not finish) with a deadline before ``before``."""
    rows = StatementItem.to_mark_payable.query(PENDING, StatementItem.deadline_key < _day(before))
    return [row.id for row in rows]


# --------------------------------------------------------------------------- writes


def create_missing(statements: Sequence[Statement]) -> int:
    """Create the statements that do not exist yet (the importer never changes an existing one). Returns how many."""
    existing = batch_get(StatementItem, [s.id for s in statements])
    new = [s for s in statements if s.id not in existing]
    with StatementItem.batch_write() as batch:
        for statement in new:
            batch.save(_item(statement))
    return len(new)


def start_payable(statement_id: str, now: datetime) -> None:
    """Open → payable: no longer the next output-fee statement; still listed as awaiting its lines' move."""
    with conflicts_as("statement is not open"):
        StatementItem(id=statement_id).update(
            actions=[
                StatementItem.statement_type.set(PAYABLE),
                StatementItem.open_output_key.remove(),
                StatementItem.updated_at.set(now),
            ],
            condition=StatementItem.statement_type == OPEN,
        )


def finish_payable(statement_id: str) -> None:
    StatementItem(id=statement_id).update(
        actions=[StatementItem.pending_payable.remove()],
        condition=StatementItem.statement_type == PAYABLE,
    )


def start_paid(statement_id: str, now: datetime) -> None:
    """Authorised for payment: ``marked_as_paid_at`` is set once; the lines move next, then ``finish_paid``."""
    with conflicts_as("statement is not payable"):
        StatementItem(id=statement_id).update(
            actions=[
                StatementItem.marked_as_paid_at.set(StatementItem.marked_as_paid_at | now),
                StatementItem.updated_at.set(now),
            ],
            condition=StatementItem.statement_type == PAYABLE,
        )


def finish_paid(statement_id: str, now: datetime) -> None:
    with conflicts_as("statement is not payable"):
        StatementItem(id=statement_id).update(
            actions=[StatementItem.statement_type.set(PAID), StatementItem.updated_at.set(now)],
            condition=StatementItem.statement_type == PAYABLE,
        )


# --------------------------------------------------------------------------- lines


def _line(item: StatementLineItem) -> StatementLine:
    return StatementLine(
        statement_id=item.statement_id,
        declaration_id=item.declaration_id,
        state=item.state,
        refundable=bool(item.refundable),
        declaration_type=item.declaration_type,
        participant_name=item.name_key.rsplit("#", 1)[0],
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def line_pages(
    statement_id: str, *, states: Sequence[str] | None = None, by_name: bool = False
) -> Iterator[list[StatementLine]]:
    """The statement's lines, a page (up to ``LINES_PAGE``) at a time: by declaration id, or by participant name."""
    condition = StatementLineItem.state.is_in(*states) if states else None
    source = StatementLineItem.by_name if by_name else StatementLineItem
    last_key = None
    while True:
        result = source.query(
            statement_id, filter_condition=condition, limit=LINES_PAGE, page_size=LINES_PAGE,
            last_evaluated_key=last_key,
        )  # fmt: skip
        page = [_line(item) for item in result]
        if page:
            yield page
        last_key = result.last_evaluated_key
        if not last_key:
            return


def has_lines(statement_id: str) -> bool:
    return any(True for _ in StatementLineItem.query(statement_id, limit=1))


def counts(statement_id: str) -> dict[tuple[str, str], int]:
    """(declaration type, line state) → number of lines."""
    out: dict[tuple[str, str], int] = {}
    for page in line_pages(statement_id):
        for line in page:
            out[(line.declaration_type, line.state)] = out.get((line.declaration_type, line.state), 0) + 1
    return out
