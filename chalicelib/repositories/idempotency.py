"""The Idempotency-Key records' storage: Powertools' DynamoDB persistence layer on the idempotency table.

The layer gets PynamoDB's own botocore client (``models.base.shared_connection``): no second client to create
(~100 ms on a cold start, docs/idempotency.md) and the same warm HTTPS connections. It is made on first use, once
per process, and again only when that client or the table name changes (a new stage bound by the CLI or tests).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from chalicelib.models import IdempotencyRecord
from chalicelib.models.base import shared_connection

_layer: list[DynamoDBPersistenceLayer] = []


def persistence_layer() -> DynamoDBPersistenceLayer:
    """The process's persistence layer, bound to the current stage's table."""
    client = shared_connection().client
    table = IdempotencyRecord.Meta.table_name
    if not _layer or _layer[0].client is not client or _layer[0].table_name != table:
        _layer[:] = [
            DynamoDBPersistenceLayer(
                table_name=table,
                key_attr=IdempotencyRecord.id.attr_name,
                expiry_attr=IdempotencyRecord.expiration.attr_name,
                in_progress_expiry_attr=IdempotencyRecord.in_progress_expiration.attr_name,
                status_attr=IdempotencyRecord.status.attr_name,
                data_attr=IdempotencyRecord.data.attr_name,
                validation_key_attr=IdempotencyRecord.validation.attr_name,
                boto3_client=client,
            )
        ]
    return _layer[0]
