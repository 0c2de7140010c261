"""Tools for the Idempotency-Key tests: DynamoDB requests by table, a spy on a service function, and a shifted
clock for Powertools (moto never expires TTL, so expiry is Powertools' own comparison with its clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType, SimpleNamespace
from typing import Any

import botocore.client
import pytest

from chalicelib import config

KEY = "order-7f3e2c1a-retry-safe"


@dataclass
class Requests:
    """DynamoDB API requests, as (operation, table suffix) pairs, in order."""

    made: list[tuple[str, str]] = field(default_factory=list)

    def on(self, suffix: str) -> list[str]:
        return [operation for operation, table in self.made if table == suffix]

    def tables(self) -> set[str]:
        return {table for _, table in self.made}


def _tables(params: dict[str, Any]) -> list[str]:
    if "TransactItems" in params:
        return [body["TableName"] for item in params["TransactItems"] for body in item.values()]
    if "RequestItems" in params:
        return list(params["RequestItems"])
    return [params["TableName"]]


class RequestRecorder:
    """Records every DynamoDB request botocore makes (PynamoDB's and Powertools' alike) while ``during`` runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self._open: list[Requests] = []
        original = botocore.client.BaseClient._make_api_call

        def record(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                prefix = config.current().table_prefix + "-"
                for requests in self._open:
                    requests.made += [(operation, t.removeprefix(prefix)) for t in dict.fromkeys(_tables(params))]
            return original(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)

    @contextmanager
    def during(self) -> Iterator[Requests]:
        requests = Requests()
        self._open.append(requests)
        try:
            yield requests
        finally:
            self._open.remove(requests)


class Spy:
    """Counts the calls of a module's function (the service a view calls); ``before`` runs first on each call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str):
        self.calls = 0
        self.before: Callable[[int], None] = lambda _: None
        original = getattr(module, name)

        def spied(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.before(self.calls)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, spied)


def shift_powertools_clock(monkeypatch: pytest.MonkeyPatch, delta: dt.timedelta) -> None:
    """Make Powertools' idempotency code see ``now + delta``: the modules that read ``dt.datetime.now()``
    (expiry stamps, the PutItem condition's ``:now``, a record's ``is_expired``, the in-progress check)."""
    from aws_lambda_powertools.utilities.idempotency import base
    from aws_lambda_powertools.utilities.idempotency.persistence import base as persistence_base
    from aws_lambda_powertools.utilities.idempotency.persistence import datarecord, dynamodb

    class Shifted(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.now(tz) + delta

    shim = SimpleNamespace(datetime=Shifted, timedelta=dt.timedelta, date=dt.date, time=dt.time)
    for module in (base, persistence_base, datarecord, dynamodb):
        assert module.dt is dt or isinstance(module.dt, SimpleNamespace), module.__name__
        monkeypatch.setattr(module, "dt", shim)
