"""Deployment template (infra/template.json) against the code: tables, streams, IAM, and the packaged SAM output.

The PynamoDB models are the source of truth for keys and indexes; these tests fail when a model and the
CloudFormation that provisions its table drift apart, or when `chalice package` output no longer lines up
with what the merge template patches (function, event source and role logical ids).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.utils import to_cfn_resource_name
from moto import mock_aws
from pynamodb.models import Model

from chalicelib import config, models
from chalicelib.domain import messages as m
from chalicelib.events.handlers import (
    CHANGES_STREAM_HANDLER,
    CHANGES_STREAM_PLACEHOLDER,
    ELIGIBILITY_STREAM_PLACEHOLDER,
    MARK_PAYABLE_SCHEDULE,
    PARTNERSHIPS_STREAM_PLACEHOLDER,
    RECONCILE_ELIGIBILITY_SCHEDULE,
    RECONCILE_SCHEDULE,
    stream_handlers,
)
from tests.package_helpers import Packaged
from tools import infra_tables

# Import every module of chalicelib/models as tools/infra_tables.py does, so both see the same table models.
_, BROKEN_MODEL_MODULES = infra_tables.load_models()

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "template.json"
CHALICE_CONFIG_PATH = ROOT / ".chalice" / "config.json"
POLICY_PATH = ROOT / ".chalice" / "policy.json"

STAGES = ("dev", "test", "sandbox", "prod")
REGION = "eu-west-2"
ACCOUNT = "123456789012"
TABLE_TYPE = "AWS::DynamoDB::Table"
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
# What the repositories do through PynamoDB (TransactWrite is authorised per item action: Put, Update,
# Delete, ConditionCheck), plus DescribeTable, which PynamoDB calls once per table per process.
DYNAMODB_ITEM_ACTIONS = {
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
}
STREAM_READ_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
# The only DynamoDB action without resource-level permissions (IAM requires Resource "*" for it).
NO_RESOURCE_LEVEL_ACTIONS = {"dynamodb:ListStreams"}
LOG_WRITE_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# X-Ray (Tracing: Active): every role; X-Ray has no resource-level permissions, so these are on "*".
TRACE_WRITE_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Every function `chalice package` generates (logical id) and the role infra/template.json gives it.
FUNCTION_ROLES = {
    "APIHandler": "ApiHandlerRole",
    "OnPartnershipChange": "OnPartnershipChangeRole",
    "ReconcileMigrations": "ReconcileMigrationsRole",
    "OnEligibilityChange": "OnEligibilityChangeRole",
    "ReconcileEligibility": "ReconcileEligibilityRole",
    "MarkStatementsPayable": "MarkStatementsPayableRole",
    "RecordChanges": "RecordChangesRole",
    "RecordApiRequests": "RecordApiRequestsRole",
}
# Scheduled functions: handler, schedule expression, and the longest window their Errors alarm may take.
SCHEDULES = {
    "ReconcileMigrations": (f"app.{RECONCILE_SCHEDULE}", "rate(5 minutes)", 900),
    "ReconcileEligibility": (f"app.{RECONCILE_ELIGIBILITY_SCHEDULE}", "rate(5 minutes)", 900),
    "MarkStatementsPayable": (f"app.{MARK_PAYABLE_SCHEDULE}", "cron(30 0 * * ? *)", 3600),
}
STREAM_PLACEHOLDERS = (PARTNERSHIPS_STREAM_PLACEHOLDER, ELIGIBILITY_STREAM_PLACEHOLDER, CHANGES_STREAM_PLACEHOLDER)


# --------------------------------------------------------------------------- helpers


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _params(stage: str) -> dict[str, str]:
    return {"Stage": stage, "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}


_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def resolve(value: Any, params: dict[str, str]) -> str:
    """A string, ``Ref`` or ``Fn::Sub`` (string form) with parameters substituted; anything else fails."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return params[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return _SUB_VARIABLE.sub(lambda match: params[match.group(1)], value["Fn::Sub"])
    raise AssertionError(f"cannot resolve {value!r}")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def schema_of(description: dict[str, Any]) -> dict[str, Any]:
    """Keys, key attributes and indexes in one comparable shape.

    Takes CloudFormation table properties or a DescribeTable ``Table``: both use the same key names.
    """

    def keys(key_schema: list[dict[str, str]]) -> frozenset[tuple[str, str]]:
        return frozenset((k["AttributeName"], k["KeyType"]) for k in key_schema)

    def indexes(entries: list[dict[str, Any]] | None) -> dict[str, Any]:
        return {
            index["IndexName"]: (
                keys(index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                frozenset(index["Projection"].get("NonKeyAttributes", [])),
            )
            for index in entries or []
        }

    return {
        "key_schema": keys(description["KeySchema"]),
        "attributes": frozenset((a["AttributeName"], a["AttributeType"]) for a in description["AttributeDefinitions"]),
        "gsis": indexes(description.get("GlobalSecondaryIndexes")),
        "lsis": indexes(description.get("LocalSecondaryIndexes")),
    }


def model_schema(model: type[Model]) -> dict[str, Any]:
    """``schema_of`` for what PynamoDB's ``create_table`` would send for the model."""
    schema = model._get_schema()

    def index_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"IndexName": i["index_name"], "KeySchema": i["key_schema"], "Projection": i["projection"]} for i in entries
        ]

    return schema_of(
        {
            "KeySchema": schema["key_schema"],
            "AttributeDefinitions": schema["attribute_definitions"],
            "GlobalSecondaryIndexes": index_entries(schema["global_secondary_indexes"]),
            "LocalSecondaryIndexes": index_entries(schema["local_secondary_indexes"]),
        }
    )


def table_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r.get("Type") == TABLE_TYPE}


def table_logical_id(template: dict[str, Any], model: type[Model], stage: str = "dev") -> str:
    """The logical id of the one table whose name, for ``stage``, is the model's table."""
    wanted = f"ecf-lp-api-{stage}-{model.Meta.table_suffix}"
    found = [
        lid
        for lid, resource in table_resources(template).items()
        if resolve(resource["Properties"]["TableName"], _params(stage)) == wanted
    ]
    assert len(found) == 1, f"{model.__name__}: expected one table named {wanted}, found {found}"
    return found[0]


def stream_suffixes() -> set[str]:
    return {model.Meta.table_suffix for models_ in stream_handlers().values() for model in models_}


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def role_table_ids(template: dict[str, Any], role_id: str) -> list[str]:
    """The tables (logical ids) tools/infra_tables.py's ROLE_TABLES says the role reaches in its app-tables statement
    (ALL_TABLES: every table but the dedicated ones)."""
    wanted = infra_tables.ROLE_TABLES[role_id]
    table_models = models.table_models()
    if wanted == infra_tables.ALL_TABLES:
        table_models = [m for m in table_models if m.Meta.table_suffix not in infra_tables.DEDICATED_TABLES]
    else:
        by_suffix = {model.Meta.table_suffix: model for model in table_models}
        assert set(wanted) <= set(by_suffix), f"{role_id}: {sorted(set(wanted) - set(by_suffix))} are no tables"
        table_models = [by_suffix[suffix] for suffix in wanted]
    return [table_logical_id(template, model) for model in table_models]


def stream_sources(resources: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Function logical id → the properties of each of its DynamoDB event sources (template or packaged)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for lid, resource in resources.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if "Stream" in event.get("Properties", {}):
                found.setdefault(lid, []).append(event["Properties"])
    return found


def assert_dynamodb_least_privilege(statements: list[dict[str, Any]], where: str) -> None:
    for statement in statements:
        actions = {a.lower() for a in _as_list(statement["Action"])}
        assert "*" not in actions, where
        dynamodb = {a for a in actions if a.startswith("dynamodb:")}
        if not dynamodb:
            continue
        assert statement["Effect"] == "Allow", where
        assert not any("*" in a for a in dynamodb), f"{where}: {dynamodb}"
        assert "dynamodb:scan" not in dynamodb, f"{where}: Scan must not be granted"
        assert "NotAction" not in statement, where
        assert "NotResource" not in statement, where
        if "*" in _as_list(statement["Resource"]):
            allowed = {a.lower() for a in NO_RESOURCE_LEVEL_ACTIONS}
            assert dynamodb <= allowed, f"{where}: Resource '*' for {sorted(dynamodb - allowed)}"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return _load(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def chalice_config() -> dict[str, Any]:
    return _load(CHALICE_CONFIG_PATH)


# --------------------------------------------------------------------------- tables


def test_stage_parameter(template: dict[str, Any], chalice_config: dict[str, Any]) -> None:
    stage = template["Parameters"]["Stage"]
    assert stage["Type"] == "String"
    assert stage["AllowedValues"] == list(STAGES)
    assert stage["Default"] == "dev"
    for name in STAGES:
        assert name in chalice_config["stages"], f"{name} is deployable but not a Chalice stage"


def test_one_table_per_table_model(template: dict[str, Any]) -> None:
    ids = [table_logical_id(template, model) for model in models.table_models()]
    assert len(set(ids)) == len(ids)
    assert set(ids) == set(table_resources(template)), "template declares a table no model uses"


def test_template_is_what_the_generator_makes(template: dict[str, Any]) -> None:
    """Tables, their outputs and the roles' table lists come from tools/infra_tables.py: re-run it after a model
    change (``python tools/infra_tables.py --write``)."""
    assert not BROKEN_MODEL_MODULES, f"model modules that do not import: {BROKEN_MODEL_MODULES}"
    generated, warnings = infra_tables.generate(template, models.table_models())
    assert warnings == []
    stale = infra_tables.changes(template, generated) or ["formatting"]
    assert infra_tables.render(generated) == TEMPLATE_PATH.read_text(), f"run tools/infra_tables.py --write: {stale}"


@pytest.mark.parametrize("model", models.table_models(), ids=lambda m: m.Meta.table_suffix)
def test_table_schema_matches_model(template: dict[str, Any], model: type[Model]) -> None:
    properties = template["Resources"][table_logical_id(template, model)]["Properties"]
    assert schema_of(properties) == model_schema(model)
    # CloudFormation wants exactly the key attributes, HASH before RANGE.
    assert len(properties["AttributeDefinitions"]) == len(model_schema(model)["attributes"])
    assert properties["KeySchema"][0]["KeyType"] == "HASH"
    for index in properties.get("GlobalSecondaryIndexes", []):
        assert index["KeySchema"][0]["KeyType"] == "HASH", index["IndexName"]


@pytest.mark.parametrize("model", models.table_models(), ids=lambda m: m.Meta.table_suffix)
def test_table_is_protected_and_on_demand(template: dict[str, Any], model: type[Model]) -> None:
    resource = template["Resources"][table_logical_id(template, model)]
    properties = resource["Properties"]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties
    # Point-in-time recovery and deletion protection in prod (every stage retains its tables).
    assert template["Conditions"]["IsProduction"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    in_production = {"Fn::If": ["IsProduction", True, False]}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": in_production}
    assert properties["DeletionProtectionEnabled"] == in_production


def test_time_to_live_exactly_where_the_model_has_a_ttl_attribute(template: dict[str, Any]) -> None:
    """tools/infra_tables.py turns a model's ``TTLAttribute`` into the table's ``TimeToLiveSpecification`` (and
    PynamoDB's ``create_table`` enables the same on the local stack and in tests)."""
    with_ttl = []
    for model in models.table_models():
        properties = template["Resources"][table_logical_id(template, model)]["Properties"]
        ttl = model._ttl_attribute()
        if ttl is None:
            assert "TimeToLiveSpecification" not in properties, model.__name__
        else:
            assert properties["TimeToLiveSpecification"] == {"AttributeName": ttl.attr_name, "Enabled": True}
            with_ttl.append(model.Meta.table_suffix)
    assert sorted(with_ttl) == ["api-requests", "change-receipts", "changes", "idempotency", "rate-limits"]


def test_streams_exactly_where_handlers_consume_them(template: dict[str, Any]) -> None:
    assert stream_suffixes(), "stream_handlers() is empty"
    for model in models.table_models():
        properties = template["Resources"][table_logical_id(template, model)]["Properties"]
        if model.Meta.table_suffix in stream_suffixes():
            assert properties.get("StreamSpecification") == {"StreamViewType": STREAM_VIEW}, model.__name__
            # The local stack creates the table from the model: it must ask for the same stream.
            assert getattr(model.Meta, "stream_view_type", None) == STREAM_VIEW, model.__name__
        else:
            assert "StreamSpecification" not in properties, f"{model.__name__}: stream nobody reads"


@pytest.mark.parametrize("stage", STAGES)
def test_table_names_are_what_the_code_uses(
    template: dict[str, Any], chalice_config: dict[str, Any], stage: str
) -> None:
    """Per stage: Chalice's TABLE_PREFIX, the template's names and the code's ``table_name()`` agree."""
    prefix = chalice_config["stages"][stage]["environment_variables"]["TABLE_PREFIX"]
    assert prefix == f"{config.APP_NAME}-{stage}"
    resolved = {
        lid: resolve(resource["Properties"]["TableName"], _params(stage))
        for lid, resource in table_resources(template).items()
    }
    config.configure(stage=stage, table_prefix=prefix)
    models.rebind_all()
    try:
        code_names = {model.Meta.table_name for model in models.table_models()}
    finally:
        config.reset()
        models.rebind_all()
    assert set(resolved.values()) == code_names


# --------------------------------------------------------------------------- tables deployed by CloudFormation


def test_tables_deploy_with_cloudformation_and_match_models(template: dict[str, Any]) -> None:
    tables_only = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Stage": template["Parameters"]["Stage"]},
        "Conditions": template["Conditions"],  # IsProduction: point-in-time recovery and deletion protection
        "Resources": table_resources(template),
    }
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="ecf-lp-api-dev-tables",
            TemplateBody=json.dumps(tables_only),
            Parameters=[{"ParameterKey": "Stage", "ParameterValue": "dev"}],
        )
        stack = cloudformation.describe_stacks(StackName="ecf-lp-api-dev-tables")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")

        dynamodb = boto3.client("dynamodb", region_name=REGION)
        expected = {f"ecf-lp-api-dev-{m.Meta.table_suffix}": m for m in models.table_models()}
        assert set(dynamodb.list_tables()["TableNames"]) == set(expected)
        for name, model in expected.items():
            table = dynamodb.describe_table(TableName=name)["Table"]
            assert schema_of(table) == model_schema(model), name
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", name
            streams = table.get("StreamSpecification", {}).get("StreamEnabled", False)
            assert streams == (model.Meta.table_suffix in stream_suffixes()), name
            if streams:
                assert table["StreamSpecification"]["StreamViewType"] == STREAM_VIEW
                assert table["LatestStreamArn"]


# --------------------------------------------------------------------------- IAM


def test_policy_file_grants_no_broad_dynamodb_access() -> None:
    policy = _load(POLICY_PATH)
    assert policy["Version"] == "2012-10-17"
    assert_dynamodb_least_privilege(policy["Statement"], "policy.json")


def test_template_roles_are_least_privilege(template: dict[str, Any]) -> None:
    roles = [lid for lid, r in template["Resources"].items() if r.get("Type") == "AWS::IAM::Role"]
    assert roles
    for role_id in roles:
        assert_dynamodb_least_privilege(role_statements(template, role_id), role_id)


def test_every_function_role_declares_its_tables() -> None:
    assert set(infra_tables.ROLE_TABLES) == set(FUNCTION_ROLES.values())


@pytest.mark.parametrize("role_id", sorted(FUNCTION_ROLES.values()))
def test_roles_reach_their_tables_and_indexes(template: dict[str, Any], role_id: str) -> None:
    """Each role's one item statement lists its tables and their indexes: all of them for the API and the
    partnership handlers, the traced set (ROLE_TABLES) for the finance handlers; none for a role that reaches
    only a dedicated table (record_api_requests)."""
    ids = role_table_ids(template, role_id)
    expected_resources = {_canonical({"Fn::GetAtt": [lid, "Arn"]}) for lid in ids} | {
        _canonical({"Fn::Sub": f"${{{lid}.Arn}}/index/*"}) for lid in ids
    }
    item_statements = [
        s
        for s in role_statements(template, role_id)
        if set(_as_list(s["Action"])) & DYNAMODB_ITEM_ACTIONS and s.get("Sid") not in DEDICATED_SIDS
    ]
    if not ids:
        assert item_statements == [], role_id
        return
    assert len(item_statements) == 1, role_id
    statement = item_statements[0]
    assert set(statement["Action"]) == DYNAMODB_ITEM_ACTIONS
    assert {_canonical(r) for r in statement["Resource"]} == expected_resources


DEDICATED_SIDS = {sid for sid, _, _ in infra_tables.DEDICATED_TABLES.values()}


@pytest.mark.parametrize("suffix", sorted(infra_tables.DEDICATED_TABLES))
def test_dedicated_tables_reach_only_their_roles(template: dict[str, Any], suffix: str) -> None:
    """A dedicated table (the idempotency records) is in no role's app-tables statement; the roles it names get one
    statement for it, with exactly its actions, on the table alone (it has no index)."""
    sid, roles, actions = infra_tables.DEDICATED_TABLES[suffix]
    (model,) = [m for m in models.table_models() if m.Meta.table_suffix == suffix]
    table_id = table_logical_id(template, model)
    assert roles
    for role_id in FUNCTION_ROLES.values():
        statements = role_statements(template, role_id)
        dedicated = [s for s in statements if s.get("Sid") == sid]
        others = [s for s in statements if s.get("Sid") != sid]
        assert table_id not in json.dumps(others), f"{role_id} reaches {table_id} outside its {sid} statement"
        if role_id in roles:
            assert dedicated == [
                {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": [{"Fn::GetAtt": [table_id, "Arn"]}]}
            ]
            assert set(actions) < DYNAMODB_ITEM_ACTIONS
        else:
            assert dedicated == [], role_id


def test_api_role_reads_only_its_stages_token_key(template: dict[str, Any], chalice_config: dict[str, Any]) -> None:
    statements = role_statements(template, "ApiHandlerRole")
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _as_list(s["Action"]))]
    assert len(ssm) == 1
    assert _as_list(ssm[0]["Action"]) == ["ssm:GetParameter"]
    kms = [s for s in statements if any(a.startswith("kms:") for a in _as_list(s["Action"]))]
    assert all(_as_list(s["Action"]) == ["kms:Decrypt"] and "Condition" in s for s in kms)
    for stage in STAGES:
        parameter = resolve(ssm[0]["Resource"], _params(stage))
        assert parameter == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/ecf-lp-api/{stage}/token-hmac-key"
        configured = chalice_config["stages"][stage]["environment_variables"].get("TOKEN_KEY_PARAMETER")
        if configured:
            assert parameter.endswith(f":parameter{configured}")
        for statement in kms:
            context = statement["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"]
            assert resolve(context, _params(stage)) == parameter


def test_template_environment_matches_chalice_stages(template: dict[str, Any], chalice_config: dict[str, Any]) -> None:
    """The template sets the stage-dependent variables from the Stage parameter; they must equal Chalice's."""
    for function_id in FUNCTION_ROLES:
        variables = template["Resources"][function_id]["Properties"]["Environment"]["Variables"]
        for stage in STAGES:
            configured = chalice_config["stages"][stage]["environment_variables"]
            resolved = {name: resolve(value, _params(stage)) for name, value in variables.items()}
            for name, value in resolved.items():
                if name in configured:
                    assert configured[name] == value, (function_id, stage, name)


def test_functions_log_to_declared_groups_only(template: dict[str, Any]) -> None:
    """Fixed function names let each role write only its own log group (which the template creates)."""
    resources = template["Resources"]
    groups = {
        resolve(r["Properties"]["LogGroupName"], _params("dev")): lid
        for lid, r in resources.items()
        if r.get("Type") == "AWS::Logs::LogGroup"
    }
    for function_id, role_id in FUNCTION_ROLES.items():
        name = resolve(resources[function_id]["Properties"]["FunctionName"], _params("dev"))
        group_id = groups[f"/aws/lambda/{name}"]
        logs = [s for s in role_statements(template, role_id) if any(a.startswith("logs:") for a in s["Action"])]
        arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${" + group_id + "}:*"
        assert [s["Resource"] for s in logs] == [{"Fn::Sub": arn}]


def test_stream_sources_read_their_models_tables(template: dict[str, Any]) -> None:
    """Each stream handler's event sources read the streams of its models' tables, one source per table
    (cfn-lint misses a wrong name)."""
    sources = stream_sources(template["Resources"])
    expected = {to_cfn_resource_name(name): models_ for name, models_ in stream_handlers().items()}
    assert set(sources) == set(expected)
    for lid, models_ in expected.items():
        table_ids = [table_logical_id(template, model) for model in models_]
        assert [source["Stream"] for source in sources[lid]] == [
            {"Fn::GetAtt": [table_id, "StreamArn"]} for table_id in table_ids
        ], lid
        for table_id in table_ids:
            properties = template["Resources"][table_id]["Properties"]
            assert properties["StreamSpecification"] == {"StreamViewType": STREAM_VIEW}


def test_every_change_feed_source_streams_to_record_changes(template: dict[str, Any]) -> None:
    """The tables behind a provider's views (participants, partnerships, schools, declarations, statements) each
    feed record_changes, which has no other source; the partnerships stream keeps its migration handler too."""
    from chalicelib.repositories.changes import source_models

    suffixes = {model.Meta.table_suffix for model in source_models()}
    assert suffixes == {"provider-participants", "partnerships", "schools", "provider-declarations", "statements"}
    sources = stream_sources(template["Resources"])
    record_changes = to_cfn_resource_name(CHANGES_STREAM_HANDLER)
    streamed = {tuple(source["Stream"]["Fn::GetAtt"]) for source in sources[record_changes]}
    assert streamed == {(table_logical_id(template, model), "StreamArn") for model in source_models()}
    partnerships_table = table_logical_id(template, models.Partnership)
    readers = [
        lid for lid, found in sources.items() for s in found if s["Stream"]["Fn::GetAtt"][0] == partnerships_table
    ]
    assert sorted(readers) == ["OnPartnershipChange", "RecordChanges"]  # DynamoDB Streams: at most two readers a shard


def test_change_feed_tables_expire_their_items(template: dict[str, Any]) -> None:
    from chalicelib.models.changes import ChangeItem, ChangeReceipt

    for model in (ChangeItem, ChangeReceipt):
        properties = template["Resources"][table_logical_id(template, model)]["Properties"]
        assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    with_ttl = {lid for lid, r in table_resources(template).items() if "TimeToLiveSpecification" in r["Properties"]}
    assert {table_logical_id(template, m) for m in (ChangeItem, ChangeReceipt)} <= with_ttl


def test_change_feed_dead_letter_queue_is_the_one_the_replay_reads(template: dict[str, Any]) -> None:
    from chalicelib.repositories import stream_failures

    queue = template["Resources"]["ChangeFeedDeadLetterQueue"]["Properties"]["QueueName"]
    for stage in STAGES:
        config.configure(stage=stage, table_prefix=f"{config.APP_NAME}-{stage}")
        try:
            assert resolve(queue, _params(stage)) == stream_failures.queue_name()
        finally:
            config.reset()


def test_stream_alarms(template: dict[str, Any]) -> None:
    """Each stream handler: an iterator-age alarm, its own dead-letter queue and an alarm on it."""
    alarms = [r["Properties"] for r in template["Resources"].values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    iterator_ages = [
        a["Dimensions"] for a in alarms if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", "IteratorAge")
    ]
    queue_depths = [
        a["Dimensions"]
        for a in alarms
        if (a["Namespace"], a["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    ]
    sources = stream_sources(template["Resources"])
    queues = {}
    for lid, found in sources.items():
        destinations = {source["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0] for source in found}
        assert len(destinations) == 1, f"{lid}: one dead-letter queue for all its event sources"
        queues[lid] = destinations.pop()
    assert len(set(queues.values())) == len(queues), f"stream handlers share a dead-letter queue: {queues}"
    stream_queue_depths = [d for d in queue_depths if d[0]["Value"]["Fn::GetAtt"][0] in queues.values()]
    assert len(iterator_ages) == len(stream_queue_depths) == len(sources)
    for lid, queue_id in queues.items():
        assert [{"Name": "FunctionName", "Value": {"Ref": lid}}] in iterator_ages, lid
        assert [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}] in queue_depths, lid


def test_dead_letter_queues_are_encrypted_and_tls_only(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    queues = {lid for lid, r in resources.items() if r.get("Type") == "AWS::SQS::Queue"}
    assert queues
    policies = {
        queue["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
        for r in resources.values()
        if r.get("Type") == "AWS::SQS::QueuePolicy"
        for queue in r["Properties"]["Queues"]
    }
    for queue_id in queues:
        assert resources[queue_id]["Properties"]["SqsManagedSseEnabled"] is True, queue_id
        deny = [s for s in policies[queue_id] if s["Effect"] == "Deny"]
        assert deny, queue_id
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, queue_id
        assert deny[0]["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}, queue_id


@pytest.mark.parametrize("function_id", sorted(SCHEDULES))
def test_schedule_role_reaches_tables_and_own_logs_only(template: dict[str, Any], function_id: str) -> None:
    """Scheduled jobs call services that read and write DynamoDB: no stream, queue, SSM or KMS access (X-Ray
    traces, which IAM cannot scope, are the only grant on "*")."""
    statements = role_statements(template, FUNCTION_ROLES[function_id])
    granted = {a for s in statements for a in _as_list(s["Action"])}
    assert granted == DYNAMODB_ITEM_ACTIONS | LOG_WRITE_ACTIONS | TRACE_WRITE_ACTIONS
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    on_everything = {a for s in statements if "*" in _as_list(s["Resource"]) for a in _as_list(s["Action"])}
    assert on_everything == TRACE_WRITE_ACTIONS


@pytest.mark.parametrize("function_id", sorted(SCHEDULES))
def test_scheduled_function_errors_alarm(template: dict[str, Any], function_id: str) -> None:
    alarms = [r["Properties"] for r in template["Resources"].values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    errors = [
        a
        for a in alarms
        if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", "Errors")
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    ]
    assert len(errors) == 1
    alarm = errors[0]
    assert alarm["Statistic"] == "Sum"
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    # Within a few runs of a 5-minute schedule; within the hour of a daily run.
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= SCHEDULES[function_id][2]


def test_missing_route_is_a_json_api_404(template: dict[str, Any]) -> None:
    """API Gateway answers a path no route matches with MISSING_AUTHENTICATION_TOKEN (by default a 403): here the real
    service's 404, the body the app's own 404 sends (docs/reference/ecf-domain.md 2.1), as the local server does
    (localdev/apiserver.py, tests/test_localdev_server.py)."""
    from chalicelib.api.http import not_found
    from chalicelib.domain import messages as m

    responses = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    assert missing["ResponseParameters"]["Headers"]["Content-Type"] == "'application/vnd.api+json'"
    assert set(missing["ResponseTemplates"]) == {"application/json", "application/vnd.api+json"}
    for body in missing["ResponseTemplates"].values():
        assert json.loads(body) == {"error": "Resource not Found"} == {"error": m.NOT_FOUND}
        assert body == not_found().body


# --------------------------------------------------------------------------- the edge: stage throttling and WAF


def _too_many(detail: str) -> dict[str, Any]:
    return {"errors": [{"title": m.TOO_MANY_REQUESTS, "detail": detail}]}


def test_stage_throttling_takes_its_rates_from_parameters(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    for name, default in (("ApiThrottlingRateLimit", 100), ("ApiThrottlingBurstLimit", 200)):
        assert (parameters[name]["Type"], parameters[name]["Default"], parameters[name]["MinValue"]) == (
            "Number",
            default,
            1,
        )
    assert template["Resources"]["RestAPI"]["Properties"]["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
        }
    ]


def test_a_throttled_request_is_a_json_api_429(template: dict[str, Any]) -> None:
    throttled = template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["Headers"] == {
        "Content-Type": "'application/vnd.api+json'",
        "Retry-After": "'1'",
    }
    assert set(throttled["ResponseTemplates"]) == {"application/json", "application/vnd.api+json"}
    for body in throttled["ResponseTemplates"].values():
        assert json.loads(body) == _too_many(m.EDGE_THROTTLED)


def test_the_waf_limits_each_address_above_what_the_app_allows(
    template: dict[str, Any], chalice_config: dict[str, Any]
) -> None:
    """One rate-based rule: per client IP, over 5 minutes (the app's windows), blocking with a JSON:API 429; its
    limit is above every stage's per-token and per-address limits, so the WAF never blocks a caller the app would
    still serve."""
    parameter = template["Parameters"]["WafIpRateLimit"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 2000, 10)
    acl = template["Resources"]["ApiWebAcl"]
    assert acl["Type"] == "AWS::WAFv2::WebACL"
    properties = acl["Properties"]
    assert (properties["Scope"], properties["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    (rule,) = properties["Rules"]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement == {"Limit": {"Ref": "WafIpRateLimit"}, "AggregateKeyType": "IP", "EvaluationWindowSec": 300}
    block = rule["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    body = properties["CustomResponseBodies"][block["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    content = resolve(body["Content"], {"WafIpRateLimit": str(parameter["Default"])})
    assert json.loads(content) == _too_many(m.EDGE_ADDRESS_LIMITED.format(limit=parameter["Default"]))
    for stage in STAGES:
        variables = chalice_config["stages"][stage]["environment_variables"]
        assert int(variables["RATE_LIMIT_WINDOW_SECONDS"]) == statement["EvaluationWindowSec"], stage
        assert int(variables["RATE_LIMIT_PER_TOKEN"]) < parameter["Default"], stage
        assert int(variables["RATE_LIMIT_PER_IP"]) < parameter["Default"], stage


def test_the_waf_is_associated_with_the_api_stage(template: dict[str, Any]) -> None:
    """The association names the stage SAM makes for the RestAPI (``${RestAPI.Stage}``: SAM resolves it to the stage
    resource, so the association waits for the stage)."""
    association = template["Resources"]["ApiWebAclAssociation"]
    assert association["Type"] == "AWS::WAFv2::WebACLAssociation"
    properties = association["Properties"]
    assert properties["WebACLArn"] == {"Fn::GetAtt": ["ApiWebAcl", "Arn"]}
    names = {**_params("dev"), "RestAPI": "a1b2c3", "RestAPI.Stage": "api"}
    assert resolve(properties["ResourceArn"], names) == f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3/stages/api"


def test_an_alarm_watches_what_the_waf_blocks(template: dict[str, Any]) -> None:
    acl = template["Resources"]["ApiWebAcl"]["Properties"]
    alarm = template["Resources"]["IpRateLimitBlockingAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/WAFV2", "BlockedRequests", "Sum")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["WebACL"] == acl["VisibilityConfig"]["MetricName"]
    assert dimensions["Rule"] == acl["Rules"][0]["VisibilityConfig"]["MetricName"]
    assert dimensions["Region"] == {"Ref": "AWS::Region"}
    assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


# --------------------------------------------------------------------------- chalice package + merge


def test_chalice_package_with_merge_template(
    packaged: Packaged, template: dict[str, Any], chalice_config: dict[str, Any]
) -> None:
    """The package `make package` builds (tests/package_helpers.py): `chalice package --merge-template` with
    infra/template.json and the other fragments merged in, then completed by tools/stack_template.py."""
    sam = packaged.template
    for placeholder in STREAM_PLACEHOLDERS:
        assert placeholder not in json.dumps(sam)
    # A merge onto a resource Chalice no longer generates leaves a resource without a Type.
    for lid, resource in sam["Resources"].items():
        assert "Type" in resource, f"{lid}: merge target missing from chalice package output"
    assert sam["Parameters"]["Stage"]["Default"] == "dev"
    # Merged onto the API chalice generates (a deep merge: its other properties stay).
    api = sam["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert "DefinitionBody" in api["Properties"]  # SAM adds the Gateway Responses to this inline definition
    assert api["Properties"]["GatewayResponses"] == template["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]

    check_stream_event_sources(sam, template)
    check_schedule_event_sources(sam)
    check_functions_use_template_roles_and_environment(sam, template)
    check_edge(sam, chalice_config)


def check_stream_event_sources(packaged: dict[str, Any], template: dict[str, Any]) -> None:
    resources = packaged["Resources"]
    functions = {
        r["Properties"]["Handler"]: (lid, r) for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
    }
    assert {lid for lid, _ in functions.values() if lid in stream_sources(resources)} == {
        functions[f"app.{name}"][0] for name in stream_handlers()
    }, "a DynamoDB event source no stream handler declares"
    queues_seen: set[str] = set()
    for name, models_ in stream_handlers().items():
        lid, function = functions[f"app.{name}"]
        events = [e for e in function["Properties"]["Events"].values() if e["Type"] == "DynamoDB"]
        assert len(events) == len(models_), lid
        queue_ids = set()
        for model, event in zip(models_, events, strict=True):
            table_id = table_logical_id(template, model)
            assert resources[table_id]["Type"] == TABLE_TYPE
            assert resources[table_id]["Properties"]["StreamSpecification"]["StreamViewType"] == STREAM_VIEW
            queue_ids.add(check_stream_event_source(event["Properties"], table_id, resources))
        assert len(queue_ids) == 1, f"{lid}: one dead-letter queue"
        queue_id = queue_ids.pop()
        assert queue_id not in queues_seen, f"{lid} shares {queue_id}"
        queues_seen.add(queue_id)

        # The function's own role can read those streams and send to that queue, nothing wider.
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = role_statements(packaged, role_id)
        for model in models_:
            stream_arn = {"Fn::GetAtt": [table_logical_id(template, model), "StreamArn"]}
            granted = {
                a for s in statements if stream_arn in _as_list(s["Resource"]) for a in _as_list(s["Action"])
            } | {a for s in statements if s["Resource"] == "*" for a in _as_list(s["Action"])}
            assert granted >= STREAM_READ_ACTIONS | NO_RESOURCE_LEVEL_ACTIONS, (role_id, model.__name__)
        readable = {
            r["Fn::GetAtt"][0]
            for s in statements
            if set(_as_list(s["Action"])) & STREAM_READ_ACTIONS
            for r in _as_list(s["Resource"])
        }
        assert readable == {table_logical_id(template, model) for model in models_}, role_id
        sends = [s for s in statements if "sqs:SendMessage" in _as_list(s["Action"])]
        assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": [queue_id, "Arn"]}]


def check_stream_event_source(source: dict[str, Any], table_id: str, resources: dict[str, Any]) -> str:
    """One DynamoDB event source: its table's stream, retried and bisected, failures to an encrypted queue
    (returned)."""
    assert source["Stream"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
    assert source["StartingPosition"] == "TRIM_HORIZON"
    assert source["BisectBatchOnFunctionError"] is True
    assert 0 < source["MaximumRetryAttempts"] <= 10
    assert 60 <= source["MaximumRecordAgeInSeconds"] <= 86400  # a stream keeps records for 24 h
    on_failure = source["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    queue_id, attribute = on_failure["Destination"]["Fn::GetAtt"]
    assert attribute == "Arn"
    queue = resources[queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"]
    return str(queue_id)


def check_schedule_event_sources(packaged: dict[str, Any]) -> None:
    """Every scheduled function runs from an EventBridge schedule and has an alarm on its Errors metric."""
    resources = packaged["Resources"]
    functions = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    scheduled = {
        lid
        for lid, r in functions.items()
        if any(e["Type"] == "Schedule" for e in r["Properties"].get("Events", {}).values())
    }
    assert scheduled == set(SCHEDULES)
    for lid, (handler, expression, _) in SCHEDULES.items():
        assert functions[lid]["Properties"]["Handler"] == handler
        (event,) = functions[lid]["Properties"]["Events"].values()
        assert event["Properties"]["Schedule"] == expression
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in resources.values()
        if a["Type"] == "AWS::CloudWatch::Alarm" and a["Properties"].get("MetricName") == "Errors"
    }
    assert scheduled <= alarmed


def check_functions_use_template_roles_and_environment(packaged: dict[str, Any], template: dict[str, Any]) -> None:
    """Every function Chalice generates gets the template's role policy (not policy.json's) and stage variables.

    A new Chalice function (say a scheduled job) fails here until infra/template.json gives its role a policy.
    """
    functions = [lid for lid, r in packaged["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    assert set(functions) == set(FUNCTION_ROLES), "a new Chalice function needs FUNCTION_ROLES and the template"
    for lid in functions:
        properties = packaged["Resources"][lid]["Properties"]
        role_id = properties["Role"]["Fn::GetAtt"][0]
        assert role_id == FUNCTION_ROLES[lid], lid
        assert role_id in template["Resources"], f"{lid}: role {role_id} has no policy in infra/template.json"
        policies = packaged["Resources"][role_id]["Properties"]["Policies"]
        assert policies == template["Resources"][role_id]["Properties"]["Policies"], role_id
        assert_dynamodb_least_privilege(role_statements(packaged, role_id), role_id)
        assert lid in template["Resources"], f"{lid}: no stage environment in infra/template.json"
        assert properties["Environment"]["Variables"]["TABLE_PREFIX"] == {"Fn::Sub": "ecf-lp-api-${Stage}"}


def check_edge(packaged: dict[str, Any], chalice_config: dict[str, Any]) -> None:
    """The merge keeps Chalice's API and adds the throttling to it; the WAF association's ``${RestAPI.Stage}`` is a
    reference SAM resolves only on an ``AWS::Serverless::Api``, whose stage is the one Chalice deploys."""
    resources = packaged["Resources"]
    api = resources["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api"
    assert api["Properties"]["StageName"] == chalice_config["stages"]["dev"]["api_gateway_stage"]
    assert api["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert "MISSING_AUTHENTICATION_TOKEN" in api["Properties"]["GatewayResponses"]
    assert "THROTTLED" in api["Properties"]["GatewayResponses"]
    assert resources["ApiWebAclAssociation"]["Type"] == "AWS::WAFv2::WebACLAssociation"
    assert "${RestAPI.Stage}" in resources["ApiWebAclAssociation"]["Properties"]["ResourceArn"]["Fn::Sub"]


# --------------------------------------------------------------------------- roles cover what the handlers do


def _dynamodb_requests(operation: str, params: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(IAM action, table name, index name) for one DynamoDB API call (a transaction per item action)."""
    if "TransactItems" in params:
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        if operation == "TransactGetItems":
            actions = {"Get": "GetItem"}
        return [
            (f"dynamodb:{actions[kind]}", body["TableName"], None)
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if "RequestItems" in params:
        return [(f"dynamodb:{operation}", table, None) for table in params["RequestItems"]]
    return [(f"dynamodb:{operation}", params["TableName"], params.get("IndexName"))]


def test_finance_handler_roles_cover_what_the_handlers_do(
    template: dict[str, Any], world: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the eligibility stream handler, the eligibility reconciliation and the payable job in moto, recording
    every DynamoDB request: each must be allowed by that function's role (ROLE_TABLES in tools/infra_tables.py).

    A service that starts reaching another table fails here, not with AccessDenied in a deployed stage.
    """
    import botocore.client

    from chalicelib.events import handlers
    from chalicelib.models.finance import EligibilityItem
    from chalicelib.repositories import declarations as declaration_repo
    from chalicelib.services import eligibility
    from tests.finance_env import NOW, FinanceEnv
    from tests.test_stream_handler import stream_event

    env = FinanceEnv(world, client)
    school = env.school(2024)
    env.partner(school, 2024)
    mentor = env.onboard(school, 2024, "Max Mentor", kind="mentor", trn="2000003")
    ects = [
        env.onboard(school, 2024, name, trn=trn, mentor_email="max.mentor@example.org").user_id
        for name, trn in (("Eve One", "2000001"), ("Ann Two", "2000002"))
    ]
    declared = [env.declare(ect)["id"] for ect in ects]
    assert {declaration_repo.get(d).state for d in declared} == {"submitted"}  # type: ignore[union-attr]

    table_ids = {model.Meta.table_name: table_logical_id(template, model) for model in models.table_models()}
    recorded: list[tuple[str, str, str | None]] = []
    recording = [False]
    make_api_call = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if recording[0] and self.meta.service_model.service_name == "dynamodb":
            recorded.extend(_dynamodb_requests(operation, params))
        return make_api_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)

    def run(function_id: str, name: str, event: dict[str, Any], now: Any) -> set[tuple[str, str, str | None]]:
        monkeypatch.setattr(handlers, "utcnow", lambda: now)
        recorded.clear()
        recording[0] = True
        try:
            client.lambda_.invoke(name, event)
        finally:
            recording[0] = False
        granted = {
            (action, _canonical(resource))
            for statement in role_statements(template, FUNCTION_ROLES[function_id])
            if statement["Effect"] == "Allow"
            for action in _as_list(statement["Action"])
            for resource in _as_list(statement["Resource"])
        }
        for action, table, index in recorded:
            lid = table_ids[table]
            resource = {"Fn::Sub": f"${{{lid}.Arn}}/index/*"} if index else {"Fn::GetAtt": [lid, "Arn"]}
            assert (action, _canonical(resource)) in granted, f"{function_id}: {action} on {lid} {index or ''}"
        return set(recorded)

    # The stream delivers the first ECT's eligibility; the reconciliation finds the second one's and the mentor's.
    first = eligibility.record(ects[0], "eligible", None, NOW)
    new = EligibilityItem.get(first.eligibility.profile_id).serialize()
    event = stream_event([("INSERT", None, {**new, "id": new["profile_id"]})])
    assert run("OnEligibilityChange", handlers.ELIGIBILITY_STREAM_HANDLER, event, NOW)
    eligibility.record(ects[1], "eligible", None, NOW)
    eligibility.record(mentor.user_id, "eligible", None, NOW, course="ecf-mentor")
    schedule = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    later = NOW + timedelta(minutes=6)
    assert run("ReconcileEligibility", RECONCILE_ELIGIBILITY_SCHEDULE, schedule, later)
    assert {declaration_repo.get(d).state for d in declared} == {"eligible"}  # type: ignore[union-attr]

    after_deadline = NOW + timedelta(days=16)  # the October statement's deadline has passed
    assert run("MarkStatementsPayable", MARK_PAYABLE_SCHEDULE, schedule, after_deadline)
    assert {declaration_repo.get(d).state for d in declared} == {"payable"}  # type: ignore[union-attr]


def test_record_changes_role_covers_what_the_handler_does(
    template: dict[str, Any], world: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deliver every source table's stream (a school, a partnership and its participants, declarations, the
    statements of an imported cohort) to record_changes in moto, recording every DynamoDB request: each must be
    allowed by RecordChangesRole (ROLE_TABLES in tools/infra_tables.py)."""
    import botocore.client

    import app as app_module
    from chalicelib.repositories.changes import read_from_head, source_models
    from localdev.poller import StreamPoller
    from tests.finance_env import FinanceEnv

    env = FinanceEnv(world, client)
    school = env.school(2024)
    env.partner(school, 2024)
    ect = env.onboard(school, 2024, "Eve One", trn="2000001").user_id
    env.eligible(ect)
    env.declare(ect)

    table_ids = {model.Meta.table_name: table_logical_id(template, model) for model in models.table_models()}
    recorded: list[tuple[str, str, str | None]] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            recorded.extend(_dynamodb_requests(operation, params))
        return make_api_call(self, operation, params)

    poller = StreamPoller(app_module.app, None, handlers={CHANGES_STREAM_HANDLER: source_models()}, backoff=0)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    assert poller.drain() > 0
    assert poller.pending_retries() == 0
    monkeypatch.undo()
    granted = {
        (action, _canonical(resource))
        for statement in role_statements(template, FUNCTION_ROLES["RecordChanges"])
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }
    for action, table, index in recorded:
        lid = table_ids[table]
        resource = {"Fn::Sub": f"${{{lid}.Arn}}/index/*"} if index else {"Fn::GetAtt": [lid, "Arn"]}
        assert (action, _canonical(resource)) in granted, f"RecordChanges: {action} on {lid} {index or ''}"
    assert {action for action, _, _ in recorded} == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                                    "dynamodb:Query"}  # fmt: skip
    kinds = {entry.resource_type for entry in read_from_head(env.lp.id, 1000).entries}
    assert kinds == {"school", "partnership", "participant", "participant-declaration", "statement"}
