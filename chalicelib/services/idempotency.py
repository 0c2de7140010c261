"""Run a keyed write at most once per provider and key (docs/idempotency.md).

Built on Powertools' idempotency utility (``idempotent_function`` with its DynamoDB persistence layer): the first
request writes an ``INPROGRESS`` record with a conditional PutItem, runs, and stores its response (UpdateItem); a
repeat's PutItem fails its condition and DynamoDB returns the stored record with the failure
(``ReturnValuesOnConditionCheckFailure``), so a replay is one request. Powertools keys the record on a hash of
``scope`` (provider, key) and compares a hash of ``request`` (method, route, body): a mismatch is its validation
error (422 here), a record still running its in-progress error (409 here). When the function raises, Powertools
deletes the record, which is how responses that are not kept (``domain.idempotency.is_kept``) are not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from chalicelib.domain import messages as m
from chalicelib.domain.errors import Conflict, ValidationFailed
from chalicelib.domain.idempotency import EXPIRY_SECONDS, Outcome, StoredResponse, WriteRequest, is_kept
from chalicelib.repositories import idempotency as repository

log = logging.getLogger("ecf.idempotency")

# The records' ids are ``write#<hash>``: not Powertools' default ``<Lambda function name>.<module>.<function>``, so
# renaming this module or the function does not forget the keys in flight, and local and deployed ids agree.
KEY_PREFIX = "write"


class _NotKept(Exception):
    """Raised inside the idempotent function so that Powertools deletes the record: the response is not kept."""

    def __init__(self, response: StoredResponse):
        super().__init__(response.status)
        self.response = response


def _execute(*, request: dict[str, Any], run: Callable[[], StoredResponse]) -> dict[str, Any]:
    """The function Powertools makes idempotent. ``request`` is only hashed (Powertools' ``data_keyword_argument``)."""
    del request
    response = run()
    if not is_kept(response.status):
        raise _NotKept(response)
    return response.to_dict()


@dataclass(frozen=True)
class _Runner:
    layer: DynamoDBPersistenceLayer
    config: IdempotencyConfig
    function: Callable[..., Any]


_runner: list[_Runner] = []


def _current() -> _Runner:
    """``_execute`` made idempotent on the repository's persistence layer (rebuilt only when that is replaced)."""
    layer = repository.persistence_layer()
    if not _runner or _runner[0].layer is not layer:
        config = IdempotencyConfig(
            event_key_jmespath="scope",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=EXPIRY_SECONDS,
            hash_function="sha256",
        )
        function = idempotent_function(
            _execute, data_keyword_argument="request", persistence_store=layer, config=config, key_prefix=KEY_PREFIX
        )
        _runner[:] = [_Runner(layer, config, function)]
    return _runner[0]


def run_once(write: WriteRequest, execute: Callable[[], StoredResponse], lambda_context: Any) -> Outcome:
    """Run ``execute`` unless this provider's key already has a kept response; return what to send.

    ``lambda_context`` (the invocation's) bounds the in-progress record: if this invocation dies, a retry runs once
    the invocation's time is up instead of getting 409 for 24 hours.
    """
    runner = _current()
    runner.config.register_lambda_context(lambda_context)
    fresh: list[StoredResponse] = []

    def run() -> StoredResponse:
        fresh.append(execute())
        return fresh[0]

    try:
        stored = runner.function(request=write.as_payload(), run=run)
    except _NotKept as not_kept:
        return Outcome(not_kept.response, replayed=False)
    except IdempotencyValidationError as error:
        raise ValidationFailed({m.IDEMPOTENCY_KEY_TITLE: [m.IDEMPOTENCY_KEY_REUSED]}) from error
    except (IdempotencyAlreadyInProgressError, IdempotencyInconsistentStateError) as error:
        raise Conflict(m.IDEMPOTENCY_KEY_IN_PROGRESS) from error
    except IdempotencyPersistenceLayerError:
        if not fresh:
            raise  # the key could not be claimed: nothing ran, the client gets a 500 and retries
        # It ran but its response could not be stored: send it rather than turn a done write into a 500.
        log.exception("a keyed write ran but its response could not be stored")
        return Outcome(fresh[0], replayed=False)
    if fresh:
        return Outcome(fresh[0], replayed=False)
    return Outcome(StoredResponse.from_dict(stored), replayed=True)
