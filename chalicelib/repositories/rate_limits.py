"""Rate-limit counters: one conditional ``UpdateItem`` per counted request (docs/rate-limits.md).

``ADD n :one`` with the condition ``attribute_not_exists(n) OR n < :limit``: DynamoDB applies each update atomically,
so however many containers count at once, a window's count never passes its limit, and a request whose update fails
the condition is the one to refuse (the count stays at the limit). ``ReturnValues=UPDATED_NEW`` gives the new count
in the same request.

The request goes through PynamoDB's own botocore client (``models.base.shared_connection``), not a model method:
PynamoDB would first describe the table (a ``DescribeTable`` per process, and an IAM grant for it), where one
``UpdateItem`` is all this needs. No second client is created (about 100 ms on a cold start, STACK-NOTES.md).
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.rate_limits import LimiterUnavailable, Window
from chalicelib.models import RateLimitCounter
from chalicelib.models.base import shared_connection

CONDITION_FAILED = "ConditionalCheckFailedException"


def add_request(window: Window) -> int | None:
    """Count one request in the window: its new count, or None when the window is full (nothing is written).
    ``LimiterUnavailable`` when DynamoDB could not be asked or refused for another reason."""
    count = RateLimitCounter.requests.attr_name
    try:
        response = shared_connection().client.update_item(
            TableName=RateLimitCounter.Meta.table_name,
            Key={RateLimitCounter.key.attr_name: {"S": window.key}},
            UpdateExpression="ADD #n :one SET #ttl = :ttl",
            ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
            ExpressionAttributeNames={"#n": count, "#ttl": RateLimitCounter.expires.attr_name},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(window.limit)},
                ":ttl": {"N": str(window.expires)},
            },
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == CONDITION_FAILED:
            return None
        raise LimiterUnavailable(str(error)) from error
    except BotoCoreError as error:
        raise LimiterUnavailable(str(error)) from error
    return int(response["Attributes"][count]["N"])
