"""What observability and the audit trail cost per request (docs/observability.md).

    .venv/bin/python -m bench.observability

1. The middleware's own work per request: ``api.observability.middleware`` around a response that does nothing (no
   DynamoDB, no view), lines and EMF written to /dev/null: CPU microseconds per request, for a GET 200, a 401 and
   a POST 422 with a 1 KB body. What it adds to every request on Lambda, whatever the view does.
2. What each request writes to CloudWatch Logs (the log line and the EMF document, in bytes): ingestion is billed
   per GB.
3. What the audit trail stores: the DynamoDB item per request (bytes, write units) and the requests
   ``record_api_requests`` makes per batch (moto, in process; BatchWriteItem takes 25 items).
4. Before and after: a real request (GET /api/v3/delivery-partners with a token, through Chalice's test client and
   in-process moto) with the middleware and with it taken out of the app, in alternating rounds so that the
   machine's load falls on both alike: CPU microseconds per request.

``BENCH_OBSERVABILITY_RUNS`` (default 5000) requests per round in 1, ``BENCH_REQUEST_RUNS`` (default 300) in 4.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

from localdev.fakeaws import fresh_storage, isolate_environment

isolate_environment()

RUNS = int(os.environ.get("BENCH_OBSERVABILITY_RUNS", "5000"))
REQUEST_RUNS = int(os.environ.get("BENCH_REQUEST_RUNS", "300"))
ROUNDS = 7
BATCH_COPIES = 40  # of each case's line, each with its own request id: a subscription batch of 120 requests
PARTNERS = "/api/v3/delivery-partners"
JSONAPI = "application/vnd.api+json"
DECLARATIONS = "/api/v3/participant-declarations"
BODY_1KB = json.dumps({"data": {"type": "participant-declaration", "attributes": {"notes": "x" * 900}}})


def _request(method: str, path: str, body: str | None, headers: dict[str, str]) -> Any:
    from chalice.app import Request

    event = {
        "multiValueQueryStringParameters": {"page[per_page]": ["100"]} if method == "GET" else None,
        "headers": {"authorization": "Bearer token", "user-agent": "lp-sync/2.0", "accept": "application/json",
                    **headers},
        "pathParameters": None,
        "body": body,
        "stageVariables": None,
        "requestContext": {"httpMethod": method, "resourcePath": path, "requestId": "c6af9ac6-7b61-11e6-9a41-93e8d7a1"},
    }  # fmt: skip
    return Request(event, None)


def _cases() -> dict[str, tuple[Any, Callable[[Any], Any]]]:
    from chalice.app import Response

    from chalicelib.api import http

    ok = Response(body=json.dumps({"data": [{"id": "x", "type": "delivery-partner"}] * 20}), status_code=200)
    invalid = http.errors("participant_id", "Your update cannot be made as the '#/participant_id' is not recognised.",
                          422)  # fmt: skip
    return {
        "GET 200 (a 20-item page)": (_request("GET", PARTNERS, None, {}), lambda _: ok),
        "GET 401": (_request("GET", PARTNERS, None, {}), lambda _: http.unauthorized()),
        "POST 422 (1 KB body)": (
            _request("POST", DECLARATIONS, BODY_1KB, {"content-type": "application/json"}),
            lambda _: invalid,
        ),
    }


def middleware_cost() -> None:
    from chalicelib import telemetry
    from chalicelib.api import observability

    print(f"1. The middleware's own work, CPU microseconds per request (median of 5 runs of {RUNS}):")
    sizes: dict[str, tuple[int, int]] = {}
    for name, (request, respond) in _cases().items():
        runs = []
        for _ in range(5):
            sink = io.StringIO()
            with redirect_stdout(sink):
                started = time.process_time()
                for _ in range(RUNS):
                    observability.middleware(request, respond)
                runs.append((time.process_time() - started) / RUNS * 1e6)
        line, emf = sink.getvalue().splitlines()[-2:]
        assert '"_aws"' in emf
        assert telemetry.SERVICE in line
        sizes[name] = (len(line.encode()) + 1, len(emf.encode()) + 1)
        print(f"   {name}: {statistics.median(runs):.1f} us")
    print("2. Written to CloudWatch Logs per request, bytes (the log line; the EMF document):")
    for name, (line_bytes, emf_bytes) in sizes.items():
        print(f"   {name}: {line_bytes}; {emf_bytes}")


def _value_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of an attribute value (docs: strings by UTF-8 length, numbers about 1 byte per 2 digits + 1)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return (len(str(data).lstrip("-").replace(".", "")) + 1) // 2 + 1
    return 1  # BOOL, NULL


def _lines() -> list[tuple[str, dict[str, Any]]]:
    """Each case's audit line, as the middleware writes it (parsed)."""
    from chalicelib.api import observability

    lines = []
    for n, (name, (request, respond)) in enumerate(_cases().items()):
        sink = io.StringIO()
        with redirect_stdout(sink):
            observability.middleware(request, respond)
        line = json.loads(sink.getvalue().splitlines()[0])
        line["request_id"] = f"{n}-{line['request_id']}"
        lines.append((name, line))
    return lines


def audit_cost() -> None:
    from moto import mock_aws

    from bench.counting import count_requests
    from chalicelib.events.api_requests import log_messages
    from chalicelib.models.api_requests import ApiRequestItem
    from chalicelib.services import api_requests
    from localdev.logship import subscription_event

    lines = _lines()
    print("3. The audit item per request (DynamoDB bytes as billed: names and values; write units of 1 KB):")
    with mock_aws():
        fresh_storage()
        api_requests.record_lines(json.dumps(line) for _, line in lines)
        for name, line in lines:
            item = ApiRequestItem.get(line["request_id"]).serialize()
            size = sum(len(k.encode()) + _value_size(v) for k, v in item.items())
            print(f"   {name}: {size} bytes, {-(-size // 1024)} write unit(s)")
        batch = [json.dumps({**line, "request_id": f"{i}-{line['request_id']}"})
                 for i in range(BATCH_COPIES) for _, line in lines]  # fmt: skip
        event = subscription_event([(0, line) for line in batch])
        with count_requests() as counts:
            started = time.perf_counter()
            done = api_requests.record_lines(log_messages(event))
            took = (time.perf_counter() - started) * 1000
        assert done.recorded == len(batch), done
        print(f"   a batch of {len(batch)} requests: {counts} ({took:.0f} ms in moto)")


def _toggle(app: Any) -> Callable[[bool], None]:
    """Put the observability middleware in the app, or take it out."""
    from chalicelib.api import observability

    registered = list(app.middleware_handlers)
    without = [entry for entry in registered if entry[0] is not observability.middleware]
    assert len(without) == len(registered) - 1

    def use(on: bool) -> None:
        app.middleware_handlers = registered if on else without

    return use


def _rounds(client: Any, use: Callable[[bool], None], path: str, headers: dict[str, str], runs: int) -> list[float]:
    """CPU microseconds per request with the middleware minus without it, one figure per pair of adjacent rounds."""
    differences, pair = [], {}
    for n in range(2 * ROUNDS + 2):
        on = n % 2 == 0
        use(on)
        started = time.process_time()
        for _ in range(runs):
            response = client.http.get(path, headers=headers)
        pair[on] = (time.process_time() - started) / runs * 1e6
        assert ("X-Request-Id" in response.headers) is on
        if n >= 2 and not on:  # the first pair warms caches and code paths
            differences.append((pair[True], pair[False]))
    return [with_it - without_it for with_it, without_it in differences] + [pair[False]]


def request_before_after() -> None:
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module
    from bench.load import Scale, load

    print(f"4. A request with the middleware minus without it, CPU microseconds (median and range over {ROUNDS} pairs "
          "of alternating rounds):")  # fmt: skip
    use = _toggle(app_module.app)
    with mock_aws():
        fresh_storage()
        data = load(Scale(schools=400, partnerships=30, delivery_partners=14, participants=0, declarations=0))
        token = data.tokens[data.largest_lead_provider]
        cases = {
            "GET 401 (no token: no DynamoDB request)": ({}, REQUEST_RUNS * 4),
            "GET 200 (5 delivery partners; in-process moto)": ({"Authorization": f"Bearer {token}"}, REQUEST_RUNS),
        }
        with Client(app_module.app, stage_name="test") as client, redirect_stdout(io.StringIO()) as sink:
            results = {name: _rounds(client, use, f"{PARTNERS}?page[per_page]=5", {"Accept": JSONAPI, **headers}, runs)
                       for name, (headers, runs) in cases.items()}  # fmt: skip
            assert sink.getvalue()
        use(True)
    for name, (*differences, without_it) in results.items():
        added = statistics.median(differences)
        print(f"   {name}: {added:+.0f} us (from {min(differences):+.0f} to {max(differences):+.0f}) on a request of "
              f"{without_it:.0f} us without it ({added / without_it:.1%})")  # fmt: skip


if __name__ == "__main__":
    middleware_cost()
    audit_cost()
    request_before_after()
