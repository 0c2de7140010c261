"""The served OpenAPI document stays true to the API: a bounded schemathesis run over every operation.

Schemathesis generates requests from ``chalicelib/openapi/v3.json`` (valid and invalid parameters and bodies, with
a real provider's token) and checks each response: no server error, a documented status, a documented content
type, a body valid against the documented schema, documented headers present. The app runs in process (moto,
``chalice.test``'s local gateway behind a small WSGI adapter), over a small realistic data set from the
benchmark's loader, so list pages hold real participants, partnerships and declarations.

``SCHEMATHESIS_EXAMPLES`` (default 25) bounds the random examples per operation; schemathesis's coverage phase adds
its boundary and invalid-value cases (every documented parameter and body field, missing and malformed) on top.
Measured: 25 operations, 44 s of CPU (2 min 16 s wall on a machine with a load average of 10).
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.load import Scale, load
from chalicelib import config, models
from chalicelib.repositories import cohorts as cohort_repo
from chalicelib.services import tokens
from tests.openapi import SERVED

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
SCALE = Scale(schools=120, partnerships=30, delivery_partners=6, participants=60, declarations=200, statement_lines=40)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_dict(json.loads(SERVED.read_text()))
# Methods a route does not have: API Gateway answers them before the app (the gateway's own 403/404), so they say
# nothing about the document; chalice local answers OPTIONS itself.
schema.config.phases.coverage.unexpected_methods = set()

KEYS = itertools.count()
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class ChaliceWsgi:
    """A WSGI app over ``chalice.test``'s local gateway: what API Gateway and Lambda do with a request."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING")
        # PATH_INFO is decoded: quote it again, or an id holding "?" or "%" would split or change the path.
        path = quote(environ.get("PATH_INFO", "/"), safe="/") + (f"?{query}" if query else "")
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.client.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        start_response(f"{response.status_code} -", [(k, str(v)) for k, v in response.headers.items()])
        return [response.body if isinstance(response.body, bytes) else str(response.body).encode()]


@pytest.fixture(scope="module")
def app_and_token() -> Iterator[tuple[ChaliceWsgi, str]]:
    """The ``aws`` fixture's steps once for the module, the benchmark loader's small data set, a test client."""
    from chalice.test import Client
    from moto import mock_aws

    import app as app_module

    config.reset()
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        models.rebind_all()
        models.create_tables()
        tokens.reset_key()
        cohort_repo.clear_cache()
        patch.setattr(config, "_override", [replace(config.current(), auth_cache_seconds=3600)])
        data = load(SCALE)
        with Client(app_module.app, stage_name="test") as client:
            yield ChaliceWsgi(client), data.tokens[data.largest_lead_provider]
        tokens.clear_cache()
        cohort_repo.clear_cache()
    models.rebind_all()


@pytest.fixture
def api(app_and_token: tuple[ChaliceWsgi, str]) -> tuple[ChaliceWsgi, str]:
    return app_and_token


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure reproduces, CI does not flake
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_responses_conform_to_the_served_document(api: tuple[ChaliceWsgi, str], case: Any) -> None:
    wsgi, token = api
    headers = {"Authorization": f"Bearer {token}"}
    # Keyed writes replay their first answer for 24 h: a fresh key per example keeps examples independent.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"key-{next(KEYS)}"
    case.call_and_validate(app=wsgi, base_url="http://localhost", headers=headers, checks=CHECKS)
