"""Idempotency-Key records (docs/idempotency.md).

Powertools' ``DynamoDBPersistenceLayer`` reads and writes the items
(aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py); this model declares the same table so that
``create_tables``, the local stack and ``tools/infra_tables.py`` provision it, and tells the persistence layer its
attribute names (``repositories.idempotency``), so the two cannot drift. DynamoDB's TTL deletes a record some time
after ``expiration``; Powertools ignores a record past it from that second on.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute

from chalicelib.models.base import BaseMeta, BaseModel, register


@register
class IdempotencyRecord(BaseModel):
    """One provider's use of one key: ``id`` is ``<prefix>#<sha256 of provider id and key>``."""

    class Meta(BaseMeta):
        table_suffix = "idempotency"

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute()  # epoch seconds: first use + 24 h
    in_progress_expiration = NumberAttribute(null=True)  # epoch milliseconds: when the running invocation times out
    status = UnicodeAttribute()  # INPROGRESS or COMPLETED
    data = UnicodeAttribute(null=True)  # the stored response (JSON: status, body, content_type)
    validation = UnicodeAttribute(null=True)  # sha256 of the request's fingerprint (method, route, body)
