"""The local stack while it starts (503 + Retry-After, never a hang) and ``make load``'s locust runs."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib.domain import messages as m
from localdev import load
from localdev.startup import RETRY_AFTER_SECONDS, StartingGate


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"data": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gated() -> Iterator[tuple[ThreadingHTTPServer, StartingGate]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.daemon_threads = True
    gate = StartingGate(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, gate
    finally:
        server.shutdown()
        server.server_close()


def probe(port: int, method: str = "GET", body: bytes | None = None) -> http.client.HTTPResponse:
    """A request with a short timeout: a hang fails the test (socket.timeout), it never waits."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    connection.request(method, "/api/v3/participants/ecf", body=body, headers={"Authorization": "Bearer x"})
    return connection.getresponse()


def test_until_the_gate_opens_every_request_gets_503_with_retry_after_and_a_json_api_error(
    gated: tuple[ThreadingHTTPServer, StartingGate],
) -> None:
    server, gate = gated
    port = server.server_address[1]
    for method, body in (("GET", None), ("POST", b'{"data":{}}')):
        response = probe(port, method, body)
        assert response.status == 503
        assert response.getheader("Retry-After") == str(RETRY_AFTER_SECONDS)
        assert response.getheader("Content-Type") == "application/vnd.api+json"
        assert response.getheader("Connection") == "close"
        assert json.loads(response.read()) == {
            "errors": [{"status": "503", "title": m.STARTING_TITLE, "detail": m.STARTING_DETAIL}]
        }
    gate.open()
    response = probe(port)
    assert response.status == 200
    assert json.loads(response.read()) == {"data": []}


# --------------------------------------------------------------------------- make load


STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/api/v3/participants/ecf,120,2,18,20.5,9,80,900,6.0,0.1,18,20,22,23,30,41,60,70,80,80,80
,Aggregated,120,2,18,20.5,9,80,900,6.0,0.1,18,20,22,23,30,41,60,70,80,80,80
"""


def test_parse_stats_reads_the_aggregated_row() -> None:
    result = load.parse_stats(STATS, users=16)
    assert result == load.RunResult(users=16, requests=120, failures=2, median_ms=18.0, p95_ms=41.0, rps=6.0)
    assert load.verdict(result, result) == ["failed requests: 4", "6.0 requests/s with 16 clients < 40"]
    with pytest.raises(ValueError, match="no Aggregated row"):
        load.parse_stats(STATS.splitlines()[0], users=1)


def test_a_tiny_locust_run_is_parsed(gated: tuple[ThreadingHTTPServer, StartingGate]) -> None:
    """A real locust run (3 s, 2 users) against a small server: the figures make sense together."""
    server, gate = gated
    gate.open()
    result = load.run_locust(f"http://127.0.0.1:{server.server_address[1]}", "token", users=2, seconds=3)
    assert result.users == 2
    assert result.requests > 10
    assert result.failures == 0
    assert 0 < result.median_ms <= result.p95_ms
    assert result.rps > 3


def test_load_targets_127_0_0_1_only() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        load.run_locust("http://example.org:80", "token", users=1, seconds=1)


# --------------------------------------------------------------------------- moto's responses as plain JSON


def test_moto_item_responses_written_as_json_are_what_motos_serializer_writes(aws: None) -> None:
    """``localdev.motojson``: every attribute type, a page with a LastEvaluatedKey, an empty GetItem, a batch
    read and a write's ReturnValues parse to the same response with and without the patch."""
    import boto3

    from localdev import motojson

    client = boto3.client("dynamodb", region_name="eu-west-2")
    client.create_table(
        TableName="motojson",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {
        "pk": {"S": "a"}, "s": {"S": "é ü \" \n"}, "n": {"N": "12.50"}, "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01"]}, "t": {"BOOL": True},
        "null": {"NULL": True}, "l": {"L": [{"S": "v"}, {"N": "3"}, {"M": {"k": {"S": "w"}}}]},
        "m": {"M": {"nested": {"L": []}}},
    }  # fmt: skip
    for sk in range(3):
        client.put_item(TableName="motojson", Item={**item, "sk": {"N": str(sk)}})

    def calls() -> list[Any]:
        return [
            client.query(
                TableName="motojson", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
                Limit=2,
            ),
            client.get_item(TableName="motojson", Key={"pk": {"S": "a"}, "sk": {"N": "1"}}),
            client.get_item(TableName="motojson", Key={"pk": {"S": "none"}, "sk": {"N": "1"}}),
            client.batch_get_item(RequestItems={"motojson": {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "2"}}]}}),
            client.scan(TableName="motojson", Select="COUNT"),
            client.update_item(
                TableName="motojson", Key={"pk": {"S": "a"}, "sk": {"N": "0"}}, UpdateExpression="SET t = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}}, ReturnValues="ALL_NEW",
            ),
        ]  # fmt: skip

    def comparable(responses: list[Any]) -> list[Any]:
        return [{k: v for k, v in r.items() if k != "ResponseMetadata"} for r in responses]

    from moto.dynamodb.responses import DynamoResult

    owner, name, fast = motojson.patch()
    assert owner is DynamoResult
    before = comparable(calls())
    saved = DynamoResult.execute_result
    setattr(DynamoResult, name, fast)
    try:
        after = comparable(calls())
    finally:
        DynamoResult.execute_result = saved  # type: ignore[method-assign]
    assert after == before
    assert before[0]["LastEvaluatedKey"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert before[1]["Item"]["b"] == {"B": b"\x00\xffbytes"}
    assert "Item" not in before[2]


def test_tuned_index_queries_return_what_moto_returns(aws: None) -> None:
    """``tune_moto``'s index queries (no deep copy before projecting, a direct projection, each match sized once):
    KEYS_ONLY, INCLUDE and ALL indexes give the same pages as moto untuned; so does BatchGetItem (items sized
    once), with and without a projection."""
    import boto3

    from localdev.stack import tune_moto

    client = boto3.client("dynamodb", region_name="eu-west-2")
    key = [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "r", "KeyType": "RANGE"}]
    client.create_table(
        TableName="indexes",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "g", "r")],
        GlobalSecondaryIndexes=[
            {"IndexName": "keys", "KeySchema": key, "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {
                "IndexName": "include",
                "KeySchema": key,
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name", "m"]},
            },
            {"IndexName": "all", "KeySchema": key, "Projection": {"ProjectionType": "ALL"}},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(7):
        client.put_item(
            TableName="indexes",
            Item={
                "pk": {"S": f"p{i}"}, "g": {"S": "group" if i % 3 else "other"}, "r": {"S": f"{i:03d}"},
                "name": {"S": f"n{i}"}, "m": {"M": {"x": {"L": [{"N": str(i)}]}}}, "big": {"S": "x" * 100},
            },
        )  # fmt: skip

    def pages() -> list[Any]:
        out = []
        for index in ("keys", "include", "all"):
            kwargs: dict[str, Any] = {
                "TableName": "indexes", "IndexName": index, "KeyConditionExpression": "g = :g",
                "ExpressionAttributeValues": {":g": {"S": "group"}}, "Limit": 2,
            }  # fmt: skip
            while True:
                page = client.query(**kwargs)
                out.append((index, page["Items"], page.get("LastEvaluatedKey")))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        keys = [{"pk": {"S": f"p{i}"}} for i in (6, 0, 3, 9)]  # p9 does not exist
        for extra in ({}, {"ProjectionExpression": "pk, m, #n", "ExpressionAttributeNames": {"#n": "name"}}):
            found = client.batch_get_item(RequestItems={"indexes": {"Keys": keys, **extra}})
            out.append(("batch", found["Responses"]["indexes"], found["UnprocessedKeys"]))
        return out

    untuned = pages()
    undo = tune_moto()
    try:
        tuned = pages()
    finally:
        undo()
    assert tuned == untuned
    assert untuned[0][1][0] == {"pk": {"S": "p1"}, "g": {"S": "group"}, "r": {"S": "001"}}
    assert set(next(page for page in untuned if page[0] == "include")[1][0]) == {"pk", "g", "r", "name", "m"}
    batches = [page for page in untuned if page[0] == "batch"]
    assert [sorted(item["pk"]["S"] for item in page[1]) for page in batches] == [["p0", "p3", "p6"]] * 2
    assert set(batches[1][1][0]) == {"pk", "m", "name"}


def test_tuned_items_keep_moto_s_size_limit(aws: None) -> None:
    """``tune_moto``'s items (the size summed once): the same items stored, and the same ValidationException for
    an item over moto's limit, through PutItem, BatchWriteItem and UpdateItem."""
    import boto3
    from botocore.exceptions import ClientError

    from localdev.stack import ITEM_SIZE_LIMIT, tune_moto

    client = boto3.client("dynamodb", region_name="eu-west-2")
    client.create_table(
        TableName="sizes",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # Ten attributes of 40,000 bytes: 400,000 and their names, under the limit; one more byte of value is not.
    under = {"pk": {"S": "u"}, **{f"a{i}": {"S": "x" * 40_000} for i in range(10)}}
    size = sum(len(name) + len(value["S"]) for name, value in under.items())
    over = {**under, "pk": {"S": "o"}, "extra": {"S": "y" * (ITEM_SIZE_LIMIT - size + 1 - len("extra"))}}
    nested = {"pk": {"S": "n"}, "m": {"M": {"k": {"L": [{"S": "z" * 100}, {"N": "12"}]}}}, "s": {"SS": ["a", "b"]}}

    def attempts() -> list[Any]:
        client.delete_item(TableName="sizes", Key={"pk": {"S": "u"}})
        out: list[Any] = []
        for call in (
            lambda: client.put_item(TableName="sizes", Item=under),
            lambda: client.put_item(TableName="sizes", Item=nested),
            lambda: client.put_item(TableName="sizes", Item=over),
            lambda: client.batch_write_item(RequestItems={"sizes": [{"PutRequest": {"Item": over}}]}),
            lambda: client.update_item(
                TableName="sizes", Key={"pk": {"S": "u"}}, UpdateExpression="SET extra = :e",
                ExpressionAttributeValues={":e": over["extra"]},
            ),
        ):  # fmt: skip
            try:
                call()
                out.append("ok")
            except ClientError as error:
                out.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
        out.append(client.scan(TableName="sizes")["Items"])
        return out

    untuned = attempts()
    undo = tune_moto()
    try:
        tuned = attempts()
    finally:
        undo()
    assert tuned == untuned
    assert untuned[:2] == ["ok", "ok"]
    assert untuned[2] == ("ValidationException", "Item size has exceeded the maximum allowed size")
    assert untuned[3] == untuned[2]
    assert untuned[4] == ("ValidationException", "Item size to update has exceeded the maximum allowed size")
    assert sorted(item["pk"]["S"] for item in untuned[5]) == ["n", "u"]


# --------------------------------------------------------------------------- the demo data's snapshot


def test_a_snapshot_restores_the_tables_and_the_demo_result(aws: None, tmp_path: Any) -> None:
    from datetime import date

    from chalicelib.domain.clock import utcnow
    from chalicelib.services import providers, tokens
    from localdev import snapshot

    for name in ("Ambition Institute", "Capita"):
        providers.add_lead_provider(name, utcnow())
    kept = tokens.create_token("Ambition Institute", utcnow()).token
    path = tmp_path / "demo-test.pickle"
    snapshot.save(path, {"tokens": {"Ambition Institute": kept}}, 42)
    later = tokens.create_token("Capita", utcnow()).token  # written after the snapshot
    assert tokens.authenticate(later, utcnow()) is not None

    assert snapshot.restore(path) == ({"tokens": {"Ambition Institute": kept}}, 42)
    tokens.clear_cache()
    assert tokens.authenticate(kept, utcnow()) is not None
    assert tokens.authenticate(later, utcnow()) is None  # the tables are the snapshot's
    assert snapshot.restore(tmp_path / "missing.pickle") is None

    path.write_bytes(b"not a pickle")
    assert snapshot.restore(path) is None  # an unreadable snapshot is dropped, to be rebuilt
    assert not path.exists()

    today = date(2026, 12, 6)
    assert snapshot.key(3000, today) == snapshot.key(3000, today)
    assert len({snapshot.key(3000, today), snapshot.key(300, today), snapshot.key(3000, date(2026, 12, 7))}) == 3
