"""Counting the DynamoDB requests this thread makes while a meter is open (the API's and handlers' log lines).

``models.base`` registers :func:`on_call` on the process's one botocore DynamoDB client (``shared_connection``)
for botocore's ``before-call`` event, which fires once per API call before any retry botocore makes itself: every
request PynamoDB makes (items, queries, batches, transactions, and PynamoDB's own re-sends of unprocessed batch
items) and every request Powertools' idempotency layer makes on the same client. ``bench/counting.py`` counts
PynamoDB's calls the same way one level up (``Connection._make_api_call``); the two agree except for the
idempotency layer's requests, which only this meter sees.

Meters are per thread: ``chalice local`` serves each request on its own thread, and a request's DynamoDB calls
all run on the thread that serves it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

EVENT = "before-call.dynamodb"  # botocore: before-call.<service>.<operation>, once per API call
HANDLER_ID = "ecf-lp-api-request-meter"

_local = threading.local()


@dataclass
class Meter:
    """The DynamoDB API calls made in this thread while it was open, by operation name, in order."""

    operations: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.operations)

    @property
    def by_operation(self) -> Counter[str]:
        return Counter(self.operations)


def _open() -> list[Meter]:
    meters: list[Meter] | None = getattr(_local, "meters", None)
    if meters is None:
        meters = []
        _local.meters = meters
    return meters


def on_call(model: Any = None, **_: Any) -> None:
    """botocore's ``before-call`` handler: one call of ``model`` (its OperationModel) for every open meter."""
    meters: list[Meter] | None = getattr(_local, "meters", None)
    if meters:
        name = str(getattr(model, "name", "unknown"))
        for meter in meters:
            meter.operations.append(name)


@contextmanager
def measure() -> Iterator[Meter]:
    """Count the DynamoDB requests this thread makes while the block runs (meters nest)."""
    meter = Meter()
    meters = _open()
    meters.append(meter)
    try:
        yield meter
    finally:
        meters.remove(meter)
