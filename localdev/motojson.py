"""moto's DynamoDB responses written with ``json.dumps`` instead of its generic, shape-walking serializer.

moto 5.2 serializes every response by walking botocore's output shape member by member; for items that is
most of the cost of a call (profiled: 1.1 s of 1.5 s for three 12-item Queries of the cohorts table, and about
40% of the demo data's loading). For the item operations below, the result moto builds is already the wire
form (attribute values as ``{"S": ...}`` dicts, counts, keys), so it is written as JSON directly: the same
document, as ``tests/test_localdev_startup.py`` checks against moto's own serializer. Binary values are
base64, timestamps epoch seconds, as DynamoDB's JSON protocol has them. Everything else (errors, table
descriptions) keeps moto's serializer.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

FAST_OPERATIONS = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems",
    }
)  # fmt: skip
CONTENT_TYPE = "application/x-amz-json-1.0"


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _without_none(value: Any) -> Any:
    """moto's serializer leaves out members whose value is None; so does this (top level, where they occur)."""
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if item is not None}
    return value


def dumps(result: Any) -> str:
    return json.dumps(_without_none(result), default=_default, separators=(",", ":"))


def patch() -> tuple[Any, str, Any]:
    """(class, attribute, replacement) for ``localdev.stack.tune_moto``: ``DynamoResult.execute_result``."""
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name not in FAST_OPERATIONS or isinstance(self.result, Exception):
            return original(self, context)
        return 200, {"Content-Type": CONTENT_TYPE}, dumps(self.result)

    return DynamoResult, "execute_result", execute_result
