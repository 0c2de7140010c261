"""Monitoring in the packaged template (infra/monitoring.json, tools/stack_template.py finish): alarms on every
resource that can fail, one topic for all of them, API access logs, on-failure destinations for the schedules,
the dashboard, and a written reason for every cfn-lint suppression."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.package_helpers import ROOT, Packaged
from tools import stack_alarms

ALARM = "AWS::CloudWatch::Alarm"
FUNCTION = "AWS::Serverless::Function"
QUEUE = "AWS::SQS::Queue"
TABLE = "AWS::DynamoDB::Table"
API_NAME = {"Fn::Sub": "ecf-lp-api-${Stage}"}
SCHEDULED = ("ReconcileMigrations", "ReconcileEligibility", "MarkStatementsPayable")
FAILURES_QUEUE = "ScheduledJobFailuresQueue"


@pytest.fixture(scope="module")
def resources(packaged: Packaged) -> dict[str, Any]:
    return packaged.template["Resources"]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def _metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric an alarm reads (plain, or each MetricStat of metric math), with its statistic."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [{**properties, "Stat": properties.get("Statistic") or properties.get("ExtendedStatistic")}]
    stats = [m["MetricStat"] for m in properties.get("Metrics", []) if "MetricStat" in m]
    return [{**stat["Metric"], "Stat": stat["Stat"]} for stat in stats]


def _alarmed(resources: dict[str, Any], namespace: str, metric: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(alarm properties, metric) for each alarm that reads ``namespace``/``metric``."""
    return [
        (alarm["Properties"], m)
        for alarm in _of_type(resources, ALARM).values()
        for m in _metrics(alarm)
        if (m["Namespace"], m["MetricName"]) == (namespace, metric)
    ]


def _dimension_values(found: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[Any]:
    return [m["Dimensions"][0]["Value"] for _, m in found if len(m["Dimensions"]) == 1]


# --------------------------------------------------------------------------- alarms


def test_api_alarms_on_5xx_4xx_spikes_and_p99_latency(resources: dict[str, Any]) -> None:
    api_dimension = [{"Name": "ApiName", "Value": API_NAME}]
    (server_errors,) = _alarmed(resources, "AWS/ApiGateway", "5XXError")
    assert server_errors[1]["Dimensions"] == api_dimension
    (client_errors,) = _alarmed(resources, "AWS/ApiGateway", "4XXError")
    assert client_errors[1]["Dimensions"] == api_dimension
    assert any("/ errors" in m.get("Expression", "") or "errors / requests" in m.get("Expression", "")
               for m in client_errors[0]["Metrics"]), "a spike is a share of the requests, not a count"  # fmt: skip
    (latency,) = _alarmed(resources, "AWS/ApiGateway", "Latency")
    assert latency[1]["Dimensions"] == api_dimension
    assert latency[1]["Stat"] == "p99"
    # The metrics' ApiName is the REST API's name, which the merge sets per stage (the OpenAPI title names it).
    assert resources["RestAPI"]["Properties"]["DefinitionBody"]["info"]["title"] == API_NAME


def test_every_function_has_errors_and_throttles_alarms(resources: dict[str, Any]) -> None:
    functions = {lid: {"Ref": lid} for lid in _of_type(resources, FUNCTION)}
    assert len(functions) >= 7
    for metric in ("Errors", "Throttles"):
        alarmed = _dimension_values(_alarmed(resources, "AWS/Lambda", metric))
        missing = [lid for lid, ref in functions.items() if ref not in alarmed]
        assert missing == [], f"{metric}: {missing}"


def test_every_stream_function_has_an_iterator_age_alarm(resources: dict[str, Any]) -> None:
    streams = [
        lid
        for lid, r in _of_type(resources, FUNCTION).items()
        if any(e["Type"] == "DynamoDB" for e in r["Properties"].get("Events", {}).values())
    ]
    assert len(streams) >= 3
    alarmed = _alarmed(resources, "AWS/Lambda", "IteratorAge")
    for lid in streams:
        (alarm,) = [a for a, m in alarmed if m["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": lid}}]]
        assert alarm["Threshold"] <= 300_000, f"{lid}: behind by 5 minutes at most"


def test_every_table_has_a_throttle_alarm(resources: dict[str, Any]) -> None:
    tables = [{"Ref": lid} for lid in _of_type(resources, TABLE)]
    assert len(tables) >= 29
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        alarmed = _dimension_values(_alarmed(resources, "AWS/DynamoDB", metric))
        assert [t for t in tables if t not in alarmed] == [], metric


def test_every_queue_has_a_depth_alarm(resources: dict[str, Any]) -> None:
    """Every queue of the stack is a dead-letter queue: one message is a failure that used up its retries."""
    queues = list(_of_type(resources, QUEUE))
    assert FAILURES_QUEUE in queues
    alarmed = _alarmed(resources, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for queue in queues:
        (alarm,) = [a for a, m in alarmed if m["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold"), queue


def test_every_alarm_notifies_the_alarm_topic(resources: dict[str, Any]) -> None:
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    alarms = _of_type(resources, ALARM)
    for lid, alarm in alarms.items():
        properties = alarm["Properties"]
        assert {"Ref": "AlarmTopic"} in properties["AlarmActions"], lid
        assert {"Ref": "AlarmTopic"} in properties["OKActions"], lid
        # The topic policy lets CloudWatch publish for this stage's alarms by name.
        assert properties["AlarmName"]["Fn::Sub"].startswith("ecf-lp-api-${Stage}-"), lid
    (policy,) = _of_type(resources, "AWS::SNS::TopicPolicy").values()
    (publish,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "sns:Publish"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":alarm:ecf-lp-api-${Stage}-*")
    names = [json.dumps(a["Properties"]["AlarmName"]) for a in alarms.values()]
    assert len(set(names)) == len(names), "alarm names are unique"


def test_every_alarm_has_a_runbook_entry(resources: dict[str, Any]) -> None:
    """docs/operations.md says what to do for each alarm: by logical id, or by the suffix of a generated kind."""
    runbook = (ROOT / "docs" / "operations.md").read_text()
    generated = ("DepthAlarm", "ErrorsAlarm", "ThrottlesAlarm", "IteratorAgeAlarm")
    for lid in _of_type(resources, ALARM):
        kind = next((suffix for suffix in generated if lid.endswith(suffix)), None)
        assert (
            f"`{lid}`" in runbook
            or f"`<Queue>{kind}`" in runbook
            or f"`<Function>{kind}`" in runbook
            or (f"`<Table>{kind}`" in runbook)
        ), lid


def test_alarm_email_is_optional(packaged: Packaged) -> None:
    template = packaged.template
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


# --------------------------------------------------------------------------- access logs


def test_api_access_log_is_json_with_request_status_and_latency(resources: dict[str, Any]) -> None:
    setting = resources["RestAPI"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    group = resources["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    # API Gateway writes each $context variable as its text: "-" when it has no value, so only variables that
    # always have one may stand unquoted (as numbers).
    line = re.sub(r'"\$context\.[A-Za-z.]+"', '"-"', setting["Format"])
    line = re.sub(r"\$context\.[A-Za-z.]+", "200", line)
    entry = json.loads(line)
    unquoted = set(re.findall(r'"(\w+)":\$context', setting["Format"]))
    assert unquoted == {"status", "responseLatency"}
    for field in ("requestId", "status", "responseLatency", "integrationLatency", "httpMethod", "resourcePath"):
        assert field in entry, field
    assert "$context.requestId" in setting["Format"], "the id the app's request log line and the 500 body carry"


# --------------------------------------------------------------------------- scheduled functions


def test_scheduled_functions_send_failures_to_a_queue(resources: dict[str, Any]) -> None:
    arn = {"Fn::GetAtt": [FAILURES_QUEUE, "Arn"]}
    roles = []
    for lid in SCHEDULED:
        function = resources[lid]
        invoke = function["Properties"]["EventInvokeConfig"]
        assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": arn}, lid
        assert invoke["MaximumRetryAttempts"] <= 2, lid
        assert "ScheduledJobFailuresSendPolicy" in function["DependsOn"], f"{lid}: Lambda checks the role's grant"
        (event,) = function["Properties"]["Events"].values()
        assert event["Type"] == "Schedule"
        assert event["Properties"]["DeadLetterConfig"] == {"Arn": arn}, f"{lid}: EventBridge's own failures"
        roles.append(function["Properties"]["Role"]["Fn::GetAtt"][0])
    policy = resources["ScheduledJobFailuresSendPolicy"]["Properties"]
    assert sorted(r["Ref"] for r in policy["Roles"]) == sorted(roles)
    assert policy["PolicyDocument"]["Statement"] == [
        {"Sid": "OnFailureDestination", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}
    ]
    queue_policies = _of_type(resources, "AWS::SQS::QueuePolicy").values()
    (queue_policy,) = [r for r in queue_policies if {"Ref": FAILURES_QUEUE} in r["Properties"]["Queues"]]
    statements = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    (events,) = [s for s in statements if s["Effect"] == "Allow"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":rule/${AWS::StackName}-*")


def test_every_queue_is_encrypted_and_tls_only(resources: dict[str, Any]) -> None:
    policies = {
        queue["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
        for r in _of_type(resources, "AWS::SQS::QueuePolicy").values()
        for queue in r["Properties"]["Queues"]
    }
    for lid, queue in _of_type(resources, QUEUE).items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, lid
        (deny,) = [s for s in policies[lid] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, lid


# --------------------------------------------------------------------------- dashboard and lint


def test_dashboard_shows_every_alarm_function_queue_and_table(resources: dict[str, Any]) -> None:
    body_text = resources[stack_alarms.DASHBOARD]["Properties"]["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}]+)\}", body_text))
    for reference in references:
        base = reference.split(".")[0]
        assert base in resources or base.startswith("AWS::") or base == "Stage", reference
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", body_text))
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarm_widget["properties"]["alarms"]) == len(_of_type(resources, ALARM)) <= 100
    for kind in (FUNCTION, TABLE, ALARM):
        for lid in _of_type(resources, kind):
            assert f"${{{lid}}}" in body_text or f"${{{lid}.Arn}}" in body_text, lid
    for lid in _of_type(resources, QUEUE):
        assert f"${{{lid}.QueueName}}" in body_text, lid


def test_every_lint_suppression_has_a_reason(packaged: Packaged) -> None:
    suppressed = 0
    for lid, resource in packaged.template["Resources"].items():
        metadata = resource.get("Metadata", {})
        checks = metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", [])
        reasons = metadata.get("cfn-lint-reasons", {})
        assert set(checks) == set(reasons), f"{lid}: each suppressed rule and only those have a reason"
        assert all(len(reason) > 20 for reason in reasons.values()), lid
        suppressed += len(checks)
        if "ES6000" in checks:
            assert resource["Type"] == QUEUE, lid
    assert suppressed > 0
