"""Storage helpers shared by the repositories: transactions, batch reads, index paging."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.errors import Conflict
from chalicelib.models.base import shared_connection

M = TypeVar("M", bound=Model)

BATCH_GET_MAX = 100
# Keys read per index request while skipping to a deep page. A keys-only index
# item here is ~100 bytes, so DynamoDB's 1 MB page holds about this many.
SKIP_CHUNK = 10_000


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


def batch_get(model: type[M], keys: Sequence[Any]) -> dict[Any, M]:
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
    offset: int,
    limit: int,
    updated_since: datetime | None,
    filter_condition: Condition | None = None,
) -> list[str]:
    """One page of a list kept in two sparse indexes, ``ck`` (created) and ``uk`` (updated) ordered.

    Sorting by ``updated_at``, or by ``created_at`` without ``updated_since``, pages
    straight over the matching index. ``updated_since`` with the ``created_at``
    order reads the changed keys from the updated index (one request per chunk of
    them) and orders them here.
    """
    model, key_name, updated_key = listing.model, listing.key_name, listing.updated_key
    key = key_name or str(model._hash_keyname)
    if updated_since is not None and order == "created_at":
        rows = read_all_keys(
            model,
            listing.by_updated,
            hash_value,
            range_condition=updated_key >= iso(updated_since),
            filter_condition=filter_condition,
            attributes=["ck", key] if key_name else ["ck"],
        )
        rows.sort(key=lambda raw: raw["ck"]["S"], reverse=descending)
        return [raw[key]["S"] for raw in rows[offset : offset + limit]]
    by_updated_order = order == "updated_at"
    return read_index_keys(
        IndexPartition(model, listing.by_updated if by_updated_order else listing.by_created, hash_value, key_name),
        offset=offset,
        limit=limit,
        forward=not descending,
        range_condition=updated_key >= iso(updated_since) if by_updated_order and updated_since is not None else None,
        filter_condition=filter_condition,
    )
