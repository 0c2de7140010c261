"""What fuzzing broke (each was a 500): deeply nested JSON bodies, huge comma lists in filters, out-of-range
server dates and timestamps. Each is now a clear 400; the filter expressions stay inside DynamoDB's limits
(moto enforces neither the 4 KB expression limit nor the 100 values of ``IN``, so they are measured here)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pynamodb.connection.base import Connection

from chalicelib.api.http import MAX_FILTER_VALUES
from chalicelib.domain import messages as m
from tests.api_helpers import Api

SOME_ID = "3b0c7f4e-2a1d-4c5b-9e8f-7a6b5c4d3e2f"  # fixed: parametrised ids must match across xdist workers
DEEP = "[" * 1000 + "]" * 1000  # 2 KB, nested 1,000 levels
DEEP_BODIES = [DEEP, '{"data":' + DEEP + "}", '{"data":{"attributes":' + "{" * 990 + "}" * 990 + "}}"]
WRITES = [
    ("POST", "/api/v3/partnerships/ecf"),
    ("PUT", f"/api/v3/partnerships/ecf/{SOME_ID}"),
    ("POST", "/api/v1/participant-declarations"),
    ("POST", "/api/v3/participant-declarations"),
    ("PUT", f"/api/v3/participants/ecf/{SOME_ID}/defer"),
    ("PUT", f"/api/v1/participants/{SOME_ID}/withdraw"),
]
LISTS = [
    "/api/v1/participants/ecf",
    "/api/v2/participants/ecf",
    "/api/v3/participants/ecf",
    "/api/v3/partnerships/ecf",
    "/api/v3/delivery-partners",
    "/api/v3/participant-declarations",
    "/api/v3/statements",
]
EXPRESSION_LIMIT = 4096  # bytes, each of a request's expressions (DynamoDB's limit)
IN_LIMIT = 100


@pytest.fixture
def api(world, client):
    for year in (2024, 2025):
        world.cohort(year)
    lp = world.lead_provider("Ambition Institute")
    return Api(client, world.token(lp))


def assert_400(response: Any, detail: str, title: str = "Bad request") -> None:
    assert response.status_code == 400, response.body
    assert json.loads(response.body) == {"errors": [{"title": title, "detail": detail}]}
    assert response.headers["Content-Type"] == "application/vnd.api+json"


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    "body", [DEEP, '{"data":' + DEEP + "}", '{"data":{"attributes":' + "{" * 990 + "}" * 990 + "}}"]
)
def test_a_deeply_nested_body_is_the_usual_400(api, method, path, body):
    assert_400(api.send(method, path, body), m.DATA_REQUIRED)


@pytest.mark.parametrize("path", LISTS)
def test_too_many_filter_values_is_a_400(api, path):
    values = ",".join(str(2000 + i) for i in range(500))
    assert_400(api.get(f"{path}?filter[cohort]={values}"), m.FILTER_TOO_MANY_VALUES.format(name="cohort", limit=50))


def test_too_many_ids_is_a_400(api):
    ids = ",".join(str(uuid.uuid4()) for _ in range(MAX_FILTER_VALUES + 1))
    for path, name in (
        ("/api/v3/partnerships/ecf", "delivery_partner_id"),
        ("/api/v3/participant-declarations", "delivery_partner_id"),
        ("/api/v3/participant-declarations", "participant_id"),
    ):
        detail = m.FILTER_TOO_MANY_VALUES.format(name=name, limit=MAX_FILTER_VALUES)
        assert_400(api.get(f"{path}?filter[{name}]={ids}"), detail)


@contextmanager
def captured_requests() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB request PynamoDB sends, with its parameters."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = Connection._make_api_call

    def spy(self: Connection, operation: str, kwargs: dict[str, Any]) -> Any:
        seen.append((operation, kwargs))
        return original(self, operation, kwargs)

    Connection._make_api_call = spy  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Connection._make_api_call = original  # type: ignore[method-assign]


def test_the_largest_filters_stay_inside_dynamodbs_expression_limits(api):
    """Every list with as many filter values as it accepts: each expression of each request under 4 KB, and
    no ``IN`` with more than 100 values."""
    years = ",".join(str(2000 + i) for i in range(MAX_FILTER_VALUES))
    ids = ",".join(str(uuid.uuid4()) for _ in range(MAX_FILTER_VALUES))
    requests = [f"{path}?filter[cohort]={years}" for path in LISTS]
    requests += [
        f"/api/v3/participants/ecf?filter[cohort]={years}&filter[training_status]=active&page[cursor]=",
        f"/api/v3/participants/ecf?filter[cohort]={years}&sort=updated_at&page[cursor]=",
        f"/api/v3/partnerships/ecf?filter[cohort]={years}&filter[delivery_partner_id]={ids}",
        f"/api/v3/partnerships/ecf?filter[cohort]={years}&filter[delivery_partner_id]={ids}"
        "&filter[updated_since]=2020-01-01T00:00:00Z&page[cursor]=",
        f"/api/v3/participant-declarations?filter[cohort]={years}&filter[delivery_partner_id]={ids}",
    ]
    queried = 0
    for url in requests:
        with captured_requests() as seen:
            response = api.get(url)
        assert response.status_code == 200, (url, response.body)
        for _operation, kwargs in seen:
            for name in ("FilterExpression", "KeyConditionExpression", "ProjectionExpression"):
                expression = kwargs.get(name, "")
                assert len(expression.encode()) < EXPRESSION_LIMIT, (url, name, len(expression))
                for group in expression.split(" IN (")[1:]:
                    assert group.split(")")[0].count(",") + 1 <= IN_LIMIT, (url, name)
            queried += "FilterExpression" in kwargs
    assert queried >= len(requests) - 2  # the filters reached DynamoDB (statements and delivery partners filter)


@pytest.mark.parametrize(
    "date", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:00Z"]
)
@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v3/partnerships/ecf"), ("PUT", f"/api/v3/partnerships/ecf/{SOME_ID}")]
)
def test_an_out_of_range_server_date_is_a_400_naming_the_header(api, method, path, date):
    body = {"data": {"type": "ecf-partnership", "attributes": {"cohort": "2024"}}}
    response = api.send(method, path, body, headers={"X-With-Server-Date": date})
    assert_400(response, m.SERVER_DATE_OUT_OF_RANGE)


def test_an_unreadable_server_date_is_a_400(api):
    body = {"data": {"type": "ecf-partnership", "attributes": {"cohort": "2024"}}}
    response = api.send("POST", "/api/v3/partnerships/ecf", body, headers={"X-With-Server-Date": "tomorrow"})
    assert_400(response, m.SERVER_DATE_INVALID)


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]
)
@pytest.mark.parametrize("path", ["/api/v1/participant-declarations", "/api/v3/participants/ecf"])
def test_extreme_updated_since_values_never_500(api, path, value):
    response = api.get(f"{path}?filter[updated_since]={value.replace('+', '%2B')}")
    assert response.status_code in (200, 400), response.body
    if response.status_code == 400:
        assert_400(response, m.UPDATED_SINCE_INVALID)
    else:
        assert json.loads(response.body) == {"data": []}
