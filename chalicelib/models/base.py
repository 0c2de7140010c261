"""PynamoDB base: table names from settings, one connection per process.

Tables are provisioned by CloudFormation (``infra/``) on AWS; ``create_table``
is for the local stack and tests only.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pynamodb.connection import Connection, TableConnection
from pynamodb.indexes import GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib import config
from chalicelib.models import metering

_M = TypeVar("_M", bound=Model)

_MODELS: list[type[Model]] = []
_shared: list[Connection] = []


class MeteredConnection(Connection):
    """PynamoDB's connection, whose botocore client reports each API call to ``models.metering``.

    PynamoDB makes its client lazily and again if the first one's credentials went missing, so the hook is
    registered on whichever client this returns (once per client; ``unique_id`` makes a second one a no-op).
    """

    _metered: Any = None

    @property
    def client(self) -> Any:
        client = super().client
        if client is not self._metered:
            client.meta.events.register(metering.EVENT, metering.on_call, unique_id=metering.HANDLER_ID)
            self._metered = client
        return client


def shared_connection() -> Connection:
    """One botocore client per process for every table (a client costs ~100 ms to create)."""
    if not _shared:
        settings = config.current()
        _shared.append(
            MeteredConnection(
                region=settings.region,
                connect_timeout_seconds=BaseMeta.connect_timeout_seconds,
                read_timeout_seconds=BaseMeta.read_timeout_seconds,
                max_retry_attempts=BaseMeta.max_retry_attempts,
                max_pool_connections=BaseMeta.max_pool_connections,
            )
        )
    return _shared[0]


class BaseModel(Model):
    """A model whose table connection shares the process-wide client."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        shared = shared_connection()
        if table.connection is not shared:
            if table.table_name not in shared._tables:
                shared.add_meta_table(table.connection.get_meta_table(table.table_name))
            table.connection = shared
        return table


def table_name(suffix: str) -> str:
    return f"{config.current().table_prefix}-{suffix}"


class BaseMeta:
    region = "eu-west-2"
    table_name = "unbound"
    # Keep PynamoDB's retries modest: API Gateway gives us 29 s in all.
    max_retry_attempts = 3
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_pool_connections = 20


def register(model: type[Model]) -> type[Model]:
    """Class decorator: the model's table name follows the current settings."""
    _MODELS.append(model)
    _bind(model)
    return model


def _bind(model: type[Model]) -> None:
    settings = config.current()
    model.Meta.table_name = table_name(model.Meta.table_suffix)  # type: ignore[attr-defined]  # every model's Meta declares it; BaseMeta cannot
    model.Meta.region = settings.region
    model.Meta.host = None  # the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB
    model._connection = None


def rebind_all() -> None:
    """Point every model at the tables of the current settings (CLI ``--stage``, tests)."""
    _shared.clear()
    for model in _MODELS:
        _bind(model)


def all_models() -> list[type[Model]]:
    return list(_MODELS)


def table_models() -> list[type[Model]]:
    """One model per physical table (several item types may share one table)."""
    seen: dict[str, type[Model]] = {}
    for model in _MODELS:
        if getattr(model.Meta, "owns_table", True):
            seen.setdefault(model.Meta.table_name, model)
    return list(seen.values())


def create_tables(wait: bool = False) -> None:
    """Create missing tables (on-demand; streams where the model's Meta asks for them)."""
    for model in table_models():
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)


# PynamoDB's ``Index.__init_subclass__`` (which collects an index's key attributes into ``Meta.attributes``) is
# unannotated, so under ``mypy --strict`` every index class statement is an untyped call. The indexes subclass
# these two instead: the same classes with a typed hook that only forwards to PynamoDB's.


class GlobalIndex(GlobalSecondaryIndex[_M]):
    """A ``GlobalSecondaryIndex`` with a typed ``__init_subclass__``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # type: ignore[no-untyped-call]  # PynamoDB's hook is unannotated


class LocalIndex(LocalSecondaryIndex[_M]):
    """A ``LocalSecondaryIndex`` with a typed ``__init_subclass__``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # type: ignore[no-untyped-call]  # PynamoDB's hook is unannotated
