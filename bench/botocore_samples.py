"""DynamoDB requests as botocore makes them, for the benchmarks that must see every one (``bench.rate_limits``,
``bench.idempotency``): the rate limiter's ``UpdateItem`` and Powertools' idempotency records go through the raw
botocore client, which ``bench.counting`` (PynamoDB's connection) does not see.

``install()`` once, then ``with sample() as s:`` around a request: ``s.requests`` lists ``Operation(table)`` in
order, ``s.dynamodb_seconds`` the time inside those requests and ``s.seconds`` the time of the whole block.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.client

from chalicelib import config


@dataclass
class Sample:
    requests: list[str] = field(default_factory=list)
    dynamodb_seconds: float = 0.0
    seconds: float = 0.0


_open: list[Sample] = []
_installed: list[bool] = []


def install() -> None:
    """Record every DynamoDB request botocore makes while a sample is open (PynamoDB's and the raw client's)."""
    if _installed:
        return
    original = botocore.client.BaseClient._make_api_call

    def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if not _open or client.meta.service_model.service_name != "dynamodb":
            return original(client, operation, params)
        table = str(params.get("TableName", "transaction" if "TransactItems" in params else "batch"))
        table = table.removeprefix(config.current().table_prefix + "-")
        started = time.perf_counter()
        try:
            return original(client, operation, params)
        finally:
            _open[-1].dynamodb_seconds += time.perf_counter() - started
            _open[-1].requests.append(f"{operation}({table})")

    botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
    _installed.append(True)


@contextmanager
def sample() -> Iterator[Sample]:
    taken = Sample()
    _open.append(taken)
    started = time.perf_counter()
    try:
        yield taken
    finally:
        taken.seconds = time.perf_counter() - started
        _open.remove(taken)
