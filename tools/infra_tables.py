"""Generate the DynamoDB parts of infra/template.json from the PynamoDB models.

    python tools/infra_tables.py            print the generated table resources (JSON) and what would change
    python tools/infra_tables.py --write    update infra/template.json in place
    python tools/infra_tables.py --check    exit 1 if infra/template.json is not what the models give

What it owns in the template (everything else is written by hand and left alone):

* one ``AWS::DynamoDB::Table`` per table model (``chalicelib.models.table_models()``): key schema, attribute
  definitions, GSIs and LSIs from the model's ``_get_schema()`` (so stored ``attr_name`` names, not Python
  names), a stream where the model's ``Meta.stream_view_type`` asks for one, time to live on the model's
  ``TTLAttribute`` if it has one, and the project's standard properties (on-demand, point-in-time recovery and
  deletion protection in prod, ``Retain`` policies, tags);
* the ``<Table>Name`` output of each table;
* the table list of the ``ReadWriteAppTables`` statement of each function role in ``ROLE_TABLES``, and the
  statements of ``DEDICATED_TABLES`` (a table only some roles reach, with only the actions they need).

An existing table keeps its logical id (renaming one would make CloudFormation replace a retained table);
a new table is ``<CamelCaseSuffix>Table``, placed after the last table. A table resource no model uses is
reported and kept: removing a retained table from the stack is a decision for a person.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "template.json"
TABLE_TYPE = "AWS::DynamoDB::Table"
APP_TABLE_STATEMENT = "ReadWriteAppTables"
DYNAMODB_ITEM_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
ALL_TABLES = "*"
# True in the prod stage only: the template's IsProduction condition (hand-written in infra/template.json).
PRODUCTION_CONDITION = "IsProduction"
IN_PRODUCTION = {"Fn::If": [PRODUCTION_CONDITION, True, False]}

# Function role → the tables (model table suffixes) its handler reaches, or ALL_TABLES.
# The three roles that grant every table are the API and the partnership handlers (their services reach almost
# every table). The others were traced from their entry points (tests/test_infra.py checks the sets cover what
# the handlers do in moto); update them when a handler's services reach a new table.
_PROJECTION = (  # projection.reproject: participants' read model, declarations' visibility, unfunded mentors
    "users",
    "participant-profiles",
    "profile-states",
    "induction-programmes",
    "partnerships",
    "provider-participants",
    "participant-eligibilities",
    "declarations",
    "declaration-slots",
    "declaration-states",
    "provider-declarations",
    "statements",
    "statement-lines",
    "mentors",
    "provider-mentors",
)
# Tables outside ALL_TABLES: table suffix → (statement Sid, the roles granted it, the actions they need). Each
# listed role gets its own statement for the table (no indexes); no other role reaches it.
DEDICATED_TABLES: dict[str, tuple[str, tuple[str, ...], list[str]]] = {
    # Idempotency-Key records (docs/idempotency.md): only the API, through Powertools' persistence layer
    # (aws_lambda_powertools/utilities/idempotency/persistence/dynamodb.py: get_item, put_item, update_item,
    # delete_item).
    "idempotency": (
        "IdempotencyRecords",
        ("ApiHandlerRole",),
        ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    ),
    # Rate-limit counters (docs/rate-limits.md): only the API, one conditional UpdateItem per request through the
    # botocore client (chalicelib/repositories/rate_limits.py: no DescribeTable, no read).
    "rate-limits": ("RateLimitCounters", ("ApiHandlerRole",), ["dynamodb:UpdateItem"]),
    # The API request audit trail (docs/observability.md): written only by record_api_requests, from the API's log
    # lines (repositories.api_requests.save_all: PynamoDB's batch_write, which sends BatchWriteItem). Nothing in AWS
    # reads it: ecf-admin api-requests runs with an operator's credentials.
    "api-requests": ("WriteApiRequests", ("RecordApiRequestsRole",), ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]),
}
ROLE_TABLES: dict[str, str | tuple[str, ...]] = {
    "ApiHandlerRole": ALL_TABLES,
    "OnPartnershipChangeRole": ALL_TABLES,
    "ReconcileMigrationsRole": ALL_TABLES,
    # eligibility.apply: the eligibility row, declarations.make_eligible (declaration, its state, its statement
    # line, the read model, the next open statement) and projection.reproject.
    "OnEligibilityChangeRole": _PROJECTION,
    "ReconcileEligibilityRole": _PROJECTION,
    # statements.mark_payable: statements and their lines, then each line's declaration with its state history,
    # read-model items and slot in one transaction (declarations.apply_all).
    "MarkStatementsPayableRole": (
        "statements",
        "statement-lines",
        "declarations",
        "declaration-states",
        "declaration-slots",
        "provider-declarations",
    ),
    # changes.record: the stream images carry everything else; the lead-provider list (a school change goes to every
    # provider) and the feed's own tables (head GetItem, one transaction of entries, receipts and head).
    "RecordChangesRole": ("lead-providers", "changes", "change-receipts"),
    # record_api_requests writes only its dedicated table (DEDICATED_TABLES): no app-tables statement.
    "RecordApiRequestsRole": (),
}


# --------------------------------------------------------------------------- models


def load_models() -> tuple[list[Any], list[str]]:
    """Every table model: ``chalicelib.models`` and any module in that package it does not import yet.

    Returns the models and the modules that failed to import (reported, not fatal: someone may be mid-edit).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    models = importlib.import_module("chalicelib.models")
    broken = []
    for module in pkgutil.iter_modules(models.__path__, "chalicelib.models."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # noqa: BLE001 (reported to the caller)
            broken.append(f"{module.name}: {type(error).__name__}: {error}")
    return list(models.table_models()), broken


def logical_id(suffix: str) -> str:
    return "".join(part.capitalize() for part in suffix.split("-")) + "Table"


def _hash_first(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    ordered = sorted(key_schema, key=lambda k: k["KeyType"] != "HASH")
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def _indexes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for index in entries:
        projection = {"ProjectionType": index["projection"]["ProjectionType"]}
        if index["projection"].get("NonKeyAttributes"):
            projection["NonKeyAttributes"] = list(index["projection"]["NonKeyAttributes"])
        out.append(
            {"IndexName": index["index_name"], "KeySchema": _hash_first(index["key_schema"]), "Projection": projection}
        )
    return out


def table_resource(model: Any) -> dict[str, Any]:
    """The CloudFormation table of a model, as the project provisions every table."""
    schema = model._get_schema()
    properties: dict[str, Any] = {
        "TableName": {"Fn::Sub": f"ecf-lp-api-${{Stage}}-{model.Meta.table_suffix}"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
            for a in schema["attribute_definitions"]
        ],
        "KeySchema": _hash_first(schema["key_schema"]),
    }
    if schema["global_secondary_indexes"]:
        properties["GlobalSecondaryIndexes"] = _indexes(schema["global_secondary_indexes"])
    if schema["local_secondary_indexes"]:
        properties["LocalSecondaryIndexes"] = _indexes(schema["local_secondary_indexes"])
    stream = getattr(model.Meta, "stream_view_type", None)
    if stream:
        properties["StreamSpecification"] = {"StreamViewType": stream}
    ttl = model._ttl_attribute()
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    # Point-in-time recovery and deletion protection in production (tables are retained in every stage).
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": IN_PRODUCTION}
    properties["DeletionProtectionEnabled"] = IN_PRODUCTION
    properties["Tags"] = [{"Key": "app", "Value": "ecf-lp-api"}, {"Key": "stage", "Value": {"Ref": "Stage"}}]
    return {"Type": TABLE_TYPE, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": properties}


# --------------------------------------------------------------------------- template


def _table_name(resource: dict[str, Any]) -> str | None:
    name = resource.get("Properties", {}).get("TableName")
    return name.get("Fn::Sub") if isinstance(name, dict) else name


def _insert_after(mapping: dict[str, Any], anchor: str | None, key: str, value: Any) -> dict[str, Any]:
    """A copy of ``mapping`` with ``key`` placed after ``anchor`` (at the start when None)."""
    items = [(k, v) for k, v in mapping.items() if k != key]
    position = 0 if anchor is None else next(i for i, (k, _) in enumerate(items) if k == anchor) + 1
    items.insert(position, (key, value))
    return dict(items)


def generate(template: dict[str, Any], models: list[Any]) -> tuple[dict[str, Any], list[str]]:
    """The template with its tables, table outputs and role table lists regenerated; and warnings."""
    warnings: list[str] = []
    resources = dict(template["Resources"])
    existing = {_table_name(r): lid for lid, r in resources.items() if r.get("Type") == TABLE_TYPE}
    resources, ids = _tables(resources, existing, models)
    for name, lid in existing.items():
        if lid not in ids.values():
            warnings.append(f"{lid} ({name}): no model uses this table; left in place (it is retained)")
    for role_id, wanted in ROLE_TABLES.items():
        if role_id not in resources:
            warnings.append(f"{role_id}: not in the template; add the role (logs, etc.) and run again")
            continue
        role = _role_with_grants(role_id, resources, _role_table_ids(role_id, wanted, ids, resources))
        resources[role_id] = _role_with_dedicated_tables(role_id, role, ids)
    outputs = _table_outputs(dict(template.get("Outputs", {})), ids, existing)
    return {**template, "Resources": resources, "Outputs": outputs}, warnings


def _tables(
    resources: dict[str, Any], existing: dict[str | None, str], models: list[Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The resources with each model's table replaced or added (after the last table); and suffix → logical id."""
    ids: dict[str, str] = {}
    last_table = next((lid for lid in reversed(resources) if resources[lid].get("Type") == TABLE_TYPE), None)
    for model in models:
        generated = table_resource(model)
        lid = existing.get(generated["Properties"]["TableName"]["Fn::Sub"]) or logical_id(model.Meta.table_suffix)
        if lid in resources and resources[lid].get("Type") != TABLE_TYPE:
            raise SystemExit(f"{lid} exists in the template and is not a table: choose another logical id")
        ids[model.Meta.table_suffix] = lid
        if lid in resources:
            resources[lid] = generated
        else:
            resources = _insert_after(resources, last_table, lid, generated)
            last_table = lid
    return resources, ids


def _role_table_ids(
    role_id: str, wanted: str | tuple[str, ...], ids: dict[str, str], resources: dict[str, Any]
) -> list[str]:
    """The logical ids of the tables the role may use, in the template's table order."""
    suffixes = [s for s in ids if s not in DEDICATED_TABLES] if wanted == ALL_TABLES else list(wanted)
    unknown = [s for s in suffixes if s not in ids]
    if unknown:
        raise SystemExit(f"ROLE_TABLES[{role_id!r}] names tables no model has: {', '.join(unknown)}")
    wanted_ids = {ids[s] for s in suffixes}
    return [lid for lid in resources if lid in wanted_ids]


def _role_with_grants(role_id: str, resources: dict[str, Any], table_ids: list[str]) -> Any:
    """A copy of the role with its app-tables statement (the second of its first policy) granting the tables."""
    grants: list[Any] = []
    for lid in table_ids:
        grants += [{"Fn::GetAtt": [lid, "Arn"]}, {"Fn::Sub": f"${{{lid}.Arn}}/index/*"}]
    statement = {"Sid": APP_TABLE_STATEMENT, "Effect": "Allow", "Action": DYNAMODB_ITEM_ACTIONS, "Resource": grants}
    role = json.loads(json.dumps(resources[role_id]))
    policies = role.setdefault("Properties", {}).setdefault("Policies", [])
    if not policies:
        raise SystemExit(f"{role_id}: give it a policy (at least its log statement) first")
    statements = policies[0]["PolicyDocument"]["Statement"]
    found = [i for i, s in enumerate(statements) if s.get("Sid") == APP_TABLE_STATEMENT]
    if not grants:  # a role with no app table (IAM refuses a statement without resources)
        statements[:] = [s for s in statements if s.get("Sid") != APP_TABLE_STATEMENT]
    elif found:
        statements[found[0]] = statement
    else:
        statements.insert(1, statement)
    return role


def _role_with_dedicated_tables(role_id: str, role: Any, ids: dict[str, str]) -> Any:
    """The role with one statement per dedicated table it is granted (after the app tables), and none for others."""
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    for suffix, (sid, roles, actions) in DEDICATED_TABLES.items():
        kept = [s for s in statements if s.get("Sid") != sid]
        if role_id in roles and suffix in ids:
            # After the app-tables statement, or after the log statement (the first) when the role has none.
            after = next((i for i, s in enumerate(kept) if s.get("Sid") == APP_TABLE_STATEMENT), 0) + 1
            grant = {"Fn::GetAtt": [ids[suffix], "Arn"]}
            kept.insert(after, {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": [grant]})
        statements[:] = kept
    return role


def _table_outputs(outputs: dict[str, Any], ids: dict[str, str], existing: dict[str | None, str]) -> dict[str, Any]:
    """The outputs with a ``<LogicalId>Name`` for each table, new ones after the last table output."""
    last_output = next((k for k in reversed(outputs) if k.removesuffix("Name") in existing.values()), None)
    for suffix, lid in ids.items():
        output = {"Description": f"DynamoDB table for {suffix}", "Value": {"Ref": lid}}
        key = f"{lid}Name"
        if key in outputs:
            outputs[key] = output
        else:
            outputs = _insert_after(outputs, last_output, key, output)
            last_output = key
    return outputs


def render(template: dict[str, Any]) -> str:
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    out = []
    for section in ("Resources", "Outputs"):
        old, new = before.get(section, {}), after.get(section, {})
        out += [f"{section}.{k}: added" for k in new if k not in old]
        out += [f"{section}.{k}: changed" for k in new if k in old and old[k] != new[k]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="update infra/template.json")
    mode.add_argument("--check", action="store_true", help="fail if infra/template.json is out of date")
    parser.add_argument("--template", type=Path, default=TEMPLATE_PATH)
    args = parser.parse_args(argv)

    models, broken = load_models()
    for problem in broken:
        print(f"warning: skipped model module (does not import): {problem}", file=sys.stderr)
    text = args.template.read_text()
    template = json.loads(text)
    generated, warnings = generate(template, models)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    changed = changes(template, generated)
    if args.check:
        if render(generated) != text:
            print("infra/template.json is out of date (run python tools/infra_tables.py --write):", file=sys.stderr)
            for change in changed or ["formatting"]:
                print(f"  {change}", file=sys.stderr)
            return 1
        return 1 if broken or warnings else 0
    if args.write:
        if render(generated) != text:
            args.template.write_text(render(generated))
        for change in changed:
            print(change)
        print(f"{args.template.relative_to(ROOT)}: {len(models)} tables, {len(changed)} resource(s)/output(s) updated")
        return 0
    tables = {lid: r for lid, r in generated["Resources"].items() if r.get("Type") == TABLE_TYPE}
    print(json.dumps(tables, indent=2))
    for change in changed:
        print(f"would update {change}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
