"""Declarations storage: declarations, the billable slots, state history, attempts, the per-provider read model.

Takes and returns domain records (``chalicelib.domain.declarations``); owns every key, index key and condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.declarations import (
    Attempt,
    Declaration,
    DeclarationChange,
    ProviderDeclarationView,
    StateChange,
    StatementLineChange,
    slot_key,
)
from chalicelib.domain.paging import KeyPage, Page
from chalicelib.models.finance import (
    DeclarationAttemptItem,
    DeclarationItem,
    DeclarationSlotItem,
    DeclarationStateItem,
    ProviderDeclarationItem,
    StatementItem,
    StatementLineItem,
)
from chalicelib.models.participants import User
from chalicelib.repositories.common import OrderedList, batch_get, conflicts_as, ordered_page, transaction

TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
# States entered in the same millisecond sort in the order a declaration can enter them.
LIFECYCLE = {"submitted": 0, "eligible": 1, "ineligible": 1, "payable": 2, "paid": 3, "voided": 4,
             "awaiting_clawback": 4, "clawed_back": 5}  # fmt: skip


def sort_key(at: datetime, item_id: str) -> str:
    return f"{iso(at)}#{item_id}"


def name_key(full_name: str, declaration_id: str) -> str:
    return f"{' '.join(full_name.split()).casefold()}#{declaration_id}"


# --------------------------------------------------------------------------- mapping


def _record(item: DeclarationItem) -> Declaration:
    return Declaration(
        id=item.id,
        user_id=item.user_id,
        profile_id=item.profile_id,
        participant_type=item.participant_type,
        lead_provider_id=item.lead_provider_id,
        lead_provider_name=item.lead_provider_name,
        cohort=int(item.cohort),
        course_identifier=item.course_identifier,
        declaration_type=item.declaration_type,
        declaration_date=item.declaration_date,
        evidence_held=item.evidence_held,
        state=item.state,
        state_reason=item.state_reason,
        delivery_partner_id=item.delivery_partner_id,
        mentor_user_id=item.mentor_user_id,
        superseded_by_id=item.superseded_by_id,
        pupil_premium_uplift=bool(item.pupil_premium_uplift),
        sparsity_uplift=bool(item.sparsity_uplift),
        statement_id=item.statement_id,
        line_state=item.line_state,
        clawback_statement_id=item.clawback_statement_id,
        viewers=frozenset(item.viewers or ()),
        voided_at=item.voided_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version,
    )


def _item(record: Declaration) -> DeclarationItem:
    item = DeclarationItem(
        id=record.id,
        user_id=record.user_id,
        profile_id=record.profile_id,
        participant_type=record.participant_type,
        lead_provider_id=record.lead_provider_id,
        lead_provider_name=record.lead_provider_name,
        cohort=record.cohort,
        course_identifier=record.course_identifier,
        declaration_type=record.declaration_type,
        declaration_date=record.declaration_date,
        evidence_held=record.evidence_held,
        state=record.state,
        state_reason=record.state_reason,
        delivery_partner_id=record.delivery_partner_id,
        mentor_user_id=record.mentor_user_id,
        superseded_by_id=record.superseded_by_id,
        pupil_premium_uplift=record.pupil_premium_uplift,
        sparsity_uplift=record.sparsity_uplift,
        statement_id=record.statement_id,
        line_state=record.line_state,
        clawback_statement_id=record.clawback_statement_id,
        viewers=set(record.viewers) or None,
        voided_at=record.voided_at,
        created_key=sort_key(record.created_at, record.id),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )
    if record.version is not None:
        item.version = record.version
    return item


def _view_item(view: ProviderDeclarationView) -> ProviderDeclarationItem:
    return ProviderDeclarationItem(
        lead_provider_id=view.lead_provider_id,
        declaration_id=view.declaration_id,
        user_id=view.user_id,
        cohort=view.cohort,
        delivery_partner_id=view.delivery_partner_id,
        in_v1_v2=view.in_v1_v2,
        created_key=sort_key(view.created_at, view.declaration_id),
        updated_key=sort_key(view.updated_at, view.declaration_id),
    )


def _state_item(change: StateChange, sequence: int) -> DeclarationStateItem:
    return DeclarationStateItem(
        declaration_id=change.declaration_id,
        sort_key=f"{iso(change.at)}#{LIFECYCLE.get(change.state, 9)}{sequence:02d}#{change.state}",
        state=change.state,
        reason=change.reason,
        actor=change.actor,
        created_at=change.at,
    )


def _attempt_item(attempt: Attempt) -> DeclarationAttemptItem:
    return DeclarationAttemptItem(
        id=attempt.id,
        user_id=attempt.user_id,
        lead_provider_id=attempt.lead_provider_id,
        course_identifier=attempt.course_identifier,
        declaration_date=attempt.declaration_date,
        declaration_type=attempt.declaration_type,
        evidence_held=attempt.evidence_held,
        declaration_id=attempt.declaration_id,
        created_at=attempt.created_at,
    )


# --------------------------------------------------------------------------- reads


def get(declaration_id: str) -> Declaration | None:
    try:
        return _record(DeclarationItem.get(declaration_id))
    except DeclarationItem.DoesNotExist:
        return None


def by_ids(ids: Sequence[str]) -> dict[str, Declaration]:
    return {key: _record(item) for key, item in batch_get(DeclarationItem, ids).items()}


def of_user(user_id: str) -> list[Declaration]:
    """A participant's declarations, oldest first."""
    return [_record(item) for item in DeclarationItem.by_user.query(user_id)]


def of_users(user_ids: Iterable[str]) -> dict[str, list[Declaration]]:
    return {user_id: of_user(user_id) for user_id in sorted(set(user_ids))}


def slot_holder(user_id: str, course_identifier: str, declaration_type: str) -> str | None:
    """The id of the declaration occupying the slot, if any."""
    try:
        return str(DeclarationSlotItem.get(slot_key(user_id, course_identifier, declaration_type)).declaration_id)
    except DeclarationSlotItem.DoesNotExist:
        return None


def states_of(declaration_id: str) -> list[StateChange]:
    return [
        StateChange(declaration_id=i.declaration_id, state=i.state, reason=i.reason, at=i.created_at, actor=i.actor)
        for i in DeclarationStateItem.query(declaration_id)
    ]


def view_items(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ProviderDeclarationView]:
    """(lead provider, declaration) → the read-model item, for the keys that exist."""
    out = {}
    for key, item in batch_get(ProviderDeclarationItem, keys).items():
        out[key] = ProviderDeclarationView(
            lead_provider_id=item.lead_provider_id,
            declaration_id=item.declaration_id,
            user_id=item.user_id,
            cohort=int(item.cohort),
            delivery_partner_id=item.delivery_partner_id,
            in_v1_v2=bool(item.in_v1_v2),
            created_at=_time_of(item.created_key),
            updated_at=_time_of(item.updated_key),
        )
    return out


def _time_of(key: str) -> datetime:
    return datetime.fromisoformat(key.split("#", 1)[0].replace("Z", "+00:00"))


_LISTING = OrderedList(
    ProviderDeclarationItem,
    by_created=ProviderDeclarationItem.by_created.Meta.index_name,
    by_updated=ProviderDeclarationItem.by_updated.Meta.index_name,
    updated_key=ProviderDeclarationItem.updated_key,
    key_name="declaration_id",
)


def view_page(
    lead_provider_id: str,
    *,
    v1_v2: bool,
    cohorts: Sequence[int] | None,
    delivery_partner_ids: Sequence[str] | None,
    updated_since: datetime | None,
    page: Page,
) -> KeyPage:
    """Declaration ids of one page of what the provider sees, by ``created_at`` (then id)."""
    condition: Any = None
    if v1_v2:
        condition = ProviderDeclarationItem.in_v1_v2 == True  # noqa: E712 - a PynamoDB condition, not a truth test
    if cohorts:
        clause: Any = ProviderDeclarationItem.cohort.is_in(*cohorts)
        condition = clause if condition is None else condition & clause
    if delivery_partner_ids:
        clause = ProviderDeclarationItem.delivery_partner_id.is_in(*delivery_partner_ids)
        condition = clause if condition is None else condition & clause
    return ordered_page(
        _LISTING,
        lead_provider_id,
        order="created_at",
        descending=False,
        page=page,
        updated_since=updated_since,
        filter_condition=condition,
    )


# --------------------------------------------------------------------------- writes


def record_attempt(attempt: Attempt) -> None:
    _attempt_item(attempt).save()


def apply(change: DeclarationChange) -> None:
    """Write one declaration change in one transaction; ``Conflict`` if anything it relied on moved."""
    apply_all([change])


def apply_all(changes: Sequence[DeclarationChange]) -> None:
    """Write changes in as few transactions as fit (100 items each), each change whole in one transaction.

    A transaction whose condition fails writes nothing and raises ``Conflict``; earlier transactions stay
    written, and every change is conditional on the state it was planned from, so re-planning from fresh
    reads and applying again is safe (the batch jobs resume that way).
    """
    chunk: list[DeclarationChange] = []
    size = 0
    for change in changes:
        if chunk and size + change.size > TRANSACTION_ITEMS:
            _write(chunk)
            chunk, size = [], 0
        chunk.append(change)
        size += change.size
    if chunk:
        _write(chunk)


def _write(changes: Sequence[DeclarationChange]) -> None:
    with conflicts_as("declaration changed concurrently"), transaction() as tx:
        for change in changes:
            _add(tx, change)


def _add(tx: TransactWrite, change: DeclarationChange) -> None:
    """Every write of one change, in this order: the declaration, its slot, states, lines, views, checks."""
    _add_declaration(tx, change)
    _add_slot(tx, change)
    for sequence, state in enumerate(change.states):
        tx.save(_state_item(state, sequence), condition=DeclarationStateItem.sort_key.does_not_exist())
    _add_lines(tx, change)
    _add_views(tx, change)
    if change.open_statement_id is not None:
        tx.condition_check(StatementItem, change.open_statement_id, condition=StatementItem.open_output_key.exists())
    if change.attempt is not None:
        tx.save(_attempt_item(change.attempt))


def _add_declaration(tx: TransactWrite, change: DeclarationChange) -> None:
    """A new declaration (and its user's flag), or the new version of one read at ``before.version``."""
    after = change.after
    item = _item(after)
    if change.before is None:
        tx.save(item, condition=DeclarationItem.id.does_not_exist())
        tx.update(
            User(id=after.user_id),
            actions=[User.has_declarations.set(True)],
            condition=User.id.exists(),
        )
        return
    if change.before.version is not None:
        item.version = change.before.version
    tx.save(item)  # PynamoDB adds "version = <read version>" and increments it


def _add_slot(tx: TransactWrite, change: DeclarationChange) -> None:
    after = change.after
    slot = slot_key(after.user_id, after.course_identifier, after.declaration_type)
    if change.takes_slot:
        tx.save(
            DeclarationSlotItem(
                slot=slot, declaration_id=after.id, lead_provider_id=after.lead_provider_id, created_at=after.updated_at
            ),
            condition=DeclarationSlotItem.slot.does_not_exist(),
        )
    elif change.releases_slot:
        tx.delete(DeclarationSlotItem(slot=slot), condition=DeclarationSlotItem.declaration_id == after.id)


def _add_lines(tx: TransactWrite, change: DeclarationChange) -> None:
    for line in change.new_lines:
        tx.save(_line_item(line), condition=StatementLineItem.declaration_id.does_not_exist())
    for line in change.changed_lines:
        tx.update(
            StatementLineItem(statement_id=line.statement_id, declaration_id=line.declaration_id),
            actions=[StatementLineItem.state.set(line.state), StatementLineItem.updated_at.set(line.at)],
            condition=StatementLineItem.declaration_id.exists(),
        )


def _add_views(tx: TransactWrite, change: DeclarationChange) -> None:
    for view in change.views:
        tx.save(_view_item(view))
    for lead_provider_id in change.removed_viewers:
        tx.delete(ProviderDeclarationItem(lead_provider_id=lead_provider_id, declaration_id=change.after.id))


def seed(changes: Sequence[DeclarationChange]) -> int:
    """Bulk-load NEW declarations (``before`` is None) with batch writes and no conditions: for the benchmark
    and demo data only, into tables nobody else is writing. The items are exactly those ``apply`` writes.
    Returns the number of items written."""
    written = 0
    users: set[str] = set()
    by_model: dict[Any, list[Any]] = {}
    for change in changes:
        if change.before is not None or change.removed_viewers or change.changed_lines:
            raise ValueError("seed takes new declarations only")
        after = change.after
        users.add(after.user_id)
        declaration = _item(after)
        declaration.version = 1  # what the first conditional save leaves
        items: list[Any] = [declaration]
        if after.holds_slot:
            slot = slot_key(after.user_id, after.course_identifier, after.declaration_type)
            items.append(
                DeclarationSlotItem(
                    slot=slot,
                    declaration_id=after.id,
                    lead_provider_id=after.lead_provider_id,
                    created_at=after.updated_at,
                )
            )
        items += [_state_item(state, sequence) for sequence, state in enumerate(change.states)]
        items += [_line_item(line) for line in change.new_lines]
        items += [_view_item(view) for view in change.views]
        if change.attempt is not None:
            items.append(_attempt_item(change.attempt))
        for item in items:
            by_model.setdefault(type(item), []).append(item)
    for model, items in by_model.items():
        with model.batch_write() as batch:
            for item in items:
                batch.save(item)
        written += len(items)
    for user_id in sorted(users):
        User(id=user_id).update(actions=[User.has_declarations.set(True)], condition=User.id.exists())
    return written + len(users)


def _line_item(line: StatementLineChange) -> StatementLineItem:
    return StatementLineItem(
        statement_id=line.statement_id,
        declaration_id=line.declaration_id,
        state=line.state,
        refundable=line.refundable,
        declaration_type=line.declaration_type,
        name_key=name_key(line.participant_name, line.declaration_id),
        created_at=line.at,
        updated_at=line.at,
    )
