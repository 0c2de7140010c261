"""Validate response bodies against the reference OpenAPI documents (../shared/reference)."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"


def reference_available() -> bool:
    return (REFERENCE / "ecf-api-v3.openapi.json").is_file()


@lru_cache(maxsize=4)
def spec(version: str) -> dict[str, Any]:
    path = REFERENCE / f"ecf-api-{version}.openapi.json"
    if not path.is_file():
        pytest.skip(f"reference OpenAPI file {path} is absent (it lives in ../shared/reference beside the project)")
    document = json.loads(path.read_text())
    _allow_null_in_nullable_enums(document)
    return document


def _allow_null_in_nullable_enums(node: Any) -> None:
    """The reference marks some enums (and ``anyOf`` wrappers: v3 withdrawal, deferral, transfer
    leaving/joining) nullable without allowing null; the real API sends null there. Under OAS 3.0.3 a
    validator ignores ``nullable`` without a ``type``, so null is made explicit."""
    if isinstance(node, dict):
        if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        if node.get("nullable") and isinstance(node.get("anyOf"), list) and {"enum": [None]} not in node["anyOf"]:
            node["anyOf"].append({"enum": [None]})
        for value in node.values():
            _allow_null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_in_nullable_enums(value)


def _match_path(document: dict[str, Any], path: str) -> str:
    path = path.split("?", maxsplit=1)[0]
    for template in document["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path):
            # Prefer literal templates (e.g. /transfers) over {id} ones.
            literal = [t for t in document["paths"] if t == path]
            return literal[0] if literal else template
    raise AssertionError(f"{path} is not in the reference API")


SERVED = Path(__file__).resolve().parent.parent / "chalicelib" / "openapi" / "v3.json"


def served(version: str = "v3") -> dict[str, Any]:
    """The service's own document for a version (chalicelib/openapi/<version>.json)."""
    return json.loads((SERVED.parent / f"{version}.json").read_text())


def response_schema(version: str, method: str, path: str, status: int) -> dict[str, Any]:
    return _response_schema(spec(version), method, path, status)


def _response_schema(document: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    operation = document["paths"][_match_path(document, path)][method.lower()]
    responses = operation["responses"]
    if str(status) not in responses:
        raise AssertionError(f"{method} {path}: status {status} is not documented ({sorted(responses)})")
    content = responses[str(status)].get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    assert media is not None, f"{method} {path} {status}: no documented body"
    schema = copy.deepcopy(media["schema"])
    schema["components"] = document["components"]
    return schema


def assert_valid(version: str, method: str, path: str, response: Any) -> dict[str, Any]:
    """Validate a chalice test-client response: status documented, body matches, JSON:API content type."""
    body = json.loads(response.body) if response.body else None
    schema = response_schema(version, method, path, response.status_code)
    OAS30Validator(schema).validate(body)
    assert response.headers.get("Content-Type") == "application/vnd.api+json"
    return body


def assert_valid_served(method: str, path: str, response: Any, version: str = "v3") -> dict[str, Any]:
    """``assert_valid`` against the service's own document (chalicelib/openapi/<version>.json), which also lists
    what the service adds to the reference (the Idempotency-Key 409s and 422s, the 429s). A response that carries
    ``Idempotent-Replayed``, the RateLimit headers or ``Retry-After`` must have them documented for its status."""
    document = served(version)
    body = json.loads(response.body) if response.body else None
    OAS30Validator(_response_schema(document, method, path, response.status_code)).validate(body)
    assert response.headers.get("Content-Type") == "application/vnd.api+json"
    operation = document["paths"][_match_path(document, path)][method.lower()]
    documented = operation["responses"][str(response.status_code)].get("headers", {})
    for header in DOCUMENTED_HEADERS:
        if header in response.headers:
            assert header in documented, f"{method} {path} {response.status_code}: {header} not documented"
    return body


# Headers the service adds to the reference's responses: present in a response, they must be documented for its status.
DOCUMENTED_HEADERS = ("Idempotent-Replayed", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After")
