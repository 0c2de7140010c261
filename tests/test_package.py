"""The Lambda package `make package` builds: small, pinned, arm64 and the venv's Python, and it runs.

The smoke test runs the packaged code (both zips unpacked as Lambda lays them out, in a fresh interpreter that sees
nothing but the stdlib and the package) against a moto server: the API handler answers an authenticated request
and an unauthenticated one (SSM and DynamoDB through the app), and a client of every service the package keeps
makes a real call. tools/slim_package.py explains what is trimmed and why.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.package_helpers import ROOT, Packaged
from tools import slim_package

PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"python/lib/{PYTHON}/site-packages/"
FUNCTION_TYPES = ("AWS::Serverless::Function",)


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "_", name).lower()] = version
    return pins


# --------------------------------------------------------------------------- size and contents


COMPRESS_OVER_BYTES = 1024


def test_code_and_dependencies_within_five_megabytes(packaged: Packaged) -> None:
    function = packaged.function_zip.stat().st_size
    layer = packaged.layer_zip.stat().st_size
    assert function + layer <= slim_package.BUDGET_BYTES == 5_000_000, (function, layer)
    # The app with the vendored Swagger UI (~0.5 MB zipped, docs/api-docs.md).
    assert function < 1_500_000, "the function zip holds the app only; dependencies go to the layer"


def test_function_zip_is_the_app_and_the_layer_the_dependencies(packaged: Packaged) -> None:
    function = _names(packaged.function_zip)
    assert "app.py" in function
    # chalice/ is Chalice's own runtime half (chalice/app.py), which `chalice package` puts beside the app.
    assert {name.split("/")[0] for name in function} == {"app.py", "__pycache__", "chalice", "chalicelib"}
    layer = _names(packaged.layer_zip)
    assert all(name.startswith(SITE) for name in layer), "the layer's packages are where Lambda looks for them"
    top = {name[len(SITE) :].split("/")[0] for name in layer}
    assert {"botocore", "boto3", "pynamodb", "aws_lambda_powertools"} <= top
    assert not top & {"chalicelib", "moto", "pytest", "chalice", "cfnlint"}, "no dev dependency in the layer"


def test_layer_holds_exactly_the_pinned_versions(packaged: Packaged) -> None:
    """requirements.txt pins the whole bundle; the layer has each pinned version and nothing unpinned."""
    pins = _pins(ROOT / "requirements.txt")
    found = {}
    for name in _names(packaged.layer_zip):
        match = re.fullmatch(re.escape(SITE) + r"([^/]+)-([^-/]+)\.dist-info/METADATA", name)
        if match:
            found[re.sub(r"[-_.]+", "_", match.group(1)).lower()] = match.group(2)
    assert found == pins


def test_package_is_pure_python(packaged: Packaged) -> None:
    """Nothing compiled for the build machine: the functions run on arm64 (a compiled dependency needs an aarch64
    manylinux wheel, which chalice picks for ``lambda_architecture`` arm64; check it when adding one)."""
    for path in (packaged.function_zip, packaged.layer_zip):
        compiled = [n for n in _names(path) if n.endswith((".so", ".pyd", ".dylib")) or ".so." in n]
        assert compiled == [], path.name


def test_botocore_keeps_only_the_services_the_app_calls(packaged: Packaged) -> None:
    services = {
        name.split("/")[6]
        for name in _names(packaged.layer_zip)
        if name.startswith(f"{SITE}botocore/data/") and name.count("/") > 7
    }
    assert services == set(slim_package.KEEP_SERVICES)


def _client_services() -> Iterator[tuple[str, str]]:
    """(file, service) for each ``client("service")`` call with a literal service name in chalicelib/."""
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) in {"client", "_client"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                yield path.relative_to(ROOT).as_posix(), str(node.args[0].value)


def test_every_client_the_code_creates_is_kept() -> None:
    found = list(_client_services())
    assert {service for _, service in found} >= {"ssm", "sqs", "dynamodbstreams"}, found
    missing = [(file, service) for file, service in found if service not in slim_package.KEEP_SERVICES]
    assert missing == [], "add the service to tools/slim_package.py KEEP_SERVICES (its model is trimmed otherwise)"


def test_dropped_entries() -> None:
    site = "python/lib/python3.13/site-packages/"
    assert slim_package.dropped(f"{site}botocore/data/s3/2006-03-01/service-2.json.gz")
    assert not slim_package.dropped(f"{site}botocore/data/dynamodb/2012-08-10/service-2.json.gz")
    assert not slim_package.dropped(f"{site}botocore/data/endpoints.json")
    assert not slim_package.dropped(f"{site}botocore/data/partitions.json")
    assert slim_package.dropped(f"{site}boto3/data/ec2/2016-11-15/resources-1.json")
    assert not slim_package.dropped(f"{site}boto3/data/dynamodb/2012-08-10/resources-1.json")
    assert slim_package.dropped(
        f"{site}aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js"
    )
    assert not slim_package.dropped(f"{site}aws_lambda_powertools/event_handler/openapi/swagger_ui/oauth2.py")
    assert slim_package.dropped(f"{site}botocore-1.44.8.dist-info/RECORD")
    assert not slim_package.dropped(f"{site}botocore-1.44.8.dist-info/METADATA")
    assert not slim_package.dropped("chalicelib/data/botocore/data/notes.json")


def _pyc_flags(data: bytes) -> int:
    return int.from_bytes(data[4:8], "little")


def test_cold_start_modules_are_precompiled_as_unchecked_hash_pycs(packaged: Packaged) -> None:
    """/var/task and /opt are read-only: without bytecode in the zip every cold start compiles again."""
    tag = sys.implementation.cache_tag
    expected = [
        ("function", "chalicelib/__pycache__/config"),
        ("function", "__pycache__/app"),
        ("layer", f"{SITE}botocore/__pycache__/client"),
        ("layer", f"{SITE}pynamodb/__pycache__/models"),
        ("function", "chalice/__pycache__/app"),
        ("layer", f"{SITE}boto3/__pycache__/session"),
    ]
    archives = {"function": zipfile.ZipFile(packaged.function_zip), "layer": zipfile.ZipFile(packaged.layer_zip)}
    try:
        for which, stem in expected:
            data = archives[which].read(f"{stem}.{tag}.pyc")
            assert _pyc_flags(data) == 0b01, f"{stem}: hash-based (bit 0), source not checked (bit 1)"
        layer_pycs = [n for n in archives["layer"].namelist() if n.endswith(".pyc")]
        swagger = [n for n in layer_pycs if "/event_handler/" in n]
        assert swagger == [], "only what a cold start imports is compiled (the budget has no room for the rest)"
    finally:
        for archive in archives.values():
            archive.close()


def test_api_gateway_compresses_large_responses(packaged: Packaged) -> None:
    """Responses over 1 KB are gzipped for clients that accept it: the Swagger UI page's script (1.8 MB), the
    OpenAPI documents and large JSON:API pages (``minimum_compression_size`` in .chalice/config.json)."""
    api = packaged.template["Resources"]["RestAPI"]["Properties"]
    assert api["MinimumCompressionSize"] == COMPRESS_OVER_BYTES


# --------------------------------------------------------------------------- runtime and architecture


def test_python_version_is_the_same_everywhere(packaged: Packaged) -> None:
    """The venv (this interpreter), the Makefile, pyproject (ruff, mypy, requires-python) and the Lambda runtime."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PYTHON_VERSION := (\S+)$", makefile, re.M).group(1) == version  # type: ignore[union-attr]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["requires-python"] == f">={version}"
    assert project["tool"]["ruff"]["target-version"] == f"py{version.replace('.', '')}"
    assert project["tool"]["mypy"]["python_version"] == version
    resources = packaged.template["Resources"]
    functions = {lid: r for lid, r in resources.items() if r["Type"] in FUNCTION_TYPES}
    assert len(functions) >= 7
    for lid, function in functions.items():
        assert function["Properties"]["Runtime"] == PYTHON, lid
        assert function["Properties"]["Architectures"] == ["arm64"], lid
        assert function["Properties"]["Layers"] == [{"Ref": "ManagedLayer"}], lid
    layer = resources["ManagedLayer"]["Properties"]
    assert layer["CompatibleRuntimes"] == [PYTHON]
    assert layer["CompatibleArchitectures"] == ["arm64"]


# --------------------------------------------------------------------------- the packaged code runs


SMOKE = """
import json
from datetime import UTC, datetime

import boto3

import app
from chalicelib.repositories import storage
from chalicelib.services import providers, tokens

storage.bind()
storage.create_tables()
now = datetime.now(UTC)
providers.add_lead_provider("Smoke Provider", now)
issued = tokens.create_token("Smoke Provider", now)


class Context:
    function_name = "ecf-lp-api-dev"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-2:123456789012:function:ecf-lp-api-dev"
    aws_request_id = "smoke-request"
    log_group_name = "/aws/lambda/ecf-lp-api-dev"
    log_stream_name = "smoke"

    def get_remaining_time_in_millis(self):
        return 29000


def get(path, token=None):
    headers = {"accept": "application/vnd.api+json"}
    if token:
        headers["authorization"] = "Bearer " + token
    event = {
        "resource": path, "path": path, "httpMethod": "GET", "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()}, "queryStringParameters": None,
        "multiValueQueryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": "GET", "requestId": "smoke-" + path, "path": path,
                           "stage": "api", "identity": {"sourceIp": "127.0.0.1"}},
        "body": None, "isBase64Encoded": False,
    }
    response = app.app(event, Context())
    return response["statusCode"], json.loads(response["body"])


results = {
    "denied": get("/api/v3/delivery-partners", "not-a-token"),
    "allowed": get("/api/v3/delivery-partners", issued.token)[0],
    "tables": len(boto3.client("dynamodb").list_tables()["TableNames"]),
    "streams": len(boto3.client("dynamodbstreams").list_streams()["Streams"]),
    "queue": boto3.client("sqs").create_queue(QueueName="smoke")["QueueUrl"].endswith("/smoke"),
    "parameter": boto3.client("ssm").get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Name"],
    "account": boto3.client("sts").get_caller_identity()["Account"],
    "modules": sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""}),
}
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_packaged_app_runs_against_aws_apis(packaged: Packaged, moto_server: str, tmp_path: Path) -> None:
    parameter = "/ecf-lp-api/dev/token-hmac-key"
    ssm = boto3.client("ssm", endpoint_url=moto_server, region_name="eu-west-2")
    ssm.put_parameter(Name=parameter, Type="SecureString", Value="smoke-test-key", Overwrite=True)
    layout = slim_package.extract(packaged.directory, tmp_path)
    environment = slim_package.lambda_environment(
        "dev",
        {"AWS_ENDPOINT_URL": moto_server, "TOKEN_KEY_PARAMETER": parameter, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"},
    )
    output = slim_package.run_packaged(layout, f"TOKEN_PARAMETER = {parameter!r}\n" + SMOKE, environment)
    results: dict[str, Any] = json.loads(output.strip().splitlines()[-1])

    status, body = results["denied"]
    assert (status, body) == (401, {"error": "HTTP Token: Access denied"})
    assert results["allowed"] == 200
    assert results["tables"] >= 29
    assert results["streams"] >= 5
    assert results["queue"] is True
    assert results["parameter"] == parameter
    assert results["account"] == "123456789012"
    stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    outside = [f for f in results["modules"] if not f.startswith((str(tmp_path), *stdlib))]
    assert outside == [], "the packaged code imported something from outside the package"
