"""Which errors are expected, and the one line each becomes (anything else is a bug)."""

from __future__ import annotations

from collections.abc import Iterator

from botocore.exceptions import (
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    TokenRetrievalError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from admin import texts
from admin.stage import LOCAL_STAGES
from chalicelib import config
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.providers import NoCohortsGiven
from chalicelib.domain.statements import StatementRefused
from chalicelib.repositories import storage


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        cause = getattr(current, "cause", None)  # PynamoDB keeps the botocore error here
        pending += [cause if isinstance(cause, BaseException) else None, current.__cause__, current.__context__]


def describe_error(error: BaseException, settings: config.Settings) -> str | None:
    """The one-line message for an error we expect, or None for a bug."""
    if isinstance(error, NotFound):
        return texts.NOT_FOUND.format(error=error)
    if isinstance(error, NoCohortsGiven):
        return texts.COHORT_REQUIRED
    if isinstance(error, DomainError | StatementRefused):
        return str(error)
    where = settings.dynamodb_endpoint or texts.AWS_REGION.format(region=settings.region)
    for cause in _causes(error):
        message = _describe_aws(cause, where, settings.stage)
        if message is not None:
            return message
    return None


def _describe_aws(cause: BaseException, where: str, stage: str) -> str | None:
    """The message for one error of the AWS client libraries, or None for anything else."""
    if isinstance(cause, ReadTimeoutError | BotoConnectionError | HTTPClientError):
        return _unreachable(cause, where, stage)
    if isinstance(cause, NoCredentialsError | PartialCredentialsError | TokenRetrievalError):
        return texts.NO_CREDENTIALS.format(stage=stage, cause=cause)
    if storage.is_missing_table(cause):
        return texts.NO_TABLE.format(cause=cause, where=where)
    if isinstance(cause, ClientError):
        return _client_error(cause, where)
    return None


def _unreachable(cause: BaseException, where: str, stage: str) -> str:
    """No answer from DynamoDB: too slow, or nothing listening (the local stack not running, for a local stage)."""
    if isinstance(cause, ReadTimeoutError):
        return texts.READ_TIMEOUT.format(where=where)
    if stage in LOCAL_STAGES:
        return texts.UNREACHABLE_LOCAL.format(where=where)
    return texts.UNREACHABLE.format(where=where, cause=cause)


def _client_error(cause: ClientError, where: str) -> str:
    code = cause.response.get("Error", {}).get("Code", "")
    message = cause.response.get("Error", {}).get("Message", str(cause))
    if code == "ResourceNotFoundException":
        return texts.TABLE_NOT_FOUND.format(where=where, message=message)
    return texts.AWS_REFUSED.format(code=code, message=message)
