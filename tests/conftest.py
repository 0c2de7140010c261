"""Fixtures: fake credentials and moto before anything that could create an AWS client."""

from __future__ import annotations

import os

# Set before importing moto or the app: no real credentials, no endpoint override (which disables mock_aws).
for _name in list(os.environ):
    if _name.startswith("AWS_ENDPOINT_URL"):
        del os.environ[_name]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="eu-west-2",
    AWS_REGION="eu-west-2",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    STAGE="test",
    TABLE_PREFIX="ecf-lp-api-test",
    AUTH_CACHE_SECONDS="0",
    REFERENCE_CACHE_SECONDS="0",
)

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import config, models  # noqa: E402
from chalicelib.services import tokens  # noqa: E402
from tests.factories import World  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> Iterator[None]:
    config.reset()
    with mock_aws():
        models.rebind_all()
        models.create_tables()
        tokens.reset_key()
        yield
    models.rebind_all()


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
