"""Rate limits through the API (docs/rate-limits.md): per token, per address without a valid token, the headers on
every kind of response, windows aligned to the epoch, one token lookup per request, concurrency. Failing open, what
is stored and the served document: tests/test_rate_limits_storage.py. Helpers: tests/rate_limit_helpers.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from chalicelib import config
from chalicelib.api import rate_limits as middleware_module
from chalicelib.domain import messages as m
from chalicelib.services import providers as provider_service
from chalicelib.services import rate_limits as rate_limit_service
from chalicelib.services import tokens
from tests.api_helpers import Api, partnership_payload
from tests.idempotency_helpers import RequestRecorder
from tests.openapi import assert_valid_served
from tests.rate_limit_helpers import (
    PATH,
    WINDOW_START,
    Clock,
    freeze_clock,
    limits,
    rate_headers,
    stored_counters,
    token_key,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze_clock(monkeypatch)


@pytest.fixture
def provider(world: Any) -> Any:
    return world.lead_provider("Ambition Institute")


# --------------------------------------------------------------------------- per token


def test_the_1001st_request_of_a_window_is_refused_with_the_default_limit(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(per_token=config.DEFAULT_RATE_LIMIT_PER_TOKEN, auth_cache=60)
    token = world.token(provider)
    api = Api(client, token)

    remaining = []
    for _ in range(1000):
        response = api.get(PATH)
        assert response.status_code == 200, response.body
        limit, left, reset = rate_headers(response)
        assert (limit, reset) == (1000, 290)
        remaining.append(left)
    assert remaining == list(range(999, -1, -1))

    refused = api.get(PATH)
    assert refused.status_code == 429
    assert json.loads(refused.body) == {
        "errors": [
            {
                "title": "Too many requests",
                "detail": "The limit is 1000 requests per 5 minutes for each token, and this token has reached it. "
                "Retry after 290 seconds (Retry-After), when a new window starts.",
            }
        ]
    }
    assert refused.headers["Content-Type"] == "application/vnd.api+json"
    assert refused.headers["Retry-After"] == "290"
    assert rate_headers(refused) == (1000, 0, 290)
    assert_valid_served("GET", PATH, refused)
    assert stored_counters()[token_key(token)]["n"] == {"N": "1000"}  # the refused request is not counted

    # This process saw the window full: later requests in it are refused without a request to DynamoDB.
    requests = RequestRecorder(monkeypatch)
    with requests.during() as made:
        assert api.get(PATH).status_code == 429
    assert made.on("rate-limits") == []


def test_a_refused_update_leaves_the_count_at_the_limit(world: Any, client: Any, clock: Clock, provider: Any) -> None:
    """Another container filled the window: this one's update fails its condition, and the request is refused."""
    limits(per_token=2)
    token = world.token(provider)
    api = Api(client, token)
    assert [api.get(PATH).status_code for _ in range(2)] == [200, 200]
    rate_limit_service.clear_cache()  # as a container that has not seen this window full
    refused = api.get(PATH)
    assert (refused.status_code, rate_headers(refused)) == (429, (2, 0, 290))
    assert stored_counters()[token_key(token)]["n"] == {"N": "2"}


def test_a_new_window_starts_on_the_epoch_aligned_boundary(
    world: Any, client: Any, clock: Clock, provider: Any
) -> None:
    limits(per_token=3)
    api = Api(client, world.token(provider))
    clock.now = WINDOW_START + timedelta(seconds=299, milliseconds=500)  # 12:04:59.5: the window ends at 12:05:00
    statuses = [api.get(PATH) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert [rate_headers(r) for r in statuses] == [(3, 2, 1), (3, 1, 1), (3, 0, 1), (3, 0, 1)]
    assert statuses[-1].headers["Retry-After"] == "1"

    clock.now = WINDOW_START + timedelta(seconds=300)  # 12:05:00: a new window, counted from one again
    fresh = api.get(PATH)
    assert fresh.status_code == 200
    assert rate_headers(fresh) == (3, 2, 300)
    clock.now = WINDOW_START + timedelta(seconds=599, milliseconds=1)
    assert rate_headers(api.get(PATH)) == (3, 1, 1)


def test_two_tokens_are_counted_apart_even_for_one_provider(
    world: Any, client: Any, clock: Clock, provider: Any
) -> None:
    limits(per_token=2)
    first, second = Api(client, world.token(provider)), Api(client, world.token(provider))
    assert [first.get(PATH).status_code for _ in range(3)] == [200, 200, 429]
    other = second.get(PATH)
    assert other.status_code == 200
    assert rate_headers(other) == (2, 1, 290)


def test_the_window_follows_the_real_clock_not_x_with_server_date(
    world: Any, client: Any, clock: Clock, provider: Any
) -> None:
    limits(per_token=2)
    token = world.token(provider)
    api = Api(client, token)
    for date in ("2025-01-01T00:00:00Z", "2030-06-01T00:00:00Z"):
        assert api.get(PATH, headers={"X-With-Server-Date": date}).status_code == 200
    refused = api.get(PATH, headers={"X-With-Server-Date": "2031-01-01T00:00:00Z"})
    assert refused.status_code == 429
    assert list(stored_counters()) == [token_key(token)]


# --------------------------------------------------------------------------- without a valid token


def test_requests_without_a_valid_token_are_counted_per_address(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalice.local import LambdaEventConverter

    limits(per_ip=3)
    revoked = tokens.create_token(provider.name, WINDOW_START)
    tokens.revoke_token(revoked.token_id, WINDOW_START)
    answers = [
        Api(client, None).get(PATH),
        Api(client, "not-a-token-of-ours").get(PATH),
        Api(client, revoked.token).get(PATH),
    ]
    assert [r.status_code for r in answers] == [401, 401, 401]
    assert [rate_headers(r) for r in answers] == [(3, 2, 290), (3, 1, 290), (3, 0, 290)]
    assert [json.loads(r.body) for r in answers] == [{"error": m.ACCESS_DENIED}] * 3

    refused = Api(client, "another-guess").get(PATH)
    assert refused.status_code == 429
    assert json.loads(refused.body) == {
        "errors": [
            {
                "title": "Too many requests",
                "detail": "The limit is 3 requests per 5 minutes from one address without a valid token, and this "
                "address has reached it. Retry after 290 seconds (Retry-After), when a new window starts.",
            }
        ]
    }
    assert refused.headers["Retry-After"] == "290"
    assert_valid_served("GET", PATH, refused)

    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "192.0.2.7")  # another address: its own window
    elsewhere = Api(client, "another-guess").get(PATH)
    assert (elsewhere.status_code, rate_headers(elsewhere)) == (401, (3, 2, 290))
    assert sorted(stored_counters()) == [
        f"ip#127.0.0.1#{int(WINDOW_START.timestamp())}",
        f"ip#192.0.2.7#{int(WINDOW_START.timestamp())}",
    ]


def test_a_bad_token_cannot_spend_a_good_tokens_window(world: Any, client: Any, clock: Clock, provider: Any) -> None:
    limits(per_token=5, per_ip=2, auth_cache=60)
    good = Api(client, world.token(provider))
    assert rate_headers(good.get(PATH)) == (5, 4, 290)
    bad = Api(client, "guess-" + uuid.uuid4().hex)
    assert [bad.get(PATH).status_code for _ in range(3)] == [401, 401, 429]

    # The good token, recently verified in this process, still gets through from the same address, counted in
    # its own window.
    again = good.get(PATH)
    assert again.status_code == 200
    assert rate_headers(again) == (5, 3, 290)


def test_an_address_over_its_limit_gets_no_more_token_lookups(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guessing is bounded: once the address's window is full, a token not verified here lately is not looked up
    (even a valid one), so guesses past the limit cannot be told apart."""
    limits(per_ip=1)
    valid = world.token(provider)  # never used: not in this process's auth cache
    assert Api(client, "first-guess").get(PATH).status_code == 401
    requests = RequestRecorder(monkeypatch)
    with requests.during() as made:
        answers = [Api(client, token).get(PATH) for token in ("second-guess", valid)]
    assert [r.status_code for r in answers] == [429, 429]
    assert made.made == []  # no token lookup, no count

    clock.now = WINDOW_START + timedelta(seconds=300)  # the next window: tokens are looked up again
    assert Api(client, valid).get(PATH).status_code == 200


# --------------------------------------------------------------------------- headers on every response


def test_every_kind_of_api_response_carries_the_headers(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits(per_token=7, per_ip=5)
    world.cohort(2024)
    api = Api(client, world.token(provider))
    missing = f"/api/v3/partnerships/ecf/{uuid.uuid4()}"
    answers = {
        200: ("GET", PATH, api.get(PATH)),
        400: ("GET", "/api/v3/schools/ecf", api.get("/api/v3/schools/ecf")),  # no filter[cohort]
        404: ("GET", missing, api.get(missing)),
        422: (
            "POST",
            "/api/v3/partnerships/ecf",
            api.send("POST", "/api/v3/partnerships/ecf", partnership_payload("2024", ..., ...)),
        ),
    }
    with monkeypatch.context() as patch:
        patch.setattr(provider_service, "list_delivery_partners", _broken)
        answers[500] = ("GET", PATH, api.get(PATH))
    assert [api.get(PATH).status_code for _ in range(2)] == [200, 200]  # the 6th and 7th: the window is full
    answers[429] = ("GET", PATH, api.get(PATH))
    answers[401] = ("GET", PATH, Api(client, None).get(PATH))

    assert {status: r.status_code for status, (_, _, r) in answers.items()} == {status: status for status in answers}
    in_order = [200, 400, 404, 422, 500]
    assert [rate_headers(answers[s][2]) for s in in_order] == [(7, 6 - i, 290) for i in range(5)]
    assert rate_headers(answers[429][2]) == (7, 0, 290)
    assert answers[429][2].headers["Retry-After"] == "290"
    assert rate_headers(answers[401][2]) == (5, 4, 290)  # the address's window
    assert [s for s, (_, _, r) in answers.items() if "Retry-After" in r.headers] == [429]
    assert json.loads(answers[500][2].body) == {
        "error": m.INTERNAL_ERROR,
        "request_id": answers[500][2].headers["X-Request-Id"],
    }
    for status, (method, path, response) in answers.items():
        if status != 500:  # the reference documents no 500
            assert_valid_served(method, path, response)


def _broken(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug")


def test_the_openapi_document_is_not_limited(client: Any, clock: Clock) -> None:
    limits(per_ip=1)
    answers = [client.http.get("/api/v3/openapi.json") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert not any("RateLimit-Limit" in r.headers for r in answers)
    assert stored_counters() == {}


# --------------------------------------------------------------------------- one lookup, and without the middleware


def test_the_token_is_looked_up_once_per_request(
    world: Any, client: Any, clock: Clock, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits()
    api = Api(client, world.token(provider))
    assert api.get(PATH).status_code == 200  # the token's first use also records last_used_at
    requests = RequestRecorder(monkeypatch)
    with requests.during() as made:
        assert api.get(PATH).status_code == 200
    # The middleware's lookup (no cache in tests), the count, the list's one Query: the view looked nothing up.
    assert made.made == [("GetItem", "api-tokens"), ("UpdateItem", "rate-limits"), ("Query", "provider-relationships")]


def test_views_authenticate_by_themselves_without_the_middleware(
    world: Any, client: Any, provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app as app_module

    limits(per_token=1, per_ip=1)
    handlers = [(f, kind) for f, kind in app_module.app.middleware_handlers if f is not middleware_module.middleware]
    monkeypatch.setattr(app_module.app, "middleware_handlers", handlers)
    api = Api(client, world.token(provider))
    answers = [api.get(PATH) for _ in range(2)] + [Api(client, "nope").get(PATH) for _ in range(2)]
    assert [r.status_code for r in answers] == [200, 200, 401, 401]
    assert not any("RateLimit-Limit" in r.headers for r in answers)
    assert stored_counters() == {}


# --------------------------------------------------------------------------- concurrency


def test_concurrent_requests_never_pass_the_limit(world: Any, client: Any, clock: Clock, provider: Any) -> None:
    """60 requests from 12 threads against a limit of 20: exactly 20 are served. moto's requests are serialised as
    DynamoDB makes each request atomic (localdev.motolock); the condition decides every race."""
    from localdev.motolock import serialise_dynamodb

    serialise_dynamodb()
    limits(per_token=20, auth_cache=60)
    token = world.token(provider)
    api = Api(client, token)
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            status = api.get(PATH).status_code
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(statuses) == {200: 20, 429: 40}
    assert stored_counters()[token_key(token)]["n"] == {"N": "20"}
