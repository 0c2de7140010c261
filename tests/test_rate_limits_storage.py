"""Rate limits, the storage side (docs/rate-limits.md): a counter outage fails open, counters hold no token or
hash, the API role grants what the limiter does, and the served OpenAPI document lists the 429 and the headers on
every operation. Helpers: tests/rate_limit_helpers.py.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import boto3
import pytest

from chalicelib.api.docs import SPEC
from chalicelib.domain.rate_limits import Kind, LimiterUnavailable, Subject, window_for
from chalicelib.models import RateLimitCounter
from chalicelib.repositories import rate_limits as repo
from chalicelib.services import tokens
from tests.api_helpers import Api
from tests.idempotency_helpers import RequestRecorder
from tests.rate_limit_helpers import PATH, REGION, WINDOW_START, Clock, freeze_clock, limits, stored_counters

RATE_LIMIT_HEADERS = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_clock(monkeypatch)


@pytest.fixture
def provider(world: Any) -> Any:
    return world.lead_provider("Ambition Institute")


# --------------------------------------------------------------------------- failing open


def test_a_limiter_outage_serves_requests_uncounted(
    world: Any, client: Any, clock: Clock, provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The counter table cannot be reached (here: it is gone): requests are served without the headers, and a
    warning says so."""
    limits(per_token=1)
    api = Api(client, world.token(provider))
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=RateLimitCounter.Meta.table_name)
    with caplog.at_level(logging.WARNING, logger="ecf.rate_limits"):
        answers = [api.get(PATH) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert not any("RateLimit-Limit" in r.headers for r in answers)
    warnings = [r for r in caplog.records if r.name == "ecf.rate_limits"]
    assert len(warnings) == 3
    assert warnings[0].getMessage().startswith("rate limiter unavailable, request served uncounted (token ")


def test_the_repository_reports_an_outage_as_limiter_unavailable(aws: None) -> None:
    window = window_for(Subject(Kind.TOKEN, "t"), WINDOW_START, limit=1, seconds=300)
    assert repo.add_request(window) == 1
    assert repo.add_request(window) is None
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=RateLimitCounter.Meta.table_name)
    with pytest.raises(LimiterUnavailable):
        repo.add_request(window)


def test_counters_hold_no_token_and_no_hash(world: Any, client: Any, clock: Clock, provider: Any) -> None:
    limits()
    issued = tokens.create_token(provider.name, WINDOW_START)
    guess = "guess-" + uuid.uuid4().hex
    for token in (issued.token, guess, None):
        Api(client, token).get(PATH)
    counters = stored_counters()
    start = int(WINDOW_START.timestamp())
    assert sorted(counters) == [f"ip#127.0.0.1#{start}", f"token#{issued.token_id}#{start}"]
    stored = json.dumps(counters)
    for secret in (issued.token, tokens.hash_token(issued.token), guess, tokens.hash_token(guess)):
        assert secret not in stored
    for item in counters.values():
        assert set(item) == {"k", "n", "ttl"}
        assert item["ttl"] == {"N": str(start + 300 + 3600)}  # the window's end and an hour


def test_the_api_role_allows_every_request_the_limiter_makes(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted, refused and per-address requests: each request to the counters' table is an action ApiHandlerRole's
    statement for that table grants (tests/test_infra.py checks that statement is the only one that names it)."""
    from tests.test_infra import TEMPLATE_PATH, _as_list, _canonical, role_statements, table_logical_id

    limits(per_token=1, per_ip=1)
    api = Api(client, world.token(provider))
    requests = RequestRecorder(monkeypatch)
    with requests.during() as made:
        statuses = [api.get(PATH).status_code, api.get(PATH).status_code, Api(client, None).get(PATH).status_code]
    assert statuses == [200, 429, 401]
    assert made.on("rate-limits") == ["UpdateItem", "UpdateItem"]  # the refusal was known without a request

    template = json.loads(TEMPLATE_PATH.read_text())
    table = _canonical({"Fn::GetAtt": [table_logical_id(template, RateLimitCounter), "Arn"]})
    granted = {
        action
        for statement in role_statements(template, "ApiHandlerRole")
        if table in {_canonical(r) for r in _as_list(statement["Resource"])}
        for action in _as_list(statement["Action"])
    }
    assert granted == {"dynamodb:UpdateItem"}
    assert {f"dynamodb:{operation}" for operation in made.on("rate-limits")} <= granted


# --------------------------------------------------------------------------- the served document


def test_every_operation_documents_the_429_and_every_response_the_headers() -> None:
    """tools/build_openapi.py: a 429 (JSON:API errors, Retry-After) on every operation, and the three RateLimit
    headers on every response, described once under components.headers."""
    document = json.loads(SPEC.read_text())
    headers = document["components"]["headers"]
    assert {name: headers[name]["schema"] for name in ("RateLimitLimit", "RetryAfter")} == {
        "RateLimitLimit": {"type": "integer", "minimum": 0},
        "RetryAfter": {"type": "integer", "minimum": 0},
    }
    operations = [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) > 20
    for path, method, operation in operations:
        refused = operation["responses"]["429"]
        assert refused["content"] == {
            "application/vnd.api+json": {"schema": {"$ref": "#/components/schemas/JsonApiErrors"}}
        }, (method, path)
        assert set(refused["headers"]) == RATE_LIMIT_HEADERS | {"Retry-After", "X-Request-Id"}, (method, path)
        for status, response in operation["responses"].items():
            assert set(response["headers"]) >= RATE_LIMIT_HEADERS, (method, path, status)
            assert ("Retry-After" in response["headers"]) == (status == "429"), (method, path, status)
