"""Unit tests: pure functions and domain records only, no AWS and no moto.

``tests/conftest.py`` has no autouse fixtures (its ``aws``, ``world`` and ``client`` fixtures start moto only when a
test asks for them). This conftest makes sure no unit test does: asking for one of them fails the test, and any
botocore call (PynamoDB goes through botocore too) raises instead of reaching moto or the network.
"""

from __future__ import annotations

import botocore.client
import pytest

AWS_FIXTURES = frozenset({"aws", "world", "client"})


@pytest.fixture(autouse=True)
def _no_aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    used = AWS_FIXTURES.intersection(request.fixturenames)
    if used:
        pytest.fail(f"unit tests must not use the moto fixtures: {sorted(used)}")

    def refuse(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        raise AssertionError(f"unit test made an AWS call: {operation_name}")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
