"""tools/stack_template.py, tools/stack_alarms.py and tools/stack_lint.py on small templates (no packaging)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.package_helpers import ROOT
from tools import stack_alarms, stack_lint, stack_template

FRAGMENTS = [ROOT / "infra" / name for name in ("template.json", "monitoring.json")]


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "Parameters": {"Stage": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"}},
        "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {}}, **resources},
    }


def _queue() -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {}}


def _function(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


def _alarms(template: dict[str, Any]) -> dict[str, Any]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == stack_template.ALARM_TYPE}


# --------------------------------------------------------------------------- merge


def test_deep_merge_adds_to_objects_and_keeps_equal_values() -> None:
    base = {"Resources": {"RestAPI": {"Properties": {"A": 1, "Same": [1, 2]}}}}
    addition = {"Resources": {"RestAPI": {"Properties": {"B": {"C": 2}, "Same": [1, 2]}}, "New": {"Type": "X"}}}
    merged = stack_template.deep_merge(base, addition)
    assert merged == {
        "Resources": {"RestAPI": {"Properties": {"A": 1, "Same": [1, 2], "B": {"C": 2}}}, "New": {"Type": "X"}}
    }
    assert base == {"Resources": {"RestAPI": {"Properties": {"A": 1, "Same": [1, 2]}}}}, "inputs untouched"


@pytest.mark.parametrize("different", [2, [1], {"A": 1}, "1"])
def test_deep_merge_refuses_to_override(different: Any) -> None:
    with pytest.raises(stack_template.Conflict, match=r"Resources\.X\.Properties\.A"):
        stack_template.deep_merge(
            {"Resources": {"X": {"Properties": {"A": 1}}}}, {"Resources": {"X": {"Properties": {"A": different}}}}
        )


def test_the_project_fragments_merge(tmp_path: Path) -> None:
    merged = stack_template.merge_fragments(FRAGMENTS)
    api = merged["Resources"]["RestAPI"]["Properties"]
    assert "GatewayResponses" in api, "from template.json"
    assert "AccessLogSetting" in api, "from monitoring.json"
    assert "TracingEnabled" in api, "from template.json: X-Ray on the stage (cfn-lint-serverless WS2002)"
    assert stack_template.main(["merge", str(tmp_path / "m.json"), *map(str, FRAGMENTS)]) == 0
    clash = tmp_path / "clash.json"
    clash.write_text('{"Parameters": {"Stage": {"Default": "prod"}}}')
    assert stack_template.main(["merge", str(tmp_path / "m.json"), str(FRAGMENTS[0]), str(clash)]) == 1


# --------------------------------------------------------------------------- finish


def test_stage_is_pinned_to_the_packaged_one() -> None:
    finished = stack_template.finish(_template(), "prod")
    assert finished["Parameters"]["Stage"] == {"Type": "String", "AllowedValues": ["prod"], "Default": "prod"}
    with pytest.raises(ValueError, match="sandbox"):
        stack_template.finish(_template(), "sandbox")


def test_generated_alarms_cover_each_kind_of_resource() -> None:
    stream = _function(Events={"S": {"Type": "DynamoDB", "Properties": {}}})
    scheduled = _function(Events={"T": {"Type": "Schedule", "Properties": {}}})
    template = _template(
        Dlq=_queue(), Stream=stream, Job=scheduled, Things={"Type": "AWS::DynamoDB::Table", "Properties": {}}
    )
    assert sorted(_alarms(stack_template.finish(template, "dev"))) == [
        "DlqDepthAlarm",
        "JobErrorsAlarm",
        "JobThrottlesAlarm",
        "StreamErrorsAlarm",
        "StreamIteratorAgeAlarm",
        "StreamThrottlesAlarm",
        "ThingsThrottlesAlarm",
    ]


def test_a_hand_written_alarm_on_the_same_metric_wins() -> None:
    own = copy.deepcopy(stack_alarms.queue_depth("Dlq"))
    own["Properties"]["AlarmDescription"] = "replay with ecf-admin ..."
    errors = copy.deepcopy(stack_alarms.function_errors("Job"))
    finished = stack_template.finish(_template(Dlq=_queue(), MyDlqAlarm=own, Job=_function(), MyErrors=errors), "dev")
    assert sorted(_alarms(finished)) == ["JobThrottlesAlarm", "MyDlqAlarm", "MyErrors"]


def test_metric_math_alarms_count_as_coverage() -> None:
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {}}
    own = copy.deepcopy(stack_alarms.table_throttles("Things"))
    finished = stack_template.finish(_template(Things=table, Mine=own), "dev")
    assert sorted(_alarms(finished)) == ["Mine"]


def test_every_alarm_notifies_the_topic_whatever_it_had() -> None:
    conditional = copy.deepcopy(stack_alarms.queue_depth("A"))
    conditional["Properties"]["AlarmActions"] = {"Fn::If": ["HasTopic", [{"Ref": "Other"}], {"Ref": "AWS::NoValue"}]}
    listed = copy.deepcopy(stack_alarms.queue_depth("B"))
    listed["Properties"]["AlarmActions"] = [{"Ref": "Pager"}]
    finished = stack_template.finish(_template(A=_queue(), B=_queue(), AlarmA=conditional, AlarmB=listed), "dev")
    alarms = _alarms(finished)
    assert alarms["AlarmA"]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert alarms["AlarmB"]["Properties"]["AlarmActions"] == [{"Ref": "Pager"}, {"Ref": "AlarmTopic"}]
    assert all(a["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}] for lid, a in alarms.items() if lid != "AlarmB")
    without_topic = _template()
    del without_topic["Resources"]["AlarmTopic"]
    with pytest.raises(ValueError, match="AlarmTopic"):
        stack_template.finish(without_topic, "dev")


def test_a_generated_id_taken_by_another_resource_is_an_error() -> None:
    template = _template(Dlq=_queue(), DlqDepthAlarm={"Type": "AWS::SSM::Parameter", "Properties": {}})
    with pytest.raises(stack_template.Conflict, match="DlqDepthAlarm"):
        stack_template.finish(template, "dev")


# --------------------------------------------------------------------------- verified lint suppressions


def test_only_failure_destinations_count_as_dead_letter_queues() -> None:
    arn = {"Fn::GetAtt": ["Dlq", "Arn"]}
    template = _template(
        Dlq=_queue(),
        Work=_queue(),
        Stream=_function(Events={"S": {"Properties": {"DestinationConfig": {"OnFailure": {"Destination": arn}}}}}),
        Job=_function(Events={"T": {"Properties": {"DeadLetterConfig": {"Arn": arn}}}}),
        Reader=_function(Policies=[{"Resource": {"Fn::GetAtt": ["Work", "Arn"]}}]),
    )
    assert stack_lint.dead_letter_queues(template) == {"Dlq": ["Stream", "Job"]}
    stack_lint.add_verified_suppressions(template)
    metadata = template["Resources"]["Dlq"]["Metadata"]
    assert metadata["cfn-lint"]["config"]["ignore_checks"] == ["ES6000"]
    assert "Job, Stream" in metadata["cfn-lint-reasons"]["ES6000"]
    assert "Metadata" not in template["Resources"]["Work"], "a queue nothing fails into keeps the finding"


def _log_group(name: str, **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": name}, **properties}}


def test_a_function_log_group_is_recognised_by_its_name_and_retention() -> None:
    name = {"Fn::Sub": "app-${Stage}-job"}
    template = _template(
        Job=_function(FunctionName=name),
        Other=_function(FunctionName={"Fn::Sub": "app-${Stage}-other"}),
        JobLogs=_log_group("/aws/lambda/app-${Stage}-job", RetentionInDays=90),
        OtherLogs=_log_group("/aws/lambda/app-${Stage}-other"),
    )
    assert stack_lint.function_log_groups(template) == {"Job": "JobLogs"}, "no retention, no suppression"


def test_suppressing_twice_keeps_one_entry() -> None:
    resource: dict[str, Any] = {"Metadata": {"cfn-lint": {"config": {"ignore_checks": ["WS1000"]}}}}
    stack_lint.suppress(resource, "WS1004", "first reason for this")
    stack_lint.suppress(resource, "WS1004", "second reason for this")
    assert resource["Metadata"]["cfn-lint"]["config"]["ignore_checks"] == ["WS1000", "WS1004"]
    assert resource["Metadata"]["cfn-lint-reasons"] == {"WS1004": "second reason for this"}
