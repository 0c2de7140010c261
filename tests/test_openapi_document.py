"""The service's own OpenAPI document: valid, served, in step with the routes and the reference."""

from __future__ import annotations

import json
import re

from openapi_spec_validator import validate

import app as app_module
from chalicelib.api.docs import SPEC
from tests.openapi import spec as reference_spec


def own() -> dict:
    return json.loads(SPEC.read_text())


def test_document_is_valid_openapi():
    validate(own())


def test_document_is_served_without_a_token(client):
    response = client.http.get("/api/v3/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == own()


def test_every_api_route_is_documented_and_nothing_else():
    routes = set()
    for path, entries in app_module.app.routes.items():
        if path.startswith("/api/v3/") and not path.endswith("openapi.json"):
            documented = re.sub(r"\{[^}]+\}", "{id}", path)
            routes |= {(documented, method.lower()) for method in entries}
    documented = {(path, method) for path, methods in own()["paths"].items() for method in methods}
    assert routes == documented


def test_document_matches_the_reference_it_was_built_from():
    import tools.build_openapi as builder

    reference_spec("v3")  # skips with a reason when ../shared/reference is absent
    assert builder.build(json.loads(builder.REFERENCE.read_text())) == own()
