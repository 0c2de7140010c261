"""Make moto's DynamoDB serialise requests, as DynamoDB does for conflicting writes.

moto applies a transaction by checking conditions and then writing, with no
lock, so two threads can both pass a condition that DynamoDB would let only
one pass. Wrapping each DynamoDB API call in one process-wide lock restores
DynamoDB's guarantee (each request is atomic) without changing any result.
Used by the local stack (a threaded moto server) and the concurrency tests.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()
_installed: list[bool] = []


def serialise_dynamodb() -> None:
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]  # the patch is the point
    _installed.append(True)
