"""The API request audit trail: record_api_requests with real subscription events (base64 of gzip), redelivery,
``ecf-admin api-requests list/show``, request counts against bench/counting.py, and no secret in any log line or
audit item."""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from admin import cli
from chalicelib import config
from chalicelib.domain import api_requests as audit
from chalicelib.domain.api_requests import ApiRequest
from chalicelib.domain.clock import iso_millis
from chalicelib.events.api_requests import RECORD_API_REQUESTS, MalformedLogEvent, log_messages
from chalicelib.models.api_requests import ApiRequestItem
from chalicelib.services import api_requests
from localdev.logship import subscription_event
from tests.api_helpers import partnership_payload
from tests.conftest import NOW
from tests.observability_helpers import capture

PARTNERS = "/api/v3/delivery-partners"
PARTNERSHIPS = "/api/v3/partnerships/ecf"
DECLARATIONS = "/api/v3/participant-declarations"


def line_of(record: ApiRequest) -> str:
    """An audit line as Powertools writes it (its own keys around the record's fields)."""
    powertools = {"level": "INFO", "location": "_emit:1", "message": audit.AUDIT_MESSAGE,
                  "timestamp": "2025-06-01T09:00:00.000+00:00", "service": "ecf-lp-api"}  # fmt: skip
    return json.dumps(powertools | audit.to_log_fields(record))


def record(n: int, *, lead_provider_id: str | None, at: datetime, status: int = 200, path: str = PARTNERS,
           method: str = "GET") -> ApiRequest:  # fmt: skip
    return ApiRequest(
        request_id=f"00000000-0000-4000-8000-{n:012d}",
        requested_at=at,
        method=method,
        path=path,
        route=path,
        status=status,
        duration_ms=10.0 + n,
        lead_provider_id=lead_provider_id,
        headers={"user-agent": "lp-sync/1.0"},
        request_body='{"data":{"type":"participant-declaration"}}' if method == "POST" else None,
        response_body='{"errors":[{"title":"participant_id","detail":"x"}]}' if status > 299 else None,
        dynamodb_requests=3,
        cold_start=n == 0,
    )


def invoke(client: Any, lines: list[str], message_type: str = "DATA_MESSAGE") -> Any:
    event = subscription_event([(1_717_232_400_000 + i, line) for i, line in enumerate(lines)])
    if message_type != "DATA_MESSAGE":
        payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        payload.update(messageType=message_type, logEvents=[])
        event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}
    return client.lambda_.invoke(RECORD_API_REQUESTS, event)


def items() -> list[dict[str, Any]]:
    table = boto3.client("dynamodb", region_name="eu-west-2")
    return list(table.scan(TableName=ApiRequestItem.Meta.table_name)["Items"])


def ecf(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cli.run(list(argv), out, err, configure=False, now=NOW)
    return status, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- the subscription function


def test_a_batch_delivered_three_times_is_one_item_per_request(world: Any, client: Any) -> None:
    lp = world.lead_provider("Ambition Institute")
    records = [record(n, lead_provider_id=lp.id if n else None, at=NOW - timedelta(minutes=n)) for n in range(30)]
    lines = [line_of(r) for r in records]
    other = json.dumps({"level": "INFO", "message": "invocation", "handler": "x"})
    with capture() as logs:
        for _ in range(3):  # a subscription redelivers a batch whose invocation failed
            invoke(client, [*lines, other, "not json", lines[0]])
    assert len(items()) == 30  # 30 BatchWriteItem items each time, the same keys
    assert api_requests.get_request(records[5].request_id) == records[5]
    stored = ApiRequestItem.get(records[5].request_id)
    assert stored.expires_at == records[5].requested_at + timedelta(days=90)  # TTL: AUDIT_RETENTION_DAYS
    assert stored.created_key == f"{iso_millis(records[5].requested_at)}#{records[5].request_id}"
    assert ApiRequestItem.get(records[0].request_id).created_key is None  # no provider: not in the provider index
    invocations = logs.messages("invocation")
    assert [line["counts"] for line in invocations] == [{"ApiRequestsRecorded": 30, "LogLinesSkipped": 2}] * 3
    assert all(line["handler"] == RECORD_API_REQUESTS and line["outcome"] == "ok" for line in invocations)
    assert all(line["dynamodb_requests"] == 2 for line in invocations)  # BatchWriteItem: 25 items a request
    assert len({line["request_id"] for line in invocations}) == 3  # each invocation's own Lambda request id


def test_a_control_message_records_nothing(client: Any) -> None:
    invoke(client, [], message_type="CONTROL_MESSAGE")
    assert items() == []


def test_the_retention_is_a_setting(world: Any, client: Any) -> None:
    at = NOW - timedelta(hours=1)
    config.configure(audit_retention_days=7)
    try:
        invoke(client, [line_of(record(1, lead_provider_id=None, at=at))])
    finally:
        config.reset()
    assert ApiRequestItem.get(record(1, lead_provider_id=None, at=at).request_id).expires_at == at + timedelta(days=7)


def test_an_event_that_is_not_a_subscription_event_fails() -> None:
    with pytest.raises(MalformedLogEvent):
        log_messages({"awslogs": {"data": base64.b64encode(b"not gzip").decode()}})
    with pytest.raises(MalformedLogEvent):
        log_messages({"Records": []})


def test_the_api_logs_what_the_function_records(world: Any, client: Any) -> None:
    """End to end in one process: requests through the app, its audit lines shipped as a subscription would."""
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    token = world.token(lp)
    dp = world.delivery_partner(lp, [2024])
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}
    with capture() as logs:
        ok = client.http.get(PARTNERS, headers=headers)
        body = json.dumps(partnership_payload("2024", str(uuid.uuid4()), dp.id))
        failed = client.http.post(PARTNERSHIPS, headers=headers, body=body)
    assert (ok.status_code, failed.status_code) == (200, 422)
    invoke(client, logs.raw)
    shown = api_requests.get_request(failed.headers["X-Request-Id"])
    assert shown is not None
    line = logs.request(failed.headers["X-Request-Id"])
    assert audit.to_log_fields(shown) == {k: v for k, v in line.items() if k not in POWERTOOLS_KEYS}
    assert (shown.request_body, shown.response_body) == (body, failed.body.decode())
    listed = api_requests.list_requests(lp.name)
    assert [s.request_id for s in listed] == [failed.headers["X-Request-Id"], ok.headers["X-Request-Id"]]


POWERTOOLS_KEYS = {"level", "location", "message", "timestamp", "service", "xray_trace_id"}


# --------------------------------------------------------------------------- ecf-admin api-requests


@pytest.fixture
def recorded(world: Any, client: Any) -> dict[str, Any]:
    """Two providers' requests over three days, recorded through the function."""
    ambition = world.lead_provider("Ambition Institute")
    capita = world.lead_provider("Capita")
    kinds = [(200, PARTNERS, "GET"), (422, DECLARATIONS, "POST"), (401, PARTNERS, "GET"), (500, DECLARATIONS, "POST"),
             (404, f"{PARTNERS}/x", "GET"), (200, DECLARATIONS, "POST")]  # fmt: skip
    records = [
        record(n, lead_provider_id=ambition.id, at=NOW - timedelta(hours=12 * n), status=s, path=p, method=m)
        for n, (s, p, m) in enumerate(kinds)
    ]
    records.append(record(99, lead_provider_id=capita.id, at=NOW - timedelta(hours=1), status=422, path=DECLARATIONS,
                          method="POST"))  # fmt: skip
    invoke(client, [line_of(r) for r in records])
    return {"ambition": ambition, "records": records}


def listed_ids(*argv: str) -> list[str]:
    status, out, err = ecf("api-requests", "list", "--lead-provider", "Ambition Institute", *argv, "--json")
    assert status == 0, err
    return [row["request_id"] for row in json.loads(out)["requests"]]


def test_list_newest_first_with_filters(recorded: dict[str, Any]) -> None:
    ids = [r.request_id for r in recorded["records"]]
    assert listed_ids() == ids[:6]  # newest first; Capita's is not Ambition's
    assert listed_ids("--status", "4xx") == [ids[1], ids[2], ids[4]]
    assert listed_ids("--status", "422") == [ids[1]]
    assert listed_ids("--status", "5XX") == [ids[3]]
    assert listed_ids("--path", DECLARATIONS) == [ids[1], ids[3], ids[5]]
    assert listed_ids("--path", DECLARATIONS, "--status", "2xx") == [ids[5]]
    assert listed_ids("--since", "1d") == ids[:3]  # NOW - 24 h onwards: 0 h, 12 h and 24 h ago
    assert listed_ids("--since", (NOW - timedelta(hours=36)).isoformat()) == ids[:4]
    assert listed_ids("--since", (NOW - timedelta(days=1)).date().isoformat()) == ids[:4]  # midnight UTC
    assert listed_ids("--limit", "2") == ids[:2]


def test_list_as_a_table(recorded: dict[str, Any]) -> None:
    status, out, _ = ecf("api-requests", "list", "--lead-provider", "Ambition Institute", "--status", "422")
    assert status == 0
    first = recorded["records"][1]
    assert out.splitlines()[0] == "Requests of Ambition Institute, newest first"
    assert out.splitlines()[2].split() == ["TIME", "REQUEST", "ID", "METHOD", "PATH", "STATUS", "MS"]
    assert out.splitlines()[3].split() == ["2024-06-01T00:00:00.000Z", first.request_id, "POST", DECLARATIONS, "422",
                                           "11"]  # fmt: skip


def test_list_when_nothing_matches_and_bad_arguments(recorded: dict[str, Any]) -> None:
    assert ecf("api-requests", "list", "--lead-provider", "Ambition Institute", "--status", "418") == (
        0, "No recorded requests of Ambition Institute match.\n", "")  # fmt: skip
    status, _, err = ecf("api-requests", "list", "--lead-provider", "Nobody")
    assert (status, err) == (1, "error: No lead provider named 'Nobody'\n")
    for option, value, text in (("--status", "4x", "'4x' is not a status"), ("--since", "soon", "'soon' is not a time"),
                                ("--limit", "0", "'0' is not a positive whole number")):  # fmt: skip
        status, _, err = ecf("api-requests", "list", "--lead-provider", "Capita", option, value)
        assert status == 2
        assert text in err
    status, _, err = ecf("api-requests", "list")
    assert (status, "--lead-provider" in err) == (2, True)


def test_show_every_field(recorded: dict[str, Any]) -> None:
    shown = recorded["records"][1]
    status, out, err = ecf("api-requests", "show", shown.request_id)
    assert status == 0, err
    assert out == (
        f"Request {shown.request_id}\n"
        "  time               2024-06-01T00:00:00.000Z\n"
        f"  lead provider id   {recorded['ambition'].id}\n"
        "  method             POST\n"
        f"  path               {DECLARATIONS}\n"
        f"  route              {DECLARATIONS}\n"
        "  status             422\n"
        "  duration ms        11\n"
        "  dynamodb requests  3\n"
        "  cold start         no\n"
        "\n"
        "Request headers (whitelist; never Authorization)\n"
        "  user-agent  lp-sync/1.0\n"
        "\n"
        "Request body\n"
        "  {\n"
        '    "data": {\n'
        '      "type": "participant-declaration"\n'
        "    }\n"
        "  }\n"
        "\n"
        "Response body\n"
        "  {\n"
        '    "errors": [\n'
        "      {\n"
        '        "title": "participant_id",\n'
        '        "detail": "x"\n'
        "      }\n"
        "    ]\n"
        "  }\n"
    )
    status, out, _ = ecf("api-requests", "show", shown.request_id, "--json")
    assert json.loads(out) == {
        "request_id": shown.request_id,
        "requested_at": "2024-06-01T00:00:00.000Z",
        "method": "POST",
        "path": DECLARATIONS,
        "route": DECLARATIONS,
        "status": 422,
        "duration_ms": 11,
        "lead_provider_id": recorded["ambition"].id,
        "query": {},
        "headers": {"user-agent": "lp-sync/1.0"},
        "request_body": shown.request_body,
        "request_body_truncated": False,
        "response_body": shown.response_body,
        "response_body_truncated": False,
        "dynamodb_requests": 3,
        "cold_start": False,
    }


def test_show_an_unknown_or_truncated_request(world: Any, client: Any) -> None:
    unknown = str(uuid.uuid4())
    status, _, err = ecf("api-requests", "show", unknown)
    assert status == 1
    assert err.startswith(f"error: No recorded request with id {unknown} (records are kept for AUDIT_RETENTION_DAYS")
    cut = replace(record(7, lead_provider_id=None, at=NOW), method="POST", request_body="not json",
                  request_body_truncated=True)  # fmt: skip
    invoke(client, [line_of(cut)])
    status, out, _ = ecf("api-requests", "show", cut.request_id)
    assert status == 0
    assert "Request body (cut at 65536 bytes)\n  not json\n" in out


# --------------------------------------------------------------------------- DynamoDB requests (bench/counting.py)


def test_dynamodb_requests_in_the_line_equal_bench_counting(world: Any, client: Any) -> None:
    from bench.counting import count_requests

    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    token = world.token(lp)
    dp = world.delivery_partner(lp, [2024])
    school = world.school()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.api+json"}
    report = json.dumps(partnership_payload("2024", school.id, dp.id))
    calls = [
        ("GET", PARTNERS, None, headers),
        ("GET", f"{PARTNERS}/{dp.id}", None, headers),
        ("GET", "/api/v3/schools/ecf?filter[cohort]=2024", None, headers),
        ("POST", PARTNERSHIPS, report, headers),
        ("POST", PARTNERSHIPS, report, headers),  # a 422: already partnered
        ("GET", PARTNERS, None, {"Authorization": "Bearer wrong"}),
    ]
    counted, logged = [], []
    with capture() as logs:
        for method, path, body, sent in calls:
            with count_requests() as counts:
                response = client.http.request(method, path, headers=sent, body=(body or "").encode())
            counted.append(counts.total)
            logged.append(logs.request(response.headers["X-Request-Id"])["dynamodb_requests"])
    # The line also counts the rate limiter's one UpdateItem per request (botocore directly, not through PynamoDB).
    assert logged == [total + 1 for total in counted]
    assert min(counted) >= 1
    # A keyed write: the line also counts the idempotency layer's own requests (same client, not PynamoDB's).
    keyed = json.dumps(partnership_payload("2024", world.school().id, dp.id))
    with capture() as logs, count_requests() as counts:
        response = client.http.post(PARTNERSHIPS, headers={**headers, "Idempotency-Key": "k-1"}, body=keyed)
    assert response.status_code == 200
    assert (
        logs.request(response.headers["X-Request-Id"])["dynamodb_requests"] == counts.total + 3
    )  # claim, answer, limiter


# --------------------------------------------------------------------------- no secret anywhere


@pytest.fixture
def everything_logged() -> Iterator[list[str]]:
    """Every log record of every logger at INFO and above (the most any stage logs: Powertools' level, and the local
    stack's), formatted, while the test runs. (botocore's DEBUG output would show request bodies, token hashes
    included: docs/observability.md.)"""
    seen: list[str] = []

    class Everything(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    handler = Everything(level=logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    service = logging.getLogger("ecf-lp-api")
    service.addHandler(handler)  # it does not propagate
    try:
        yield seen
    finally:
        root.removeHandler(handler)
        service.removeHandler(handler)
        root.setLevel(before)


def test_no_token_hash_or_key_in_any_log_or_audit_item(
    world: Any, client: Any, everything_logged: list[str], capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from chalicelib.services import providers, tokens

    world.cohort(2024)
    ambition, capita = world.lead_provider("Ambition Institute"), world.lead_provider("Capita")
    good = [world.token(ambition), world.token(capita)]
    revoked = world.token(ambition)
    (revoked_row,) = [t for t in tokens.list_tokens(ambition.name) if t.hashed_token == tokens.hash_token(revoked)]
    tokens.revoke_token(revoked_row.token_id, datetime.now(UTC))
    bad = ["not-a-real-token-0001", "x" * 600, revoked]
    dp = world.delivery_partner(ambition, [2024])
    capfd.readouterr()
    with capture() as logs:
        for token in [*good, *bad]:
            for scheme in ("Bearer", "Token"):
                sent = {"Authorization": f"{scheme} {token}", "Content-Type": "application/vnd.api+json"}
                client.http.get(PARTNERS, headers=sent)
                client.http.get(f"{PARTNERS}?page[cursor]=", headers=sent)
                body = json.dumps(partnership_payload("2024", world.school().id, dp.id))
                client.http.post(PARTNERSHIPS, headers={**sent, "Idempotency-Key": f"key-{uuid.uuid4()}"}, body=body)
        monkeypatch.setattr(providers, "list_delivery_partners", _raise)  # a 500 with a traceback
        client.http.get(PARTNERS, headers={"Authorization": f"Bearer {good[0]}"})
        invoke(client, logs.raw)
    output = capfd.readouterr()
    assert len(logs.requests) == 5 * 2 * 3 + 1
    assert {line["status"] for line in logs.requests} >= {200, 401, 500}
    stored = json.dumps(items())
    assert len(items()) == len(logs.requests)
    haystacks = {"structured lines": "\n".join(logs.raw), "EMF": "\n".join(logs.emf), "every logger": "\n".join(
        everything_logged), "stdout": output.out, "stderr": output.err, "api-requests table": stored}  # fmt: skip
    secrets = {f"token {t[:6]}…": t for t in [*good, *bad]}
    secrets |= {f"hash of {t[:6]}…": tokens.hash_token(t) for t in [*good, *bad]}
    secrets["the token HMAC key"] = config.LOCAL_TOKEN_KEY
    secrets["the cursor key"] = tokens.derived_key("cursor").hex()
    assert all(
        haystacks[where] for where in ("structured lines", "EMF", "every logger", "stdout", "api-requests table")
    )
    for where, text in haystacks.items():
        found = [name for name, secret in secrets.items() if secret in text]
        assert found == [], f"{where} holds {found}"
    assert "authorization" not in stored.lower()
    assert all("authorization" not in line["headers"] for line in logs.requests)


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug")
