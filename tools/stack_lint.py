"""cfn-lint suppressions the packaged template earns by construction, each checked before it is added.

A suppression is ``Metadata.cfn-lint.config.ignore_checks`` on one resource, with its reason beside it in
``Metadata.cfn-lint-reasons`` (tests/test_package.py requires a reason for every suppressed rule). Hand-written
ones live with their resource in infra/*.json; ``tools/stack_template.py finish`` adds these two kinds, where the
rule's intent is met in a way the rule cannot see:

* ES6000 (SQS queue without a redrive policy) on a queue that is a failure destination (an event source's or
  an async invocation's ``OnFailure``, a rule target's ``DeadLetterConfig``): a dead-letter queue is the end of the
  line and has no redrive of its own;
* WS1004 (Lambda function without a log group with retention) on a function whose log group is named
  ``/aws/lambda/<the function's name>`` with the same ``Fn::Sub`` and has ``RetentionInDays``: the rule recognises
  only a log group name that references the function's logical id, which would make CloudFormation create the log
  group after the function (and race the function's first invocation to create it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

QUEUE_TYPE = "AWS::SQS::Queue"
FUNCTION_TYPE = "AWS::Serverless::Function"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
REASONS = "cfn-lint-reasons"
FAILURE_KEYS = ("OnFailure", "DeadLetterConfig")


def suppress(resource: dict[str, Any], rule: str, reason: str) -> None:
    metadata = resource.setdefault("Metadata", {})
    checks = metadata.setdefault("cfn-lint", {}).setdefault("config", {}).setdefault("ignore_checks", [])
    if rule not in checks:
        checks.append(rule)
    metadata.setdefault(REASONS, {})[rule] = reason


def _arn_targets(node: Any) -> Iterator[str]:
    """Logical ids named by ``Fn::GetAtt [X, Arn]`` anywhere under ``node``."""
    if isinstance(node, dict):
        target = node.get("Fn::GetAtt")
        if isinstance(target, list) and target[1:] == ["Arn"]:
            yield target[0]
        for value in node.values():
            yield from _arn_targets(value)
    elif isinstance(node, list):
        for item in node:
            yield from _arn_targets(item)


def _failure_destinations(node: Any, owner: str) -> Iterator[tuple[str, str]]:
    """(queue logical id, owner) for every ARN under an ``OnFailure`` or ``DeadLetterConfig`` of ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in FAILURE_KEYS:
                yield from ((target, owner) for target in _arn_targets(value))
            else:
                yield from _failure_destinations(value, owner)
    elif isinstance(node, list):
        for item in node:
            yield from _failure_destinations(item, owner)


def dead_letter_queues(template: dict[str, Any]) -> dict[str, list[str]]:
    """Queue logical id -> the resources that send their failures to it."""
    resources = template["Resources"]
    found: dict[str, list[str]] = {}
    for lid, resource in resources.items():
        for queue, owner in _failure_destinations(resource.get("Properties", {}), lid):
            if resources.get(queue, {}).get("Type") == QUEUE_TYPE:
                found.setdefault(queue, []).append(owner)
    return found


def function_log_groups(template: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> its log group's logical id (``/aws/lambda/`` + the function's name, with retention)."""
    resources = template["Resources"]
    groups = {
        _sub(r["Properties"].get("LogGroupName")): lid
        for lid, r in resources.items()
        if r.get("Type") == LOG_GROUP_TYPE and "RetentionInDays" in r.get("Properties", {})
    }
    found = {}
    for lid, resource in resources.items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        name = _sub(resource.get("Properties", {}).get("FunctionName"))
        if name is not None and f"/aws/lambda/{name}" in groups:
            found[lid] = groups[f"/aws/lambda/{name}"]
    return found


def _sub(value: Any) -> str | None:
    """The text of a string or string-form ``Fn::Sub``."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return str(value["Fn::Sub"])
    return value if isinstance(value, str) else None


def add_verified_suppressions(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for queue, owners in dead_letter_queues(template).items():
        reason = f"a dead-letter queue (the failures of {', '.join(sorted(set(owners)))}): it has no redrive of its own"
        suppress(resources[queue], "ES6000", reason)
    for function, group in function_log_groups(template).items():
        reason = f"its log group is {group} (/aws/lambda/<function name>, with RetentionInDays)"
        suppress(resources[function], "WS1004", reason)
