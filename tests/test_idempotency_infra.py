"""The idempotency table as provisioned: TTL on in the tables the code creates (local stack, tests), and the API
role allowed every request Powertools makes (tests/test_infra.py checks the template's shape)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from chalicelib.models import IdempotencyRecord
from chalicelib.services import partnerships as partnership_service
from tests.api_helpers import Api, partnership_payload
from tests.idempotency_helpers import KEY, RequestRecorder, Spy
from tests.test_infra import TEMPLATE_PATH, _as_list, _canonical, role_statements, table_logical_id

PATH = "/api/v3/partnerships/ecf"


def test_create_tables_turns_on_ttl_for_the_expiry(aws: None) -> None:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    described = client.describe_time_to_live(TableName=IdempotencyRecord.Meta.table_name)["TimeToLiveDescription"]
    assert described == {"TimeToLiveStatus": "ENABLED", "AttributeName": IdempotencyRecord.expiration.attr_name}


def test_the_api_role_allows_every_idempotency_request(
    world: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first use (PutItem, UpdateItem), a replay (PutItem) and a server error (PutItem, DeleteItem): each request
    to the table is an action ApiHandlerRole's statement for that table grants."""
    template = json.loads(TEMPLATE_PATH.read_text())
    world.cohort(2024)
    lp = world.lead_provider("Ambition Institute")
    dp = world.delivery_partner(lp, [2024])
    api = Api(client, world.token(lp))
    requests = RequestRecorder(monkeypatch)
    create = Spy(monkeypatch, partnership_service, "create_partnership")

    def fail_first(call: int) -> None:
        if call == 1:
            raise RuntimeError("a server error: Powertools deletes the claim")

    create.before = fail_first

    school = world.school()
    payload = partnership_payload("2024", school.id, dp.id)
    with requests.during() as made:
        statuses = [api.send("POST", PATH, payload, headers={"Idempotency-Key": KEY}).status_code for _ in range(3)]
    assert statuses == [500, 200, 200]
    # 500: claim, delete; 200: claim, store; the replay: a claim that fails and returns the record.
    assert made.on("idempotency") == ["PutItem", "DeleteItem", "PutItem", "UpdateItem", "PutItem"]
    used = set(made.on("idempotency"))

    table = {"Fn::GetAtt": [table_logical_id(template, IdempotencyRecord), "Arn"]}
    granted = {
        action
        for statement in role_statements(template, "ApiHandlerRole")
        if statement["Effect"] == "Allow"
        and _canonical(table) in {_canonical(r) for r in _as_list(statement["Resource"])}
        for action in _as_list(statement["Action"])
    }
    assert {f"dynamodb:{operation}" for operation in used} <= granted
    assert "dynamodb:GetItem" in granted  # Powertools reads the record when DynamoDB does not return it
