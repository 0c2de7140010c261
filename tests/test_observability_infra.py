"""Deployment of observability (infra/template.json, .chalice/config.json): X-Ray on every function and the API
stage, the API log group's subscription to record_api_requests, that function's role, retries and alarms."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib import telemetry
from chalicelib.domain.api_requests import AUDIT_MESSAGE
from chalicelib.events.api_requests import RECORD_API_REQUESTS, SUBSCRIPTION_FILTER_PATTERN
from tests.test_infra import (
    FUNCTION_ROLES,
    LOG_WRITE_ACTIONS,
    TRACE_WRITE_ACTIONS,
    _as_list,
    _canonical,
    _dynamodb_requests,
    _params,
    resolve,
    role_statements,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "template.json"
FUNCTION = "RecordApiRequests"
ROLE = "RecordApiRequestsRole"
QUEUE = "ApiRequestsDeadLetterQueue"
TABLE = "ApiRequestsTable"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(json.loads(TEMPLATE_PATH.read_text()))


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests import package_helpers

    return dict(package_helpers.packaged(tmp_path_factory.mktemp("package")).template)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r.get("Type") == kind}


# --------------------------------------------------------------------------- the subscription


def matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch Logs' JSON filter pattern of the one form used here: ``{ $.<field> = "<text>" }``."""
    found = re.fullmatch(r'\{ \$\.(\w+) = "([^"]*)" \}', pattern)
    assert found, f"not a pattern this test reads: {pattern}"
    return line.get(found.group(1)) == found.group(2)


def test_the_api_log_group_is_subscribed_to_record_api_requests(template: dict[str, Any]) -> None:
    (filter_id, subscription), *others = resources_of(template, "AWS::Logs::SubscriptionFilter").items()
    assert others == []
    properties = subscription["Properties"]
    assert properties["LogGroupName"] == {"Ref": "ApiHandlerLogGroup"}
    api_group = template["Resources"]["ApiHandlerLogGroup"]["Properties"]["LogGroupName"]
    api_function = template["Resources"]["APIHandler"]["Properties"]["FunctionName"]
    assert resolve(api_group, _params("prod")) == f"/aws/lambda/{resolve(api_function, _params('prod'))}"
    assert properties["DestinationArn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert properties["FilterPattern"] == SUBSCRIPTION_FILTER_PATTERN
    # CloudFormation creates the filter only once Logs may invoke the function.
    (permission_id, permission), *others = resources_of(template, "AWS::Lambda::Permission").items()
    assert others == []
    assert subscription["DependsOn"] == permission_id
    assert permission["Properties"] == {
        "FunctionName": {"Fn::GetAtt": [FUNCTION, "Arn"]},
        "Action": "lambda:InvokeFunction",
        "Principal": "logs.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["ApiHandlerLogGroup", "Arn"]},
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }
    assert filter_id


def test_the_filter_selects_the_request_lines_and_nothing_else() -> None:
    pattern = SUBSCRIPTION_FILTER_PATTERN
    assert matches(pattern, {"message": AUDIT_MESSAGE, "status": 200})
    for other in ("invocation", "unhandled error", "api_requests", "API_REQUEST"):
        assert not matches(pattern, {"message": other})
    assert not matches(pattern, {"msg": AUDIT_MESSAGE})


def test_record_api_requests_is_retried_then_dead_lettered(packaged: dict[str, Any]) -> None:
    function = packaged["Resources"][FUNCTION]
    properties = function["Properties"]
    assert properties["Handler"] == f"app.{RECORD_API_REQUESTS}"
    assert "Events" not in properties  # invoked by the subscription only
    invoke = properties["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert 3600 <= invoke["MaximumEventAgeInSeconds"] <= 21600
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": {"Fn::GetAtt": [QUEUE, "Arn"]}}
    assert properties["MemorySize"] == 256
    assert properties["Environment"]["Variables"]["AUDIT_RETENTION_DAYS"] == "90"


def test_its_role_writes_only_the_audit_table(template: dict[str, Any]) -> None:
    statements = role_statements(template, ROLE)
    by_action = {action: statement for statement in statements for action in _as_list(statement["Action"])}
    assert set(by_action) == {"dynamodb:BatchWriteItem", "dynamodb:PutItem", "sqs:SendMessage"} | LOG_WRITE_ACTIONS | (
        TRACE_WRITE_ACTIONS
    )
    assert by_action["dynamodb:BatchWriteItem"]["Resource"] == [{"Fn::GetAtt": [TABLE, "Arn"]}]
    assert by_action["sqs:SendMessage"]["Resource"] == {"Fn::GetAtt": [QUEUE, "Arn"]}
    for role_id in set(FUNCTION_ROLES.values()) - {ROLE}:
        assert TABLE not in json.dumps(role_statements(template, role_id)), role_id


def test_its_role_covers_what_it_does(
    template: dict[str, Any], world: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every DynamoDB request the function makes for a batch (more than 25 lines: two BatchWriteItems) is allowed."""
    import botocore.client

    from tests.conftest import NOW
    from tests.test_api_requests import invoke, line_of, record

    lines = [line_of(record(n, lead_provider_id="lp", at=NOW)) for n in range(30)]
    recorded: list[tuple[str, str, str | None]] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            recorded.extend(_dynamodb_requests(operation, params))
        return make_api_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    invoke(client, lines)
    monkeypatch.undo()
    granted = {
        (action, _canonical(resource))
        for statement in role_statements(template, ROLE)
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    assert [action for action, _, _ in recorded] == ["dynamodb:BatchWriteItem"] * 2
    for action, _, index in recorded:
        assert index is None
        assert (action, _canonical({"Fn::GetAtt": [TABLE, "Arn"]})) in granted


def test_the_audit_table_expires_its_items_and_lists_by_provider(template: dict[str, Any]) -> None:
    properties = template["Resources"][TABLE]["Properties"]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (index,) = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_lead_provider"
    assert index["Projection"]["ProjectionType"] == "INCLUDE"


# --------------------------------------------------------------------------- X-Ray


def test_xray_is_active_on_every_function_and_the_api_stage(packaged: dict[str, Any]) -> None:
    resources = packaged["Resources"]
    functions = resources_of(packaged, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTION_ROLES)
    assert {lid: f["Properties"]["Tracing"] for lid, f in functions.items()} == dict.fromkeys(functions, "Active")
    assert resources["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_every_role_may_send_traces_and_nothing_else_on_everything(template: dict[str, Any]) -> None:
    for role_id in set(FUNCTION_ROLES.values()):
        statements = role_statements(template, role_id)
        traces = [s for s in statements if set(_as_list(s["Action"])) & TRACE_WRITE_ACTIONS]
        actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        assert set(actions) == TRACE_WRITE_ACTIONS
        assert traces == [{"Sid": "WriteTraces", "Effect": "Allow", "Action": actions, "Resource": "*"}], role_id


# --------------------------------------------------------------------------- alarms


def alarm_on(template: dict[str, Any], namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) == (namespace, metric)
    ]


def test_alarms_on_the_audit_pipeline_and_on_500s(template: dict[str, Any]) -> None:
    errors = [a for a in alarm_on(template, "AWS/Lambda", "Errors") if a["Dimensions"][0]["Value"] == {"Ref": FUNCTION}]
    assert len(errors) == 1
    assert (errors[0]["Threshold"], errors[0]["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    queued = [
        a
        for a in alarm_on(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
        if a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [QUEUE, "QueueName"]}}]
    ]
    assert len(queued) == 1
    (server_errors,) = alarm_on(template, telemetry.NAMESPACE, "Responses5xx")
    # The EMF dimensions the middleware writes (service, stage), or the alarm watches a metric that never exists.
    assert {d["Name"]: d["Value"] for d in server_errors["Dimensions"]} == {
        "service": telemetry.SERVICE,
        "stage": {"Ref": "Stage"},
    }
    assert (server_errors["Statistic"], server_errors["Threshold"]) == ("Sum", 0)
