"""The API's outer middleware (chalicelib/api/observability.py): one structured line and one set of EMF metrics per
/api/ request, request ids, and the 500 body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from chalice.app import Request, Response

from chalicelib import telemetry
from chalicelib.api import observability, request_context
from chalicelib.domain import messages as m
from chalicelib.services import tokens
from tests.api_helpers import partnership_payload
from tests.observability_helpers import Captured, capture, emf_dimensions, emf_values
from tests.openapi import assert_valid_served

PARTNERS = "/api/v3/delivery-partners"
PARTNERSHIPS = "/api/v3/partnerships/ecf"
RETRY_LATER = "Retry later\n"


class Env:
    def __init__(self, world: Any, client: Any) -> None:
        self.world, self.client = world, client
        world.cohort(2024)
        self.lp = world.lead_provider("Ambition Institute")
        self.token = world.token(self.lp)
        self.dp = world.delivery_partner(self.lp, [2024])

    def get(self, path: str, token: str | None = None, **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {token or self.token}", "Accept": "application/vnd.api+json", **headers}
        return self.client.http.get(path, headers=sent)

    def post(self, path: str, body: Any, **headers: str) -> Any:
        sent = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/vnd.api+json", **headers}
        return self.client.http.post(path, headers=sent, body=body if isinstance(body, str) else json.dumps(body))


@pytest.fixture
def env(world: Any, client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """The lines' DynamoDB counts assume every token lookup reaches the table: the token cache off and empty, whatever
    an earlier test in this process left in the settings or the cache (conftest turns it off through the
    environment, which settings computed inside a ``chalice.test`` call read with the stage's own value)."""
    from chalicelib import config

    monkeypatch.setattr(config, "_override", [replace(config.current(), auth_cache_seconds=0)])
    tokens.clear_cache()
    yield Env(world, client)
    tokens.clear_cache()


@pytest.fixture
def logs() -> Iterator[Captured]:
    with capture() as captured:
        yield captured


def only_request(logs: Captured, response: Any) -> dict[str, Any]:
    (line,) = logs.requests
    assert line["request_id"] == response.headers["X-Request-Id"]
    return line


# --------------------------------------------------------------------------- the line, by status


def test_a_200_line(env: Env, logs: Captured) -> None:
    response = env.get(f"{PARTNERS}?page[per_page]=1", **{"User-Agent": "lp-sync/1.0", "X-Forwarded-For": "192.0.2.7"})
    assert response.status_code == 200
    line = only_request(logs, response)
    assert uuid.UUID(line["request_id"])
    assert (line["level"], line["service"], line["message"]) == ("INFO", "ecf-lp-api", "api_request")
    assert line["lead_provider_id"] == env.lp.id
    assert (line["method"], line["path"], line["route"]) == ("GET", PARTNERS, PARTNERS)
    assert line["query"] == {"page[per_page]": "1"}
    assert line["headers"] == {
        "user-agent": "lp-sync/1.0",
        "accept": "application/vnd.api+json",
        "x-forwarded-for": "192.0.2.7",
    }
    assert line["status"] == 200
    assert "request_body" not in line  # a GET
    assert "response_body" not in line  # status 299 or less
    assert 0 < line["duration_ms"] < 10_000
    assert line["dynamodb_requests"] >= 1
    assert isinstance(line["cold_start"], bool)
    assert line["time"].endswith("Z")
    assert line["timestamp"] >= line["time"][:19]  # written when the request ended


def test_a_401_line_names_no_provider_and_keeps_the_reference_body(env: Env, logs: Captured) -> None:
    response = env.get(PARTNERS, token="not-a-token")
    assert response.status_code == 401
    line = only_request(logs, response)
    assert "lead_provider_id" not in line
    assert line["status"] == 401
    assert json.loads(line["response_body"]) == {"error": m.ACCESS_DENIED}
    assert "authorization" not in line["headers"]
    assert line["dynamodb_requests"] == 2  # the token lookup, the rate limiter's count for the address


def test_a_422_line_keeps_both_bodies(env: Env, logs: Captured) -> None:
    body = json.dumps(partnership_payload("2024", str(uuid.uuid4()), env.dp.id))
    response = env.post(PARTNERSHIPS, body, **{"Idempotency-Key": "retry-7"})
    assert response.status_code == 422
    line = only_request(logs, response)
    assert line["lead_provider_id"] == env.lp.id
    assert (line["method"], line["status"]) == ("POST", 422)
    assert line["request_body"] == body
    assert line["response_body"] == response.body.decode()
    assert line["headers"]["idempotency-key"] == "retry-7"
    assert line["headers"]["content-type"] == "application/vnd.api+json"


def fake_rate_limiter(limit: int) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """What the per-token rate limiter (an inner middleware, registered after ours) does: resolve the caller, name
    it for the request (request_context.set_caller), and answer the real service's 429 past ``limit``."""
    seen: list[str] = []

    def limiter(request: Request, get_response: Callable[[Request], Response]) -> Response:
        header = (request.headers or {}).get("authorization", "")
        caller = tokens.authenticate(header.removeprefix("Bearer "), env_now())
        if caller is not None:
            request_context.set_caller(caller)
            seen.append(caller.lead_provider_id)
            if seen.count(caller.lead_provider_id) > limit:
                return Response(body=RETRY_LATER, status_code=429, headers={"Content-Type": "text/plain"})
        return get_response(request)

    return limiter


def env_now() -> Any:
    from chalicelib.domain.clock import utcnow

    return utcnow()


@pytest.fixture
def limited(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """The app with a rate limit of 2 requests per token, registered after the observability middleware."""
    import app as app_module

    registered = list(app_module.app.middleware_handlers)
    assert registered[0] == (observability.middleware, "http")  # ours is first: it sees what the limiter answers
    monkeypatch.setattr(app_module.app, "middleware_handlers", [*registered, (fake_rate_limiter(2), "http")])
    return env


def test_a_429_line_names_the_provider_the_limiter_resolved(limited: Env, logs: Captured) -> None:
    responses = [limited.get(PARTNERS) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    line = logs.request(responses[2].headers["X-Request-Id"])
    assert line["status"] == 429
    assert line["lead_provider_id"] == limited.lp.id
    assert line["response_body"] == RETRY_LATER
    # The limiter's token lookup (the tests cache no token) and its counter updates (docs/rate-limits.md).
    assert line["dynamodb_requests"] == 3
    (throttled,) = [d for d in logs.metrics if emf_values(d)["Throttled429"][0] == 1]
    assert emf_values(throttled)["Responses4xx"] == (1.0, "Count")


# --------------------------------------------------------------------------- 500s carry the request id


def test_a_500_from_a_view_carries_the_request_id_of_its_line(
    env: Env, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.services import providers

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(providers, "list_delivery_partners", broken)
    response = env.get(PARTNERS)
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    assert json.loads(response.body) == {"error": m.INTERNAL_ERROR, "request_id": request_id}
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert_valid_served("GET", PARTNERS, response)
    line = only_request(logs, response)
    assert (line["status"], json.loads(line["response_body"])) == (500, json.loads(response.body))
    (error,) = logs.messages("unhandled error")
    assert error["request_id"] == request_id
    assert error["level"] == "ERROR"
    assert "RuntimeError: a bug" in error["exception"]
    (document,) = logs.metrics
    assert emf_values(document)["Responses5xx"] == (1.0, "Count")


def test_an_exception_outside_the_views_is_the_same_500(
    env: Env, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inner middleware that raises (the rate limiter losing DynamoDB, say) gets the same body, not Chalice's."""
    import app as app_module

    def failing(request: Request, get_response: Callable[[Request], Response]) -> Response:
        raise RuntimeError("the limiter's table is unreachable")

    registered = list(app_module.app.middleware_handlers)
    monkeypatch.setattr(app_module.app, "middleware_handlers", [*registered, (failing, "http")])
    response = env.get(PARTNERS)
    request_id = response.headers["X-Request-Id"]
    assert (response.status_code, json.loads(response.body)) == (
        500,
        {"error": m.INTERNAL_ERROR, "request_id": request_id},
    )
    assert only_request(logs, response)["status"] == 500
    assert logs.messages("unhandled error")[0]["request_id"] == request_id


def test_chalices_own_500_body_is_replaced() -> None:
    """A route without http.handle_errors: Chalice answers ``{"Code","Message"}``; the middleware makes it ours."""
    from chalice.test import Client

    from chalicelib.api.application import Application

    demo = Application(app_name="demo")
    demo.register_middleware(observability.middleware, "http")

    @demo.route("/api/v3/boom")
    def boom() -> None:
        raise RuntimeError("no handle_errors here")

    with capture() as logs, Client(demo) as client:
        response = client.http.get("/api/v3/boom")
    request_id = response.headers["X-Request-Id"]
    assert (response.status_code, json.loads(response.body)) == (
        500,
        {"error": m.INTERNAL_ERROR, "request_id": request_id},
    )
    assert logs.request(request_id)["status"] == 500


# --------------------------------------------------------------------------- request ids


def test_every_response_has_its_own_request_id(env: Env, logs: Captured) -> None:
    responses = [env.get(PARTNERS), env.get(f"{PARTNERS}/{uuid.uuid4()}"), env.get(PARTNERS, token="bad")]
    assert [r.status_code for r in responses] == [200, 404, 401]
    ids = [r.headers["X-Request-Id"] for r in responses]
    assert len(set(ids)) == 3
    assert [line["request_id"] for line in logs.requests] == ids


def test_api_gateways_request_id_is_the_request_id(env: Env, logs: Captured) -> None:
    """On AWS the id is API Gateway's (``requestContext.requestId``, which it also returns as x-amzn-RequestId)."""
    import app as app_module

    event = {
        "resource": PARTNERS,
        "path": PARTNERS,
        "httpMethod": "GET",
        "headers": {"Authorization": f"Bearer {env.token}"},
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": PARTNERS,
            "httpMethod": "GET",
            "path": f"/api{PARTNERS}",  # the stage name comes first on the default endpoint
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "stage": "api",
        },
    }
    response = app_module.app(event, None)
    assert response["statusCode"] == 200
    assert response["headers"]["X-Request-Id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    line = logs.request("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
    assert line["path"] == PARTNERS  # without the stage


def test_request_ids_without_api_gateway() -> None:
    class Context:
        aws_request_id = "lambda-request-id"

    def request(context: dict[str, Any], lambda_context: Any) -> Request:
        event = {"multiValueQueryStringParameters": None, "headers": {}, "pathParameters": None, "body": None,
                 "stageVariables": None,
                 "requestContext": {"httpMethod": "GET", "resourcePath": "/", **context}}  # fmt: skip
        return Request(event, lambda_context)

    assert observability._request_id(request({"requestId": "gateway-id"}, Context())) == "gateway-id"
    assert observability._request_id(request({}, Context())) == "lambda-request-id"  # chalice local, the test client
    assert uuid.UUID(observability._request_id(request({}, None)))


# --------------------------------------------------------------------------- metrics and cold start


def test_metrics_are_emf_on_stdout(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    env.get(PARTNERS)
    env.get(PARTNERS, token="bad")
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(documents) == 2
    ok, denied = (emf_values(d) for d in documents)
    assert ok == {
        "Requests": (1.0, "Count"),
        "Responses4xx": (0.0, "Count"),
        "Responses5xx": (0.0, "Count"),
        "Throttled429": (0.0, "Count"),
        "Latency": (ok["Latency"][0], "Milliseconds"),
        "DynamoDBRequests": (ok["DynamoDBRequests"][0], "Count"),
    }
    assert ok["Latency"][0] > 0
    assert ok["DynamoDBRequests"][0] >= 1
    assert (denied["Responses4xx"], denied["DynamoDBRequests"]) == ((1.0, "Count"), (2.0, "Count"))  # lookup, limiter
    assert all(emf_dimensions(d) == {"service": "ecf-lp-api", "stage": "test"} for d in documents)


def test_cold_start_is_the_first_request_of_the_process(
    env: Env, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_cold", [True])  # as in a new process
    env.get(PARTNERS)
    env.get(PARTNERS)
    assert [line["cold_start"] for line in logs.requests] == [True, False]


def test_no_line_for_paths_outside_the_api(logs: Captured) -> None:
    from chalice.test import Client

    from chalicelib.api.application import Application

    demo = Application(app_name="demo")
    demo.register_middleware(observability.middleware, "http")

    @demo.route("/health")
    def health() -> dict[str, str]:
        return {"ok": "yes"}

    with Client(demo) as client:
        response = client.http.get("/health")
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    assert logs.requests == []
    assert logs.metrics == []
