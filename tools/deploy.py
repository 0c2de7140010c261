"""Deploy one stage: package it, upload the zips and the template, and apply a CloudFormation change set.

    python -m tools.deploy --stage STAGE [--bucket BUCKET] [--alarm-email ADDRESS]     (`make deploy STAGE=...`)

``prod`` asks first: type ``prod`` at the prompt, or set ``CONFIRM=yes``; without a terminal and without
``CONFIRM=yes`` it refuses before doing anything. Then:

1. ``bash infra/package.sh STAGE`` (out/: sam.json, deployment.zip, layer-deployment.zip);
2. checks that the stage can run: its token key exists in SSM, and API Gateway has the account-level CloudWatch
   Logs role that access logging needs (docs/operations.md, "Before the first deploy");
3. uploads each zip the template names (``CodeUri``, ``ContentUri``) and the template itself to
   ``s3://BUCKET/ecf-lp-api/STAGE/`` under their SHA-256 (what ``aws cloudformation package`` does; the template
   is over CloudFormation's 51,200-byte inline limit);
4. creates a change set on the stack ``ecf-lp-api-STAGE`` (``--parameter-overrides Stage=STAGE``), prints it,
   executes it and waits for the stack.

``BUCKET`` is ``--bucket`` or ``$ARTIFACT_BUCKET``. AWS credentials and region are the caller's (boto3's usual
chain); nothing here runs in the tests against AWS: tests/test_deploy.py drives it with moto.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import WaiterError

ROOT = Path(__file__).resolve().parent.parent
APP = "ecf-lp-api"
PRODUCTION = "prod"
STAGES = ("dev", "test", "sandbox", "prod")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
LOCAL_ARTIFACTS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
REFUSED = (
    "Refusing to deploy to prod without confirmation: run it in a terminal and type 'prod' when asked, "
    "or set CONFIRM=yes."
)


class DeployError(Exception):
    """A reason not to go on, for the person deploying."""


def confirmed(stage: str, environ: Mapping[str, str], stdin: TextIO, stdout: TextIO) -> bool:
    """Whether deploying to ``stage`` may go ahead: any stage but prod; prod with CONFIRM=yes, or when the person
    at the terminal types the stage's name."""
    if stage != PRODUCTION or environ.get("CONFIRM") == "yes":
        return True
    if not stdin.isatty():
        return False
    stdout.write(f"Deploy {APP} to {PRODUCTION}? Type '{PRODUCTION}' to go on: ")
    stdout.flush()
    return stdin.readline().strip() == PRODUCTION


def stack_name(stage: str) -> str:
    return f"{APP}-{stage}"


def package(stage: str) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    subprocess.run(["bash", "infra/package.sh", stage], cwd=ROOT, env=env, check=True)
    return ROOT / "out"


# --------------------------------------------------------------------------- preflight


def check_stage_can_run(stage: str, session: Any) -> None:
    parameter = f"/{APP}/{stage}/token-hmac-key"
    found = session.client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter]}])
    if not found["Parameters"]:
        raise DeployError(
            f"no token key for {stage}: create it once with\n  aws ssm put-parameter --name {parameter} "
            '--type SecureString --value "$(openssl rand -hex 32)"'
        )
    if not session.client("apigateway").get_account().get("cloudwatchRoleArn"):
        raise DeployError(
            "API Gateway has no CloudWatch Logs role in this account and region, which access logging needs: "
            "see docs/operations.md, 'Before the first deploy'"
        )


# --------------------------------------------------------------------------- artifacts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upload(s3: Any, bucket: str, key: str, body: bytes) -> None:
    """Upload unless the key is there already (keys are content hashes)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def upload_artifacts(template: dict[str, Any], out_dir: Path, s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    """The template with each local ``CodeUri``/``ContentUri`` uploaded and replaced by its S3 location."""
    uploaded = copy.deepcopy(template)
    for resource in uploaded["Resources"].values():
        field = LOCAL_ARTIFACTS.get(resource.get("Type", ""))
        location = resource.get("Properties", {}).get(field) if field else None
        if isinstance(location, str) and not location.startswith("s3://"):
            path = (out_dir / location).resolve()
            key = f"{prefix}/{_sha256(path)}.zip"
            upload(s3, bucket, key, path.read_bytes())
            resource["Properties"][field] = {"Bucket": bucket, "Key": key}
    return uploaded


def upload_template(template: dict[str, Any], s3: Any, bucket: str, prefix: str) -> str:
    body = json.dumps(template, indent=1).encode()
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}.template.json"
    upload(s3, bucket, key, body)
    return f"https://{bucket}.s3.{s3.meta.region_name}.amazonaws.com/{key}"


# --------------------------------------------------------------------------- change set


def _stack_exists(cloudformation: Any, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError:
        return False
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def _parameters(overrides: dict[str, str | None], updating: bool) -> list[dict[str, Any]]:
    """CloudFormation parameters: a None value keeps the stack's current value (the template default on create)."""
    parameters: list[dict[str, Any]] = []
    for key, value in overrides.items():
        if value is not None:
            parameters.append({"ParameterKey": key, "ParameterValue": value})
        elif updating:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def create_change_set(
    cloudformation: Any, name: str, template_url: str, overrides: dict[str, str | None]
) -> str | None:
    """The change set's id, or None when it would change nothing."""
    updating = _stack_exists(cloudformation, name)
    change_set = cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=f"{name}-{hashlib.sha256(template_url.encode()).hexdigest()[:12]}",
        TemplateURL=template_url,
        Parameters=_parameters(overrides, updating),
        Capabilities=CAPABILITIES,
        ChangeSetType="UPDATE" if updating else "CREATE",
    )["Id"]
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set, StackName=name)
    except WaiterError:  # the change set's status says why
        status = cloudformation.describe_change_set(ChangeSetName=change_set, StackName=name)
        reason = status.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            return None
        raise DeployError(f"change set failed: {reason}") from None
    return str(change_set)


def describe_changes(cloudformation: Any, change_set: str, name: str) -> list[str]:
    changes = cloudformation.describe_change_set(ChangeSetName=change_set, StackName=name)["Changes"]
    lines = []
    for change in changes:
        detail = change["ResourceChange"]
        replace = " (replaced)" if detail.get("Replacement") == "True" else ""
        lines.append(f"  {detail['Action']:<8} {detail['LogicalResourceId']} {detail['ResourceType']}{replace}")
    return lines


def execute(cloudformation: Any, change_set: str, name: str, created: bool) -> None:
    cloudformation.execute_change_set(ChangeSetName=change_set, StackName=name)
    waiter = "stack_create_complete" if created else "stack_update_complete"
    cloudformation.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240})


# --------------------------------------------------------------------------- command line


def deploy(
    stage: str, bucket: str, parameters: dict[str, str | None], session: Any, say: Callable[[str], None]
) -> None:
    out_dir = package(stage)
    check_stage_can_run(stage, session)
    s3 = session.client("s3")
    prefix = f"{APP}/{stage}"
    template = upload_artifacts(json.loads((out_dir / "sam.json").read_text()), out_dir, s3, bucket, prefix)
    url = upload_template(template, s3, bucket, prefix)
    cloudformation = session.client("cloudformation")
    name = stack_name(stage)
    created = not _stack_exists(cloudformation, name)
    change_set = create_change_set(cloudformation, name, url, {"Stage": stage, **parameters})
    if change_set is None:
        say(f"{name}: no changes")
        return
    say("\n".join([f"{name}: applying", *describe_changes(cloudformation, change_set, name)]))
    execute(cloudformation, change_set, name, created)
    say(f"{name}: done")


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--bucket", default=environ.get("ARTIFACT_BUCKET"), help="artifact bucket ($ARTIFACT_BUCKET)")
    parser.add_argument("--alarm-email", help="subscribe this address to the stage's alarm topic (default: as is)")
    args = parser.parse_args(argv)
    if not confirmed(args.stage, environ, sys.stdin, sys.stdout):
        print(REFUSED, file=sys.stderr)
        return 2
    if not args.bucket:
        print("No artifact bucket: pass --bucket or set ARTIFACT_BUCKET.", file=sys.stderr)
        return 2
    import boto3  # noqa: PLC0415 - only once the guards have passed

    parameters: dict[str, str | None] = {"AlarmEmail": args.alarm_email}  # None: keep the stack's address
    try:
        deploy(args.stage, args.bucket, parameters, boto3.session.Session(), print)
    except (DeployError, subprocess.CalledProcessError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
