"""The alarms every resource of a kind gets, and the dashboard, generated from the packaged template.

``tools/stack_template.py finish`` adds each alarm below unless the template already has one on the same metric
of the same resource (a hand-written alarm with a specific runbook wins):

=========================  ==================================================  =====================================
resource                   metric                                              alarm when
=========================  ==================================================  =====================================
every SQS queue            ApproximateNumberOfMessagesVisible (Maximum)        any message, in a 5-minute period
every function             Errors (Sum)                                        any, in two consecutive 5 minutes
every function             Throttles (Sum)                                     any, in a 5-minute period
every DynamoDB-stream      IteratorAge (Maximum)                               over 5 minutes behind, for 5 minutes
function
every DynamoDB table       ReadThrottleEvents + WriteThrottleEvents (Sum)      any, in a 5-minute period
=========================  ==================================================  =====================================

Every queue of this stack is a dead-letter queue (stream batches, async invocations), so a message is always
something that failed after retries. What to do about each alarm: docs/operations.md ("Alarms").
"""

from __future__ import annotations

import json
import re
from typing import Any

ALARM_TYPE = "AWS::CloudWatch::Alarm"
FUNCTION_TYPE = "AWS::Serverless::Function"
QUEUE_TYPE = "AWS::SQS::Queue"
TABLE_TYPE = "AWS::DynamoDB::Table"
DASHBOARD = "Dashboard"
API_NAME = "ecf-lp-api-${Stage}"  # infra/monitoring.json names the REST API so (the ApiName metric dimension)
RUNBOOK = "docs/operations.md#alarms"
ITERATOR_AGE_MS = 300_000
IGNORE = "notBreaching"


def _kebab(logical_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


def _name(logical_id: str, what: str) -> dict[str, str]:
    return {"Fn::Sub": f"ecf-lp-api-${{Stage}}-{_kebab(logical_id)}-{what}"}


def _alarm(logical_id: str, what: str, description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": ALARM_TYPE,
        "Properties": {
            "AlarmName": _name(logical_id, what),
            "AlarmDescription": f"{description} ({RUNBOOK})",
            "TreatMissingData": IGNORE,
            "ComparisonOperator": "GreaterThanThreshold",
            **properties,
        },
    }


def _metric(namespace: str, name: str, dimension: str, value: Any) -> dict[str, Any]:
    return {"Namespace": namespace, "MetricName": name, "Dimensions": [{"Name": dimension, "Value": value}]}


def queue_depth(queue: str) -> dict[str, Any]:
    return _alarm(
        queue,
        "not-empty",
        f"{queue} holds messages: work that failed after its retries",
        **_metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]}),
        Statistic="Maximum", Period=300, EvaluationPeriods=1, Threshold=0,
    )  # fmt: skip


def function_errors(function: str) -> dict[str, Any]:
    return _alarm(
        function,
        "errors",
        f"{function} failed (unhandled exception or timeout) in two consecutive 5-minute periods",
        **_metric("AWS/Lambda", "Errors", "FunctionName", {"Ref": function}),
        Statistic="Sum", Period=300, EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=0,
    )  # fmt: skip


def function_throttles(function: str) -> dict[str, Any]:
    return _alarm(
        function,
        "throttles",
        f"{function} was throttled: its reserved concurrency (.chalice/config.json) or the account's limit",
        **_metric("AWS/Lambda", "Throttles", "FunctionName", {"Ref": function}),
        Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=0,
    )  # fmt: skip


def iterator_age(function: str) -> dict[str, Any]:
    return _alarm(
        function,
        "iterator-age",
        f"{function} is more than 5 minutes behind one of its streams",
        **_metric("AWS/Lambda", "IteratorAge", "FunctionName", {"Ref": function}),
        Statistic="Maximum", Period=60, EvaluationPeriods=5, Threshold=ITERATOR_AGE_MS,
    )  # fmt: skip


def _stat(metric_id: str, metric: dict[str, Any], stat: str, period: int) -> dict[str, Any]:
    return {"Id": metric_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, "ReturnData": False}


def table_throttles(table: str) -> dict[str, Any]:
    reads = _metric("AWS/DynamoDB", "ReadThrottleEvents", "TableName", {"Ref": table})
    writes = _metric("AWS/DynamoDB", "WriteThrottleEvents", "TableName", {"Ref": table})
    metrics = [
        _stat("reads", reads, "Sum", 300),
        _stat("writes", writes, "Sum", 300),
        {"Id": "throttles", "Expression": "FILL(reads, 0) + FILL(writes, 0)", "Label": "throttled", "ReturnData": True},
    ]
    return _alarm(
        table,
        "throttles",
        f"DynamoDB throttled reads or writes on {table} (on-demand: a hot partition or the table's maximum)",
        Metrics=metrics, EvaluationPeriods=1, Threshold=0,
    )  # fmt: skip


def _has_stream_events(resource: dict[str, Any]) -> bool:
    events = resource.get("Properties", {}).get("Events", {})
    return any(event.get("Type") == "DynamoDB" for event in events.values())


def _wanted(logical_id: str, resource: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(alarm logical id, alarm) for each alarm this kind of resource gets."""
    kind = resource.get("Type")
    if kind == QUEUE_TYPE:
        return [(f"{logical_id}DepthAlarm", queue_depth(logical_id))]
    if kind == TABLE_TYPE:
        return [(f"{logical_id}ThrottlesAlarm", table_throttles(logical_id))]
    if kind != FUNCTION_TYPE:
        return []
    wanted = [
        (f"{logical_id}ErrorsAlarm", function_errors(logical_id)),
        (f"{logical_id}ThrottlesAlarm", function_throttles(logical_id)),
    ]
    if _has_stream_events(resource):
        wanted.append((f"{logical_id}IteratorAgeAlarm", iterator_age(logical_id)))
    return wanted


def watched(alarm: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(namespace, metric, dimensions as JSON) of every metric an alarm reads, plain or in metric math."""
    properties = alarm["Properties"]
    metrics = [properties] if "MetricName" in properties else []
    metrics += [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
    return {(m["Namespace"], m["MetricName"], json.dumps(m.get("Dimensions", []), sort_keys=True)) for m in metrics}


def missing_alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The generated alarms the template lacks: by logical id."""
    resources = template["Resources"]
    covered = set().union(*(watched(r) for r in resources.values() if r.get("Type") == ALARM_TYPE))
    missing = {}
    for logical_id, resource in resources.items():
        for alarm_id, alarm in _wanted(logical_id, resource):
            if not watched(alarm) & covered:
                missing[alarm_id] = alarm
    return missing


# --------------------------------------------------------------------------- dashboard


def _of_type(template: dict[str, Any], kind: str) -> list[str]:
    return sorted(lid for lid, r in template["Resources"].items() if r.get("Type") == kind)


def _widget(title: str, metrics: list[list[Any]], **view: Any) -> dict[str, Any]:
    properties = {"title": title, "region": "${AWS::Region}", "metrics": metrics, "period": 300, **view}
    return {"type": "metric", "width": 12, "height": 6, "properties": properties}


def _per(resources: list[str], namespace: str, metric: str, dimension: str, stat: str, value: str = "${%s}") -> Any:
    return [[namespace, metric, dimension, value % lid, {"stat": stat, "label": lid}] for lid in resources]


def _api_widgets() -> list[dict[str, Any]]:
    api = ["AWS/ApiGateway"]
    return [
        _widget(
            "API requests and errors",
            [[*api, name, "ApiName", API_NAME, {"stat": "Sum"}] for name in ("Count", "4XXError", "5XXError")],
        ),
        _widget(
            "API latency (ms)",
            [[*api, "Latency", "ApiName", API_NAME, {"stat": stat}] for stat in ("p50", "p90", "p99")]
            + [[*api, "IntegrationLatency", "ApiName", API_NAME, {"stat": "p99"}]],
        ),
    ]


def _function_widgets(functions: list[str], streams: list[str]) -> list[dict[str, Any]]:
    lam = ("AWS/Lambda", "FunctionName")
    return [
        _widget("Lambda invocations", _per(functions, lam[0], "Invocations", lam[1], "Sum")),
        _widget("Lambda errors", _per(functions, lam[0], "Errors", lam[1], "Sum")),
        _widget("Lambda throttles", _per(functions, lam[0], "Throttles", lam[1], "Sum")),
        _widget("Lambda duration p99 (ms)", _per(functions, lam[0], "Duration", lam[1], "p99")),
        _widget("Lambda concurrent executions", _per(functions, lam[0], "ConcurrentExecutions", lam[1], "Maximum")),
        _widget("Stream iterator age (ms)", _per(streams, lam[0], "IteratorAge", lam[1], "Maximum")),
    ]


def _storage_widgets(queues: list[str], tables: list[str]) -> list[dict[str, Any]]:
    depth = _per(queues, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "Maximum", "${%s.QueueName}")
    dynamo = ("AWS/DynamoDB", "TableName")
    return [
        _widget("Dead-letter queues: messages", depth),
        _widget("DynamoDB read throttle events", _per(tables, dynamo[0], "ReadThrottleEvents", dynamo[1], "Sum")),
        _widget("DynamoDB write throttle events", _per(tables, dynamo[0], "WriteThrottleEvents", dynamo[1], "Sum")),
        _widget(
            "DynamoDB consumed write capacity", _per(tables, dynamo[0], "ConsumedWriteCapacityUnits", dynamo[1], "Sum")
        ),
    ]


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """One CloudWatch dashboard: alarm states, the API, every function, queue and table of the template."""
    functions = _of_type(template, FUNCTION_TYPE)
    streams = [lid for lid in functions if _has_stream_events(template["Resources"][lid])]
    alarms = _of_type(template, ALARM_TYPE) + sorted(missing_alarms(template))
    widgets = [
        {
            "type": "alarm",
            "width": 24,
            "height": 2 + len(alarms) // 4,
            "properties": {"title": "Alarms", "alarms": [f"${{{lid}.Arn}}" for lid in alarms]},
        },
        *_api_widgets(),
        *_function_widgets(functions, streams),
        *_storage_widgets(_of_type(template, QUEUE_TYPE), _of_type(template, TABLE_TYPE)),
    ]
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": {"Fn::Sub": "ecf-lp-api-${Stage}"}, "DashboardBody": {"Fn::Sub": body}},
    }
