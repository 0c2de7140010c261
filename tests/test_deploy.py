"""Deploying (tools/deploy.py, `make deploy`), the stages (.chalice/config.json) and seeding a sandbox
(localdev/seed.py, `make seed`). Nothing here reaches AWS: the deploy flow runs against moto."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.config import Config
from moto import mock_aws

from chalicelib import config
from chalicelib.api.http import request_now
from tests.package_helpers import ROOT
from tools import deploy

DEPLOYABLE = ("dev", "test", "sandbox", "prod")
REGION = "eu-west-2"
ACCOUNT_CONCURRENCY = 1000  # an account's default Lambda concurrency in a region
UNRESERVED_MINIMUM = 100  # Lambda keeps this much unreserved; a deploy that reserves more fails


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


# --------------------------------------------------------------------------- the prod guard


@pytest.mark.parametrize("stage", ["dev", "test", "sandbox"])
def test_other_stages_deploy_without_asking(stage: str) -> None:
    asked = io.StringIO()
    assert deploy.confirmed(stage, {}, Pipe(""), asked)
    assert asked.getvalue() == ""


def test_prod_without_a_terminal_and_without_confirm_is_refused() -> None:
    assert not deploy.confirmed("prod", {}, Pipe("prod\n"), io.StringIO())
    assert not deploy.confirmed("prod", {"CONFIRM": "y"}, Pipe(""), io.StringIO())


def test_prod_with_confirm_yes_goes_ahead() -> None:
    assert deploy.confirmed("prod", {"CONFIRM": "yes"}, Pipe(""), io.StringIO())


@pytest.mark.parametrize(("typed", "expected"), [("prod\n", True), ("yes\n", False), ("\n", False), ("", False)])
def test_prod_at_a_terminal_asks_for_the_stage_name(typed: str, expected: bool) -> None:
    prompt = io.StringIO()
    assert deploy.confirmed("prod", {}, Terminal(typed), prompt) is expected
    assert "Type 'prod' to go on" in prompt.getvalue()


def _make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"CONFIRM", "ARTIFACT_BUCKET", "MAKEFLAGS"}}
    environment.update(env)
    return subprocess.run(
        # -o: never (re)build the virtualenv from here, whatever the timestamps say (`make test` has just built it).
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args], cwd=ROOT, env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_make_deploy_prod_refuses_without_a_terminal_before_doing_anything() -> None:
    out = ROOT / "out" / "sam.json"
    before = out.stat().st_mtime if out.exists() else None
    done = _make("deploy", "STAGE=prod")
    assert done.returncode != 0
    assert deploy.REFUSED in done.stderr
    assert "infra/package.sh" not in done.stdout
    assert (out.stat().st_mtime if out.exists() else None) == before, "it packaged before asking"


def test_make_deploy_prod_with_confirm_passes_the_guard() -> None:
    """CONFIRM=yes gets past the guard; without an artifact bucket it stops there (still before packaging)."""
    done = _make("deploy", "STAGE=prod", CONFIRM="yes")
    assert done.returncode != 0
    assert deploy.REFUSED not in done.stderr
    assert "No artifact bucket" in done.stderr


# --------------------------------------------------------------------------- the deploy flow, in moto


def _fake_package(tmp_path: Path) -> Path:
    """A packaged directory: zips and a sam.json moto's CloudFormation can create (no SAM transform)."""
    (tmp_path / "deployment.zip").write_bytes(b"function code")
    (tmp_path / "layer-deployment.zip").write_bytes(b"layer")
    template = {
        "Parameters": {"Stage": {"Type": "String"}, "AlarmEmail": {"Type": "String", "Default": ""}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "q-${Stage}"}}}},
    }
    (tmp_path / "sam.json").write_text(json.dumps(template))
    return tmp_path


def _serverless_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
            "Job": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
            "ManagedLayer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Properties": {"ContentUri": "./layer-deployment.zip"},
            },
            "Other": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }  # fmt: skip


@pytest.fixture
def aws_account() -> Any:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
        yield session


def test_artifacts_are_uploaded_under_their_hash_and_the_template_points_at_them(
    tmp_path: Path, aws_account: Any
) -> None:
    out = _fake_package(tmp_path)
    s3 = aws_account.client("s3")
    uploaded = deploy.upload_artifacts(_serverless_template(), out, s3, "artifacts", "ecf-lp-api/dev")
    resources = uploaded["Resources"]
    code = resources["Api"]["Properties"]["CodeUri"]
    assert code == resources["Job"]["Properties"]["CodeUri"]
    assert code["Bucket"] == "artifacts"
    assert code["Key"].startswith("ecf-lp-api/dev/")
    assert s3.get_object(Bucket="artifacts", Key=code["Key"])["Body"].read() == b"function code"
    layer = resources["ManagedLayer"]["Properties"]["ContentUri"]
    assert s3.get_object(Bucket="artifacts", Key=layer["Key"])["Body"].read() == b"layer"
    assert resources["Other"] == {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert len(s3.list_objects_v2(Bucket="artifacts")["Contents"]) == 2


def _ready(session: Any, stage: str) -> None:
    session.client("ssm").put_parameter(Name=f"/ecf-lp-api/{stage}/token-hmac-key", Type="SecureString", Value="k")
    session.client("apigateway").update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/x"}]
    )


def test_deploy_creates_the_stage_stack(tmp_path: Path, aws_account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy, "package", lambda stage: _fake_package(tmp_path))
    _ready(aws_account, "sandbox")
    said: list[str] = []
    deploy.deploy("sandbox", "artifacts", {"AlarmEmail": None}, aws_account, said.append)
    stack = aws_account.client("cloudformation").describe_stacks(StackName="ecf-lp-api-sandbox")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Stage"] == "sandbox"
    assert aws_account.client("sqs").get_queue_url(QueueName="q-sandbox")["QueueUrl"]
    assert said[0].startswith("ecf-lp-api-sandbox: applying")
    assert "AWS::SQS::Queue" in said[0]
    assert said[-1] == "ecf-lp-api-sandbox: done"


def test_deploy_stops_when_the_stage_has_no_token_key(
    tmp_path: Path, aws_account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy, "package", lambda stage: _fake_package(tmp_path))
    with pytest.raises(deploy.DeployError, match="no token key for dev"):
        deploy.deploy("dev", "artifacts", {}, aws_account, print)
    assert aws_account.client("cloudformation").list_stacks()["StackSummaries"] == []


def test_update_keeps_the_alarm_email_unless_given() -> None:
    assert deploy._parameters({"Stage": "dev", "AlarmEmail": None}, updating=True) == [
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
        {"ParameterKey": "AlarmEmail", "UsePreviousValue": True},
    ]
    assert deploy._parameters({"Stage": "dev", "AlarmEmail": None}, updating=False) == [
        {"ParameterKey": "Stage", "ParameterValue": "dev"}
    ]


# --------------------------------------------------------------------------- stages


def _chalice_config(stage: str, function: str) -> Config:
    """Chalice's own reading of .chalice/config.json for one stage and function (what `chalice package` uses)."""
    disk = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return Config(chalice_stage=stage, function_name=function, config_from_disk=disk)


FUNCTIONS = (
    "api_handler",
    "on_partnership_change",
    "on_eligibility_change",
    "record_changes",
    "reconcile_migrations",
    "reconcile_eligibility",
    "mark_statements_payable",
)


@pytest.mark.parametrize("stage", DEPLOYABLE)
def test_every_deployable_stage_reserves_concurrency_for_every_function(stage: str) -> None:
    reserved = {name: _chalice_config(stage, name).reserved_concurrency for name in FUNCTIONS}
    assert all(isinstance(value, int) and value >= 1 for value in reserved.values()), reserved
    for job in ("reconcile_migrations", "reconcile_eligibility", "mark_statements_payable"):
        assert reserved[job] == 1, f"{job}: one run at a time"
    assert sum(reserved.values()) <= ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM


def test_prod_reserves_the_most() -> None:
    api = {stage: _chalice_config(stage, "api_handler").reserved_concurrency for stage in DEPLOYABLE}
    assert api["prod"] == max(api.values())


def test_arm64_and_a_layer_everywhere() -> None:
    for stage in DEPLOYABLE:
        chalice = _chalice_config(stage, "api_handler")
        assert chalice.lambda_architecture == "arm64"
        assert chalice.automatic_layer is True


def test_sandbox_is_a_stage_of_its_own(packaged: Any) -> None:
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert stages["sandbox"]["environment_variables"]["STAGE"] == "sandbox"
    assert stages["sandbox"]["environment_variables"]["TABLE_PREFIX"] == "ecf-lp-api-sandbox"
    assert "sandbox" in config.STAGES
    template = json.loads((ROOT / "infra" / "template.json").read_text())
    assert "sandbox" in template["Parameters"]["Stage"]["AllowedValues"]
    assert packaged.template["Parameters"]["Stage"] == {**template["Parameters"]["Stage"], "AllowedValues": ["dev"]}


class _Request:
    headers = {"x-with-server-date": "2024-10-25T09:30:00Z"}


@pytest.mark.parametrize(("stage", "honoured"), [("sandbox", True), ("dev", True), ("prod", False)])
def test_the_server_date_header_works_everywhere_but_prod(stage: str, honoured: bool) -> None:
    config.configure(stage=stage, table_prefix=f"ecf-lp-api-{stage}")
    try:
        now = request_now(_Request())  # type: ignore[arg-type]  # only .headers is read
    finally:
        config.reset()
    assert (now == datetime(2024, 10, 25, 9, 30, tzinfo=UTC)) is honoured


# --------------------------------------------------------------------------- seeding


def test_seed_refuses_prod_and_unknown_stages(capsys: pytest.CaptureFixture[str]) -> None:
    from localdev import seed

    for stage in ("prod", "local", "staging"):
        assert seed.main(["--stage", stage]) == 2
        assert f"seeding {stage!r} is refused" in capsys.readouterr().err
    assert config.current().stage == "test", "a refused stage configures nothing"


def test_seed_loads_the_demo_into_the_sandbox_once(aws: None) -> None:
    from chalicelib.repositories import storage
    from chalicelib.services import providers, tokens
    from localdev import demo, seed

    boto3.client("ssm").put_parameter(
        Name="/ecf-lp-api/sandbox/token-hmac-key", Type="SecureString", Value="sandbox-key"
    )
    try:
        seed.configure("sandbox")
        storage.create_tables()
        said: list[str] = []
        issued = seed.seed("sandbox", schools=40, say=said.append)
        assert set(issued) == set(demo.LEAD_PROVIDERS)
        now = datetime.now(UTC)
        for name, token in issued.items():
            caller = tokens.authenticate(token, now)
            assert caller is not None
            assert caller.lead_provider_name == name
            assert f"  {name}: {token}" in said
        # The stage's key from SSM, the one its API function reads: the tokens work there.
        assert tokens.hash_token("x") == hmac.new(b"sandbox-key", b"x", hashlib.sha256).hexdigest()
        assert len(providers.list_lead_providers()) == len(demo.LEAD_PROVIDERS)
        with pytest.raises(seed.Refused, match="already has 7 lead provider"):
            seed.seed("sandbox", schools=40, say=said.append)
    finally:
        config.reset()
        storage.bind()
        tokens.reset_key()
