"""Fixtures: fake credentials and moto before anything that could create an AWS client."""

from __future__ import annotations

# Before importing moto or the app: no real credentials, no endpoint override (which disables mock_aws). The rate
# limiter runs on every API request, with limits no other test reaches; tests/test_rate_limits.py lowers them.
from localdev.fakeaws import fresh_storage, isolate_environment

isolate_environment(
    AUTH_CACHE_SECONDS="0", REFERENCE_CACHE_SECONDS="0", RATE_LIMIT_PER_TOKEN="1000000", RATE_LIMIT_PER_IP="1000000"
)

import json  # noqa: E402
import os  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib.repositories import storage  # noqa: E402
from tests import package_helpers  # noqa: E402
from tests.factories import World  # noqa: E402
from tests.package_helpers import Packaged  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def real_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``chalice.test.Client`` swaps ``os.environ`` for a copy with the stage's variables during each call and puts
    back what it found; calls from several threads at once (the concurrency tests) leave a copy behind, and every
    later test in the process would run with the ``test`` stage's variables (AUTH_CACHE_SECONDS=60, not the 0 set
    here). Put the real environment back after each test."""
    monkeypatch.setattr(os, "environ", os.environ)  # undone after the test: the object found now


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """The dev package (tests/package_helpers.py: out/ from `make package` when fresh, else built once)."""
    return package_helpers.packaged(tmp_path_factory.mktemp("package"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        fresh_storage()
        yield
    storage.bind()


@pytest.fixture
def world(aws: None) -> World:
    return World(NOW)


@pytest.fixture
def client(aws: None):  # type: ignore[no-untyped-def]
    from chalice.test import Client

    import app as app_module

    with Client(app_module.app, stage_name="test") as test_client:
        yield test_client


def body(response) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(response.body)
