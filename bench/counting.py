"""Count the DynamoDB API requests PynamoDB makes.

Every PynamoDB request (item reads and writes, queries, batches, transactions,
and the retries PynamoDB itself makes for unprocessed batch items) goes
through ``pynamodb.connection.base.Connection._make_api_call`` once. The
wrapper installed here records each call in the counters that are open::

    with count_requests() as counts:
        client.http.get("/api/v3/schools/ecf?filter[cohort]=2025", headers=headers)
    counts.total            # 3
    counts.by_operation     # Counter({"Query": 1, "BatchGetItem": 2})
    str(counts)             # "BatchGetItem 2, Query 1"
    counts.seconds          # wall time spent inside those calls (botocore + the service or moto)

Requests botocore retries internally (throttling, network errors) are one
call here, as they are one request for the code's purposes. Counters nest.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pynamodb.connection.base import Connection

_lock = threading.Lock()
_active: list[RequestCount] = []
_original: list[Any] = []


@dataclass
class Call:
    operation: str
    tables: tuple[str, ...]
    index: str | None = None

    def __str__(self) -> str:
        from chalicelib import config

        prefix = config.current().table_prefix + "-"
        where = ",".join(t.removeprefix(prefix) for t in self.tables)
        return f"{self.operation}({where}{'/' + self.index if self.index else ''})"


WRITE_OPERATIONS = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


@dataclass
class RequestCount:
    calls: list[Call] = field(default_factory=list)
    seconds: float = 0.0  # time inside DynamoDB calls

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def by_operation(self) -> Counter[str]:
        return Counter(call.operation for call in self.calls)

    def count(self, operation: str) -> int:
        return self.by_operation[operation]

    @property
    def writes(self) -> int:
        return sum(self.count(op) for op in WRITE_OPERATIONS)

    @property
    def reads(self) -> int:
        return self.total - self.writes

    def write_detail(self) -> str:
        return ", ".join(f"{op} {self.count(op)}" for op in WRITE_OPERATIONS if self.count(op)) or "none"

    def without(self, *operations: str) -> int:
        """The total leaving out some operations (e.g. the auth ``GetItem`` when it is counted apart)."""
        return sum(1 for call in self.calls if call.operation not in operations)

    def __str__(self) -> str:
        return ", ".join(f"{op} {n}" for op, n in sorted(self.by_operation.items())) or "none"

    def detail(self) -> str:
        """Every call in order, with its tables: for assertion messages."""
        return "; ".join(str(call) for call in self.calls) or "none"


def _tables_of(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if "TableName" in kwargs:
        return (str(kwargs["TableName"]),)
    if "RequestItems" in kwargs:
        return tuple(kwargs["RequestItems"])
    if "TransactItems" in kwargs:
        return tuple(str(op["TableName"]) for item in kwargs["TransactItems"] for op in item.values())
    return ()


def install() -> None:
    """Wrap ``Connection._make_api_call`` (idempotent; costs one list check per request when no counter is open)."""
    with _lock:
        if _original:
            return
        original = Connection._make_api_call
        _original.append(original)

        def _make_api_call(self: Connection, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
            if not _active:
                return original(self, operation_name, operation_kwargs)
            counters = list(_active)
            call = Call(operation_name, _tables_of(operation_kwargs), operation_kwargs.get("IndexName"))
            for counter in counters:
                counter.calls.append(call)
            started = time.perf_counter()
            try:
                return original(self, operation_name, operation_kwargs)
            finally:
                elapsed = time.perf_counter() - started
                for counter in counters:
                    counter.seconds += elapsed

        Connection._make_api_call = _make_api_call  # type: ignore[method-assign]


def uninstall() -> None:
    with _lock:
        if _original:
            Connection._make_api_call = _original.pop()  # type: ignore[method-assign]


@contextmanager
def count_requests() -> Iterator[RequestCount]:
    """Count the DynamoDB requests made while the block runs (in any thread of this process)."""
    install()
    counts = RequestCount()
    _active.append(counts)
    try:
        yield counts
    finally:
        _active.remove(counts)
