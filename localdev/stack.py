"""The local stack's parts: moto's DynamoDB server, the tables, the API server, the poller and scheduler.

Order matters. The environment (endpoint, fake credentials, stage) must be set before
anything imports the app or ``chalicelib.models``, because botocore reads
``AWS_ENDPOINT_URL_DYNAMODB`` when it creates a client and the settings are read once.
So this module imports nothing of the product at import time.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from localdev.apiserver import ApiServer

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STAGE = "local"
REGION = "eu-west-2"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}

log = logging.getLogger("localdev")


class PortInUse(Exception):
    def __init__(self, port: int, variable: str) -> None:
        super().__init__(f"port {port} on {HOST} is already in use (set {variable} to use another port)")
        self.port = port


def port_in_use(port: int, host: str = HOST) -> bool:
    """True if something listens on the port. Binds as the servers will (SO_REUSEADDR), then lets go."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def stage_variables(project_dir: Path = PROJECT_DIR, stage: str = STAGE) -> dict[str, str]:
    """The stage's environment variables from ``.chalice/config.json`` (as ``chalice local --stage`` sets them)."""
    config = json.loads((project_dir / ".chalice" / "config.json").read_text())
    variables = dict(config.get("environment_variables", {}))
    variables.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return {key: str(value) for key, value in variables.items()}


def configure_environment(dynamodb_port: int, environ: MutableMapping[str, str] | None = None) -> str:
    """Point every DynamoDB client at the local server and select the local stage. Returns the endpoint.

    The credentials are always fake: nothing in the local stack should reach real AWS,
    and if something did (a client without the endpoint) it must fail, not use a
    developer's real keys. The stage's settings (``.chalice/config.json``: ``AUTH_CACHE_SECONDS``,
    ``RATE_LIMIT_PER_TOKEN``, ...) are defaults: a variable already set wins, so a tester can lower a limit
    (``RATE_LIMIT_PER_TOKEN=5 make run``). The stage's identity (``STAGE``, ``TABLE_PREFIX``) is always local.
    """
    env = os.environ if environ is None else environ
    endpoint = f"http://{HOST}:{dynamodb_port}"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "TOKEN_KEY_PARAMETER"):
        env.pop(name, None)
    env.update(FAKE_CREDENTIALS)
    env.update(
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        STAGE=STAGE,
        TABLE_PREFIX=f"ecf-lp-api-{STAGE}",
    )
    for name, value in stage_variables().items():
        env.setdefault(name, value)
    return endpoint


_untune: list[Callable[[], None]] = []
_moto_state = threading.local()  # this thread's in_transaction and in_query flags (see tune_moto)
_Patch = tuple[Any, str, Any]  # (class, attribute, replacement)
ITEM_SIZE_LIMIT = 405_000  # moto's limit for an item (DynamoDB's 400 KB, measured by moto's authors at 409-410 KB)


def tune_moto() -> Callable[[], None]:
    """Five fixes to moto's DynamoDB for a long-running local server (idempotent, process-wide, results unchanged).

    1. Transactions. Before each TransactWriteItems moto deep-copies every table the
       transaction touches, once per item, to roll back on failure: a 100-item
       transaction on a 1,000-item table copies 100,000 items, and a partnership
       report copies the whole schools table. Loading the demo data took minutes.
       Worse, a rollback *replaces* the table object, which orphans the stream shard
       that open shard iterators point at: after one failed transaction on a streamed
       table the poller would never see another record. Here the whole-table copy is
       skipped and a rollback restores just the items the transaction touched (and
       drops the stream records it wrote), in place.
    2. Streams. GetRecords is served by another moto handler than DynamoDB's, so
       ``motolock`` does not cover it; without the same lock a poller could read
       stream records of a transaction that is about to be rolled back.
    3. Queries. Every Query, on a table or an index, first sorts *all* the table's
       items and then filters them: a school looked up by URN sorted 3,000 schools.
       Query sorts its matches itself (by the full key, so the order is total), so
       the up-front sort is skipped inside Query. Scan keeps it (its paging needs it).
       Matches of a KEYS_ONLY or INCLUDE index are projected without a deep copy of the
       whole item first, and each match is sized once, not twice, against the page limit (so is each
       item of a BatchGetItem).
    4. Responses. Item operations' results are written with ``json.dumps``, not moto's shape-walking
       serializer (``localdev.motojson``: most of a call's time).
    5. Items. moto checks the 400 KB item limit as it builds each item, attribute by attribute, summing
       the size of every attribute so far at each one: quadratic in the attributes, and most of the cost
       of a write (``_item_init``). Here the size is summed once, and the same limit checked.

    Returns a function that puts moto back as it was (for tests sharing a process).
    """
    if _untune:
        return _untune[0]
    from localdev import motolock

    motolock.serialise_dynamodb()
    from localdev import motojson

    patches = [*_query_patches(), *_transaction_patches(), _streams_patch(), motojson.patch(), _item_patch()]
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)

    def untune() -> None:
        for owner, name, before in saved:
            if before is None:
                delattr(owner, name)
            else:
                setattr(owner, name, before)
        _untune.clear()

    _untune.append(untune)
    return untune


def _transaction_patches() -> list[_Patch]:
    """Fix 1: no whole-table copies in TransactWriteItems, and a rollback of the touched items in place."""
    import copy

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_transact = DynamoDBBackend.transact_write_items

    def table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
        if getattr(_moto_state, "in_transaction", False):
            return self  # transact_write_items' backup copy: the per-item snapshot below replaces it
        # What deepcopy does for a class without __deepcopy__ (copy's private helper, so not in typeshed).
        copied: Table = copy._reconstruct(self, memo, *self.__reduce_ex__(4))  # type: ignore[attr-defined]  # see above
        return copied

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        try:
            snapshot = _TransactionSnapshot.take(self, transact_items)
        except Exception:  # noqa: BLE001 - a malformed request: moto's own checks report it
            return original_transact(self, transact_items)
        _moto_state.in_transaction = True
        try:
            return original_transact(self, transact_items)
        except Exception:
            snapshot.roll_back()
            raise
        finally:
            _moto_state.in_transaction = False

    return [(Table, "__deepcopy__", table_deepcopy), (DynamoDBBackend, "transact_write_items", transact_write_items)]


@dataclass
class _TransactionSnapshot:
    """The items a transaction touches as they were before it, and the length of each table's stream shard."""

    touched: list[tuple[Table, DynamoType, DynamoType | None, Any]] = field(default_factory=list)  # (.., old item)
    stream_lengths: dict[str, tuple[Table, int]] = field(default_factory=dict)  # table name -> (table, length)

    @classmethod
    def take(cls, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> _TransactionSnapshot:
        import copy

        from moto.dynamodb.models.dynamo_type import DynamoType

        snapshot = cls()
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            key = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_value, range_value)
            snapshot.touched.append((table, hash_value, range_value, copy.deepcopy(current)))
            if table.stream_shard is not None:
                snapshot.stream_lengths.setdefault(table.name, (table, len(table.stream_shard.items)))
        return snapshot

    def roll_back(self) -> None:
        """Put the touched items back (in place, so the table and its stream shard stay the same objects) and
        drop the stream records the transaction wrote."""
        for table, hash_value, range_value, old in reversed(self.touched):
            if range_value is not None:
                if old is None:
                    table.items[hash_value].pop(range_value, None)
                else:
                    table.items[hash_value][range_value] = old
            elif old is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = old
        for table, length in self.stream_lengths.values():
            if table.stream_shard is not None:
                del table.stream_shard.items[length:]


def _query_patches() -> list[_Patch]:
    """Fix 3: inside Query, the table's items unsorted (Query sorts its matches itself), and no deep copy of
    the matches of a keys-only or INCLUDE index (its projection copies what it keeps)."""
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    original_query = Table.query
    original_all_items = Table.all_items
    original_item_size = Item.size
    original_batch_get_item = DynamoHandler.batch_get_item

    def all_items(self: Table) -> list[Any]:
        if not getattr(_moto_state, "in_query", False):
            return original_all_items(self)
        if self.range_key_attr:
            return [item for by_range in self.items.values() for item in by_range.values()]
        return list(self.items.values())

    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        _moto_state.in_query = True
        _moto_state.projected_index = _projects_keys(self, args[7] if len(args) > 7 else kwargs.get("index_name"))  # noqa: PLR2004 - index_name's position in Table.query
        _moto_state.sizes = {}
        try:
            return original_query(self, *args, **kwargs)
        finally:
            _moto_state.in_query = _moto_state.projected_index = False
            _moto_state.sizes = None

    def batch_get_item(self: DynamoHandler) -> Any:
        _moto_state.sizes = {}
        try:
            return original_batch_get_item(self)
        finally:
            _moto_state.sizes = None

    def item_size(self: Item) -> int:
        """Inside a Query or a BatchGetItem, each item's size once: moto sizes every item twice against the
        page's limit (1 MB, 16 MB). No item changes during the call, which runs under motolock's lock; the
        memo holds each item it sized, so no other item can take its ``id`` meanwhile."""
        sizes = getattr(_moto_state, "sizes", None)
        if sizes is None:
            return original_item_size(self)
        found = sizes.get(id(self))
        if found is None or found[0] is not self:
            found = sizes[id(self)] = (self, original_item_size(self))
        return int(found[1])

    return [
        (Table, "all_items", all_items),
        (Table, "query", query),
        (table_module, "copy", _QueryCopy),
        (table_module.SecondaryIndex, "project", _project),
        (Item, "size", item_size),
        (DynamoHandler, "batch_get_item", batch_get_item),
    ]


def _project(self: Any, item: Any) -> Any:
    """``SecondaryIndex.project`` for top-level attribute names (an index's keys and INCLUDE attributes are):
    the same item as moto's, which turns the whole item into plain JSON and back to pick a few attributes."""
    from moto.dynamodb.models.dynamo_type import Item

    kind = (self.projection or {}).get("ProjectionType")
    if kind not in ("KEYS_ONLY", "INCLUDE"):
        return item
    names = [*self.table_key_attrs, *(key["AttributeName"] for key in self.schema)]
    if kind == "INCLUDE":
        names += self.projection.get("NonKeyAttributes", [])
    projected = Item(item.hash_key, item.range_key, {})
    # A part of a stored item is within the size limit: set without LimitedSizeDict's check of every attribute.
    dict.update(projected.attrs, {name: _copied(item.attrs[name]) for name in names if name in item.attrs})
    return projected


SCALAR_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL"})  # values moto keeps as str, bytes, bool: never changed


def _copied(value: Any) -> Any:
    """A copy of an attribute value for a projected item: a new ``DynamoType`` sharing the immutable value of a
    scalar, a deep copy of anything else (lists, maps, sets)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(value) if value.type in SCALAR_TYPES else copy.deepcopy(value)


def _projects_keys(table: Table, index_name: str | None) -> bool:
    """True for an index that projects some attributes only (KEYS_ONLY or INCLUDE): its projection builds new
    items, so moto's deep copy of every matching item before projecting them is wasted work."""
    if not index_name:
        return False
    try:
        projection = table.get_index(index_name).projection or {}
    except KeyError:
        return False  # moto reports the unknown index itself
    return projection.get("ProjectionType") in ("KEYS_ONLY", "INCLUDE")


class _QueryCopy:
    """``copy`` as moto's table module sees it: inside a Query of a keys-only or INCLUDE index, the page of
    matches is not deep-copied (``SecondaryIndex.project`` makes new items from them right after, and nothing
    else touches them); everywhere else, ``copy`` itself."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if getattr(_moto_state, "projected_index", False) and isinstance(value, list):
            return list(value)
        return copy.deepcopy(value, memo)


def _item_patch() -> _Patch:
    """Fix 5: ``Item.__init__`` with the item's size summed once. moto's ``LimitedSizeDict`` sums every attribute
    so far for each attribute it adds; sizes are not negative, so the whole item is over the limit exactly when
    some prefix of it is, and checking the total once raises ``ItemSizeTooLarge`` for the same items."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def item_init(self: Item, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, values)  # LimitedSizeDict's own update would check each attribute again

    return Item, "__init__", item_init


def _streams_patch() -> _Patch:
    """Fix 2: GetRecords under motolock's lock, like every DynamoDB request."""
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    from localdev import motolock

    original_streams_call = DynamoDBStreamsHandler.call_action

    def streams_call_action(self: Any) -> Any:
        with motolock._lock:
            return original_streams_call(self)

    return DynamoDBStreamsHandler, "call_action", streams_call_action


class MotoServer:
    """moto's ThreadedMotoServer, failing at once (not hanging) if it cannot bind its port."""

    def __init__(self, port: int, host: str = HOST) -> None:
        from moto.server import ThreadedMotoServer

        tune_moto()  # moto's requests serialised (motolock), and fast, in-place transaction rollback
        self.host, self.port = host, port
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._error: list[BaseException] = []
        entry = self._server._server_entry

        def guarded_entry() -> None:
            try:
                entry()
            except BaseException as error:  # noqa: BLE001 - reported to start()
                self._error.append(error)
                self._server._server_ready_event.set()

        self._server._server_entry = guarded_entry  # type: ignore[method-assign]  # moto's thread target, wrapped
        self.started = False

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._server.start()
        if self._error:
            error = self._error[0]
            if isinstance(error, OSError):
                raise PortInUse(self.port, "DYNAMODB_PORT") from error
            raise error
        self.started = True

    def stop(self) -> None:
        if self.started:
            self._server.stop()  # werkzeug closes the socket when serve_forever returns
            self.started = False


def prepare_tables() -> None:
    """Bind the models to the local stage and create the tables (streams included)."""
    from chalicelib import config
    from chalicelib.repositories import storage

    config.reset()
    storage.bind()
    storage.create_tables()


@contextlib.contextmanager
def direct_to_backend() -> Iterator[None]:
    """Send DynamoDB calls straight to moto's backend, in process, instead of over HTTP to the server.

    The server and ``mock_aws`` share moto's backends (same account and region), so
    what is written here is what the server serves. Skipping HTTP makes a call about
    three times cheaper. ``mock_aws`` patches botocore for the whole process: the stack
    enters this once its tables exist and keeps it until it stops, so the demo data, the
    stream handlers, the API's requests and the schedules all call moto in process.
    Calls to an explicit endpoint, like the poller's stream reads, still go to the
    server, as do other processes (``ecf-admin``).
    """
    from moto import mock_aws

    from chalicelib import config
    from chalicelib.repositories import storage

    endpoint = os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)  # mock_aws ignores calls to an endpoint
    config.reset()
    storage.bind()  # a new client, created without the endpoint
    mock = mock_aws()
    mock.start(reset=False)  # keep the tables the server already has
    try:
        yield
    finally:
        mock.stop(remove_data=False)
        if endpoint is not None:
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        config.reset()
        storage.bind()


def load_app(project_dir: Path = PROJECT_DIR) -> tuple[Any, Any]:
    """The Chalice app and its ``local`` stage config, loaded as ``chalice local --stage local`` does, except that
    the stage's variables do not overwrite the environment: ``configure_environment`` has already set them, keeping
    the values a user set (Chalice would write the stage's values over them)."""
    from chalice.cli.factory import CLIFactory

    factory = CLIFactory(str(project_dir), environ=dict(os.environ))  # Chalice writes the stage's variables here
    config = factory.create_config_obj(chalice_stage_name=STAGE)
    return config.chalice_app, config


def _start_log_shipper(app: Any) -> Any:
    """The API's audit lines to ``record_api_requests``, as the log subscription does on AWS (``localdev.logship``)."""
    from localdev.logship import LogShipper

    shipper = LogShipper(app)
    shipper.start()
    return shipper


@dataclass
class Stack:
    """Everything ``python -m localdev`` runs, started in order and stopped in reverse."""

    port: int
    dynamodb_port: int
    demo_schools: int
    demo: bool = True
    out: Callable[[str], None] = print
    timings: dict[str, float] = field(default_factory=dict)
    moto: MotoServer | None = None
    api: ApiServer | None = None
    poller: Any = None
    scheduler: Any = None
    shipper: Any = None
    demo_result: Any = None
    drained: int = 0
    feed_after_demo: bool = False  # the change feed started after the demo data (it has none of its records)
    demo_snapshot: bool = True  # reuse the demo data's snapshot (localdev/snapshot.py) while its inputs are unchanged
    app: Any = None
    in_process: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def start(self) -> None:
        began = time.monotonic()
        for port, variable in ((self.port, "PORT"), (self.dynamodb_port, "DYNAMODB_PORT")):
            if port_in_use(port):
                raise PortInUse(port, variable)
        endpoint = configure_environment(self.dynamodb_port)
        self.moto = MotoServer(self.dynamodb_port)
        self.moto.start()
        self.app, chalice_config = load_app()
        from localdev.apiserver import ApiServer
        from localdev.logship import quiet

        quiet(sys.stderr)  # the app's structured lines to stderr (stdout has the banner), EMF metrics nowhere
        self.api = ApiServer(self.app, chalice_config, self.port)  # bind early: fail before loading data
        self.api.start()  # answering at once: 503 + Retry-After until the gate opens below
        prepare_tables()
        # From here on the process's own DynamoDB calls (demo data, stream handlers, API requests, schedules)
        # go to moto's backend in process; the server on DYNAMODB_PORT serves the same tables to the poller's
        # stream reads and to tools outside (ecf-admin). About 8x cheaper per call than HTTP (docs/local-stack.md).
        self.in_process.enter_context(direct_to_backend())
        self.timings["startup"] = time.monotonic() - began

        from chalicelib import config
        from localdev.poller import StreamPoller
        from localdev.scheduler import Scheduler

        region = config.current().region
        self.poller = StreamPoller(self.app, endpoint, region=region)
        if self.demo:
            from localdev import demostart

            demostart.load(self)  # from the snapshot, or built (and its stream records delivered)
        self.poller.start()
        self.scheduler = Scheduler(self.app, region=region)
        self.scheduler.start()
        self.shipper = _start_log_shipper(self.app)
        self.timings["ready"] = time.monotonic() - began
        self.api.gate.open()

    def stop(self) -> None:
        """Stop whatever was started; safe to call at any point of ``start()`` and more than once."""
        if self.api is not None:
            with contextlib.suppress(Exception):
                self.api.stop()
            self.api = None
        for part in (self.shipper, self.scheduler, self.poller):  # the shipper first: its last batch needs moto
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        self.shipper = self.scheduler = self.poller = None
        with contextlib.suppress(Exception):
            self.in_process.close()
        if self.moto is not None:
            with contextlib.suppress(Exception):
                self.moto.stop()
            self.moto = None
