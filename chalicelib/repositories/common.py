"""Storage helpers shared by the repositories: transactions, batch reads, index paging."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.domain.paging import KeyPage, Page, Position
from chalicelib.models.base import shared_connection

BATCH_GET_MAX = 100
# Keys read per index request while skipping to a deep page. A keys-only index
# item here is ~100 bytes, so DynamoDB's 1 MB page holds about this many.
SKIP_CHUNK = 10_000
# A filtered keyset page reads this many times the page in its one Query (a filter drops entries after they are
# read), up to this many entries: most lists' filters keep most entries, and a short page costs nothing extra.
FILTERED_KEYSET_FACTOR = 2
FILTERED_KEYSET_READ = SKIP_CHUNK


def transaction() -> TransactWrite:
    return TransactWrite(connection=shared_connection())


def condition_failed(error: Exception) -> bool:
    """True when a write failed on its condition (not on throttling or a network error)."""
    if isinstance(error, TransactWriteError):
        reasons = getattr(error, "cancellation_reasons", None) or []
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)
    if isinstance(error, PutError | UpdateError | DeleteError):
        return error.cause_response_code == "ConditionalCheckFailedException"
    return False


@contextmanager
def conflicts_as(message: str) -> Iterator[None]:
    """Storage errors → domain errors, in one place: a write whose condition failed is a ``Conflict``
    (something changed since it was read); anything else propagates unchanged."""
    try:
        yield
    except (TransactWriteError, PutError, UpdateError, DeleteError) as error:
        if condition_failed(error):
            raise Conflict(message) from error
        raise


def batch_get[M: Model](model: type[M], keys: Sequence[Any]) -> dict[Any, M]:
    """BatchGetItem in chunks of 100. Keys are hash keys or (hash, range) tuples."""
    found: dict[Any, M] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH_GET_MAX):
        chunk = unique[start : start + BATCH_GET_MAX]
        for item in model.batch_get(chunk):
            found[_key_of(model, item)] = item
    return found


def _key_of(model: type[Model], item: Model) -> Any:
    hash_name = str(model._hash_keyname)
    range_name = model._range_keyname
    if range_name:
        return (getattr(item, hash_name), getattr(item, str(range_name)))
    return getattr(item, hash_name)


@dataclass(frozen=True)
class IndexPartition:
    """One partition of an index, read for one key attribute (the model's hash key unless ``key_name``)."""

    model: type[Model]
    index_name: str
    hash_value: str
    key_name: str | None = None


def read_index_keys(
    partition: IndexPartition,
    *,
    offset: int,
    limit: int,
    forward: bool = True,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    chunk: int | None = None,
) -> list[str]:
    """Keys (the hash key, or ``key_name``) of items ``[offset, offset + limit)`` of an index partition, in order.

    Reads keys only, ``chunk`` at a time, so reaching page N costs about one
    request per ``chunk`` keys skipped, whatever the item sizes. Items a filter
    drops still count as read but not as skipped.
    """
    chunk = chunk or SKIP_CHUNK
    model = partition.model
    connection = model._get_connection()
    key_name = partition.key_name or str(model._hash_keyname)
    wanted = offset + limit
    seen = 0
    out: list[str] = []
    start_key: dict[str, Any] | None = None
    while len(out) < limit:
        # Read no more than the page still needs (plus a little for filtered items).
        page_size = min(chunk, max(wanted - seen, 1) + (25 if filter_condition is not None else 0))
        response = connection.query(
            partition.hash_value,
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            index_name=partition.index_name,
            scan_index_forward=forward,
            limit=page_size,
            exclusive_start_key=start_key,
            attributes_to_get=[key_name],
        )
        for raw in response.get("Items", []):
            if seen >= offset:
                out.append(raw[key_name]["S"])
                if len(out) >= limit:
                    break
            seen += 1
        start_key = response.get("LastEvaluatedKey")
        if not start_key:
            break
    return out


def read_all_keys(
    model: type[Model],
    index_name: str,
    hash_value: str,
    *,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
    attributes: Iterable[str] = (),
    chunk: int | None = None,
) -> list[dict[str, Any]]:
    """Every (projected) index item matching the conditions, raw, ``chunk`` keys per request."""
    chunk = chunk or SKIP_CHUNK
    connection = model._get_connection()
    names = [model._hash_keyname, *attributes]
    out: list[dict[str, Any]] = []
    start_key: dict[str, Any] | None = None
    while True:
        response = connection.query(
            hash_value,
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            index_name=index_name,
            limit=chunk,
            exclusive_start_key=start_key,
            attributes_to_get=names,
        )
        out.extend(response.get("Items", []))
        start_key = response.get("LastEvaluatedKey")
        if not start_key:
            return out


def key_attribute_names(model: type[Model], index_name: str) -> list[str]:
    """The stored names of the table's key and the index's key: what positions an index entry exactly."""
    names = [str(model._hash_keyname)] + ([str(model._range_keyname)] if model._range_keyname else [])
    for attribute in model._indexes[index_name].Meta.attributes.values():
        if attribute.attr_name not in names:
            names.append(attribute.attr_name)
    return names


def read_keyset(
    partition: IndexPartition,
    *,
    after: Position | None,
    limit: int,
    forward: bool = True,
    range_condition: Condition | None = None,
    filter_condition: Condition | None = None,
) -> KeyPage:
    """One keyset page of an index partition: the keys after ``after``, and where the next page starts.

    Exactly one Query, whatever the depth: it starts at ``after`` (the previous page's last entry) instead of
    reading past the entries before it. Unfiltered, it reads ``limit + 1`` entries (the extra one says whether
    another page exists). Filtered, it reads ``FILTERED_KEYSET_FACTOR`` times as many and keeps the first
    ``limit`` that match; if it stopped before the end without filling the page, the page is short and the
    next one starts where the read stopped.
    """
    key_name = partition.key_name or str(partition.model._hash_keyname)
    chosen, following = keyset_query(
        partition,
        after=after,
        limit=limit,
        forward=forward,
        range_condition=range_condition,
        filter_condition=filter_condition,
        keys_only=True,
    )
    return KeyPage([raw[key_name]["S"] for raw in chosen], following)


def keyset_query(
    partition: IndexPartition,
    *,
    after: Position | None,
    limit: int,
    forward: bool,
    range_condition: Condition | None,
    filter_condition: Condition | None,
    keys_only: bool,
) -> tuple[list[dict[str, Any]], Position | None]:
    """The one Query of a keyset page (see ``read_keyset``): the raw entries of the page (key attributes only, or
    whole items from an index that projects them) and where the next page starts."""
    model = partition.model
    names = key_attribute_names(model, partition.index_name)
    response = model._get_connection().query(
        partition.hash_value,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        index_name=partition.index_name,
        scan_index_forward=forward,
        limit=limit + 1
        if filter_condition is None
        else min(FILTERED_KEYSET_FACTOR * (limit + 1), FILTERED_KEYSET_READ),
        exclusive_start_key=dict(after) if after else None,
        attributes_to_get=names if keys_only else None,
    )
    items: list[dict[str, Any]] = response.get("Items", [])
    if len(items) > limit:
        chosen = items[:limit]
        return chosen, {name: chosen[-1][name] for name in names}
    return items, response.get("LastEvaluatedKey") or None


@dataclass(frozen=True)
class OrderedList:
    """A list kept in two sparse indexes of ``model``, ``ck`` (created) and ``uk`` (updated) ordered."""

    model: type[Model]
    by_created: str
    by_updated: str
    updated_key: Any
    key_name: str | None = None


def ordered_page(
    listing: OrderedList,
    hash_value: str,
    *,
    order: str,
    descending: bool,
    page: Page,
    updated_since: datetime | None,
    filter_condition: Condition | None = None,
) -> KeyPage:
    """One page of a list kept in two sparse indexes, ``ck`` (created) and ``uk`` (updated) ordered.

    Sorting by ``updated_at``, or by ``created_at`` without ``updated_since``, pages
    straight over the matching index. ``updated_since`` with the ``created_at``
    order reads the changed keys from the updated index (one request per chunk of
    them) and orders them here; a keyset page instead reads the created index from
    its position with ``uk >= since`` as a filter (the created indexes project ``uk``).
    """
    model, key_name, updated_key = listing.model, listing.key_name, listing.updated_key
    key = key_name or str(model._hash_keyname)
    by_updated_order = order == "updated_at"
    since = iso(updated_since) if updated_since is not None else None
    index = listing.by_updated if by_updated_order else listing.by_created
    partition = IndexPartition(model, index, hash_value, key_name)
    if page.cursor:
        if since is not None and not by_updated_order:
            since_filter: Condition = updated_key >= since
            filter_condition = since_filter if filter_condition is None else filter_condition & since_filter
        return read_keyset(
            partition,
            after=page.after,
            limit=page.per_page,
            forward=not descending,
            range_condition=updated_key >= since if by_updated_order and since is not None else None,
            filter_condition=filter_condition,
        )
    offset, limit = page.offset, page.per_page
    if since is not None and not by_updated_order:
        rows = read_all_keys(
            model,
            listing.by_updated,
            hash_value,
            range_condition=updated_key >= since,
            filter_condition=filter_condition,
            attributes=["ck", key] if key_name else ["ck"],
        )
        rows.sort(key=lambda raw: raw["ck"]["S"], reverse=descending)
        return KeyPage([raw[key]["S"] for raw in rows[offset : offset + limit]])
    return KeyPage(
        read_index_keys(
            partition,
            offset=offset,
            limit=limit,
            forward=not descending,
            range_condition=updated_key >= since if by_updated_order and since is not None else None,
            filter_condition=filter_condition,
        )
    )
